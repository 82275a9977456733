package marking

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var iterations = flag.Int("marking.iterations", 3000, "cases of the randomized property test (TestProperties)")

// propParties are the parties of the randomized groups.
var propParties = []string{"MEX", "USA", "CAN", "GTM", "COL"}

// randomDefinitions adds n releasability and n ACS definitions with random
// content to r, and returns their ids.
func randomDefinitions(t testing.TB, rng *rand.Rand, r *Registry, n int, now time.Time) []string {
	t.Helper()
	var ids []string
	for i := range 2 * n {
		id := fmt.Sprintf("marking-definition--%08x-0000-4000-8000-%012x", rng.Uint32(), i)
		var raw string
		if i%2 == 0 {
			expires := ""
			if i%6 != 0 { // two in three expire
				// Around now, to the second, so that cases fall on both sides.
				expires = now.Add(time.Duration(rng.IntN(4*3600)-2*3600) * time.Second).Format(time.RFC3339)
			}
			raw = relDef(id, randomSubset(rng, propParties, 1), rng.IntN(2) == 0, expires)
		} else {
			cs := `{"classification":"U"}`
			if rng.IntN(4) != 0 {
				cs = `{"classification":"U","permitted_nationalities":["` + joinQuoted(randomSubset(rng, propParties, 1)) + `"]}`
			}
			raw = acsJSON(id, cs)
		}
		if _, err := r.Add([]byte(raw)); err != nil {
			t.Fatalf("Add(%s): %v", raw, err)
		}
		ids = append(ids, id)
	}
	return ids
}

func joinQuoted(s []string) string {
	out := ""
	for i, p := range s {
		if i > 0 {
			out += `","`
		}
		out += p
	}
	return out
}

// randomSubset returns a random subset of s with at least min elements,
// in random order.
func randomSubset(rng *rand.Rand, s []string, min int) []string {
	for {
		var out []string
		for _, p := range s {
			if rng.IntN(2) == 0 {
				out = append(out, p)
			}
		}
		if len(out) >= min {
			rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
			return out
		}
	}
}

// randomRefs returns up to max refs drawn from pool, repeats allowed.
func randomRefs(rng *rand.Rand, pool []string, max int) []string {
	var refs []string
	for range rng.IntN(max + 1) {
		refs = append(refs, pool[rng.IntN(len(pool))])
	}
	return refs
}

// oracle is the rule of Compute written independently, for one party: a
// second reading of DESIGN.md §7 to check the set arithmetic against.
func oracle(party string, obj Object, g Group, r *Registry, now time.Time) bool {
	if party == obj.Originator {
		return true
	}
	if !slices.Contains(g.Members, party) || g.Internal {
		return false
	}
	refs := obj.MarkingRefs
	if len(refs) == 0 {
		refs = []string{cmpOr(g.DefaultMarking, TLPAmber)}
	}
	red, named := false, false
	for i, ref := range append(slices.Clone(refs), obj.GranularRefs...) {
		d, ok := r.Definition(ref)
		switch {
		case !ok || d.Kind == KindUnknown, d.TLP == LevelAmberStrict:
			return false
		case d.TLP == LevelRed:
			red = true
		case d.Rel != nil:
			if !d.Rel.Expires.IsZero() && !now.Before(d.Rel.Expires) {
				return false
			}
			if d.Rel.RelTo != nil {
				if !slices.Contains(d.Rel.RelTo, party) {
					return false
				}
				named = named || i < len(refs)
			}
		}
	}
	return !red || named
}

// TestProperties checks, on random groups, definitions and objects, that
// Release agrees with Compute().Allows and with oracle, that the
// originator is always allowed and non-members never, that adding a
// marking never releases to more parties (but for the one documented
// exception), and that Onward never adds a party.
func TestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(20260120, 1))
	now := testNow
	r := NewRegistry()
	rels := randomDefinitions(t, rng, r, 9, now)
	if _, err := r.Add([]byte(statementJSON(statement))); err != nil {
		t.Fatal(err)
	}
	pool := append([]string{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed, unknownRef, statement}, rels...)
	defaults := append([]string{"", TLPClear, TLPGreen, TLPAmber, TLPRed, unknownRef}, rels[:2]...)

	var allowed, denied, exempt int
	for i := range *iterations {
		g := Group{
			Members:        randomSubset(rng, propParties, 2),
			DefaultMarking: defaults[rng.IntN(len(defaults))],
			Internal:       rng.IntN(10) == 0,
		}
		orig := g.Members[rng.IntN(len(g.Members))]
		if rng.IntN(10) == 0 {
			orig = propParties[rng.IntN(len(propParties))] // perhaps no longer a member
		}
		obj := Object{Originator: orig, MarkingRefs: randomRefs(rng, pool, 4), GranularRefs: randomRefs(rng, pool, 2)}
		at := now.Add(time.Duration(rng.IntN(6*3600)-3*3600) * time.Second)
		rs := Compute(obj, g, r)
		checkCanonical(t, rs)
		where := func() string { return fmt.Sprintf("case %d: %+v in %+v at %v (release set %+v)", i, obj, g, at, rs) }

		for _, p := range propParties {
			d := Release(p, obj, g, r, at)
			if allow := rs.Allows(p, g.Members, at); d.Allow != allow {
				t.Fatalf("%s: Release(%s) = %+v, Compute().Allows = %v", where(), p, d, allow)
			}
			if want := oracle(p, obj, g, r, at); d.Allow != want {
				t.Fatalf("%s: Release(%s) = %+v, oracle says %v", where(), p, d, want)
			}
			switch {
			case p == orig && !d.Allow:
				t.Fatalf("%s: originator %s denied: %s", where(), p, d.Reason)
			case p != orig && !slices.Contains(g.Members, p) && d.Allow:
				t.Fatalf("%s: non-member %s allowed: %s", where(), p, d.Reason)
			case p != orig && g.Internal && d.Allow:
				t.Fatalf("%s: %s allowed from an internal group: %s", where(), p, d.Reason)
			}
			if d.Allow {
				allowed++
			} else {
				denied++
			}
		}

		// Monotonicity: one more marking, at object level (when there are
		// object-level markings: otherwise it would replace the default)
		// or granular.
		m := pool[rng.IntN(len(pool))]
		more := obj
		if len(obj.MarkingRefs) > 0 && rng.IntN(2) == 0 {
			more.MarkingRefs = append(slices.Clone(obj.MarkingRefs), m)
			// The documented exception: an object-level rel_to names the
			// recipients of TLP:RED.
			if d, _ := r.Definition(m); d.Rel != nil && d.Rel.RelTo != nil && hasRed(obj, g) {
				exempt++
				continue
			}
		} else {
			more.GranularRefs = append(slices.Clone(obj.GranularRefs), m)
		}
		rs2 := Compute(more, g, r)
		for _, p := range propParties {
			for _, at := range []time.Time{at, now.Add(-3 * time.Hour), now.Add(3 * time.Hour)} {
				if rs2.Allows(p, g.Members, at) && !rs.Allows(p, g.Members, at) {
					t.Fatalf("%s: adding %s released to %s (release set %+v)", where(), m, p, rs2)
				}
			}
		}

		// Onward never adds a party, whatever the recipient's node lists
		// as members later.
		recipient := g.Members[rng.IntN(len(g.Members))]
		on := Onward(rs, g.Members, recipient)
		checkCanonical(t, on)
		later := randomSubset(rng, propParties, 0)
		for _, p := range propParties {
			if on.Allows(p, later, at) && !rs.Allows(p, g.Members, at) {
				t.Fatalf("%s: Onward(recipient %s) = %+v allows %s with members %v", where(), recipient, on, p, later)
			}
			if !rs.FurtherSharing && p != orig && p != recipient && on.Allows(p, later, at) {
				t.Fatalf("%s: Onward without further sharing = %+v allows %s", where(), on, p)
			}
		}
	}
	t.Logf("%d cases: %d allowed, %d denied, %d monotonicity checks skipped for TLP:RED recipients", *iterations, allowed, denied, exempt)
	if allowed == 0 || denied == 0 {
		t.Errorf("the random cases do not cover both outcomes")
	}
}

// hasRed reports whether TLP:RED applies to obj in g, at object level
// (including the default) or granular.
func hasRed(obj Object, g Group) bool {
	refs := obj.MarkingRefs
	if len(refs) == 0 {
		refs = []string{cmpOr(g.DefaultMarking, TLPAmber)}
	}
	return slices.Contains(refs, TLPRed) || slices.Contains(obj.GranularRefs, TLPRed)
}
