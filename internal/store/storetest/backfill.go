package storetest

import (
	"slices"
	"testing"

	"github.com/puente-project/puente/internal/store"
)

// CheckReleaseBackfill checks the migration that gave databases written
// before partners had their own date_added their releases: it fills a
// store, has forget drop every release and clock and run the migration's
// backfill again, and checks that each partner then reads what it read
// before, with the collection's date_added, and that new releases come
// after.
func CheckReleaseBackfill(t *testing.T, s store.Store, forget func(t *testing.T)) {
	ctx := t.Context()
	coll := newGroup(t, s, 1, "MEX", "USA")
	var b []store.NewObject
	for i := range 12 {
		o := obj("indicator", i, "2.1", ts(1+i%3), "x")
		switch i % 3 {
		case 0:
			o.Release = store.Release{Originator: "MEX", AllMembers: true}
		case 1:
			o.Release = store.Release{Originator: "MEX", Parties: []string{"CAN"}}
		default:
			o.Release = store.Release{Originator: "MEX"}
		}
		b = append(b, o)
	}
	add(t, s, coll, b)
	if err := s.SetMembers(ctx, coll, []string{"MEX", "USA", "CAN"}); err != nil {
		t.Fatal(err)
	}
	add(t, s, newGroup(t, s, 2, "MEX", "USA"), b[:3]) // the same ids in another group
	// A version released to USA and withdrawn, then added again, no
	// longer released to USA, while USA was away: on USA's channel, but
	// not USA's to read.
	if _, err := s.DeleteObject(ctx, coll, b[0].ID, store.VersionMatch{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMembers(ctx, coll, []string{"MEX", "CAN"}); err != nil {
		t.Fatal(err)
	}
	again := b[0]
	again.Release = store.Release{Originator: "MEX", Parties: []string{"CAN"}}
	add(t, s, coll, []store.NewObject{again})
	if err := s.SetMembers(ctx, coll, []string{"MEX", "USA", "CAN"}); err != nil {
		t.Fatal(err)
	}
	key := func(o store.Object) string { return o.ID + "@" + o.Version }
	before := map[string][]string{"USA": nil, "CAN": nil}
	for p := range before {
		for _, o := range allFor(t, s, coll, p) {
			before[p] = append(before[p], key(o))
		}
	}
	added := make(map[string]store.Object)
	for _, o := range all(t, s, coll) {
		added[key(o)] = o
	}

	forget(t)

	for p, want := range before {
		got := allFor(t, s, coll, p)
		var keys []string
		for _, o := range got {
			keys = append(keys, key(o))
			if !o.DateAdded.Equal(added[key(o)].DateAdded) {
				t.Errorf("%s reads %s added %v, want the collection's %v", p, key(o), o.DateAdded, added[key(o)].DateAdded)
			}
		}
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("%s reads %v after the backfill, want what its channel recorded: %v", p, keys, want)
		}
	}
	latest := all(t, s, coll)
	o := obj("indicator", 100, "2.1", ts(1), "after")
	o.Release = store.Release{Originator: "MEX", AllMembers: true}
	add(t, s, coll, []store.NewObject{o})
	for _, p := range []string{"USA", "CAN"} {
		got := allFor(t, s, coll, p)
		if n := got[len(got)-1]; n.ID != o.ID || !n.DateAdded.After(latest[len(latest)-1].DateAdded) {
			t.Errorf("%s: the new version %s added %v, want it last and after %v", p, n.ID, n.DateAdded, latest[len(latest)-1].DateAdded)
		}
	}
}
