package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// A writeFunc does one caller's write inside a transaction that it may share
// with other callers. It must be repeatable: when a shared transaction fails,
// the writer runs it again alone, so it must reset whatever results it
// records before writing them. The ctx it gets is the writer's, not the
// caller's: once taken, a write is not cancelled half-way.
type writeFunc func(ctx context.Context, t *wtx) error

// States of a writeReq.
const (
	reqQueued    int32 = iota
	reqTaken           // the writer owns it; the caller must wait for the answer
	reqAbandoned       // the caller gave up first; it will not be written
)

type writeReq struct {
	fn    writeFunc
	state atomic.Int32
	done  chan error // buffered: the writer never blocks on an answer
}

// writer serialises every write on the one write connection and commits
// together the writes queued while the previous commit ran (group commit).
type writer struct {
	db    *sql.DB
	ckpt  *checkpointer
	stmts [numStmts]*sql.Stmt // prepared on db, used through wtx.stmt

	mu     sync.Mutex
	queue  []*writeReq // guarded by mu
	closed bool        // guarded by mu

	wake    chan struct{} // capacity 1: "the queue may be non-empty"
	stopped chan struct{} // closed when the loop has returned

	commits atomic.Int64 // transactions committed, for tests and metrics
}

func newWriter(ctx context.Context, db *sql.DB, c *checkpointer) (*writer, error) {
	w := &writer{db: db, ckpt: c, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	for i, q := range stmtSQL {
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare %q: %w", q, err), w.closeStmts())
		}
		w.stmts[i] = s
	}
	go w.loop()
	return w, nil
}

func (w *writer) closeStmts() error {
	var errs []error
	for _, s := range w.stmts {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// do queues fn and waits until it is committed (nil) or failed (its error,
// nothing written). If ctx ends while fn is still queued, fn is dropped and
// do returns ctx.Err(); once the writer has taken fn, do waits for the
// outcome regardless of ctx, so that an error always means "not written".
func (w *writer) do(ctx context.Context, fn writeFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{fn: fn, done: make(chan error, 1)}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errClosed
	}
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		return <-r.done
	}
}

func (w *writer) loop() {
	defer close(w.stopped)
	for {
		w.mu.Lock()
		batch, closed := w.queue, w.closed
		w.queue = nil
		w.mu.Unlock()
		if len(batch) == 0 {
			if closed {
				return
			}
			<-w.wake
			continue
		}
		reqs := batch[:0]
		for _, r := range batch {
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				reqs = append(reqs, r)
			}
		}
		if len(reqs) > 0 {
			w.run(reqs)
		}
	}
}

// close fails the queued writes, waits for the one in progress and for the
// loop to end, and closes the prepared statements.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	pending := w.queue
	w.queue = nil
	w.mu.Unlock()
	for _, r := range pending {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			r.done <- errClosed
		}
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.stopped
	_ = w.closeStmts() // the connection is closed next; its error is the one that matters
}

// run writes reqs in one transaction and answers each. A request that fails
// inside the shared transaction is settled alone and the others are written
// again without it, so that one bad request cannot fail the others. If the
// transaction itself fails, each request is retried alone.
func (w *writer) run(reqs []*writeReq) {
	for len(reqs) > 0 {
		errs, failed, err := w.runTx(reqs)
		switch {
		case err == nil:
			for i, r := range reqs {
				r.done <- errs[i]
			}
			return
		case len(reqs) == 1:
			reqs[0].done <- err
			return
		case failed >= 0:
			w.runAlone(reqs[failed])
			reqs = slices.Delete(slices.Clone(reqs), failed, failed+1)
		default:
			for _, r := range reqs {
				w.runAlone(r)
			}
			return
		}
	}
}

// runAlone writes one request in its own transaction and answers it.
func (w *writer) runAlone(r *writeReq) {
	errs, _, err := w.runTx([]*writeReq{r})
	if err == nil {
		err = errs[0]
	}
	r.done <- err
}

// runTx runs reqs in one transaction. errs[i] is request i's own error when
// reqs holds one request. With several, the first request that fails
// aborts the transaction: runTx returns its index as failed, and err. Any
// other err is a failure of the transaction itself (failed is -1). After an
// error nothing was written.
//
// Requests share the transaction without savepoints: failures are rare,
// and a savepoint around each request costs a statement journal on every
// write (pprof: a third of the writer's time with four concurrent
// envelopes of 1,000 objects).
func (w *writer) runTx(reqs []*writeReq) (errs []error, failed int, err error) {
	ctx := context.Background()
	failed = -1
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, -1, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if rbErr := ignoreTxDone(tx.Rollback()); rbErr != nil && err == nil {
			err = fmt.Errorf("sqlite: rollback: %w", rbErr)
		}
	}()
	t := &wtx{tx: tx, w: w}
	errs = make([]error, len(reqs))
	if len(reqs) == 1 {
		if errs[0] = reqs[0].fn(ctx, t); errs[0] != nil {
			return errs, -1, nil // the deferred rollback undoes it
		}
	} else {
		for i, r := range reqs {
			if err := r.fn(ctx, t); err != nil {
				return nil, i, fmt.Errorf("sqlite: request in a shared transaction: %w", err)
			}
		}
	}
	if err := t.flushLedger(ctx); err != nil {
		return nil, -1, err
	}
	if err := tx.Commit(); err != nil {
		return nil, -1, fmt.Errorf("sqlite: commit: %w", err)
	}
	w.commits.Add(1)
	w.ckpt.committed()
	return errs, -1, nil
}

// wtx is the transaction a writeFunc runs in.
type wtx struct {
	tx    *sql.Tx
	w     *writer
	stmts [numStmts]*sql.Stmt // transaction-bound copies, made on first use
	// Ledger appends, written at commit.
	logs    map[string]*pendingLog
	records []pendingRecord
}

// stmt returns the prepared statement id bound to the transaction.
func (t *wtx) stmt(ctx context.Context, id stmtID) *sql.Stmt {
	if t.stmts[id] == nil {
		t.stmts[id] = t.tx.StmtContext(ctx, t.w.stmts[id])
	}
	return t.stmts[id]
}

// stmtID names a statement the writer prepares once.
type stmtID int

const (
	stCollectionForWrite stmtID = iota
	stSetLastAdded
	stInsertObject
	stVersion
	stVersionlessDuplicate
	stLogSize
	stTile
	stPutTile
	stSetLogSize
	stReleaseClock
	stSetReleaseClock
	stInsertRelease
	stNewestVersion
	stDefineMarking
	numStmts
)

var stmtSQL = [numStmts]string{
	stCollectionForWrite: "SELECT pk, last_added_us, members, origin FROM collections WHERE id = ?",
	stSetLastAdded:       "UPDATE collections SET last_added_us = ? WHERE pk = ?",
	// Inserts a version unless (collection, object_id, version_key) is
	// taken. The flags say whether it is the object's oldest or newest
	// version; the trigger objects_flags clears them on the others. (VALUES,
	// not SELECT: INSERT … SELECT from the same table goes through a
	// temporary table. Plain ? parameters: numbered ones cost the driver a
	// name lookup each.)
	stInsertObject: `
INSERT INTO objects (collection, date_added_us, object_id, type, spec_version, version, version_key, is_first, is_last, hash, raw,
	originator, release_all, release_parties, release_expires_us)
VALUES (?, ?, ?, ?, ?, ?, ?,
	NOT EXISTS (SELECT 1 FROM objects WHERE collection = ? AND object_id = ? AND version_key < ?),
	NOT EXISTS (SELECT 1 FROM objects WHERE collection = ? AND object_id = ? AND version_key > ?),
	?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`,
	stVersion:              "SELECT hash, version, date_added_us FROM objects WHERE collection = ? AND object_id = ? AND version_key = ?",
	stVersionlessDuplicate: "SELECT version, date_added_us FROM objects WHERE collection = ? AND object_id = ? AND hash = ? LIMIT 1",
	stLogSize:              "SELECT size FROM ledger_logs WHERE name = ?",
	stTile:                 "SELECT hashes FROM ledger_tiles WHERE log = ? AND level = ? AND idx = ?",
	stPutTile:              "INSERT INTO ledger_tiles (log, level, idx, hashes) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET hashes = excluded.hashes",
	stSetLogSize:           "INSERT INTO ledger_logs (name, size) VALUES (?, ?) ON CONFLICT DO UPDATE SET size = excluded.size",
	stReleaseClock:         "SELECT last_us FROM release_clocks WHERE collection = ? AND party = ?",
	stSetReleaseClock:      "INSERT INTO release_clocks (collection, party, last_us) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET last_us = excluded.last_us",
	stInsertRelease:        "INSERT INTO releases (collection, party, date_added_us, object) VALUES (?, ?, ?, ?)",
	stNewestVersion:        "SELECT version FROM objects WHERE collection = ? AND object_id = ? ORDER BY version_key DESC LIMIT 1",
	// Returns the content the id is defined with: the one given, if it
	// was not defined yet.
	stDefineMarking: "INSERT INTO marking_definitions (id, hash) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET hash = hash RETURNING hash",
}
