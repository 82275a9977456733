package marking

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/stix"
)

// FuzzParseDefinition checks that ParseDefinition does not panic, returns
// the zero Definition with every error, gives the same Definition when
// parsing the same bytes again and their canonical form, and keeps the
// invariants its documentation states.
func FuzzParseDefinition(f *testing.F) {
	for _, tc := range validDefinitionTests {
		f.Add([]byte(tc.in))
	}
	for _, tc := range invalidDefinitionTests {
		f.Add([]byte(tc.in))
	}
	f.Add(ExtensionDefinition())
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ParseDefinition(raw)
		if err != nil {
			if !reflect.DeepEqual(d, Definition{}) {
				t.Fatalf("ParseDefinition(%q) = %s, %v, want the zero Definition with the error", raw, show(d), err)
			}
			return
		}
		again, err := ParseDefinition(raw)
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("ParseDefinition(%q) = %s, then %s, %v", raw, show(d), show(again), err)
		}
		canon, err := stix.Canonicalize(raw)
		if err != nil {
			t.Fatalf("ParseDefinition(%q) succeeded, Canonicalize failed: %v", raw, err)
		}
		if c, err := ParseDefinition(canon); err != nil || !reflect.DeepEqual(c, d) {
			t.Fatalf("ParseDefinition(%q) = %s, but of its canonical form %s, %v", raw, show(d), show(c), err)
		}
		checkDefinition(t, d)
	})
}

// checkDefinition checks the invariants of a parsed Definition.
func checkDefinition(t *testing.T, d Definition) {
	t.Helper()
	isTLP := tlpLevel(d.ID) != 0
	switch {
	case d.ID == "":
		t.Fatalf("%s: no ID", show(d))
	case isTLP != (d.Kind == KindTLP) || (d.Kind == KindTLP) != (d.TLP != 0) || (d.TLP != 0 && d.TLP != tlpLevel(d.ID)):
		t.Fatalf("%s: TLP level does not match the id", show(d))
	case (d.Rel != nil) != (d.Kind == KindReleasability || d.Kind == KindACS):
		t.Fatalf("%s: Rel does not match the kind", show(d))
	case d.Kind == KindReleasability && (len(d.Rel.RelTo) == 0 || !isParty(d.Rel.Originator)):
		t.Fatalf("%s: releasability without rel_to or originator", show(d))
	case d.Kind == KindACS && (d.Rel.FurtherSharing || d.Rel.Originator != "" || !d.Rel.Expires.IsZero()):
		t.Fatalf("%s: ACS with more than rel_to", show(d))
	}
	if d.Rel != nil {
		if d.Rel.RelTo != nil && len(d.Rel.RelTo) == 0 {
			t.Fatalf("%s: empty, non-nil RelTo", show(d))
		}
		for i, p := range d.Rel.RelTo {
			if !isParty(p) || (i > 0 && d.Rel.RelTo[i-1] >= p) {
				t.Fatalf("%s: RelTo not sorted, unique party codes", show(d))
			}
		}
	}
}

// fuzzRef stands for the fuzzed definition in objects when it does not
// parse; no registry knows it.
const fuzzRef = "marking-definition--ffffffff-ffff-4fff-bfff-ffffffffffff"

// FuzzRelease adds a fuzzed definition to a registry and decides on
// objects whose markings and group are decoded from fuzzed bytes. It
// checks that nothing panics, that Release agrees with Compute().Allows,
// that the originator is always allowed and non-members never, and that
// a reference to a definition that does not parse, or is not understood,
// never releases beyond the originator. It also reads the fuzzed bytes
// as an object with ObjectOf.
func FuzzRelease(f *testing.F) {
	for _, tc := range validDefinitionTests {
		f.Add([]byte(tc.in), []byte{0x1f, 1, 15, 0x8f, 2}, int64(0))
	}
	for _, tc := range invalidDefinitionTests[:8] {
		f.Add([]byte(tc.in), []byte{0x5f, 0, 1, 15}, int64(time.Hour))
	}
	f.Add([]byte(relDef(relUSA, []string{"USA", "COL"}, true, "2026-01-20T12:00:00Z")), []byte{0xdf, 3, 4, 15, 0x95}, int64(-time.Second))
	base := testRegistry(f)
	f.Fuzz(func(t *testing.T, raw, pick []byte, offset int64) {
		r := &Registry{defs: maps.Clone(base.defs)}
		d, err := r.Add(raw)
		ref := fuzzRef
		if err == nil {
			ref = d.ID
		}
		opaque := err != nil || d.Kind == KindUnknown // releases to the originator only
		pool := []string{
			TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed, relUSA, relUSACAN, relGTM,
			relExpired, relLater, relFurther, acsUSAMEX, acsNoNat, statement, unknownRef, ref,
		}
		for len(pick) < 2 {
			pick = append(pick, 0)
		}
		g := Group{
			Members:        maskParties(pick[0]),
			Internal:       pick[0]&0x20 != 0,
			DefaultMarking: []string{"", TLPGreen, TLPRed, ref}[pick[0]>>6],
		}
		obj := Object{Originator: allParties[int(pick[1])%len(allParties)]}
		for _, b := range pick[2:] {
			if b&0x80 != 0 {
				obj.GranularRefs = append(obj.GranularRefs, pool[int(b&0x7f)%len(pool)])
			} else {
				obj.MarkingRefs = append(obj.MarkingRefs, pool[int(b)%len(pool)])
			}
		}
		uses := slices.Contains(obj.MarkingRefs, ref) || slices.Contains(obj.GranularRefs, ref) ||
			(len(obj.MarkingRefs) == 0 && g.DefaultMarking == ref)
		now := testNow.Add(time.Duration(offset))
		rs := checkRelease(t, obj, g, r, now)
		for _, p := range allParties {
			if p == obj.Originator || !rs.Allows(p, g.Members, now) {
				continue
			}
			if uses && opaque {
				t.Fatalf("%+v in %+v: released to %s with marking %s (%v, %v)", obj, g, p, ref, show(d), err)
			}
			if uses && d.Rel != nil && d.Rel.RelTo != nil && !slices.Contains(d.Rel.RelTo, p) {
				t.Fatalf("%+v in %+v: released to %s, not in rel_to of %s", obj, g, p, show(d))
			}
		}

		if o, err := ObjectOf(raw, "MEX"); err == nil {
			checkRelease(t, o, g, r, now)
		}
	})
}

// maskParties returns the parties whose bits are set in the low five
// bits of b.
func maskParties(b byte) []string {
	var out []string
	for i, p := range allParties {
		if b&(1<<i) != 0 {
			out = append(out, p)
		}
	}
	return out
}

// checkRelease checks Release against Compute for every party, and the
// rules for the originator and non-members, and returns the release set.
func checkRelease(t *testing.T, obj Object, g Group, r *Registry, now time.Time) ReleaseSet {
	t.Helper()
	rs := Compute(obj, g, r)
	checkCanonical(t, rs)
	for _, p := range allParties {
		d := Release(p, obj, g, r, now)
		switch {
		case d.Allow != rs.Allows(p, g.Members, now):
			t.Fatalf("%+v in %+v: Release(%s) = %+v, Compute().Allows disagrees", obj, g, p, d)
		case p == obj.Originator && !d.Allow:
			t.Fatalf("%+v in %+v: originator denied: %s", obj, g, d.Reason)
		case p != obj.Originator && (g.Internal || !slices.Contains(g.Members, p)) && d.Allow:
			t.Fatalf("%+v in %+v: %s allowed: %s", obj, g, p, d.Reason)
		}
	}
	return rs
}
