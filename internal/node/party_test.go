package node

import (
	"slices"
	"strings"
	"testing"
)

func TestISO3166List(t *testing.T) {
	codes := strings.Fields(iso3166Alpha3)
	if len(codes) != 249 {
		t.Errorf("the list has %d codes, want 249", len(codes))
	}
	if !slices.IsSorted(codes) || len(slices.Compact(slices.Clone(codes))) != len(codes) {
		t.Errorf("the list is not sorted or has duplicates")
	}
	for _, c := range codes {
		if len(c) != 3 || strings.ToUpper(c) != c {
			t.Errorf("bad code %q in the list", c)
		}
	}
}

func TestCheckParty(t *testing.T) {
	for _, p := range []string{"MEX", "USA", "CAN", "GTM", "ABW", "ZWE"} {
		if err := CheckParty(p); err != nil {
			t.Errorf("CheckParty(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"", "mex", "Mex", "MX", "MEXX", "MXE", "XXX", "EUR", "ABW ", " ABW", "BW A", "ABW AFG"} {
		if err := CheckParty(p); err == nil {
			t.Errorf("CheckParty(%q) = nil, want an error", p)
		}
	}
}
