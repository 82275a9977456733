package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// VerifyLog checks log of s in full with the ledger's own verifier, as an
// auditor would, and returns its entries.
func VerifyLog(t testing.TB, s store.Store, log string) []ledger.Entry {
	t.Helper()
	ctx := t.Context()
	size, err := s.LogSize(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	src := store.LogSource(s, log)
	root, err := ledger.TreeHash(ctx, src, size)
	if err != nil {
		t.Fatalf("log %s: root at size %d: %v", log, size, err)
	}
	var entries []ledger.Entry
	err = ledger.VerifyLog(ctx, ledger.LogCheck{
		Fetch:      ledger.SourceFetcher{Source: src, Size: size},
		Checkpoint: ledger.Checkpoint{Origin: "test/" + log, Size: size, Root: root},
		Entry: func(i int64, e ledger.Entry) error {
			entries = append(entries, e)
			return nil
		},
	})
	if err != nil {
		t.Fatalf("log %s of size %d does not verify: %v", log, size, err)
	}
	return entries
}

// testLedger checks that every added version is appended, in the same
// call, to the internal log and to the channels of the members it is
// released to, and nothing else: not duplicates, not conflicts; and that
// a delete appends withdrawals to exactly the logs that recorded the
// version.
func testLedger(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	coll := newGroup(t, s, 1, "MEX", "USA", "CAN")
	other := newGroup(t, s, 2, "MEX", "USA")
	a := obj("indicator", 1, "2.1", ts(1), "a")
	a.Release = store.Release{Originator: "MEX", AllMembers: true}
	b := obj("indicator", 2, "2.1", ts(1), "b")
	b.Release = store.Release{Originator: "MEX", Parties: []string{"GTM", "USA"}} // GTM: not a member
	c := obj("indicator", 3, "2.1", ts(1), "c")                                   // internal only
	c.Release = store.Release{Originator: "MEX"}
	res := add(t, s, coll, []store.NewObject{a, b, c})
	add(t, s, coll, []store.NewObject{a, b}, store.Duplicate, store.Duplicate)
	conflict := obj("indicator", 1, "2.1", ts(1), "other content")
	conflict.Release = store.Release{Originator: "MEX", AllMembers: true}
	add(t, s, coll, []store.NewObject{conflict}, store.Conflict)
	add(t, s, other, []store.NewObject{a}) // the same object in another group

	want := map[string][]string{
		store.InternalLog: {a.ID, b.ID, c.ID, a.ID},
		"USA":             {a.ID, b.ID, a.ID},
		"CAN":             {a.ID},
	}
	logs, err := s.Logs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != len(want) {
		t.Errorf("Logs = %v, want the logs %v", logs, slices.Sorted(mapKeys(want)))
	}
	for log, ids := range want {
		entries := VerifyLog(t, s, log)
		var got []string
		for _, e := range entries {
			got = append(got, e.ObjectID)
			if e.Kind != ledger.KindObject {
				t.Errorf("log %s: entry of kind %s, want object", log, e.Kind)
			}
		}
		if !slices.Equal(got, ids) {
			t.Errorf("log %s holds %v, want %v", log, got, ids)
		}
	}
	// The entry binds the version's hash, group and date_added: the
	// collection's in the internal log, the partner's own in its channel.
	if e := VerifyLog(t, s, store.InternalLog)[0]; e.SHA256 != a.Hash || e.Group != coll || e.Version != a.Version || !e.Time.Equal(res[0].DateAdded) {
		t.Errorf("internal entry %+v does not match the object added (hash %x, group %s, version %s, date_added %v)", e, a.Hash, coll, a.Version, res[0].DateAdded)
	}
	seen := allFor(t, s, coll, "CAN")
	if e := VerifyLog(t, s, "CAN")[0]; len(seen) != 1 || e.SHA256 != a.Hash || e.Group != coll || e.Version != a.Version || !e.Time.Equal(seen[0].DateAdded) {
		t.Errorf("CAN's entry %+v does not match the version CAN reads %+v", e, seen)
	}
	found, err := s.FindEntries(ctx, "USA", a.ID, a.Version)
	if err != nil || len(found) != 2 || found[0].Index != 0 || found[1].Index != 2 {
		t.Errorf("FindEntries(USA, a) = %v, %v; want indexes 0 and 2", found, err)
	}
	if _, err := s.FindEntries(ctx, "CAN", b.ID, b.Version); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindEntries(CAN, b) = %v, want ErrNotFound", err)
	}

	// Withdrawing a from coll: the internal log and the channels that
	// got it from coll (USA, CAN), not from the other group.
	if _, err := s.DeleteObject(ctx, coll, a.ID, store.VersionMatch{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	for log, n := range map[string]int{store.InternalLog: 5, "USA": 4, "CAN": 2} {
		entries := VerifyLog(t, s, log)
		if len(entries) != n {
			t.Fatalf("log %s has %d entries after the withdrawal, want %d", log, len(entries), n)
		}
		w := entries[n-1]
		if w.Kind != ledger.KindWithdrawal || w.ObjectID != a.ID || w.Group != coll || w.SHA256 != a.Hash {
			t.Errorf("log %s: last entry %+v, want the withdrawal of %s from %s", log, w, a.ID, coll)
		}
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// testLedgerConcurrent appends from many writers at once, across tile
// boundaries, and checks that each log verifies, its indexes are dense,
// and every acknowledged version is in it exactly once.
func testLedgerConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	coll := newGroup(t, s, 1, "MEX", "USA")
	const writers, batches, per = 8, 10, 37
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				objs := make([]store.NewObject, per)
				for i := range objs {
					n := (w*batches+b)*per + i
					objs[i] = obj("indicator", n, "2.1", ts(1), "x")
					objs[i].Release = store.Release{Originator: "MEX"}
					if n%3 == 0 {
						objs[i].Release.Parties = []string{"USA"}
					}
				}
				if _, err := s.AddObjects(context.Background(), coll, objs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for log, n := range map[string]int{store.InternalLog: writers * batches * per, "USA": (writers*batches*per + 2) / 3} {
		entries := VerifyLog(t, s, log)
		seen := make(map[string]bool)
		for _, e := range entries {
			if seen[e.ObjectID] {
				t.Fatalf("log %s: %s twice", log, e.ObjectID)
			}
			seen[e.ObjectID] = true
		}
		if len(entries) != n {
			t.Errorf("log %s has %d entries, want %d", log, len(entries), n)
		}
	}
}

// testLedgerCheckpoints checks the record of checkpoints and receipts.
func testLedgerCheckpoints(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	if _, err := s.LatestCheckpoint(ctx, "USA"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestCheckpoint on an empty store = %v, want ErrNotFound", err)
	}
	if _, err := s.LatestReceipt(ctx, "USA"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestReceipt on an empty store = %v, want ErrNotFound", err)
	}
	for _, size := range []int64{3, 10, 7} {
		c := store.StoredCheckpoint{Log: "USA", Size: size, Note: fmt.Appendf(nil, "note %d", size), Time: t0.Add(time.Duration(size) * time.Second)}
		if err := s.PutCheckpoint(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// A second checkpoint at a size already signed keeps the first.
	if err := s.PutCheckpoint(ctx, store.StoredCheckpoint{Log: "USA", Size: 10, Note: []byte("again"), Time: t0}); err != nil {
		t.Fatal(err)
	}
	c, err := s.LatestCheckpoint(ctx, "USA")
	if err != nil || c.Size != 10 || string(c.Note) != "note 10" || !c.Time.Equal(t0.Add(10*time.Second)) {
		t.Errorf("LatestCheckpoint = %+v, %v; want size 10, the first note", c, err)
	}
	if c, err := s.Checkpoint(ctx, "USA", 7); err != nil || string(c.Note) != "note 7" {
		t.Errorf("Checkpoint(7) = %+v, %v", c, err)
	}
	if _, err := s.Checkpoint(ctx, "CAN", 7); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Checkpoint of another log = %v, want ErrNotFound", err)
	}
	for _, r := range []store.StoredReceipt{
		{Log: "USA", Size: 3, Note: []byte("r3"), Signed: t0, Received: t0},
		{Log: "USA", Size: 10, Note: []byte("r10"), Signed: t0.Add(time.Minute), Received: t0.Add(time.Minute)},
		{Log: "USA", Size: 7, Note: []byte("r7"), Signed: t0, Received: t0},
	} {
		if err := s.PutReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.LatestReceipt(ctx, "USA")
	if err != nil || r.Size != 10 || string(r.Note) != "r10" || !r.Signed.Equal(t0.Add(time.Minute)) {
		t.Errorf("LatestReceipt = %+v, %v; want size 10", r, err)
	}
}

// testPeers checks pinning partners.
func testPeers(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	if _, err := s.Peer(ctx, "USA"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Peer on an empty store = %v, want ErrNotFound", err)
	}
	for _, p := range []store.Peer{
		{Party: "USA", URL: "https://usa.example/", CA: []byte("ca1"), CheckpointKey: "c1", ReceiptKey: "k1", Added: t0},
		{Party: "CAN", URL: "https://can.example/", CA: []byte("ca2"), CheckpointKey: "c2", ReceiptKey: "k2", Added: t0},
		{Party: "USA", URL: "https://usa2.example/", CA: []byte("ca3"), CheckpointKey: "c3", ReceiptKey: "k3", Added: t0.Add(time.Hour)},
	} {
		if err := s.PutPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := s.Peers(ctx)
	if err != nil || len(ps) != 2 || ps[0].Party != "CAN" || ps[1].ReceiptKey != "k3" || ps[1].URL != "https://usa2.example/" ||
		string(ps[1].CA) != "ca3" || ps[1].CheckpointKey != "c3" || !ps[1].Added.Equal(t0) {
		t.Errorf("Peers = %+v, %v; want CAN, then USA with the second bundle, added at %v", ps, err, t0)
	}
	if err := s.DeletePeer(ctx, "CAN"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePeer(ctx, "CAN"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeletePeer twice = %v, want ErrNotFound", err)
	}
	if _, err := s.Peer(ctx, "CAN"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Peer after DeletePeer = %v, want ErrNotFound", err)
	}
}

// testLedgerNewMember checks that a party joining a group gets, on its
// channel, every version of the group released to it, in the same call,
// and that the members it already had get nothing again.
func testLedgerNewMember(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	c := store.Collection{ID: uuid(2001), Title: "g", Created: t0, Members: []string{"MEX", "USA"}}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	all := obj("indicator", 1, "2.1", ts(1), "to all members")
	all.Release = store.Release{Originator: "MEX", AllMembers: true}
	usaOnly := obj("indicator", 2, "2.1", ts(1), "to USA")
	usaOnly.Release = store.Release{Originator: "MEX", Parties: []string{"USA"}}
	can := obj("indicator", 3, "2.1", ts(1), "to CAN, before CAN joined")
	can.Release = store.Release{Originator: "MEX", Parties: []string{"CAN"}}
	expired := obj("indicator", 4, "2.1", ts(1), "expired")
	expired.Release = store.Release{Originator: "MEX", AllMembers: true, Expires: time.Now().Add(-time.Hour)}
	all2 := obj("indicator", 1, "2.1", ts(2), "second version")
	all2.Release = store.Release{Originator: "MEX", AllMembers: true}
	add(t, s, c.ID, []store.NewObject{all, usaOnly, can, expired, all2})

	if err := s.SetMembers(ctx, c.ID, []string{"MEX", "USA", "CAN"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range VerifyLog(t, s, "CAN") {
		got = append(got, e.ObjectID+" "+e.Version)
	}
	want := []string{all.ID + " " + all.Version, can.ID + " " + can.Version, all2.ID + " " + all2.Version}
	if !slices.Equal(got, want) {
		t.Errorf("CAN's channel after joining: %v, want %v", got, want)
	}
	if n := len(VerifyLog(t, s, "USA")); n != 3 {
		t.Errorf("USA's channel has %d entries after CAN joined, want the 3 it had", n)
	}
	// Leaving and joining again releases only what was added meanwhile:
	// what CAN was given once stays given.
	if err := s.SetMembers(ctx, c.ID, []string{"MEX", "USA"}); err != nil {
		t.Fatal(err)
	}
	away := obj("indicator", 5, "2.1", ts(1), "added while CAN was away")
	away.Release = store.Release{Originator: "MEX", AllMembers: true}
	add(t, s, c.ID, []store.NewObject{away})
	if err := s.SetMembers(ctx, c.ID, []string{"MEX", "USA", "CAN"}); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, e := range VerifyLog(t, s, "CAN") {
		got = append(got, e.ObjectID+" "+e.Version)
	}
	if want := append(want, away.ID+" "+away.Version); !slices.Equal(got, want) {
		t.Errorf("CAN's channel after leaving and joining again: %v, want %v", got, want)
	}
	if n := len(allFor(t, s, c.ID, "CAN")); n != 4 {
		t.Errorf("CAN reads %d versions, want the 4 on its channel", n)
	}
}

// testApplyPull checks that a pull's replicas, withdrawals and state are
// stored together, that a replica collection is marked with its origin,
// that a partner cannot land replicas in a collection it does not own,
// and that the verified size never goes back.
func testApplyPull(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	own := newCollection(t, s, 1)
	rep := uuid(3001)
	a := obj("indicator", 1, "2.1", ts(1), "a")
	a.Release = store.Release{Originator: "USA"}
	b := obj("indicator", 2, "2.1", ts(1), "b")
	b.Release = store.Release{Originator: "USA"}
	state := store.Inbound{Party: "USA", Size: 5, Root: [32]byte{1}, Checkpoint: []byte("cp5"), Verified: t0, Unavailable: 1}
	if _, err := s.ApplyPull(ctx, store.Pull{Party: "USA", State: state,
		Collections: []store.ReplicaCollection{{ID: rep, Title: "USA: fentanyl", Objects: []store.NewObject{a, b}}}}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Collection(ctx, rep)
	if err != nil || c.Origin != "USA" || c.Title != "USA: fentanyl" {
		t.Fatalf("replica collection = %+v, %v", c, err)
	}
	in, err := s.Inbound(ctx, "USA")
	if err != nil || in.Size != 5 || in.Root != state.Root || string(in.Checkpoint) != "cp5" || in.Unavailable != 1 {
		t.Errorf("Inbound = %+v, %v", in, err)
	}
	// Again with the same objects and a withdrawal of a: idempotent adds.
	prev := state
	state.Size, state.Root, state.Unavailable = 7, [32]byte{2}, 0
	if _, err := s.ApplyPull(ctx, store.Pull{Party: "USA", PrevSize: prev.Size, PrevRoot: prev.Root, State: state, Collections: []store.ReplicaCollection{{ID: rep,
		Objects: []store.NewObject{a, b}, Withdrawals: []store.Withdrawal{{ObjectID: a.ID, VersionKey: a.VersionKey}}}}}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Objects(ctx, store.Query{CollectionID: rep, Limit: 10, Versions: store.VersionMatch{All: true}})
	if err != nil || len(p.Objects) != 1 || p.Objects[0].ID != b.ID {
		t.Errorf("replicas after the withdrawal: %+v, %v; want only %s", p.Objects, err, b.ID)
	}
	// Into our own collection, or backwards: refused, and nothing of it
	// stored.
	x := obj("indicator", 9, "2.1", ts(1), "x")
	for name, pull := range map[string]store.Pull{
		"own collection":        {Party: "USA", PrevSize: 7, PrevRoot: state.Root, State: store.Inbound{Size: 9}, Collections: []store.ReplicaCollection{{ID: own, Objects: []store.NewObject{x}}}},
		"size goes back":        {Party: "USA", PrevSize: 7, PrevRoot: state.Root, State: store.Inbound{Size: 6}, Collections: []store.ReplicaCollection{{ID: rep, Objects: []store.NewObject{x}}}},
		"from an older state":   {Party: "USA", PrevSize: 5, PrevRoot: prev.Root, State: store.Inbound{Size: 9}, Collections: []store.ReplicaCollection{{ID: rep, Objects: []store.NewObject{x}}}},
		"same size, other root": {Party: "USA", PrevSize: 7, PrevRoot: [32]byte{3}, State: store.Inbound{Size: 9}, Collections: []store.ReplicaCollection{{ID: rep, Objects: []store.NewObject{x}}}},
	} {
		if _, err := s.ApplyPull(ctx, pull); err == nil {
			t.Errorf("%s: ApplyPull succeeded", name)
		}
	}
	for _, coll := range []string{own, rep} {
		p, _ := s.Objects(ctx, store.Query{CollectionID: coll, Limit: 10, IDs: []string{x.ID}})
		if len(p.Objects) != 0 {
			t.Errorf("a refused pull stored %s in %s", x.ID, coll)
		}
	}
	if in, _ := s.Inbound(ctx, "USA"); in.Size != 7 {
		t.Errorf("verified size after refused pulls = %d, want 7", in.Size)
	}
	// A replica's members cannot be set: its objects are not ours to
	// record on anyone's channel.
	if err := s.SetMembers(ctx, rep, []string{"MEX", "CAN"}); !errors.Is(err, store.ErrReplica) {
		t.Errorf("SetMembers on a replica collection = %v, want ErrReplica", err)
	}
	if n, _ := s.LogSize(ctx, "CAN"); n != 0 {
		t.Errorf("CAN's channel has %d entries after a refused SetMembers on a replica", n)
	}
	// Another content under a version held: reported, the first kept,
	// the rest of the pull stored.
	bAgain := obj("indicator", 2, "2.1", ts(1), "b, other content")
	bAgain.Release = store.Release{Originator: "USA"}
	conflicts, err := s.ApplyPull(ctx, store.Pull{Party: "USA", PrevSize: 7, PrevRoot: state.Root,
		State: store.Inbound{Party: "USA", Size: 8, Root: [32]byte{4}}, Collections: []store.ReplicaCollection{{ID: rep, Objects: []store.NewObject{bAgain}}}})
	if err != nil || len(conflicts) != 1 || conflicts[0].ID != b.ID || conflicts[0].Outcome != store.Conflict {
		t.Errorf("ApplyPull with another content for a held version = %+v, %v; want one conflict for %s", conflicts, err, b.ID)
	}
	if p, _ := s.Objects(ctx, store.Query{CollectionID: rep, Limit: 10, IDs: []string{b.ID}}); len(p.Objects) != 1 || p.Objects[0].Hash != b.Hash {
		t.Errorf("the held version of %s was replaced", b.ID)
	}
	if in, _ := s.Inbound(ctx, "USA"); in.Size != 8 {
		t.Errorf("verified size after a pull with a conflict = %d, want 8", in.Size)
	}
	state.Size, state.Root = 8, [32]byte{4}
	if err := s.SetReceiptPosted(ctx, "USA", 8); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.Inbound(ctx, "USA"); in.ReceiptSize != 8 {
		t.Errorf("receipt size = %d, want 8", in.ReceiptSize)
	}
	// Alerts, newest first.
	for i, k := range []string{"fork", "object"} {
		if err := s.PutAlert(ctx, store.Alert{Time: t0.Add(time.Duration(i) * time.Second), Party: "USA", Kind: k, Message: "m", Evidence: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	as, err := s.Alerts(ctx, 10)
	if err != nil || len(as) != 2 || as[0].Kind != "object" || string(as[1].Evidence) != "fork" {
		t.Errorf("Alerts = %+v, %v", as, err)
	}
	if as, err := s.Alerts(ctx, 1); err != nil || len(as) != 1 || as[0].Kind != "object" {
		t.Errorf("Alerts(1) = %+v, %v", as, err)
	}
	if _, err := s.Alerts(ctx, 0); err == nil {
		t.Error("Alerts(0) succeeded: a limit must be positive, as for Denials")
	}
}

// testLease checks that a lease is held by one holder at a time, renewed
// by its holder, and taken over once it expires.
func testLease(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	lease := func(name, holder string, ttl time.Duration, want bool) {
		t.Helper()
		got, err := s.Lease(ctx, name, holder, ttl)
		if err != nil {
			t.Fatalf("Lease(%s, %s) = %v", name, holder, err)
		}
		if got != want {
			t.Fatalf("Lease(%s, %s) = %v, want %v", name, holder, got, want)
		}
	}
	lease("sign", "a", time.Hour, true)
	lease("sign", "b", time.Hour, false)
	lease("sign", "a", time.Hour, true) // renewed
	lease("other", "b", time.Hour, true)
	lease("short", "a", 50*time.Millisecond, true)
	lease("short", "b", time.Hour, false)
	time.Sleep(100 * time.Millisecond) // past the expiry: no timing is asserted
	lease("short", "b", time.Hour, true)
	lease("short", "a", time.Hour, false)
	lease("sign", "b", time.Hour, false)

	// Many contenders at once: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 8 {
		wg.Go(func() {
			ok, err := s.Lease(context.Background(), "race", fmt.Sprint("holder", i), time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d holders got one lease", winners)
	}
}

// testPartnerDates checks the date_added each partner sees: its own
// sequence, in which the versions withheld from it leave no gap; the
// time of its channel's entries; new after it joins a group; never given
// twice, even after a delete.
func testPartnerDates(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	coll := newGroup(t, s, 1, "MEX", "USA", "CAN")
	rels := []store.Release{
		{Originator: "MEX", Parties: []string{"USA"}},
		{Originator: "MEX", Parties: []string{"CAN"}},
		{Originator: "MEX"},
		{Originator: "MEX", AllMembers: true},
		{Originator: "MEX", Parties: []string{"CAN", "GTM"}},
	}
	calls := make(map[string]int) // version -> the AddObjects call that added it
	n := 0
	for call := range 4 {
		var b []store.NewObject
		for i := range 10 + 7*call {
			o := obj("indicator", n, "2.1", ts(1), "x")
			o.Release = rels[(n*7+i)%len(rels)]
			n++
			b = append(b, o)
			calls[o.ID] = call
		}
		add(t, s, coll, b)
	}
	for _, p := range []string{"USA", "CAN", "GTM"} {
		seen := allFor(t, s, coll, p)
		entries := VerifyLog(t, s, p)
		if p == "GTM" {
			if len(seen) != 0 || len(entries) != 0 {
				t.Errorf("GTM, not a member, reads %d versions and has %d entries", len(seen), len(entries))
			}
			continue
		}
		if len(seen) == 0 || len(seen) != len(entries) {
			t.Fatalf("%s reads %d versions and its channel has %d entries", p, len(seen), len(entries))
		}
		for i, o := range seen {
			if e := entries[i]; e.ObjectID != o.ID || e.Version != o.Version || !e.Time.Equal(o.DateAdded) {
				t.Errorf("%s: entry %d is %s %s at %v, the version read is %s %s added %v", p, i, e.ObjectID, e.Version, e.Time, o.ID, o.Version, o.DateAdded)
			}
			if i == 0 {
				continue
			}
			prev := seen[i-1]
			if !o.DateAdded.After(prev.DateAdded) {
				t.Errorf("%s: date_added %v after %v: not increasing", p, o.DateAdded, prev.DateAdded)
			}
			// Within one call the party's versions are a microsecond apart,
			// however many were withheld from it between them.
			if calls[o.ID] == calls[prev.ID] && o.DateAdded.Sub(prev.DateAdded) != time.Microsecond {
				t.Errorf("%s: %v then %v in one call: a gap tells what was withheld", p, prev.DateAdded, o.DateAdded)
			}
		}
	}

	// Objects with neither modified nor created: their versions say
	// nothing of what was withheld either.
	var sco []store.NewObject
	for i := range 10 {
		o := obj("ipv4-addr", 500+i, "2.1", "", "x")
		o.Release = rels[i%3]
		sco = append(sco, o)
	}
	add(t, s, coll, sco)
	var scoVersions []string
	for _, o := range allFor(t, s, coll, "USA") {
		if o.Type == "ipv4-addr" {
			scoVersions = append(scoVersions, o.Version)
		}
	}
	if len(scoVersions) != 4 || slices.Compact(slices.Clone(scoVersions))[0] != scoVersions[len(scoVersions)-1] {
		t.Errorf("USA sees the versions %v of the objects without modified released to it in one call, want 4 equal ones (the time of the add)", scoVersions)
	}

	// A party that joins sees the versions released to it as new: a
	// client that polled up to the newest date_added the group had before
	// finds them after it.
	held := all(t, s, coll)
	before := held[len(held)-1].DateAdded
	if err := s.SetMembers(ctx, coll, []string{"MEX", "USA", "CAN", "GTM"}); err != nil {
		t.Fatal(err)
	}
	seen := allFor(t, s, coll, "GTM")
	if len(seen) == 0 {
		t.Fatal("GTM joined and reads nothing")
	}
	q := store.Query{CollectionID: coll, ReleasedTo: "GTM", AddedAfter: before, Versions: store.VersionMatch{All: true}, Limit: 1000}
	if p, err := s.Objects(ctx, q); err != nil || len(p.Objects) != len(seen) {
		t.Errorf("GTM reads %d versions added after it joined, want all %d (%v)", len(p.Objects), len(seen), err)
	}
	for i, e := range VerifyLog(t, s, "GTM") {
		if !e.Time.Equal(seen[i].DateAdded) || !e.Time.After(before) {
			t.Errorf("GTM's entry %d at %v, the version read was added %v, GTM joined after %v", i, e.Time, seen[i].DateAdded, before)
		}
	}

	// A delete does not make a date_added come round again.
	usa := allFor(t, s, coll, "USA")
	last := usa[len(usa)-1]
	if _, err := s.DeleteObject(ctx, coll, last.ID, store.VersionMatch{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	if got := allFor(t, s, coll, "USA"); len(got) != len(usa)-1 {
		t.Errorf("USA reads %d versions after a delete, want %d", len(got), len(usa)-1)
	}
	o := obj("indicator", n, "2.1", ts(1), "after the delete")
	o.Release = store.Release{Originator: "MEX", Parties: []string{"USA"}}
	add(t, s, coll, []store.NewObject{o})
	usa = allFor(t, s, coll, "USA")
	if d := usa[len(usa)-1].DateAdded; !d.After(last.DateAdded) {
		t.Errorf("USA: a new version got date_added %v, not after the deleted %v", d, last.DateAdded)
	}
}
