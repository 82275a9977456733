// Package storetest is the conformance suite of [store.Store]. Every driver
// runs it unchanged from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTestDB(t) })
//	}
//
// It checks the contract written in the doc comments of package store,
// including the ones TAXII clients depend on most: date_added unique and
// strictly increasing per collection (so added_after paging never skips),
// version selection per object before added_after and limit, and
// byte-identical content.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/marking"
	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
)

// Run runs the suite. open must return a new, empty store each time it is
// called and close it when t ends (t.Cleanup); the suite never closes it.
// Times given to the store have microsecond precision, the precision the
// contract keeps.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Collections", testCollections},
		{"AddObjects", testAddObjects},
		{"AddObjectsCancelled", testAddObjectsCancelled},
		{"Versionless", testVersionless},
		{"DateAddedOneBatch", testDateAddedOneBatch},
		{"DateAddedConcurrent", testDateAddedConcurrent},
		{"DateAddedAfterDelete", testDateAddedAfterDelete},
		{"Paging", testPaging},
		{"PagingMaxBytes", testPagingMaxBytes},
		{"Release", testRelease},
		{"Members", testMembers},
		{"Denials", testDenials},
		{"MarkingDefinitions", testMarkingDefinitions},
		{"QueryCases", testQueryCases},
		{"QueryCombinations", testQueryCombinations},
		{"QueryErrors", testQueryErrors},
		{"Content", testContent},
		{"DeleteObject", testDeleteObject},
		{"Statuses", testStatuses},
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"Ledger", testLedger},
		{"LedgerConcurrent", testLedgerConcurrent},
		{"LedgerCheckpoints", testLedgerCheckpoints},
		{"LedgerNewMember", testLedgerNewMember},
		{"PartnerDates", testPartnerDates},
		{"Peers", testPeers},
		{"ApplyPull", testApplyPull},
		{"Lease", testLease},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// t0 is the base of the times the suite gives the store.
var t0 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// uuid returns a well-formed, distinct UUID for each n.
func uuid(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
}

// obj returns a version of the object typ--uuid(n). version is its modified
// timestamp ("" for none); note makes contents differ.
func obj(typ string, n int, spec, version, note string) store.NewObject {
	id := typ + "--" + uuid(n)
	raw := fmt.Sprintf(`{"type":%q,"spec_version":%q,"id":%q`, typ, spec, id)
	key := ""
	if version != "" {
		raw += fmt.Sprintf(`,"created":%q,"modified":%q`, version, version)
		ts, err := stix.ParseTimestamp(version)
		if err != nil {
			panic(err)
		}
		key = stix.VersionKey(ts)
	}
	raw += fmt.Sprintf(`,"name":%q}`, note)
	return store.NewObject{
		ID: id, Type: typ, SpecVersion: spec, Version: version, VersionKey: key,
		Hash: sha256.Sum256([]byte(raw)), Raw: []byte(raw),
	}
}

// ts returns a STIX timestamp n days after 2020-01-01, with milliseconds.
func ts(n int) string {
	return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n).Format("2006-01-02T15:04:05.000Z")
}

func key(version string) string {
	t, err := stix.ParseTimestamp(version)
	if err != nil {
		panic(err)
	}
	return stix.VersionKey(t)
}

func newCollection(t *testing.T, s store.Store, n int) string {
	t.Helper()
	c := store.Collection{ID: uuid(1000 + n), Title: fmt.Sprintf("collection %d", n), Created: t0.Add(time.Duration(n) * time.Second)}
	if err := s.CreateCollection(t.Context(), c); err != nil {
		t.Fatalf("CreateCollection(%v) = %v", c.ID, err)
	}
	return c.ID
}

// add adds objs and checks that the call succeeds with the wanted outcomes
// (nil want: every object Added).
func add(t *testing.T, s store.Store, coll string, objs []store.NewObject, want ...store.Outcome) []store.AddResult {
	t.Helper()
	res, err := s.AddObjects(t.Context(), coll, objs)
	if err != nil {
		t.Fatalf("AddObjects(%d objects) = %v", len(objs), err)
	}
	if len(res) != len(objs) {
		t.Fatalf("AddObjects(%d objects) returned %d results", len(objs), len(res))
	}
	for i, r := range res {
		w := store.Added
		if want != nil {
			w = want[i]
		}
		if r.Outcome != w || r.ID != objs[i].ID {
			t.Fatalf("AddObjects: result %d = %s %s, want %s %s", i, r.ID, outcome(r.Outcome), objs[i].ID, outcome(w))
		}
	}
	return res
}

func outcome(o store.Outcome) string {
	switch o {
	case store.Added:
		return "Added"
	case store.Duplicate:
		return "Duplicate"
	case store.Conflict:
		return "Conflict"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// newGroup creates working group n with members.
func newGroup(t *testing.T, s store.Store, n int, members ...string) string {
	t.Helper()
	c := store.Collection{ID: uuid(1000 + n), Title: fmt.Sprintf("group %d", n), Created: t0.Add(time.Duration(n) * time.Second), Members: members}
	if err := s.CreateCollection(t.Context(), c); err != nil {
		t.Fatalf("CreateCollection(%v) = %v", c.ID, err)
	}
	return c.ID
}

// all reads every version in the collection, in pages of 1000.
func all(t *testing.T, s store.Store, coll string) []store.Object {
	t.Helper()
	return allFor(t, s, coll, "")
}

// allFor reads every version in the collection as party reads it (its
// releases; "" for the node's own users), in pages of 1000.
func allFor(t *testing.T, s store.Store, coll, party string) []store.Object {
	t.Helper()
	var objs []store.Object
	q := store.Query{CollectionID: coll, Versions: store.VersionMatch{All: true}, Limit: 1000, ReleasedTo: party}
	for {
		p, err := s.Objects(t.Context(), q)
		if err != nil {
			t.Fatalf("Objects(%+v) = %v", q, err)
		}
		objs = append(objs, p.Objects...)
		if !p.More {
			return objs
		}
		if len(p.Objects) == 0 {
			t.Fatalf("Objects(%+v): empty page with More", q)
		}
		q.AddedAfter = p.Objects[len(p.Objects)-1].DateAdded
	}
}

// versions lists "id@version" of objs.
func versions(objs []store.Object) []string {
	var vs []string
	for _, o := range objs {
		vs = append(vs, o.ID+"@"+o.Version)
	}
	return vs
}

func testCollections(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	colls := []store.Collection{
		{ID: uuid(1), Alias: "fentanyl", Title: "Fentanyl", Description: "precursors and labs", Created: t0.Add(2 * time.Second)},
		{ID: uuid(2), Title: "Internal", Internal: true, Created: t0.Add(3 * time.Second)},
		{ID: uuid(3), Title: "No alias either", Created: t0.Add(4 * time.Second)},
		// Created last but older: listed first.
		{ID: uuid(4), Alias: "money-laundering", Title: "Money laundering", Created: t0.Add(time.Second)},
	}
	for _, c := range colls {
		if err := s.CreateCollection(ctx, c); err != nil {
			t.Fatalf("CreateCollection(%+v) = %v", c, err)
		}
	}
	got, err := s.Collections(ctx)
	if err != nil {
		t.Fatalf("Collections() = %v", err)
	}
	want := []store.Collection{colls[3], colls[0], colls[1], colls[2]}
	if len(got) != len(want) {
		t.Fatalf("Collections() = %+v, want %+v", got, want)
	}
	for i := range want {
		if !collectionEqual(got[i], want[i]) {
			t.Errorf("Collections()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}

	lookups := []struct {
		name, key string
		want      store.Collection
		err       error
	}{
		{"by id", uuid(1), colls[0], nil},
		{"by alias", "fentanyl", colls[0], nil},
		{"no alias", uuid(2), colls[1], nil},
		{"unknown", "nope", store.Collection{}, store.ErrNotFound},
		{"empty alias matches nothing", "", store.Collection{}, store.ErrNotFound},
		{"alias is case-sensitive", "Fentanyl", store.Collection{}, store.ErrNotFound},
	}
	for _, tc := range lookups {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Collection(ctx, tc.key)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Collection(%q) error = %v, want %v", tc.key, err, tc.err)
			}
			if err == nil && !collectionEqual(got, tc.want) {
				t.Errorf("Collection(%q) = %+v, want %+v", tc.key, got, tc.want)
			}
		})
	}

	clashes := []struct {
		name string
		c    store.Collection
	}{
		{"same id", store.Collection{ID: uuid(1), Title: "again"}},
		{"same id, new alias", store.Collection{ID: uuid(2), Alias: "fresh", Title: "again"}},
		{"same alias", store.Collection{ID: uuid(10), Alias: "fentanyl", Title: "again"}},
		{"alias is another's id", store.Collection{ID: uuid(11), Alias: uuid(3), Title: "again"}},
		{"id is another's alias", store.Collection{ID: "money-laundering", Title: "again"}},
	}
	for _, tc := range clashes {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateCollection(ctx, tc.c); !errors.Is(err, store.ErrExists) {
				t.Errorf("CreateCollection(%+v) = %v, want %v", tc.c, err, store.ErrExists)
			}
		})
	}
	if got, err := s.Collections(ctx); err != nil || len(got) != len(colls) {
		t.Errorf("after refused creates, Collections() = %d collections, %v; want %d", len(got), err, len(colls))
	}
	if _, err := s.Collection(ctx, "fresh"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Collection(alias of a refused create) = %v, want %v", err, store.ErrNotFound)
	}
}

func collectionEqual(a, b store.Collection) bool {
	return a.ID == b.ID && a.Alias == b.Alias && a.Title == b.Title && a.Description == b.Description &&
		a.Internal == b.Internal && a.Created.Equal(b.Created)
}

func testAddObjects(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	coll := newCollection(t, s, 1)
	other := newCollection(t, s, 2)

	a1 := obj("indicator", 1, "2.1", ts(1), "a1")
	a2 := obj("indicator", 1, "2.1", ts(2), "a2")
	a1conflict := obj("indicator", 1, "2.1", ts(1), "a1 changed")
	// The same version written another way: versions compare by value.
	a1sameValue := obj("indicator", 1, "2.1", strings.TrimSuffix(ts(1), ".000Z")+"Z", "a1 again")
	b1 := obj("malware", 2, "2.1", ts(1), "b1")
	b1conflict := obj("malware", 2, "2.1", ts(1), "b1 changed")

	first := add(t, s, coll, []store.NewObject{a2, a1})
	for i, r := range first {
		if r.Version != []string{a2.Version, a1.Version}[i] {
			t.Errorf("first add: result %d version = %q, want %q", i, r.Version, []string{a2.Version, a1.Version}[i])
		}
	}

	got := add(t, s, coll,
		[]store.NewObject{a1, a1conflict, b1, b1, b1conflict, a1sameValue, a2},
		store.Duplicate, store.Conflict, store.Added, store.Duplicate, store.Conflict, store.Conflict, store.Duplicate)
	wantDates := []time.Time{first[1].DateAdded, {}, got[2].DateAdded, got[2].DateAdded, {}, {}, first[0].DateAdded}
	wantVersions := []string{a1.Version, a1conflict.Version, b1.Version, b1.Version, b1conflict.Version, a1sameValue.Version, a2.Version}
	for i, r := range got {
		if !r.DateAdded.Equal(wantDates[i]) {
			t.Errorf("result %d (%s): DateAdded = %v, want %v", i, outcome(r.Outcome), r.DateAdded, wantDates[i])
		}
		if r.Version != wantVersions[i] {
			t.Errorf("result %d (%s): Version = %q, want %q", i, outcome(r.Outcome), r.Version, wantVersions[i])
		}
	}
	if !got[2].DateAdded.After(first[0].DateAdded) || !got[2].DateAdded.After(first[1].DateAdded) {
		t.Errorf("later add got DateAdded %v, not after %v and %v", got[2].DateAdded, first[0].DateAdded, first[1].DateAdded)
	}

	stored := all(t, s, coll)
	if got, want := versions(stored), []string{a2.ID + "@" + a2.Version, a1.ID + "@" + a1.Version, b1.ID + "@" + b1.Version}; !slices.Equal(got, want) {
		t.Errorf("stored versions = %v, want %v", got, want)
	}
	for _, o := range stored {
		for _, in := range []store.NewObject{a1, a2, b1} {
			if o.ID == in.ID && o.Version == in.Version && string(o.Raw) != string(in.Raw) {
				t.Errorf("stored %s@%s = %s, want %s (conflicts must not overwrite)", o.ID, o.Version, o.Raw, in.Raw)
			}
		}
	}

	// The same object in another collection is independent.
	add(t, s, other, []store.NewObject{a1conflict}, store.Added)
	if got := all(t, s, coll); len(got) != 3 {
		t.Errorf("adding to another collection changed this one: %v", versions(got))
	}

	t.Run("collection not found", func(t *testing.T) {
		res, err := s.AddObjects(ctx, uuid(999), []store.NewObject{obj("indicator", 3, "2.1", ts(1), "x")})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddObjects(unknown collection) = %v, %v; want %v", res, err, store.ErrNotFound)
		}
	})
	t.Run("by alias is not by id", func(t *testing.T) {
		c := store.Collection{ID: uuid(50), Alias: "aliased", Title: "aliased", Created: t0}
		if err := s.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddObjects(ctx, "aliased", []store.NewObject{a1}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddObjects(alias) = %v, want %v", err, store.ErrNotFound)
		}
	})
	t.Run("empty batch", func(t *testing.T) {
		res, err := s.AddObjects(ctx, coll, nil)
		if err != nil || len(res) != 0 {
			t.Errorf("AddObjects(nil) = %v, %v; want no results, nil", res, err)
		}
	})
}

func testAddObjectsCancelled(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newCollection(t, s, 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	o := obj("indicator", 1, "2.1", ts(1), "x")
	if _, err := s.AddObjects(ctx, coll, []store.NewObject{o}); err == nil {
		t.Errorf("AddObjects(cancelled context) = nil error, want an error")
	}
	if got := all(t, s, coll); len(got) != 0 {
		t.Errorf("AddObjects(cancelled context) failed but wrote %v", versions(got))
	}
}

func testVersionless(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newCollection(t, s, 1)
	d1 := obj("ipv4-addr", 1, "2.1", "", "198.51.100.1")
	d2 := obj("ipv4-addr", 1, "2.1", "", "198.51.100.1 with more")
	e := obj("ipv4-addr", 2, "2.1", "", "198.51.100.2")

	before := time.Now().Truncate(time.Microsecond)
	first := add(t, s, coll, []store.NewObject{d1, e, d1}, store.Added, store.Added, store.Duplicate)
	after := time.Now()
	// The version is the time of the add, the same for the whole call:
	// not the date_added, which counts the versions added before it.
	for i, r := range first {
		v, err := time.Parse("2006-01-02T15:04:05.000000Z", r.Version)
		if err != nil || v.Before(before) || v.After(after) || r.Version != first[0].Version {
			t.Errorf("versionless result %d: Version = %q (%v), want the time of the add, between %v and %v, as for the first", i, r.Version, err, before, after)
		}
	}
	if first[2].Version != first[0].Version || !first[2].DateAdded.Equal(first[0].DateAdded) {
		t.Errorf("duplicate in the same batch = %+v, want the version and date of %+v", first[2], first[0])
	}
	again := add(t, s, coll, []store.NewObject{d1, d2}, store.Duplicate, store.Added)
	if again[0].Version != first[0].Version || !again[0].DateAdded.Equal(first[0].DateAdded) {
		t.Errorf("re-posted versionless object = %+v, want %+v", again[0], first[0])
	}
	if again[1].Version == first[0].Version {
		t.Errorf("changed versionless object got the old version %q", again[1].Version)
	}

	stored := all(t, s, coll)
	want := []string{d1.ID + "@" + first[0].Version, e.ID + "@" + first[1].Version, d2.ID + "@" + again[1].Version}
	if got := versions(stored); !slices.Equal(got, want) {
		t.Fatalf("stored = %v, want %v", got, want)
	}
	for _, o := range stored {
		v, _ := stix.ParseTimestamp(o.Version)
		if o.VersionKey != stix.VersionKey(v) {
			t.Errorf("%s@%s: VersionKey = %q, want %q", o.ID, o.Version, o.VersionKey, stix.VersionKey(v))
		}
	}
	// The newest content is the last version.
	p, err := s.Objects(t.Context(), store.Query{CollectionID: coll, IDs: []string{d1.ID}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(p.Objects); !slices.Equal(got, []string{d2.ID + "@" + again[1].Version}) {
		t.Errorf("last version of %s = %v, want the second content", d1.ID, got)
	}
	// Two new contents of one object in one call: two versions, in order.
	d3 := obj("ipv4-addr", 1, "2.1", "", "third")
	d4 := obj("ipv4-addr", 1, "2.1", "", "fourth")
	third := add(t, s, coll, []store.NewObject{d3, d4})
	if !(third[0].Version > again[1].Version && third[1].Version > third[0].Version) {
		t.Errorf("versions %q, then %q and %q in one call: want increasing", again[1].Version, third[0].Version, third[1].Version)
	}
}

func checkIncreasing(t *testing.T, what string, ds []time.Time) {
	t.Helper()
	for i := 1; i < len(ds); i++ {
		if !ds[i].After(ds[i-1]) {
			t.Fatalf("%s: date_added %d = %v, not after %d = %v", what, i, ds[i].Format(time.RFC3339Nano), i-1, ds[i-1].Format(time.RFC3339Nano))
		}
		if ds[i].Truncate(time.Microsecond) != ds[i] {
			t.Fatalf("%s: date_added %v has sub-microsecond digits", what, ds[i])
		}
	}
}

func testDateAddedOneBatch(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newCollection(t, s, 1)
	// 1000 objects in one call: many are added in the same microsecond.
	var objs []store.NewObject
	for i := range 1000 {
		objs = append(objs, obj("indicator", i, "2.1", ts(1), "x"))
	}
	res := add(t, s, coll, objs)
	var ds []time.Time
	for _, r := range res {
		ds = append(ds, r.DateAdded)
	}
	checkIncreasing(t, "one batch, input order", ds)
	stored := all(t, s, coll)
	if len(stored) != len(objs) {
		t.Fatalf("stored %d versions, want %d", len(stored), len(objs))
	}
	for i, o := range stored {
		if o.ID != objs[i].ID || !o.DateAdded.Equal(res[i].DateAdded) {
			t.Fatalf("stored[%d] = %s added %v, want %s added %v", i, o.ID, o.DateAdded, objs[i].ID, res[i].DateAdded)
		}
	}
}

func testDateAddedConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newCollection(t, s, 1)
	otherColl := newCollection(t, s, 2)
	const writers, batches, perBatch = 8, 50, 5
	type added struct {
		id, version string
		date        time.Time
	}
	results := make([][]added, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			var last time.Time
			for b := range batches {
				var objs []store.NewObject
				for i := range perBatch {
					n := (w*batches+b)*perBatch + i
					objs = append(objs, obj("indicator", n, "2.1", ts(n%7), fmt.Sprint(n)))
				}
				c := coll
				if b%5 == 4 {
					c = otherColl // interleave another collection
				}
				res, err := s.AddObjects(context.Background(), c, objs)
				if err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
				for i, r := range res {
					if r.Outcome != store.Added {
						errs <- fmt.Errorf("writer %d batch %d object %d: %s, want Added", w, b, i, outcome(r.Outcome))
						return
					}
					if c == coll {
						if !r.DateAdded.After(last) {
							errs <- fmt.Errorf("writer %d: date_added %v not after its previous %v", w, r.DateAdded, last)
							return
						}
						last = r.DateAdded
						results[w] = append(results[w], added{r.ID, r.Version, r.DateAdded})
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored := all(t, s, coll)
	var ds []time.Time
	byVersion := make(map[string]time.Time)
	for _, o := range stored {
		ds = append(ds, o.DateAdded)
		byVersion[o.ID+"@"+o.Version] = o.DateAdded
	}
	checkIncreasing(t, "concurrent writers", ds)
	n := 0
	for _, rs := range results {
		for _, r := range rs {
			n++
			if d, ok := byVersion[r.id+"@"+r.version]; !ok || !d.Equal(r.date) {
				t.Errorf("%s@%s: acknowledged with date_added %v, stored %v (present: %v)", r.id, r.version, r.date, d, ok)
			}
		}
	}
	if len(stored) != n {
		t.Errorf("stored %d versions, acknowledged %d", len(stored), n)
	}
}

func testDateAddedAfterDelete(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newCollection(t, s, 1)
	a := add(t, s, coll, []store.NewObject{obj("indicator", 1, "2.1", ts(1), "a")})
	b := add(t, s, coll, []store.NewObject{obj("indicator", 2, "2.1", ts(1), "b")})
	if _, err := s.DeleteObject(t.Context(), coll, b[0].ID, store.VersionMatch{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	c := add(t, s, coll, []store.NewObject{obj("indicator", 3, "2.1", ts(1), "c")})
	if !c[0].DateAdded.After(b[0].DateAdded) || !c[0].DateAdded.After(a[0].DateAdded) {
		t.Errorf("after deleting the newest object (added %v), a new one got date_added %v", b[0].DateAdded, c[0].DateAdded)
	}
}

// fixture is a collection whose objects exercise every filter.
type fixture struct {
	s    store.Store
	coll string
	m    model
}

func newFixture(t *testing.T, open func(t *testing.T) store.Store) *fixture {
	t.Helper()
	f := &fixture{s: open(t)}
	f.coll = newCollection(t, f.s, 1)
	other := newCollection(t, f.s, 2)
	batches := [][]store.NewObject{
		{obj("indicator", 1, "2.1", ts(20), "A2"), obj("malware", 2, "2.1", ts(5), "B")},
		{obj("indicator", 1, "2.1", ts(10), "A1")}, // an older version added later
		{obj("indicator", 3, "2.1", ts(10), "C1"), obj("indicator", 3, "2.0", ts(30), "C2")},
		{obj("ipv4-addr", 4, "2.1", "", "D1"), obj("malware", 5, "2.0", ts(1), "E1")},
		{obj("indicator", 1, "2.1", ts(30), "A3"), obj("malware", 5, "2.1", ts(40), "E2"), obj("ipv4-addr", 4, "2.1", "", "D2")},
		{obj("malware", 6, "2.0", ts(3), "F1"), obj("malware", 6, "2.1", ts(2), "F0")},
	}
	for _, b := range batches {
		f.m.add(b, add(t, f.s, f.coll, b))
	}
	// Same ids elsewhere must not leak in.
	add(t, f.s, other, []store.NewObject{obj("indicator", 1, "2.1", ts(50), "A elsewhere"), obj("malware", 7, "2.1", ts(1), "G")})
	return f
}

// model is a reference implementation of the query semantics.
type model struct{ objs []store.Object } // in date_added order

func (m *model) add(in []store.NewObject, res []store.AddResult) {
	for i, r := range res {
		if r.Outcome != store.Added {
			continue
		}
		o := in[i]
		k := o.VersionKey
		if o.Version == "" {
			v, err := stix.ParseTimestamp(r.Version)
			if err != nil {
				panic(fmt.Sprintf("versionless %s got version %q: %v", o.ID, r.Version, err))
			}
			k = stix.VersionKey(v)
		}
		m.objs = append(m.objs, store.Object{
			ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion, Version: r.Version, VersionKey: k,
			DateAdded: r.DateAdded, Hash: o.Hash, Raw: o.Raw,
		})
	}
}

func (m *model) query(q store.Query) store.Page {
	vm := q.Versions
	if vm.IsZero() {
		vm.Last = true
	}
	allowed := func(o store.Object) bool {
		return len(q.SpecVersions) == 0 || slices.Contains(q.SpecVersions, o.SpecVersion)
	}
	var p store.Page
	for _, o := range m.objs {
		if len(q.IDs) > 0 && !slices.Contains(q.IDs, o.ID) ||
			len(q.Types) > 0 && !slices.Contains(q.Types, o.Type) ||
			!allowed(o) {
			continue
		}
		var keys []string
		for _, v := range m.objs {
			if v.ID == o.ID && allowed(v) {
				keys = append(keys, v.VersionKey)
			}
		}
		if !(vm.All || slices.Contains(vm.Keys, o.VersionKey) ||
			vm.First && o.VersionKey == slices.Min(keys) ||
			vm.Last && o.VersionKey == slices.Max(keys)) {
			continue
		}
		if !q.AddedAfter.IsZero() && !o.DateAdded.After(q.AddedAfter) {
			continue
		}
		if len(p.Objects) == q.Limit {
			p.More = true
			break
		}
		if q.NoContent {
			o.Raw = nil
		}
		p.Objects = append(p.Objects, o)
	}
	return p
}

// diffPages describes how got differs from want, or returns "".
func diffPages(got, want store.Page) string {
	if got.More != want.More || len(got.Objects) != len(want.Objects) {
		return fmt.Sprintf("got %v more=%v, want %v more=%v", versions(got.Objects), got.More, versions(want.Objects), want.More)
	}
	for i := range want.Objects {
		g, w := got.Objects[i], want.Objects[i]
		if g.ID != w.ID || g.Type != w.Type || g.SpecVersion != w.SpecVersion || g.Version != w.Version ||
			g.VersionKey != w.VersionKey || !g.DateAdded.Equal(w.DateAdded) || g.Hash != w.Hash ||
			string(g.Raw) != string(w.Raw) || (g.Raw == nil) != (w.Raw == nil) {
			return fmt.Sprintf("object %d = %+v\nwant %+v", i, g, w)
		}
	}
	return ""
}

func testPaging(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newCollection(t, s, 1)
	var m model
	// 50 versions of 15 objects, versions added out of order, some versionless.
	n := 0
	for round := range 5 {
		var b []store.NewObject
		for id := range 15 {
			if (id+round)%3 == 0 {
				continue
			}
			n++
			if id%5 == 4 {
				b = append(b, obj("ipv4-addr", id, "2.1", "", fmt.Sprint(round)))
			} else {
				b = append(b, obj("indicator", id, "2.1", ts((round*7)%5+id), fmt.Sprint(round)))
			}
		}
		m.add(b, add(t, s, coll, b))
	}
	if n != 50 {
		t.Fatalf("fixture has %d versions, want 50", n)
	}
	for _, vm := range []store.VersionMatch{{All: true}, {}, {First: true}} {
		want := m.query(store.Query{Versions: vm, Limit: 1000}).Objects
		for limit := 1; limit <= 7; limit++ {
			t.Run(fmt.Sprintf("%+v/limit=%d", vm, limit), func(t *testing.T) {
				var got []store.Object
				q := store.Query{CollectionID: coll, Versions: vm, Limit: limit}
				for pages := 0; ; pages++ {
					if pages > len(want)+1 {
						t.Fatalf("paging does not end")
					}
					p, err := s.Objects(t.Context(), q)
					if err != nil {
						t.Fatalf("Objects(%+v) = %v", q, err)
					}
					if len(p.Objects) > limit {
						t.Fatalf("Objects(%+v) returned %d objects", q, len(p.Objects))
					}
					got = append(got, p.Objects...)
					if !p.More {
						break
					}
					if len(p.Objects) != limit {
						t.Fatalf("Objects(%+v) = %d objects and More, want a full page", q, len(p.Objects))
					}
					q.AddedAfter = p.Objects[len(p.Objects)-1].DateAdded
				}
				if d := diffPages(store.Page{Objects: got}, store.Page{Objects: want}); d != "" {
					t.Errorf("pages joined: %s", d)
				}
			})
		}
	}
}

// testPagingMaxBytes checks that MaxBytes ends a page once its content
// reaches the bound, always with at least one object, and that paging on
// returns every version once.
func testPagingMaxBytes(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newCollection(t, s, 1)
	var b []store.NewObject
	for i := range 10 {
		b = append(b, obj("indicator", i, "2.1", ts(i), strings.Repeat("x", 100)))
	}
	add(t, s, coll, b)
	size := len(b[0].Raw)
	tests := []struct {
		name     string
		maxBytes int
		want     int
	}{
		{"bound inside the third object", 2*size + 1, 3},
		{"bound at two objects", 2 * size, 2},
		{"bound smaller than one object", 1, 1},
		{"bound above everything", 100 * size, 10},
		{"no bound", 0, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := store.Query{CollectionID: coll, Limit: 1000, MaxBytes: tc.maxBytes}
			p, err := s.Objects(t.Context(), q)
			if err != nil {
				t.Fatalf("Objects(%+v) = %v", q, err)
			}
			if len(p.Objects) != tc.want || p.More != (tc.want < 10) {
				t.Errorf("Objects(MaxBytes %d) = %d objects, More %v; want %d, More %v", tc.maxBytes, len(p.Objects), p.More, tc.want, tc.want < 10)
			}
			seen := len(p.Objects)
			for p.More {
				q.AddedAfter = p.Objects[len(p.Objects)-1].DateAdded
				if p, err = s.Objects(t.Context(), q); err != nil {
					t.Fatalf("Objects(%+v) = %v", q, err)
				}
				seen += len(p.Objects)
			}
			if seen != 10 {
				t.Errorf("paging with MaxBytes %d saw %d versions, want 10", tc.maxBytes, seen)
			}
		})
	}
}

func testQueryCases(t *testing.T, open func(t *testing.T) store.Store) {
	f := newFixture(t, open)
	all := f.m.query(store.Query{Versions: store.VersionMatch{All: true}, Limit: 1000}).Objects
	// v names a version by the note in its content, e.g. "A2".
	v := func(note string) string {
		for _, o := range all {
			if strings.Contains(string(o.Raw), fmt.Sprintf(`"name":%q`, note)) {
				return o.ID + "@" + o.Version
			}
		}
		t.Fatalf("no version %s in the fixture", note)
		return ""
	}
	keyOf := func(note string) string {
		_, ver, _ := strings.Cut(v(note), "@")
		return key(ver)
	}
	A, B := "indicator--"+uuid(1), "malware--"+uuid(2)
	// Fixture, in date_added order: A2 B A1 C1 C2(2.0) D1 E1(2.0) A3 E2 D2 F1(2.0) F0.
	tests := []struct {
		name string
		q    store.Query
		want []string // notes, in order
		more bool
	}{
		{"default is last", store.Query{}, []string{"B", "C2", "A3", "E2", "D2", "F1"}, false},
		{"last", store.Query{Versions: store.VersionMatch{Last: true}}, []string{"B", "C2", "A3", "E2", "D2", "F1"}, false},
		{"first", store.Query{Versions: store.VersionMatch{First: true}}, []string{"B", "A1", "C1", "D1", "E1", "F0"}, false},
		{"all", store.Query{Versions: store.VersionMatch{All: true}}, []string{"A2", "B", "A1", "C1", "C2", "D1", "E1", "A3", "E2", "D2", "F1", "F0"}, false},
		{"first and last", store.Query{Versions: store.VersionMatch{First: true, Last: true}}, []string{"B", "A1", "C1", "C2", "D1", "E1", "A3", "E2", "D2", "F1", "F0"}, false},
		{"exact version", store.Query{Versions: store.VersionMatch{Keys: []string{keyOf("A2")}}}, []string{"A2"}, false},
		{"exact version or last", store.Query{Versions: store.VersionMatch{Keys: []string{keyOf("A2")}, Last: true}}, []string{"A2", "B", "C2", "A3", "E2", "D2", "F1"}, false},
		{"exact version of none", store.Query{Versions: store.VersionMatch{Keys: []string{key(ts(999))}}}, nil, false},
		{"ids", store.Query{IDs: []string{A, B}}, []string{"B", "A3"}, false},
		{"unknown id", store.Query{IDs: []string{"indicator--" + uuid(99)}}, nil, false},
		{"types", store.Query{Types: []string{"malware"}}, []string{"B", "E2", "F1"}, false},
		{"two types", store.Query{Types: []string{"malware", "ipv4-addr"}}, []string{"B", "E2", "D2", "F1"}, false},
		{"unknown type", store.Query{Types: []string{"campaign"}}, nil, false},
		{"spec 2.1: last among 2.1", store.Query{SpecVersions: []string{"2.1"}}, []string{"B", "C1", "A3", "E2", "D2", "F0"}, false},
		{"spec 2.0: last among 2.0", store.Query{SpecVersions: []string{"2.0"}}, []string{"C2", "E1", "F1"}, false},
		{"spec 2.1: first among 2.1", store.Query{SpecVersions: []string{"2.1"}, Versions: store.VersionMatch{First: true}}, []string{"B", "A1", "C1", "D1", "E2", "F0"}, false},
		{"spec both", store.Query{SpecVersions: []string{"2.0", "2.1"}}, []string{"B", "C2", "A3", "E2", "D2", "F1"}, false},
		{"spec unknown", store.Query{SpecVersions: []string{"2.2"}}, nil, false},
		{"added after is exclusive", store.Query{AddedAfter: f.m.objs[7].DateAdded}, []string{"E2", "D2", "F1"}, false},
		// Version selection comes before added_after: A's last is A3, so
		// asking after A3 does not fall back to an older A.
		{"added after the last version", store.Query{IDs: []string{A}, AddedAfter: f.m.objs[7].DateAdded}, nil, false},
		{"added after, first", store.Query{Versions: store.VersionMatch{First: true}, AddedAfter: f.m.objs[0].DateAdded}, []string{"B", "A1", "C1", "D1", "E1", "F0"}, false},
		{"limit", store.Query{Limit: 2}, []string{"B", "C2"}, true},
		{"limit exactly the rest", store.Query{Limit: 6}, []string{"B", "C2", "A3", "E2", "D2", "F1"}, false},
		{"everything ANDed", store.Query{IDs: []string{A, "malware--" + uuid(5)}, Types: []string{"malware"}, SpecVersions: []string{"2.0"}, Versions: store.VersionMatch{All: true}}, []string{"E1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.CollectionID = f.coll
			if q.Limit == 0 {
				q.Limit = 100
			}
			p, err := f.s.Objects(t.Context(), q)
			if err != nil {
				t.Fatalf("Objects(%+v) = %v", q, err)
			}
			var want []string
			for _, n := range tc.want {
				want = append(want, v(n))
			}
			if got := versions(p.Objects); !slices.Equal(got, want) || p.More != tc.more {
				t.Errorf("Objects(%+v) = %v more=%v, want %v more=%v", q, got, p.More, want, tc.more)
			}
			// The model agrees with the hand-written answer, so the
			// combinations test can trust it.
			if m := f.m.query(q); !slices.Equal(versions(m.Objects), want) || m.More != tc.more {
				t.Errorf("model(%+v) = %v more=%v, want %v more=%v", q, versions(m.Objects), m.More, want, tc.more)
			}
		})
	}
}

func testQueryCombinations(t *testing.T, open func(t *testing.T) store.Store) {
	f := newFixture(t, open)
	A, C := "indicator--"+uuid(1), "indicator--"+uuid(3)
	idSets := [][]string{nil, {A}, {A, C}, {"malware--" + uuid(5), "ipv4-addr--" + uuid(4)}, {"indicator--" + uuid(99)}}
	typeSets := [][]string{nil, {"indicator"}, {"malware", "ipv4-addr"}, {"malware", "indicator", "malware"}, {"campaign"}}
	matches := []store.VersionMatch{
		{}, {First: true}, {Last: true}, {All: true}, {First: true, Last: true},
		{Keys: []string{key(ts(10))}}, {Keys: []string{key(ts(10)), key(ts(30))}, Last: true},
		{Keys: []string{key(ts(1))}, First: true}, {Keys: []string{key(ts(999))}},
		{All: true, First: true},
	}
	specSets := [][]string{nil, {"2.1"}, {"2.0"}, {"2.0", "2.1"}, {"2.2"}}
	afters := []time.Time{{}, f.m.objs[2].DateAdded, f.m.objs[6].DateAdded.Add(-time.Nanosecond), f.m.objs[len(f.m.objs)-1].DateAdded}
	limits := []int{1, 2, 3, 1000}
	// Every combination of the filters; added_after and limit cycle with
	// the counter so that every pair of them occurs (the full product is
	// slow under the race detector).
	failures, n := 0, 0
	for _, ids := range idSets {
		for _, types := range typeSets {
			for _, vm := range matches {
				for _, specs := range specSets {
					n++
					ai := n % len(afters)
					q := store.Query{CollectionID: f.coll, AddedAfter: afters[ai], IDs: ids, Types: types,
						Versions: vm, SpecVersions: specs, Limit: limits[(n/len(afters))%len(limits)], NoContent: n%7 == 0}
					p, err := f.s.Objects(t.Context(), q)
					if err != nil {
						t.Fatalf("Objects(%+v) = %v", q, err)
					}
					if d := diffPages(p, f.m.query(q)); d != "" {
						t.Errorf("Objects(ids=%v types=%v versions=%+v specs=%v after#%d limit=%d nocontent=%v): %s",
							ids, types, vm, specs, ai, q.Limit, q.NoContent, d)
						if failures++; failures == 20 {
							t.Fatalf("too many failures")
						}
					}
				}
			}
		}
	}
	t.Logf("%d queries", n)
}

func testQueryErrors(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newCollection(t, s, 1)
	p, err := s.Objects(t.Context(), store.Query{CollectionID: coll, Limit: 10})
	if err != nil || len(p.Objects) != 0 || p.More {
		t.Errorf("Objects(empty collection) = %+v, %v; want an empty page", p, err)
	}
	if _, err := s.Objects(t.Context(), store.Query{CollectionID: uuid(999), Limit: 10}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Objects(unknown collection) = %v, want %v", err, store.ErrNotFound)
	}
	for _, limit := range []int{0, -1} {
		if _, err := s.Objects(t.Context(), store.Query{CollectionID: coll, Limit: limit}); err == nil {
			t.Errorf("Objects(limit %d) = nil error, want an error", limit)
		}
	}
}

func testContent(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newCollection(t, s, 1)
	big := strings.Repeat("x", 200<<10)
	raws := []string{
		// Odd spacing, escapes and non-ASCII survive byte for byte.
		"{ \"type\" : \"note\",\"id\":\"note--" + uuid(1) + "\" , \"content\":\"caf\\u00e9 ☕ \\\"q\\\"\\n\" ,\"spec_version\":\"2.1\"}\n",
		`{"type":"note","id":"note--` + uuid(2) + `","content":"` + big + `"}`,
	}
	hashes := [][32]byte{{}, {0: 0xff, 31: 0x01}}
	for i := range hashes[0] {
		hashes[0][i] = byte(255 - i)
	}
	var objs []store.NewObject
	for i, raw := range raws {
		objs = append(objs, store.NewObject{
			ID: "note--" + uuid(i+1), Type: "note", SpecVersion: "2.1",
			Version: ts(i), VersionKey: key(ts(i)), Hash: hashes[i], Raw: []byte(raw),
		})
	}
	add(t, s, coll, objs)
	for _, noContent := range []bool{false, true} {
		p, err := s.Objects(t.Context(), store.Query{CollectionID: coll, Limit: 10, NoContent: noContent})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Objects) != len(objs) {
			t.Fatalf("got %d objects, want %d", len(p.Objects), len(objs))
		}
		for i, o := range p.Objects {
			if o.Hash != hashes[i] {
				t.Errorf("object %d: Hash = %x, want %x", i, o.Hash, hashes[i])
			}
			if noContent {
				if o.Raw != nil {
					t.Errorf("object %d with NoContent: Raw = %d bytes, want nil", i, len(o.Raw))
				}
			} else if string(o.Raw) != raws[i] {
				t.Errorf("object %d: Raw not byte-identical:\n got %.200q\nwant %.200q", i, o.Raw, raws[i])
			}
			if o.Version != objs[i].Version || o.VersionKey != objs[i].VersionKey || o.Type != "note" || o.SpecVersion != "2.1" {
				t.Errorf("object %d = %s %s %s %s, want %s %s note 2.1", i, o.Version, o.VersionKey, o.Type, o.SpecVersion, objs[i].Version, objs[i].VersionKey)
			}
		}
	}
}

func testDeleteObject(t *testing.T, open func(t *testing.T) store.Store) {
	// A has v1 (spec 2.0), v2 and v3 (2.1); B has one version.
	setup := func(t *testing.T) (store.Store, string, []store.NewObject) {
		s := open(t)
		coll := newCollection(t, s, 1)
		objs := []store.NewObject{
			obj("indicator", 1, "2.1", ts(2), "v2"),
			obj("indicator", 1, "2.0", ts(1), "v1"),
			obj("indicator", 1, "2.1", ts(3), "v3"),
			obj("malware", 2, "2.1", ts(1), "B"),
		}
		add(t, s, coll, objs)
		return s, coll, objs
	}
	A := "indicator--" + uuid(1)
	tests := []struct {
		name  string
		id    string
		m     store.VersionMatch
		specs []string
		n     int
		left  []string // A's versions left, oldest first
	}{
		{"default deletes the last", A, store.VersionMatch{}, nil, 1, []string{ts(1), ts(2)}},
		{"last", A, store.VersionMatch{Last: true}, nil, 1, []string{ts(1), ts(2)}},
		{"first", A, store.VersionMatch{First: true}, nil, 1, []string{ts(2), ts(3)}},
		{"all", A, store.VersionMatch{All: true}, nil, 3, nil},
		{"first and last", A, store.VersionMatch{First: true, Last: true}, nil, 2, []string{ts(2)}},
		{"one version", A, store.VersionMatch{Keys: []string{key(ts(2))}}, nil, 1, []string{ts(1), ts(3)}},
		{"last among spec 2.0", A, store.VersionMatch{Last: true}, []string{"2.0"}, 1, []string{ts(2), ts(3)}},
		{"all of spec 2.1", A, store.VersionMatch{All: true}, []string{"2.1"}, 2, []string{ts(1)}},
		{"first among spec 2.1", A, store.VersionMatch{First: true}, []string{"2.1"}, 1, []string{ts(1), ts(3)}},
		{"unknown version", A, store.VersionMatch{Keys: []string{key(ts(9))}}, nil, 0, []string{ts(1), ts(2), ts(3)}},
		{"unknown spec version", A, store.VersionMatch{All: true}, []string{"2.2"}, 0, []string{ts(1), ts(2), ts(3)}},
		{"unknown object", "indicator--" + uuid(9), store.VersionMatch{All: true}, nil, 0, []string{ts(1), ts(2), ts(3)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, coll, _ := setup(t)
			n, err := s.DeleteObject(t.Context(), coll, tc.id, tc.m, tc.specs)
			if tc.n == 0 {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("DeleteObject(%s, %+v, %v) = %d, %v; want %v", tc.id, tc.m, tc.specs, n, err, store.ErrNotFound)
				}
			} else if n != tc.n || err != nil {
				t.Errorf("DeleteObject(%s, %+v, %v) = %d, %v; want %d, nil", tc.id, tc.m, tc.specs, n, err, tc.n)
			}
			left := func(vm store.VersionMatch) []string {
				t.Helper()
				p, err := s.Objects(t.Context(), store.Query{CollectionID: coll, IDs: []string{A}, Versions: vm, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				var vs []string
				for _, o := range p.Objects {
					vs = append(vs, o.Version)
				}
				slices.Sort(vs)
				return vs
			}
			if got := left(store.VersionMatch{All: true}); !slices.Equal(got, tc.left) {
				t.Errorf("versions left = %v, want %v", got, tc.left)
			}
			// First and last are those of what is left.
			var first, last []string
			if len(tc.left) > 0 {
				first, last = tc.left[:1], tc.left[len(tc.left)-1:]
			}
			if got := left(store.VersionMatch{First: true}); !slices.Equal(got, first) {
				t.Errorf("first version left = %v, want %v", got, first)
			}
			if got := left(store.VersionMatch{Last: true}); !slices.Equal(got, last) {
				t.Errorf("last version left = %v, want %v", got, last)
			}
			p, err := s.Objects(t.Context(), store.Query{CollectionID: coll, IDs: []string{"malware--" + uuid(2)}, Limit: 10})
			if err != nil || len(p.Objects) != 1 {
				t.Errorf("the other object: %v, %v; want untouched", versions(p.Objects), err)
			}
		})
	}
	t.Run("unknown collection", func(t *testing.T) {
		s, _, _ := setup(t)
		if _, err := s.DeleteObject(t.Context(), uuid(999), A, store.VersionMatch{All: true}, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteObject(unknown collection) = %v, want %v", err, store.ErrNotFound)
		}
	})
	t.Run("add again after delete", func(t *testing.T) {
		s, coll, objs := setup(t)
		if _, err := s.DeleteObject(t.Context(), coll, A, store.VersionMatch{All: true}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteObject(t.Context(), coll, A, store.VersionMatch{All: true}, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second DeleteObject = %v, want %v", err, store.ErrNotFound)
		}
		add(t, s, coll, objs[:1], store.Added)
	})
}

func testStatuses(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	s1 := store.Status{
		ID: uuid(1), Owner: "analyst1", CollectionID: uuid(100), Status: "pending",
		RequestTimestamp: t0.Add(123456 * time.Microsecond),
		Successes:        []store.StatusDetail{{ID: "indicator--" + uuid(1), Version: ts(1)}},
		Failures:         []store.StatusDetail{{ID: "indicator--" + uuid(2), Version: ts(2), Message: "conflict"}},
		Pendings:         []store.StatusDetail{{ID: "indicator--" + uuid(3), Version: ts(3)}},
		Created:          t0,
	}
	s2 := store.Status{ID: uuid(2), Owner: "tool", CollectionID: uuid(100), Status: "complete", RequestTimestamp: t0, Created: t0.Add(time.Hour)}
	for _, st := range []store.Status{s1, s2} {
		if err := s.PutStatus(ctx, st); err != nil {
			t.Fatalf("PutStatus(%s) = %v", st.ID, err)
		}
	}
	check := func(id string, want store.Status, wantErr error) {
		t.Helper()
		got, err := s.Status(ctx, id)
		if !errors.Is(err, wantErr) {
			t.Fatalf("Status(%s) error = %v, want %v", id, err, wantErr)
		}
		if err == nil && !statusEqual(got, want) {
			t.Errorf("Status(%s) = %+v, want %+v", id, got, want)
		}
	}
	check(s1.ID, s1, nil)
	check(s2.ID, s2, nil)
	check(uuid(3), store.Status{}, store.ErrNotFound)

	// Replace: the pending object succeeded.
	s1.Status = "complete"
	s1.Successes = append(s1.Successes, s1.Pendings...)
	s1.Pendings = nil
	if err := s.PutStatus(ctx, s1); err != nil {
		t.Fatalf("PutStatus(replace) = %v", err)
	}
	check(s1.ID, s1, nil)

	n, err := s.PruneStatuses(ctx, t0.Add(time.Minute))
	if n != 1 || err != nil {
		t.Errorf("PruneStatuses(t0+1m) = %d, %v; want 1, nil", n, err)
	}
	check(s1.ID, store.Status{}, store.ErrNotFound)
	check(s2.ID, s2, nil)
	// The cutoff itself is kept: "created before cutoff" is strict.
	if n, err := s.PruneStatuses(ctx, s2.Created); n != 0 || err != nil {
		t.Errorf("PruneStatuses(created of the last) = %d, %v; want 0, nil", n, err)
	}
}

func statusEqual(a, b store.Status) bool {
	details := func(x, y []store.StatusDetail) bool { return slices.Equal(x, y) }
	return a.ID == b.ID && a.Owner == b.Owner && a.CollectionID == b.CollectionID && a.Status == b.Status &&
		a.RequestTimestamp.Equal(b.RequestTimestamp) && a.Created.Equal(b.Created) &&
		details(a.Successes, b.Successes) && details(a.Failures, b.Failures) && details(a.Pendings, b.Pendings)
}

func testUsers(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	bob := store.User{Name: "bob", Roles: []string{"analyst"}, Created: t0, Agency: "SEMAR"}
	alice := store.User{Name: "alice", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", Roles: []string{"liaison", "approver"}, Disabled: true, Created: t0.Add(time.Second)}
	carol := store.User{Name: "carol", Created: t0}
	for _, u := range []store.User{bob, alice, carol} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s) = %v", u.Name, err)
		}
	}
	if err := s.CreateUser(ctx, store.User{Name: "alice", Created: t0}); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateUser(alice again) = %v, want %v", err, store.ErrExists)
	}
	for _, tc := range []struct {
		name string
		want store.User
		err  error
	}{
		{"alice", alice, nil},
		{"bob", bob, nil},
		{"carol", carol, nil},
		{"Alice", store.User{}, store.ErrNotFound},
		{"dave", store.User{}, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.User(ctx, tc.name)
			if !errors.Is(err, tc.err) {
				t.Fatalf("User(%q) error = %v, want %v", tc.name, err, tc.err)
			}
			if err == nil && !userEqual(got, tc.want) {
				t.Errorf("User(%q) = %+v, want %+v", tc.name, got, tc.want)
			}
		})
	}
	us, err := s.Users(ctx)
	if err != nil {
		t.Fatalf("Users() = %v", err)
	}
	want := []store.User{alice, bob, carol}
	if len(us) != len(want) {
		t.Fatalf("Users() = %+v, want %+v", us, want)
	}
	for i := range want {
		if !userEqual(us[i], want[i]) {
			t.Errorf("Users()[%d] = %+v, want %+v", i, us[i], want[i])
		}
	}

	// Disable and enable.
	for _, tc := range []struct {
		name     string
		disabled bool
	}{{"bob", true}, {"bob", true}, {"alice", false}, {"bob", false}} {
		if err := s.SetUserDisabled(ctx, tc.name, tc.disabled); err != nil {
			t.Fatalf("SetUserDisabled(%s, %v) = %v", tc.name, tc.disabled, err)
		}
		got, err := s.User(ctx, tc.name)
		if err != nil || got.Disabled != tc.disabled {
			t.Errorf("after SetUserDisabled(%s, %v): User = %+v, %v", tc.name, tc.disabled, got, err)
		}
	}
	if err := s.SetUserDisabled(ctx, "dave", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetUserDisabled(dave) = %v, want %v", err, store.ErrNotFound)
	}
}

func userEqual(a, b store.User) bool {
	// Nil and empty role lists are the same.
	return a.Name == b.Name && a.PasswordHash == b.PasswordHash && slices.Equal(a.Roles, b.Roles) &&
		a.Disabled == b.Disabled && a.Created.Equal(b.Created) && a.Agency == b.Agency
}

func testTokens(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	t1 := store.Token{ID: "tok1", User: "alice", Hash: sha256.Sum256([]byte("secret 1")), Created: t0}
	t2 := store.Token{ID: "tok2", User: "bob", Hash: sha256.Sum256([]byte("secret 2")), Created: t0.Add(time.Second), Revoked: true}
	for _, tok := range []store.Token{t1, t2} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatalf("CreateToken(%s) = %v", tok.ID, err)
		}
	}
	for _, tc := range []struct {
		name string
		tok  store.Token
	}{
		{"same hash", store.Token{ID: "tok3", User: "carol", Hash: t1.Hash, Created: t0}},
		{"same id", store.Token{ID: "tok1", User: "carol", Hash: sha256.Sum256([]byte("secret 3")), Created: t0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateToken(ctx, tc.tok); !errors.Is(err, store.ErrExists) {
				t.Errorf("CreateToken(%+v) = %v, want %v", tc.tok, err, store.ErrExists)
			}
		})
	}
	for _, want := range []store.Token{t1, t2} {
		got, err := s.TokenByHash(ctx, want.Hash)
		if err != nil {
			t.Fatalf("TokenByHash(%x) = %v", want.Hash, err)
		}
		if got.ID != want.ID || got.User != want.User || got.Hash != want.Hash || !got.Created.Equal(want.Created) || got.Revoked != want.Revoked {
			t.Errorf("TokenByHash(%x) = %+v, want %+v", want.Hash, got, want)
		}
	}
	if _, err := s.TokenByHash(ctx, sha256.Sum256([]byte("secret 3"))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(unknown) = %v, want %v", err, store.ErrNotFound)
	}

	// List, then revoke: for good, idempotent, unknown ids not found.
	ids := func(user string) []string {
		toks, err := s.Tokens(ctx, user)
		if err != nil {
			t.Fatalf("Tokens(%q) = %v", user, err)
		}
		var out []string
		for _, tok := range toks {
			out = append(out, fmt.Sprintf("%s:%v", tok.ID, tok.Revoked))
		}
		return out
	}
	if got, want := ids(""), []string{"tok1:false", "tok2:true"}; !slices.Equal(got, want) {
		t.Errorf("Tokens(all) = %v, want %v", got, want)
	}
	if got, want := ids("bob"), []string{"tok2:true"}; !slices.Equal(got, want) {
		t.Errorf("Tokens(bob) = %v, want %v", got, want)
	}
	if got := ids("nobody"); len(got) != 0 {
		t.Errorf("Tokens(nobody) = %v, want none", got)
	}
	for range 2 {
		if err := s.RevokeToken(ctx, "tok1"); err != nil {
			t.Fatalf("RevokeToken(tok1) = %v", err)
		}
	}
	if got, err := s.TokenByHash(ctx, t1.Hash); err != nil || !got.Revoked {
		t.Errorf("after RevokeToken: TokenByHash = %+v, %v; want revoked", got, err)
	}
	if err := s.RevokeToken(ctx, "tok9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeToken(tok9) = %v, want %v", err, store.ErrNotFound)
	}
}

// testRelease checks that Query.ReleasedTo keeps exactly the versions whose
// store.Release allows the party, judged by marking.ReleaseSet.Allows (the
// one release rule), before Limit, for every page size and version
// selection. Membership is the caller's check: every party asked about is
// made a member here.
func testRelease(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	parties := []string{"MEX", "USA", "CAN", "GTM"}
	coll := newGroup(t, s, 1, parties...)
	// Versions are added now and read an hour later, when some have
	// expired: they were released when added, and are no longer.
	now := time.Now().Add(time.Hour)
	rng := rand.New(rand.NewPCG(7, 11))
	type version struct {
		id, key string
		added   time.Time
		rel     store.Release
	}
	var all []version
	for round := range 4 {
		var b []store.NewObject
		for i := range 40 {
			if rng.IntN(3) == 0 && round > 0 {
				continue
			}
			o := obj("indicator", i, "2.1", ts(round*10+i%7), fmt.Sprint(round))
			rel := store.Release{Originator: "MEX", AllMembers: rng.IntN(4) == 0}
			for _, p := range parties[1:] {
				if rng.IntN(2) == 0 {
					rel.Parties = append(rel.Parties, p)
				}
			}
			slices.Sort(rel.Parties) // the canonical form of marking.ReleaseSet
			switch rng.IntN(4) {
			case 0:
				rel.Expires = now.Add(-time.Minute)
			case 1:
				rel.Expires = now.Add(time.Minute)
			}
			o.Release = rel
			b = append(b, o)
		}
		res := add(t, s, coll, b, outcomesFor(b)...)
		for i, r := range res {
			if r.Outcome == store.Added {
				all = append(all, version{id: b[i].ID, key: b[i].VersionKey, added: r.DateAdded, rel: b[i].Release})
			}
		}
	}
	// A partner reads what was released to it and is still released at
	// now; the originator, the node's own party, has no releases of its
	// own versions (its users read without ReleasedTo).
	allows := func(rel store.Release, p string) bool {
		rs := marking.ReleaseSet{Originator: rel.Originator, AllMembers: rel.AllMembers, Parties: rel.Parties, Expires: rel.Expires}
		return p != rel.Originator && rs.Allows(p, parties, now)
	}
	for _, p := range parties {
		for _, vm := range []store.VersionMatch{{}, {All: true}, {First: true}} {
			// The model: version selection among the versions released to p.
			newest, oldest := map[string]string{}, map[string]string{}
			for _, v := range all {
				if !allows(v.rel, p) {
					continue
				}
				if k, ok := newest[v.id]; !ok || v.key > k {
					newest[v.id] = v.key
				}
				if k, ok := oldest[v.id]; !ok || v.key < k {
					oldest[v.id] = v.key
				}
			}
			var want []string
			for _, v := range all {
				selected := vm.All || (vm.First && oldest[v.id] == v.key) || (vm.IsZero() && newest[v.id] == v.key)
				if selected && allows(v.rel, p) {
					want = append(want, v.id+"@"+v.key)
				}
			}
			for _, limit := range []int{1, 3, 1000} {
				t.Run(fmt.Sprintf("%s/%+v/limit=%d", p, vm, limit), func(t *testing.T) {
					var got []string
					q := store.Query{CollectionID: coll, Versions: vm, Limit: limit, ReleasedTo: p, Now: now}
					for pages := 0; ; pages++ {
						if pages > len(all)+1 {
							t.Fatal("paging does not end")
						}
						pg, err := s.Objects(t.Context(), q)
						if err != nil {
							t.Fatalf("Objects(%+v) = %v", q, err)
						}
						if pg.More && len(pg.Objects) != limit {
							t.Fatalf("page of %d with More, limit %d: filtering happened after the limit", len(pg.Objects), limit)
						}
						for _, o := range pg.Objects {
							got = append(got, o.ID+"@"+o.VersionKey)
						}
						if !pg.More {
							break
						}
						q.AddedAfter = pg.Objects[len(pg.Objects)-1].DateAdded
					}
					if !slices.Equal(got, want) {
						t.Errorf("released to %s: got %d versions, want %d\ngot  %v\nwant %v", p, len(got), len(want), got, want)
					}
				})
			}
		}
	}
}

// outcomesFor expects every object of b added, except repeats of an
// (id, version) earlier in b, which are duplicates or conflicts.
func outcomesFor(b []store.NewObject) []store.Outcome {
	seen := map[string][32]byte{}
	var out []store.Outcome
	for _, o := range b {
		k := o.ID + "@" + o.VersionKey
		h, ok := seen[k]
		switch {
		case !ok:
			out = append(out, store.Added)
			seen[k] = o.Hash
		case h == o.Hash:
			out = append(out, store.Duplicate)
		default:
			out = append(out, store.Conflict)
		}
	}
	return out
}

func testMembers(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	c := store.Collection{ID: uuid(3000), Alias: "fentanyl", Title: "fentanyl", Created: t0,
		Members: []string{"USA", "MEX", "USA"}, DefaultMarking: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
		Agencies: []string{"SEMAR", "GN"}}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatalf("CreateCollection = %v", err)
	}
	got, err := s.Collection(ctx, "fentanyl")
	if err != nil || !slices.Equal(got.Members, []string{"MEX", "USA"}) || got.DefaultMarking != c.DefaultMarking ||
		!slices.Equal(got.Agencies, []string{"GN", "SEMAR"}) {
		t.Fatalf("Collection = %+v, %v; want members [MEX USA] and the default marking", got, err)
	}
	if err := s.SetMembers(ctx, c.ID, []string{"CAN", "MEX", "USA"}); err != nil {
		t.Fatalf("SetMembers = %v", err)
	}
	if got, _ := s.Collection(ctx, c.ID); !slices.Equal(got.Members, []string{"CAN", "MEX", "USA"}) {
		t.Errorf("after SetMembers: members %v, want [CAN MEX USA]", got.Members)
	}
	if err := s.SetMembers(ctx, "fentanyl", nil); err != nil {
		t.Fatalf("SetMembers(nil) = %v", err)
	}
	if got, _ := s.Collection(ctx, c.ID); len(got.Members) != 0 {
		t.Errorf("after SetMembers(nil): members %v, want none", got.Members)
	}
	if err := s.SetMembers(ctx, "nosuch", []string{"MEX"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetMembers(nosuch) = %v, want %v", err, store.ErrNotFound)
	}
	for _, archived := range []bool{true, true, false} {
		if err := s.SetArchived(ctx, "fentanyl", archived); err != nil {
			t.Fatalf("SetArchived(%v) = %v", archived, err)
		}
		if got, _ := s.Collection(ctx, c.ID); got.Archived != archived {
			t.Errorf("after SetArchived(%v): Archived = %v", archived, got.Archived)
		}
	}
	if err := s.SetArchived(ctx, "nosuch", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetArchived(nosuch) = %v, want %v", err, store.ErrNotFound)
	}
}

func testDenials(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	if ds, err := s.Denials(ctx, 10); err != nil || len(ds) != 0 {
		t.Fatalf("Denials of a new store = %v, %v; want none", ds, err)
	}
	in := []store.Denial{
		{Time: t0, Principal: "USA:USA", Action: "add objects", Target: "fentanyl", Reason: "partners never write"},
		{Time: t0.Add(time.Second), Principal: "CAN:CAN", Action: "read collection", Target: "internal", Reason: "not a member"},
	}
	if err := s.RecordDenials(ctx, in[:1]); err != nil {
		t.Fatalf("RecordDenials = %v", err)
	}
	if err := s.RecordDenials(ctx, in[1:]); err != nil {
		t.Fatalf("RecordDenials = %v", err)
	}
	got, err := s.Denials(ctx, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("Denials = %+v, %v; want both, newest first", got, err)
	}
	for i, want := range []store.Denial{in[1], in[0]} {
		if g := got[i]; !g.Time.Equal(want.Time) || g.Principal != want.Principal || g.Action != want.Action || g.Target != want.Target || g.Reason != want.Reason {
			t.Errorf("Denials()[%d] = %+v, want %+v", i, g, want)
		}
	}
	if got, err := s.Denials(ctx, 1); err != nil || len(got) != 1 || got[0].Principal != "CAN:CAN" {
		t.Errorf("Denials(1) = %+v, %v; want the newest only", got, err)
	}
}

// Batch returns n indicators of about 1 KiB each, with ids unique for
// seed, one version each: the load of the drivers' benchmarks.
func Batch(seed, n int) []store.NewObject {
	pad := strings.Repeat("x", 1024-230)
	modified := "2026-01-15T10:00:00.000Z"
	ts, _ := stix.ParseTimestamp(modified)
	key := stix.VersionKey(ts)
	objs := make([]store.NewObject, n)
	for i := range objs {
		id := fmt.Sprintf("indicator--%08x-%04x-4000-8000-000000000000", seed, i)
		raw := []byte(`{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"` + modified +
			`","modified":"` + modified + `","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"` +
			modified + `","description":"` + pad + `"}`)
		objs[i] = store.NewObject{
			ID: id, Type: "indicator", SpecVersion: "2.1", Version: modified, VersionKey: key,
			Hash: sha256.Sum256(raw), Raw: raw,
		}
	}
	return objs
}

// testMarkingDefinitions checks that a marking definition has one content
// across the node's own collections: another content for its id fails the
// whole call and writes nothing; a replica is not checked.
func testMarkingDefinitions(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	c1, c2 := newCollection(t, s, 1), newCollection(t, s, 2)
	d := obj("marking-definition", 1, "2.1", ts(1), "REL TO CAN")
	add(t, s, c1, []store.NewObject{d})
	add(t, s, c2, []store.NewObject{d}) // the same content elsewhere
	other := obj("marking-definition", 1, "2.1", ts(2), "REL TO USA")
	marked := obj("indicator", 2, "2.1", ts(1), "marked with it")
	for _, tc := range []struct {
		name string
		coll string
		objs []store.NewObject
	}{
		{"another content, another collection", c2, []store.NewObject{marked, other}},
		{"another content, same collection", c1, []store.NewObject{other}},
		{"two contents of a new id in one call", c1, []store.NewObject{
			obj("marking-definition", 3, "2.1", ts(1), "a"), obj("marking-definition", 3, "2.1", ts(2), "b")}},
	} {
		_, err := s.AddObjects(ctx, tc.coll, tc.objs)
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: AddObjects = %v, want ErrConflict", tc.name, err)
		}
	}
	if got := versions(all(t, s, c2)); !slices.Equal(got, []string{d.ID + "@" + d.Version}) {
		t.Errorf("c2 holds %v after the refused calls, want only the definition", got)
	}
	if got := len(all(t, s, c1)); got != 1 {
		t.Errorf("c1 holds %d versions after the refused calls, want 1", got)
	}
	replica := store.Collection{ID: uuid(1099), Title: "USA: arms", Created: t0, Origin: "USA"}
	if err := s.CreateCollection(ctx, replica); err != nil {
		t.Fatal(err)
	}
	add(t, s, replica.ID, []store.NewObject{other})
}
