package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/storetest"
)

// openTest opens a new database in a temporary directory, closed when t ends.
func openTest(t testing.TB) *DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "puente.db"))
}

func openPath(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) })
}

// setNow replaces the clock for the duration of the test; tests that call
// it must not be parallel.
func setNow(t *testing.T, f func() time.Time) {
	t.Helper()
	old := now
	now = f
	t.Cleanup(func() { now = old })
}

// newObj returns a version of indicator--…n with content made from note.
func newObj(n int, version, note string) store.NewObject {
	id := fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", n, n)
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"modified":%q,"name":%q}`, id, version, note)
	o := store.NewObject{ID: id, Type: "indicator", SpecVersion: "2.1", Version: version, Hash: sha256.Sum256([]byte(raw)), Raw: []byte(raw)}
	if version != "" {
		ts, err := stix.ParseTimestamp(version)
		if err != nil {
			panic(err)
		}
		o.VersionKey = stix.VersionKey(ts)
	}
	return o
}

func createCollection(t testing.TB, db *DB, id string, members ...string) {
	t.Helper()
	if err := db.CreateCollection(context.Background(), store.Collection{ID: id, Title: id, Members: members}); err != nil {
		t.Fatalf("CreateCollection(%s) = %v", id, err)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "puente.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	createCollection(t, db, "c1")
	res, err := db.AddObjects(ctx, "c1", []store.NewObject{newObj(1, "2026-01-01T00:00:00.000Z", "a"), newObj(2, "", "b")})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, store.User{Name: "alice", Roles: []string{"admin"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutStatus(ctx, store.Status{ID: "s1", Status: "complete"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, store.Token{ID: "t1", User: "alice", Hash: sha256.Sum256([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if _, err := db.AddObjects(ctx, "c1", nil); err == nil {
		t.Errorf("AddObjects after Close = nil error")
	}

	// The clock went back: date_added must still grow.
	setNow(t, func() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) })
	db = openPath(t, path)
	p, err := db.Objects(ctx, store.Query{CollectionID: "c1", Versions: store.VersionMatch{All: true}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != 2 || p.Objects[0].ID != res[0].ID || !p.Objects[1].DateAdded.Equal(res[1].DateAdded) {
		t.Errorf("after reopen, objects = %+v, want %+v", p.Objects, res)
	}
	if _, err := db.User(ctx, "alice"); err != nil {
		t.Errorf("after reopen, User(alice) = %v", err)
	}
	if _, err := db.Status(ctx, "s1"); err != nil {
		t.Errorf("after reopen, Status(s1) = %v", err)
	}
	if _, err := db.TokenByHash(ctx, sha256.Sum256([]byte("x"))); err != nil {
		t.Errorf("after reopen, TokenByHash = %v", err)
	}
	more, err := db.AddObjects(ctx, "c1", []store.NewObject{newObj(3, "", "c")})
	if err != nil {
		t.Fatal(err)
	}
	if !more[0].DateAdded.After(res[1].DateAdded) {
		t.Errorf("after reopen with the clock in 2000, date_added %v is not after %v", more[0].DateAdded, res[1].DateAdded)
	}
}

func TestPragmas(t *testing.T) {
	db := openTest(t)
	for _, c := range []struct {
		name string
		conn *sql.DB
		want map[string]string
	}{
		{"write", db.write, map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "query_only": "0", "busy_timeout": "10000"}},
		{"read", db.read, map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "query_only": "1", "busy_timeout": "10000"}},
	} {
		for pragma, want := range c.want {
			var got string
			if err := c.conn.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", c.name, pragma, err)
			}
			if got != want {
				t.Errorf("%s connection: PRAGMA %s = %q, want %q", c.name, pragma, got, want)
			}
		}
	}
	if _, err := db.read.ExecContext(t.Context(), "INSERT INTO users (name, password_hash, roles, disabled, created_us) VALUES ('x', '', '[]', 0, 0)"); err == nil {
		t.Errorf("a read connection could write")
	}
}

func TestOpenRefusesNonWAL(t *testing.T) {
	// An in-memory database cannot use WAL; SQLite says so only by
	// ignoring the pragma.
	db, err := Open(t.Context(), ":memory:")
	if err == nil {
		db.Close()
		t.Fatalf("Open(:memory:) = nil error, want a journal_mode error")
	}
	if !strings.Contains(err.Error(), "journal_mode") {
		t.Errorf("Open(:memory:) = %v, want a journal_mode error", err)
	}
}

func TestMigrations(t *testing.T) {
	ctx := t.Context()
	raw, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db"), connWrite))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	steps := []string{
		"CREATE TABLE a (x INTEGER)",
		"CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (1)",
		"CREATE TABLE c (z INTEGER); INSERT INTO nosuchtable VALUES (1)", // fails
	}
	version := func() int {
		t.Helper()
		v, err := schemaVersion(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tables := func() string {
		t.Helper()
		var s string
		if err := raw.QueryRowContext(ctx, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name)").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name        string
		steps       []string
		wantErr     bool
		wantVersion int
		wantTables  string
	}{
		{"new database", steps[:1], false, 1, "a,schema_version"},
		{"again: nothing to do", steps[:1], false, 1, "a,schema_version"},
		{"one more step", steps[:2], false, 2, "a,b,schema_version"},
		{"a failing step leaves no trace", steps, true, 2, "a,b,schema_version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := migrate(ctx, raw, tc.steps)
			if (err != nil) != tc.wantErr {
				t.Errorf("migrate(%d steps) = %v, want error %v", len(tc.steps), err, tc.wantErr)
			}
			if got := version(); got != tc.wantVersion {
				t.Errorf("schema version = %d, want %d", got, tc.wantVersion)
			}
			if got := tables(); got != tc.wantTables {
				t.Errorf("tables = %s, want %s", got, tc.wantTables)
			}
		})
	}
	if err := migrate(ctx, raw, steps[:1]); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("migrate(older program) = %v, want %v", err, store.ErrSchemaTooNew)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "puente.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := db.write.QueryRowContext(t.Context(), "SELECT version FROM schema_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != len(migrations) {
		t.Errorf("schema version of a new database = %d, want %d", v, len(migrations))
	}
	if _, err := db.write.ExecContext(t.Context(), "UPDATE schema_version SET version = ?", len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(t.Context(), path)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("Open(newer schema) = %v, want %v", err, store.ErrSchemaTooNew)
	}
}

func TestSameMicrosecond(t *testing.T) {
	frozen := time.Date(2026, 1, 15, 10, 0, 0, 123456000, time.UTC)
	setNow(t, func() time.Time { return frozen })
	db := openTest(t)
	createCollection(t, db, "c1")
	var last time.Time
	for b := range 3 {
		res, err := db.AddObjects(t.Context(), "c1", []store.NewObject{newObj(b*10, "", "x"), newObj(b*10+1, "2026-01-01T00:00:00Z", "y")})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if !r.DateAdded.After(last) {
				t.Errorf("date_added %v not after %v", r.DateAdded, last)
			}
			if r.DateAdded.Sub(frozen) > 10*time.Microsecond {
				t.Errorf("date_added %v: ties must be bumped by a microsecond, not more", r.DateAdded)
			}
			last = r.DateAdded
		}
		// The version of an object without modified is the time of the
		// add, not bumped with date_added (store.NewObject.Version).
		if want := frozen.Format("2006-01-02T15:04:05.000000Z"); res[0].Version != want {
			t.Errorf("versionless version = %q, want the time of the add %q", res[0].Version, want)
		}
	}
}

// block makes the writer wait, inside a write, until the returned func is
// called; writes queued meanwhile are committed together afterwards.
func block(t *testing.T, db *DB) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.w.do(context.Background(), func(ctx context.Context, tx *wtx) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("blocking write = %v", err)
		}
	}
}

// waitQueued waits until n writes are queued.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		db.w.mu.Lock()
		l := len(db.w.queue)
		db.w.mu.Unlock()
		if l >= n {
			return
		}
	}
	t.Fatalf("fewer than %d writes queued after 10s", n)
}

func TestGroupCommit(t *testing.T) {
	db := openTest(t)
	createCollection(t, db, "c1")
	release := block(t, db)
	before := db.w.commits.Load()

	const callers = 10
	type answer struct {
		res []store.AddResult
		err error
	}
	answers := make([]answer, callers+3)
	var wg sync.WaitGroup
	queue := func(i int, coll string, objs []store.NewObject) {
		wg.Go(func() {
			res, err := db.AddObjects(context.Background(), coll, objs)
			answers[i] = answer{res, err}
		})
	}
	for i := range callers {
		// Every caller adds object 1000 too: the first to be written adds
		// it, the others see a duplicate, as if each were alone.
		queue(i, "c1", []store.NewObject{newObj(i, "", "x"), newObj(1000, "", "shared")})
		waitQueued(t, db, i+1)
	}
	queue(callers, "nosuch", []store.NewObject{newObj(2000, "", "x")})
	waitQueued(t, db, callers+1)
	// A request that fails after writing leaves nothing behind.
	var failed error
	wg.Go(func() {
		failed = db.w.do(context.Background(), func(ctx context.Context, tx *wtx) error {
			if _, err := tx.tx.ExecContext(ctx, "INSERT INTO collections (id, title, description, internal, created_us) VALUES ('half', '', '', 0, 0)"); err != nil {
				return err
			}
			return errors.New("changed my mind")
		})
	})
	waitQueued(t, db, callers+2)
	queue(callers+2, "c1", []store.NewObject{newObj(3000, "", "x")})
	waitQueued(t, db, callers+3)
	release()
	wg.Wait()

	if got := db.w.commits.Load() - before; got != 2 {
		t.Errorf("%d commits for the blocking write and %d queued ones, want 2", got, callers+3)
	}
	for i := range callers {
		a := answers[i]
		if a.err != nil {
			t.Fatalf("caller %d: %v", i, a.err)
		}
		want := store.Duplicate
		if i == 0 {
			want = store.Added
		}
		if a.res[0].Outcome != store.Added || a.res[1].Outcome != want {
			t.Errorf("caller %d: outcomes %v %v, want Added %v", i, a.res[0].Outcome, a.res[1].Outcome, want)
		}
		if !a.res[1].DateAdded.Equal(answers[0].res[1].DateAdded) {
			t.Errorf("caller %d: shared object date_added %v, want %v", i, a.res[1].DateAdded, answers[0].res[1].DateAdded)
		}
	}
	if err := answers[callers].err; !errors.Is(err, store.ErrNotFound) {
		t.Errorf("batch for a missing collection = %v, want %v", err, store.ErrNotFound)
	}
	if failed == nil || failed.Error() != "changed my mind" {
		t.Errorf("failing request = %v, want its own error", failed)
	}
	if _, err := db.Collection(t.Context(), "half"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed request's write is visible: %v", err)
	}
	if a := answers[callers+2]; a.err != nil || a.res[0].Outcome != store.Added {
		t.Errorf("batch after the failures = %+v, %v; want Added", a.res, a.err)
	}
}

// A shared commit that fails (here a foreign key checked only at commit) is
// retried one request at a time, so only the bad one fails.
func TestGroupCommitRetriesAlone(t *testing.T) {
	db := openTest(t)
	createCollection(t, db, "c1")
	release := block(t, db)
	before := db.w.commits.Load()
	var wg sync.WaitGroup
	var good1, good2 []store.AddResult
	var err1, err2, errBad error
	wg.Go(func() { good1, err1 = db.AddObjects(context.Background(), "c1", []store.NewObject{newObj(1, "", "x")}) })
	waitQueued(t, db, 1)
	wg.Go(func() {
		errBad = db.w.do(context.Background(), func(ctx context.Context, tx *wtx) error {
			if _, err := tx.tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
				return err
			}
			_, err := tx.tx.ExecContext(ctx, `INSERT INTO objects (collection, date_added_us, object_id, type, spec_version, version, version_key, is_first, is_last, hash, raw)
				VALUES (999, 1, 'x--1', 'x', '2.1', 'v', 'v', 1, 1, x'00', x'00')`)
			return err
		})
	})
	waitQueued(t, db, 2)
	wg.Go(func() { good2, err2 = db.AddObjects(context.Background(), "c1", []store.NewObject{newObj(2, "", "x")}) })
	waitQueued(t, db, 3)
	release()
	wg.Wait()
	if err1 != nil || err2 != nil {
		t.Fatalf("good requests failed: %v, %v", err1, err2)
	}
	if errBad == nil || !strings.Contains(errBad.Error(), "FOREIGN KEY") {
		t.Errorf("bad request = %v, want a foreign key error", errBad)
	}
	if got := db.w.commits.Load() - before; got != 3 { // the blocker, then good1 and good2 alone
		t.Errorf("commits = %d, want 3", got)
	}
	p, err := db.Objects(t.Context(), store.Query{CollectionID: "c1", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != 2 || p.Objects[0].ID != good1[0].ID || p.Objects[1].ID != good2[0].ID {
		t.Errorf("stored %+v, want the two good objects", p.Objects)
	}
}

func TestCancelWhileQueued(t *testing.T) {
	db := openTest(t)
	createCollection(t, db, "c1")
	release := block(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := db.AddObjects(ctx, "c1", []store.NewObject{newObj(1, "", "x")})
		errc <- err
	}()
	waitQueued(t, db, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("AddObjects cancelled while queued = %v, want %v", err, context.Canceled)
	}
	release()
	// A later write is committed after the abandoned one would have been.
	if _, err := db.AddObjects(t.Context(), "c1", []store.NewObject{newObj(2, "", "x")}); err != nil {
		t.Fatal(err)
	}
	p, err := db.Objects(t.Context(), store.Query{CollectionID: "c1", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != 1 || p.Objects[0].ID != newObj(2, "", "x").ID {
		t.Errorf("stored %v, want only the second object", p.Objects)
	}
}

// Once the writer has taken a request, the caller waits for the outcome even
// if its context ends: an error must mean "not written".
func TestCancelAfterTaken(t *testing.T) {
	db := openTest(t)
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- db.w.do(ctx, func(ctx context.Context, tx *wtx) error {
			close(started)
			time.Sleep(50 * time.Millisecond)
			_, err := tx.tx.ExecContext(ctx, "INSERT INTO collections (id, title, description, internal, created_us) VALUES ('late', '', '', 0, 0)")
			return err
		})
	}()
	<-started
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("write taken before cancellation = %v, want nil (it was committed)", err)
	}
	if _, err := db.Collection(t.Context(), "late"); err != nil {
		t.Errorf("Collection(late) = %v", err)
	}
}

func TestCloseFailsQueued(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "puente.db"))
	if err != nil {
		t.Fatal(err)
	}
	createCollection(t, db, "c1")
	release := block(t, db)
	errc := make(chan error, 1)
	go func() {
		_, err := db.AddObjects(context.Background(), "c1", []store.NewObject{newObj(1, "", "x")})
		errc <- err
	}()
	waitQueued(t, db, 1)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	if err := <-errc; !errors.Is(err, errClosed) {
		t.Errorf("queued AddObjects at Close = %v, want %v", err, errClosed)
	}
	release()
	if err := <-closed; err != nil {
		t.Errorf("Close() = %v", err)
	}
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir with spaces, #hash & ?query%20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "puente.db")
	db := openPath(t, path)
	createCollection(t, db, "c1")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
}

// TestReleaseBackfill runs the backfill of schema step 8 on a database
// whose releases were forgotten.
func TestReleaseBackfill(t *testing.T) {
	db := openTest(t)
	storetest.CheckReleaseBackfill(t, db, func(t *testing.T) {
		err := db.w.do(t.Context(), func(ctx context.Context, w *wtx) error {
			_, err := w.tx.ExecContext(ctx, "DELETE FROM releases; DELETE FROM release_clocks;"+backfillReleases)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestWithdrawSameTransaction adds a version released to USA and deletes
// it in one transaction, as two callers sharing a group commit may: USA's
// channel gets the withdrawal too, though the version's record was not
// stored yet when it was deleted.
func TestWithdrawSameTransaction(t *testing.T) {
	db := openTest(t)
	createCollection(t, db, "c1", "MEX", "USA")
	o := newObj(1, "2026-01-01T00:00:00.000Z", "x")
	o.Release = store.Release{Originator: "MEX", Parties: []string{"USA"}}
	err := db.w.do(t.Context(), func(ctx context.Context, w *wtx) error {
		res := make([]store.AddResult, 1)
		if err := w.AddObjects(ctx, "c1", []store.NewObject{o}, res); err != nil {
			return err
		}
		_, err := w.DeleteObject(ctx, "c1", o.ID, store.VersionMatch{All: true}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, log := range []string{store.InternalLog, "USA"} {
		var kinds []string
		for _, e := range storetest.VerifyLog(t, db, log) {
			kinds = append(kinds, string(e.Kind))
		}
		if strings.Join(kinds, ",") != "object,withdrawal" {
			t.Errorf("log %s holds %v, want the object and its withdrawal", log, kinds)
		}
	}
}
