package store_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/marking"
	"github.com/puente-project/puente/internal/store"
)

// TestRecipients checks that the parties a store releases a version to
// when it is added are exactly the members, other than the originator,
// that the marking rule allows.
func TestRecipients(t *testing.T) {
	parties := []string{"CAN", "GTM", "MEX", "USA"}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 5))
	pick := func() []string {
		var out []string
		for _, p := range parties {
			if rng.IntN(2) == 0 {
				out = append(out, p)
			}
		}
		return out
	}
	for i := range 5000 {
		rs := marking.ReleaseSet{Originator: parties[rng.IntN(len(parties))], AllMembers: rng.IntN(3) == 0, Parties: pick()}
		switch rng.IntN(4) {
		case 0:
			rs.Expires = now.Add(-time.Duration(rng.IntN(3)) * time.Microsecond)
		case 1:
			rs.Expires = now.Add(time.Duration(1+rng.IntN(3)) * time.Microsecond)
		}
		members := pick()
		var want []string
		for _, p := range members {
			if p != rs.Originator && rs.Allows(p, members, now) {
				want = append(want, p)
			}
		}
		r := store.Release{Originator: rs.Originator, AllMembers: rs.AllMembers, Parties: rs.Parties, Expires: rs.Expires}
		got := r.Recipients(members, now)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: %+v.Recipients(%v) = %v, want %v", i, r, members, got, want)
		}
	}
}
