// Package sqlite is the embedded default [store.Store] driver, on SQLite
// through modernc.org/sqlite (pure Go, no cgo).
//
// The database runs in [WAL] mode with synchronous=FULL, so a commit is
// durable when it returns; [Open] refuses a file where WAL mode does not
// take effect. One connection writes, a pool of query_only connections
// reads (reads never wait for writes), and a third connection copies the
// WAL into the database file in the background.
//
// Every write goes through one writer goroutine that commits whatever was
// queued while the previous commit ran, in one transaction (group commit,
// DESIGN.md §6): an fsync is shared by every caller in the batch, each
// caller runs in its own savepoint and gets the result it would have had
// alone, and if the shared commit fails the callers are retried one by one.
//
// The schema is created and upgraded by an ordered list of migrations, one
// transaction each, recorded in the schema_version table.
//
// [WAL]: https://www.sqlite.org/wal.html
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/puente-project/puente/internal/store"
)

var _ store.Store = (*DB)(nil)

// now is the clock used for date_added; tests replace it.
var now = time.Now

// errClosed is returned by calls made after Close.
var errClosed = errors.New("sqlite: database is closed")

// DB is a Puente database in one SQLite file. It is safe for concurrent use.
type DB struct {
	write *sql.DB // one connection; used only by the writer goroutine and Open
	read  *sql.DB // query_only pool
	ckpt  *sql.DB // one connection, for the checkpointer
	w     *writer
	c     *checkpointer

	mu          sync.RWMutex
	collections map[string]int64 // guarded by mu: collection id -> pk; collections are never deleted

	closeOnce sync.Once
	closeErr  error
}

// Options used in every connection's DSN. busy_timeout matters only when
// another process holds the database (for example a CLI command run next to
// the server).
const (
	busyTimeoutMS = 10_000
	// Page caches, per connection. Bigger is slower here: the driver
	// allocates each cached page on its own, so filling a 64 MiB cache cost
	// ~10 µs per object added for the first 50,000 objects, and steady
	// state was no faster up to 500,000 objects (the OS page cache serves
	// the misses).
	writeCacheKiB = 8 << 10
	readCacheKiB  = 8 << 10
	// autoCheckpointPages is the WAL size, in pages, at which the writer
	// checkpoints by itself because the checkpointer fell behind.
	autoCheckpointPages = 16384
	// walSizeLimit caps the WAL file kept after a checkpoint restarts it.
	walSizeLimit = 64 << 20
)

// Roles of a connection, for dsn.
const (
	connWrite = iota
	connRead
	connCheckpoint
)

func dsn(path string, role int) string {
	q := url.Values{}
	// The driver applies the _pragma list (sorted) before the named
	// settings, so page_size comes before journal_mode fixes it.
	q.Set("_busy_timeout", strconv.Itoa(busyTimeoutMS))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "1")
	q.Add("_pragma", "temp_store(MEMORY)")
	switch role {
	case connWrite:
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", writeCacheKiB))
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpointPages))
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
		q.Set("_txlock", "immediate")
	case connRead:
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", readCacheKiB))
		q.Add("_pragma", "query_only(1)")
	case connCheckpoint:
		q.Add("_pragma", "cache_size(-1024)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) the database in the file at path and
// brings its schema up to date. It returns an error wrapping
// store.ErrSchemaTooNew when the file was written by a newer program, and
// an error when the file cannot be put in WAL mode (in-memory databases, for
// example).
func Open(ctx context.Context, path string) (*DB, error) {
	write, err := sql.Open("sqlite", dsn(path, connWrite))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := checkPragmas(ctx, write); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", path, err), write.Close())
	}
	if err := migrate(ctx, write, migrations); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", path, err), write.Close())
	}

	read, err := sql.Open("sqlite", dsn(path, connRead))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", path, err), write.Close())
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(0)
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", path, err), read.Close(), write.Close())
	}

	ckpt, err := sql.Open("sqlite", dsn(path, connCheckpoint))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", path, err), read.Close(), write.Close())
	}
	ckpt.SetMaxOpenConns(1)
	c := newCheckpointer(ckpt)
	w, err := newWriter(ctx, write, c)
	if err != nil {
		c.close()
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", path, err), ckpt.Close(), read.Close(), write.Close())
	}
	return &DB{write: write, read: read, ckpt: ckpt, w: w, c: c, collections: make(map[string]int64)}, nil
}

// checkPragmas verifies that the settings durability depends on took effect:
// SQLite ignores a journal_mode it cannot honour instead of failing.
func checkPragmas(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want \"wal\"", mode)
	}
	var sync int
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("read synchronous: %w", err)
	}
	if sync != 2 { // FULL
		return fmt.Errorf("synchronous is %d, want 2 (FULL)", sync)
	}
	var fk int
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("read foreign_keys: %w", err)
	}
	if fk != 1 {
		return fmt.Errorf("foreign_keys is %d, want 1", fk)
	}
	return nil
}

// Close waits for the write in progress, fails the writes still queued, and
// closes the database. It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.w.close()
		db.c.close()
		// The write connection closes last: closing the last connection
		// checkpoints the WAL into the database file.
		db.closeErr = errors.Join(db.ckpt.Close(), db.read.Close(), db.write.Close())
	})
	return db.closeErr
}

// collectionPK returns the internal key of the collection with that id, or
// store.ErrNotFound.
func (db *DB) collectionPK(ctx context.Context, id string) (int64, error) {
	db.mu.RLock()
	pk, ok := db.collections[id]
	db.mu.RUnlock()
	if ok {
		return pk, nil
	}
	err := db.read.QueryRowContext(ctx, "SELECT pk FROM collections WHERE id = ?", id).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("collection %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: look up collection: %w", err)
	}
	db.mu.Lock()
	db.collections[id] = pk
	db.mu.Unlock()
	return pk, nil
}

// micros and fromMicros convert times to and from the stored form:
// microseconds since the Unix epoch, UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
