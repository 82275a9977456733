package node

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/puente-project/puente/internal/marking"
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
	c, err := CreateGroup(t.Context(), st, "MEX", Group{Name: "fentanyl", Description: "Fentanyl working group", Members: []string{"USA"}, DefaultMarking: "green"})
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	got, err := st.Collection(t.Context(), "fentanyl")
	if err != nil || got.ID != c.ID || got.Title != "fentanyl" || got.Description != "Fentanyl working group" || got.Internal ||
		!slices.Equal(got.Members, []string{"MEX", "USA"}) || got.DefaultMarking != marking.TLPGreen {
		t.Errorf("Collection(fentanyl) = %+v, %v; want %+v", got, err, c)
	}
	for _, name := range []string{"fentanyl", "internal"} {
		if _, err := CreateGroup(t.Context(), st, "MEX", Group{Name: name}); !errors.Is(err, store.ErrExists) {
			t.Errorf("CreateGroup(%s) again: error = %v, want ErrExists", name, err)
		}
	}
	for _, g := range []Group{
		{Name: "Bad Name"},
		{Name: "ok", Members: []string{"usa"}},
		{Name: "ok", Members: []string{"XXX"}},
		{Name: "ok", DefaultMarking: "purple"},
	} {
		if _, err := CreateGroup(t.Context(), st, "MEX", g); err == nil {
			t.Errorf("CreateGroup(%+v) succeeded", g)
		}
	}
	// Without a default marking, the group's is TLP:AMBER; the node's
	// own party is always a member.
	c, err = CreateGroup(t.Context(), st, "MEX", Group{Name: "precursors"})
	if err != nil || c.DefaultMarking != marking.TLPAmber || !slices.Equal(c.Members, []string{"MEX"}) {
		t.Errorf("CreateGroup(precursors) = %+v, %v; want AMBER and members [MEX]", c, err)
	}
}
