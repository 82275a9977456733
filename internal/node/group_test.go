package node

import (
	"errors"
	"strings"
	"testing"

	"github.com/puente-project/puente/internal/store"
)

func TestCheckGroupName(t *testing.T) {
	for _, name := range []string{"fentanyl", "precursor-chemicals", "g7", "a", strings.Repeat("a", 64)} {
		if err := CheckGroupName(name); err != nil {
			t.Errorf("CheckGroupName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", "Fentanyl", "money laundering", "-a", "a-", "a_b", "a.b", "ñ", strings.Repeat("a", 65)} {
		if err := CheckGroupName(name); err == nil {
			t.Errorf("CheckGroupName(%q) = nil, want an error", name)
		}
	}
}

func TestCreateGroup(t *testing.T) {
	t.Parallel()
	res := initNode(t, "MEX")
	st, err := OpenStore(t.Context(), res.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := CreateGroup(t.Context(), st, "fentanyl", "Fentanyl working group")
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	got, err := st.Collection(t.Context(), "fentanyl")
	if err != nil || got.ID != c.ID || got.Title != "fentanyl" || got.Description != "Fentanyl working group" || got.Internal {
		t.Errorf("Collection(fentanyl) = %+v, %v; want %+v", got, err, c)
	}
	for _, name := range []string{"fentanyl", "internal"} {
		if _, err := CreateGroup(t.Context(), st, name, ""); !errors.Is(err, store.ErrExists) {
			t.Errorf("CreateGroup(%s) again: error = %v, want ErrExists", name, err)
		}
	}
	if _, err := CreateGroup(t.Context(), st, "Bad Name", ""); err == nil {
		t.Errorf("CreateGroup(Bad Name) succeeded")
	}
}
