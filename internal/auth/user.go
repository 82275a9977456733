package auth

import (
	"fmt"
	"slices"
)

// The roles a user can have.
const (
	RoleAnalyst  = "analyst"
	RoleLiaison  = "liaison"
	RoleApprover = "approver"
	RoleAuditor  = "auditor"
	RoleAdmin    = "admin"
)

// Roles returns every known role, in a fixed order.
func Roles() []string {
	return []string{RoleAnalyst, RoleLiaison, RoleApprover, RoleAuditor, RoleAdmin}
}

// CheckRole returns an error unless role is a known role.
func CheckRole(role string) error {
	if !slices.Contains(Roles(), role) {
		return fmt.Errorf("unknown role %q (known roles: %v)", role, Roles())
	}
	return nil
}

const maxUserNameLen = 64

// CheckUserName returns an error unless name is a valid user name: 1 to 64
// characters from a-z, 0-9, '.', '_' and '-', starting with a letter or a
// digit. The rule keeps names safe in HTTP Basic credentials (no ':'), in
// logs and in file names.
func CheckUserName(name string) error {
	if name == "" {
		return fmt.Errorf("user name is empty")
	}
	if len(name) > maxUserNameLen {
		return fmt.Errorf("user name is longer than %d characters", maxUserNameLen)
	}
	for i, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return fmt.Errorf("user name %q: use only a-z, 0-9, '.', '_' and '-', starting with a letter or a digit", name)
		}
	}
	return nil
}
