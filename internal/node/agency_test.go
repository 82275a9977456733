package node

import (
	"errors"
	"testing"
)

func TestAgencies(t *testing.T) {
	t.Parallel()
	res := initNode(t, "MEX")
	st, err := OpenStore(t.Context(), res.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, a := range []struct{ name, title string }{{"SEMAR", "Secretaría de Marina"}, {"GN", "Guardia Nacional"}, {"FGR", ""}} {
		if _, err := AddAgency(t.Context(), st, "MEX", a.name, a.title); err != nil {
			t.Fatalf("AddAgency(%s) = %v", a.name, err)
		}
	}
	if _, err := AddAgency(t.Context(), st, "MEX", "SEMAR", "again"); !errors.Is(err, ErrAgencyExists) {
		t.Errorf("AddAgency(SEMAR again) = %v, want ErrAgencyExists", err)
	}
	if _, err := AddAgency(t.Context(), st, "MEX", "", ""); err == nil {
		t.Errorf("AddAgency with no name succeeded")
	}
	got, err := Agencies(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	want := []Agency{{Name: "SEMAR", Title: "Secretaría de Marina"}, {Name: "GN", Title: "Guardia Nacional"}, {Name: "FGR", Title: "FGR"}}
	if len(got) != len(want) {
		t.Fatalf("Agencies() = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].Title != want[i].Title || got[i].ID == "" {
			t.Errorf("Agencies()[%d] = %+v, want %+v with an id", i, got[i], want[i])
		}
	}
}
