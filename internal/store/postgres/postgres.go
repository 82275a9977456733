// Package postgres is the [store.Store] driver for PostgreSQL, through
// github.com/jackc/pgx/v5, for deployments that outgrow one process and
// one disk (DESIGN.md §6).
//
// Several Puente processes may share one database. What the SQLite driver
// gets from its single writer, this one gets from locks held to the commit:
//   - a write to a collection locks the collection's row first, so its
//     date_added values are given, and become visible, in increasing order
//     (an added_after reader never skips one);
//   - ledger appends take one transaction-scoped advisory lock just before
//     the commit, read the logs' sizes under it and write the entries, tiles
//     and sizes: two processes can never give out the same index or fork a
//     log. The lock is taken last, but it is held through the COMMIT (its
//     fsync): every write that appends to the ledger, in every process,
//     commits one at a time; that, not the number of processes, bounds
//     the node's write rate;
//   - a pull from a partner locks that partner's inbound row.
//
// A transaction that fails before its commit because of a deadlock, a
// serialization failure or a lost connection (the server restarted, the
// connection was terminated) is run again, a few times, on another
// connection: nothing of it was written. An error from the COMMIT itself is
// returned as is: the write may or may not have been made, and a client
// that sends it again gets Duplicate for what was.
//
// Times are stored as microseconds since the Unix epoch (bigint), and
// sets of parties in the encoding of [store.EncodeSet], as in the SQLite
// driver. The schema is created and upgraded by an ordered list of
// migrations, one transaction each under an advisory lock (processes
// starting together migrate once), recorded in the schema_version table.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/puente-project/puente/internal/store"
)

var _ store.Store = (*DB)(nil)

// ErrUnreachable wraps the error of an Open that could not reach the
// server (refused, timed out, name not resolved, server starting up):
// trying again later may work, unlike a refused password or a schema
// newer than the program.
var ErrUnreachable = errors.New("database server unreachable")

// Options tune Open. The zero value is the production setting.
type Options struct {
	// Now is the clock that gives date_added; nil means time.Now.
	Now func() time.Time
	// MaxConns is the pool size; 0 means the DSN's pool_max_conns, or
	// else 2 per CPU with a minimum of 8.
	MaxConns int32
}

// DB is a Puente database on a PostgreSQL server. It is safe for
// concurrent use, also by several processes on one database.
type DB struct {
	pool *pgxpool.Pool
	now  func() time.Time

	mu          sync.RWMutex
	collections map[string]int64 // guarded by mu: collection id -> pk; collections are never deleted

	closeOnce sync.Once
	retries   atomic.Int64 // transactions run again after a transient failure
}

// Retries returns how many times a transaction was run again after a
// transient failure (a lost connection, a deadlock), since Open.
func (db *DB) Retries() int64 { return db.retries.Load() }

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as libpq takes) and brings its schema up to date. It
// returns an error wrapping ErrUnreachable when the server cannot be
// reached, and one wrapping store.ErrSchemaTooNew when the database was
// written by a newer program. The password is never part of an error.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	hasPassword, err := checkURL(dsn)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx quotes the DSN with its password masked, but a password it
		// did not read as one shows through the mask: say no more than
		// what is wrong, and that only when there is no password to show.
		var inner error = errors.New("check the host, port and options")
		if !hasPassword {
			if u := errors.Unwrap(err); u != nil {
				inner = u
			}
		}
		return nil, fmt.Errorf("postgres: the database URL does not parse: %w", inner)
	}
	if err := checkPassword(dsn, cfg.ConnConfig.Password); err != nil {
		return nil, err
	}
	// The locking reads fresh state after each lock (READ COMMITTED),
	// and an acknowledged write is on disk (G7): whatever the server's or
	// the URL's defaults say.
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	// A process that stops (frozen, cut off) inside a transaction must
	// not keep the collection or ledger locks for hours: the server ends
	// such a session after a minute, and notices a dead peer within two.
	for k, v := range map[string]string{
		"idle_in_transaction_session_timeout": "60s",
		"tcp_keepalives_idle":                 "60",
		"tcp_keepalives_interval":             "10",
		"tcp_keepalives_count":                "6",
	} {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = int32(max(8, 2*runtime.GOMAXPROCS(0)))
	}
	// Statements are prepared and cached per connection (pgx's default);
	// health checks drop connections the server closed.
	cfg.HealthCheckPeriod = 5 * time.Second
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		if isUnreachable(err) {
			return nil, fmt.Errorf("postgres %s: %w: %w", where, ErrUnreachable, err)
		}
		return nil, fmt.Errorf("postgres %s: %w", where, err)
	}
	if err := migrate(ctx, pool, migrations); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", where, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &DB{pool: pool, now: now, collections: make(map[string]int64)}, nil
}

// errPasswordEncoding says how to write a password in a URL.
var errPasswordEncoding = errors.New("postgres: the database URL does not parse: percent-encode the password (@ as %40, : as %3A, / as %2F)")

// checkURL refuses a URL that net/url cannot read, before pgx reads it
// (pgx's errors about it can show part of the password), and reports
// whether it holds a password. Other forms (key=value) are left to pgx.
func checkURL(dsn string) (hasPassword bool, err error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return strings.Contains(dsn, "password"), nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return true, errPasswordEncoding // most likely; never the URL itself
	}
	_, hasPassword = u.User.Password()
	return hasPassword || u.Query().Has("password"), nil
}

// checkPassword refuses a URL whose password pgx did not read as net/url
// does (an '@' or ':' not percent-encoded): pgx would take part of the
// password for the host name and show it in every error.
func checkPassword(dsn, parsed string) error {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return errPasswordEncoding
	}
	if pw, ok := u.User.Password(); ok && pw != parsed {
		return errPasswordEncoding
	}
	return nil
}

// isUnreachable reports an error of connecting that may pass: the server
// is not listening, not yet accepting connections, or not answering.
func isUnreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 57P03 cannot_connect_now: starting up or shutting down.
		return pgErr.Code == "57P03" || strings.HasPrefix(pgErr.Code, "08")
	}
	var netErr net.Error
	var dnsErr *net.DNSError
	return errors.As(err, &netErr) || errors.As(err, &dnsErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

// Close closes the pool: it waits for connections in use to be returned.
// It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(db.pool.Close)
	return nil
}

// maxAttempts bounds how often one transaction is tried.
const maxAttempts = 8

// commitError marks the failure of a COMMIT, after which the outcome is
// unknown: it is never retried.
type commitError struct{ err error }

func (e *commitError) Error() string { return "postgres: commit: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// tx runs fn in a transaction and commits it, running it again when the
// transaction failed, before its commit, for a reason that may pass (see
// transient). fn must be repeatable: it must reset whatever results it
// records.
func (db *DB) tx(ctx context.Context, fn func(ctx context.Context, t *wtx) error) error {
	var err error
	for attempt := range maxAttempts {
		if attempt > 0 {
			db.retries.Add(1)
			// 10 ms, 20 ms, … up to about 1.3 s, with jitter, so that the
			// attempts span a server restart of a few seconds.
			d := (10 * time.Millisecond) << (attempt - 1)
			d += rand.N(d)
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(d):
			}
		}
		err = db.tryTx(ctx, fn)
		var ce *commitError
		if err == nil || errors.As(err, &ce) || !transient(err) || ctx.Err() != nil {
			return err
		}
		if connectionLost(err) {
			// The server restarted or ended our sessions: the idle
			// connections are most likely dead too. Drop them all rather
			// than find out one attempt at a time.
			db.pool.Reset()
		}
	}
	return err
}

func (db *DB) tryTx(ctx context.Context, fn func(ctx context.Context, t *wtx) error) (err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer func() {
		// After a commit, Rollback is a no-op (pgx.ErrTxClosed).
		if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) && err == nil {
			err = fmt.Errorf("postgres: rollback: %w", rbErr)
		}
	}()
	t := &wtx{tx: tx, db: db}
	if err := fn(ctx, t); err != nil {
		return err
	}
	if err := t.flushLedger(ctx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return &commitError{err}
	}
	return nil
}

// transient reports an error after which the same transaction, run again,
// may succeed: a deadlock or serialization failure, or a connection lost
// or refused (the server restarted or terminated the backend). The
// transaction was rolled back in every case.
func transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01", // serialization_failure, deadlock_detected
			"57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection exceptions
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return pgconn.SafeToRetry(err) || errors.As(err, &netErr) || errors.As(err, &connErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "conn closed")
}

// connectionLost reports an error that ended the session.
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P01" || pgErr.Code == "57P02" || strings.HasPrefix(pgErr.Code, "08")
	}
	return transient(err)
}

// wtx is the transaction a write runs in.
type wtx struct {
	tx pgx.Tx
	db *DB
	// Ledger appends, written at commit (flushLedger).
	logs    map[string]*pendingLog
	records []pendingRecord
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
	err := db.queryRow(ctx, "SELECT pk FROM collections WHERE id = $1", id).Scan(&pk)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("collection %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: look up collection: %w", err)
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

// nonNil maps a nil slice to an empty one: NOT NULL bytea columns take no
// nil.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// mustAffect returns store.ErrNotFound, naming what, when a command
// changed no row.
func mustAffect(tag pgconn.CommandTag, what string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// mustInsert turns an INSERT … ON CONFLICT DO NOTHING that inserted
// nothing into store.ErrExists.
func mustInsert(tag pgconn.CommandTag, what string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrExists)
	}
	return nil
}

// args collects the arguments of a statement being built and names them
// $1, $2, …
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// readAttempts bounds how often a read is tried.
const readAttempts = 3

// read runs fn, a read that may be repeated, and runs it again on a new
// connection when it failed because its session was lost (the server
// restarted, or ended the session): a pooled connection can die while
// idle, and a client should not get an error that a second attempt
// answers. fn must reset what it collects.
func (db *DB) read(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range readAttempts {
		if attempt > 0 {
			db.retries.Add(1)
			db.pool.Reset()
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
			}
		}
		if err = fn(); err == nil || errors.Is(err, pgx.ErrNoRows) || !connectionLost(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// queryRow is pool.QueryRow with the retries of read.
func (db *DB) queryRow(ctx context.Context, sql string, a ...any) pgx.Row {
	return retryRow{db: db, ctx: ctx, sql: sql, args: a}
}

type retryRow struct {
	db   *DB
	ctx  context.Context
	sql  string
	args []any
}

func (r retryRow) Scan(dest ...any) error {
	return r.db.read(r.ctx, func() error { return r.db.pool.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...) })
}

// collect runs a query and collects its rows with fn, with the retries of
// read.
func collect[T any](ctx context.Context, db *DB, fn pgx.RowToFunc[T], sql string, a ...any) ([]T, error) {
	var out []T
	err := db.read(ctx, func() error {
		rows, err := db.pool.Query(ctx, sql, a...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, fn)
		return err
	})
	return out, err
}
