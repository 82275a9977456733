package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/postgres/pgtest"
	"github.com/puente-project/puente/internal/store/storetest"
)

// indicator returns version 2024-01-01 of indicator n; every third one is
// released to the channel USA.
func indicator(n int) store.NewObject {
	id := fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", n, n)
	v := "2024-01-01T00:00:00.000Z"
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":%q,"modified":%q,"name":"n%d"}`, id, v, v, n)
	ts, err := stix.ParseTimestamp(v)
	if err != nil {
		panic(err)
	}
	o := store.NewObject{ID: id, Type: "indicator", SpecVersion: "2.1", Version: v, VersionKey: stix.VersionKey(ts),
		Hash: sha256.Sum256([]byte(raw)), Raw: []byte(raw)}
	o.Release = store.Release{Originator: "MEX"}
	if n%3 == 0 {
		o.Release.Parties = []string{"USA"}
	}
	return o
}

// acked records what the store acknowledged: object id -> date_added.
type acked struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (a *acked) add(res []store.AddResult) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range res {
		if r.Outcome != store.Added {
			return fmt.Errorf("%s: outcome %d, want Added", r.ID, r.Outcome)
		}
		if _, dup := a.m[r.ID]; dup {
			return fmt.Errorf("%s acknowledged twice", r.ID)
		}
		a.m[r.ID] = r.DateAdded
	}
	return nil
}

// checkStored checks that every acknowledged object is stored with the
// date_added it was acknowledged with, that date_added increases
// strictly, and that the internal log and the channel USA verify and
// record each stored object exactly once. It returns the number stored.
func checkStored(t *testing.T, s store.Store, coll string, ack map[string]time.Time) int {
	t.Helper()
	stored := map[string]time.Time{}
	q := store.Query{CollectionID: coll, Versions: store.VersionMatch{All: true}, Limit: 1000, NoContent: true}
	var last time.Time
	for {
		p, err := s.Objects(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Objects {
			if !o.DateAdded.After(last) {
				t.Fatalf("date_added %v of %s does not follow %v", o.DateAdded, o.ID, last)
			}
			last = o.DateAdded
			stored[o.ID] = o.DateAdded
		}
		if !p.More {
			break
		}
		q.AddedAfter = last
	}
	for id, d := range ack {
		got, ok := stored[id]
		if !ok {
			t.Fatalf("%s was acknowledged but is not stored", id)
		}
		if !got.Equal(d) {
			t.Fatalf("%s acknowledged with date_added %v, stored with %v", id, d, got)
		}
	}
	wantUSA := 0
	for id := range stored {
		var n int
		fmt.Sscanf(id, "indicator--%08x", &n)
		if n%3 == 0 {
			wantUSA++
		}
	}
	for log, want := range map[string]int{store.InternalLog: len(stored), "USA": wantUSA} {
		entries := storetest.VerifyLog(t, s, log)
		seen := map[string]bool{}
		for _, e := range entries {
			if seen[e.ObjectID] {
				t.Fatalf("log %s records %s twice", log, e.ObjectID)
			}
			if _, ok := stored[e.ObjectID]; !ok {
				t.Fatalf("log %s records %s, which is not stored", log, e.ObjectID)
			}
			seen[e.ObjectID] = true
		}
		if len(entries) != want {
			t.Fatalf("log %s has %d entries, want %d", log, len(entries), want)
		}
	}
	return len(stored)
}

// TestSeveralInstances runs three stores, each with its own pool, as three
// processes on one database would: they append to one collection and one
// channel at once while a fourth follows the collection by added_after.
// The follower must see every object (no date_added becomes visible
// before a smaller one), and the logs must stay linear.
func TestSeveralInstances(t *testing.T) {
	dsn := pgtest.Database(t)
	var dbs []*DB
	for range 3 {
		dbs = append(dbs, openDSN(t, dsn, Options{MaxConns: 4}))
	}
	reader := openDSN(t, dsn, Options{MaxConns: 2})
	coll := "00000000-0000-4000-8000-000000000001"
	if err := dbs[0].CreateCollection(t.Context(), store.Collection{ID: coll, Title: "shared", Created: time.Now(), Members: []string{"MEX", "USA"}}); err != nil {
		t.Fatal(err)
	}
	const perInstance, writers, batches, per = 3, 3, 15, 40
	ack := &acked{m: map[string]time.Time{}}
	var wg sync.WaitGroup
	var failed atomic.Value
	for i, db := range dbs {
		for w := range writers {
			wg.Go(func() {
				for b := range batches {
					objs := make([]store.NewObject, per)
					for k := range objs {
						objs[k] = indicator(((i*writers+w)*batches+b)*per + k)
					}
					res, err := db.AddObjects(context.Background(), coll, objs)
					if err == nil {
						err = ack.add(res)
					}
					if err != nil {
						failed.Store(err)
						return
					}
				}
			})
		}
	}
	// The follower reads pages of 7 after the last date_added it saw.
	followed := map[string]bool{}
	done := make(chan struct{})
	var follow sync.WaitGroup
	follow.Go(func() {
		var after time.Time
		finished := false
		for {
			p, err := reader.Objects(context.Background(), store.Query{CollectionID: coll, AddedAfter: after, Versions: store.VersionMatch{All: true}, Limit: 7, NoContent: true})
			if err != nil {
				failed.Store(err)
				return
			}
			for _, o := range p.Objects {
				followed[o.ID] = true
				after = o.DateAdded
			}
			if !p.More {
				if finished {
					return
				}
				select {
				case <-done:
					finished = true // one more pass reads what was committed last
				default:
				}
			}
		}
	})
	wg.Wait()
	close(done)
	follow.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	n := checkStored(t, reader, coll, ack.m)
	if want := len(dbs) * writers * batches * per; n != want || len(ack.m) != want {
		t.Fatalf("stored %d, acknowledged %d, want %d", n, len(ack.m), want)
	}
	for id := range ack.m {
		if !followed[id] {
			t.Fatalf("the added_after follower skipped %s", id)
		}
	}
}

// TestConnectionsKilled terminates every connection of the store's
// database over and over while writers add objects. Calls may fail (a
// connection lost during COMMIT leaves the outcome unknown), but nothing
// acknowledged may be lost, the logs must verify, and the store must
// work again afterwards without being reopened.
func TestConnectionsKilled(t *testing.T) {
	dsn := pgtest.Database(t)
	db := openDSN(t, dsn, Options{MaxConns: 6})
	coll := "00000000-0000-4000-8000-000000000002"
	if err := db.CreateCollection(t.Context(), store.Collection{ID: coll, Title: "faults", Created: time.Now(), Members: []string{"MEX", "USA"}}); err != nil {
		t.Fatal(err)
	}
	endSessions := sessionEnder(t, db)

	const writers, batches, per = 4, 40, 50
	ack := &acked{m: map[string]time.Time{}}
	var failures atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				objs := make([]store.NewObject, per)
				for k := range objs {
					objs[k] = indicator((w*batches+b)*per + k)
				}
				res, err := db.AddObjects(context.Background(), coll, objs)
				if err != nil {
					if failures.Add(1) <= 3 {
						t.Logf("writer %d batch %d (not acknowledged): %v", w, b, err)
					}
					continue
				}
				if err := ack.add(res); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var killed, rounds int64
	var killer sync.WaitGroup
	killer.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
			n, err := endSessions(false)
			if err != nil {
				failed.Store(fmt.Errorf("terminate backends: %w", err))
				return
			}
			killed += n
			rounds++
		}
	})
	wg.Wait()
	close(stop)
	killer.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rounds terminated %d connections; %d transactions retried; %d of %d calls failed; %d objects acknowledged",
		rounds, killed, db.Retries(), failures.Load(), writers*batches, len(ack.m))
	if killed == 0 {
		t.Fatal("no connection was terminated: the test tested nothing")
	}

	// The same store, not reopened, works again.
	res, err := db.AddObjects(t.Context(), coll, []store.NewObject{indicator(1 << 20)})
	if err != nil {
		t.Fatalf("after the faults, AddObjects = %v", err)
	}
	if err := ack.add(res); err != nil {
		t.Fatal(err)
	}
	checkStored(t, db, coll, ack.m)
}

// TestReadsAfterKill ends every session of the store's pool, then reads
// at once through the request paths (token, collection, objects, status):
// each read must succeed, on a new connection, without an error for the
// client.
func TestReadsAfterKill(t *testing.T) {
	dsn := pgtest.Database(t)
	db := openDSN(t, dsn, Options{MaxConns: 4})
	coll := "00000000-0000-4000-8000-000000000003"
	if err := db.CreateCollection(t.Context(), store.Collection{ID: coll, Title: "reads", Created: time.Now(), Members: []string{"MEX", "USA"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddObjects(t.Context(), coll, []store.NewObject{indicator(1), indicator(2)}); err != nil {
		t.Fatal(err)
	}
	tok := store.Token{ID: "t1", User: "alice", Hash: [32]byte{1}, Created: time.Now()}
	if err := db.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	endSessions := sessionEnder(t, db)
	reads := []struct {
		name string
		fn   func() error
	}{
		{"TokenByHash", func() error { _, err := db.TokenByHash(t.Context(), tok.Hash); return err }},
		{"Collection", func() error { _, err := db.Collection(t.Context(), coll); return err }},
		{"Collections", func() error { _, err := db.Collections(t.Context()); return err }},
		{"Objects", func() error {
			p, err := db.Objects(t.Context(), store.Query{CollectionID: coll, Limit: 10})
			if err == nil && len(p.Objects) != 2 {
				err = fmt.Errorf("%d objects, want 2", len(p.Objects))
			}
			return err
		}},
		{"LogSize", func() error { _, err := db.LogSize(t.Context(), store.InternalLog); return err }},
	}
	for _, r := range reads {
		// Fill the pool with idle connections, then end them all.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { db.pool.Exec(context.Background(), "SELECT pg_sleep(0.01)") })
		}
		wg.Wait()
		n, err := endSessions(true)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("%s: no session to end", r.name)
		}
		if err := r.fn(); err != nil {
			t.Errorf("%s right after %d sessions ended: %v", r.name, n, err)
		}
	}
}

// sessionEnder returns a function that ends every session of db's
// database (pg_terminate_backend; with wait, until each has ended) and
// returns how many it ended. It uses a connection of its own, closed when t ends;
// one goroutine at a time may call it.
func sessionEnder(t *testing.T, db *DB) func(wait bool) (int64, error) {
	t.Helper()
	admin, err := pgx.Connect(t.Context(), pgtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	var name string
	if err := db.pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return func(wait bool) (int64, error) {
		timeout := 0 // ms; 0: signal and go on
		if wait {
			timeout = 5000
		}
		var n int64
		err := admin.QueryRow(context.Background(),
			"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, $2)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name, timeout).Scan(&n)
		return n, err
	}
}
