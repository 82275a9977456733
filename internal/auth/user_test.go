package auth

import (
	"strings"
	"testing"
)

func TestCheckUserName(t *testing.T) {
	valid := []string{"admin", "a", "alice.smith", "j_doe-2", "0day", strings.Repeat("a", 64)}
	for _, name := range valid {
		if err := CheckUserName(name); err != nil {
			t.Errorf("CheckUserName(%q) = %v, want nil", name, err)
		}
	}
	invalid := []string{"", "Alice", "al:ice", "al ice", "-alice", ".alice", "_a", "élan", "a/b", strings.Repeat("a", 65)}
	for _, name := range invalid {
		if err := CheckUserName(name); err == nil {
			t.Errorf("CheckUserName(%q) = nil, want an error", name)
		}
	}
}

func TestCheckRole(t *testing.T) {
	for _, r := range Roles() {
		if err := CheckRole(r); err != nil {
			t.Errorf("CheckRole(%q) = %v, want nil", r, err)
		}
	}
	for _, r := range []string{"", "Admin", "root", "analyst "} {
		if err := CheckRole(r); err == nil {
			t.Errorf("CheckRole(%q) = nil, want an error", r)
		}
	}
}
