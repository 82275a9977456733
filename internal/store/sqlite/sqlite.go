// Package sqlite is the embedded default [store.Store] driver, on SQLite
// through modernc.org/sqlite (pure Go, no cgo).
//
// The database runs in WAL mode with synchronous=FULL, so a commit is durable
// when it returns. One connection writes and a pool of query_only
// connections reads, so reads never wait for writes. Every write goes
// through one writer goroutine that commits whatever was queued while the
// previous commit ran in one transaction (group commit, DESIGN.md §6): the
// cost of an fsync is shared by every caller in the batch, and each caller
// still gets the result it would have had alone.
//
// Times are kept with microsecond precision.
//
// [SQLite WAL]: https://www.sqlite.org/wal.html
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
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
	w     *writer

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
	// writeCacheKiB is the page cache of the write connection: the
	// object-id index is written at random places and must stay in memory
	// for inserts to stay fast.
	writeCacheKiB = 64 << 10
	readCacheKiB  = 16 << 10
)

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", readCacheKiB))
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", writeCacheKiB))
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) the database in the file at path and
// brings its schema up to date. It returns an error wrapping
// store.ErrSchemaTooNew when the file was written by a newer program, and
// an error when the file cannot be put in WAL mode (in-memory databases, for
// example).
func Open(ctx context.Context, path string) (*DB, error) {
	write, err := sql.Open("sqlite", dsn(path, false))
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

	read, err := sql.Open("sqlite", dsn(path, true))
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

	w, err := newWriter(ctx, write)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %s: %w", path, err), read.Close(), write.Close())
	}
	return &DB{write: write, read: read, w: w, collections: make(map[string]int64)}, nil
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
		db.closeErr = errors.Join(db.read.Close(), db.write.Close())
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
