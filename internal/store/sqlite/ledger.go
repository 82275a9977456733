package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// pendingLog is what one transaction appends to one log: the log's size
// when the transaction first touched it, and the new entries (positions in
// wtx.records) with their leaf hashes.
type pendingLog struct {
	size    int64
	records []int
	leaves  []ledger.Hash
}

// pendingRecord is an entry made in the transaction, to be appended to one
// or more logs.
type pendingRecord struct {
	objectID, version string
	data              []byte
	leaf              ledger.Hash
	placements        []byte // ",internal:5,USA:3,"
}

// newRecord marshals e once, for every log it goes to.
func (t *wtx) newRecord(e ledger.Entry) (int, error) {
	data, err := e.Marshal()
	if err != nil {
		return 0, err
	}
	t.records = append(t.records, pendingRecord{objectID: e.ObjectID, version: e.Version, data: data,
		leaf: ledger.LeafHash(data), placements: []byte{','}})
	return len(t.records) - 1, nil
}

// place appends record rec to log. Rows and hashes are written at commit
// (flushLedger), a few statements per transaction.
func (t *wtx) place(ctx context.Context, log string, rec int) error {
	p, ok := t.logs[log]
	if !ok {
		p = &pendingLog{}
		err := t.stmt(ctx, stLogSize).QueryRowContext(ctx, log).Scan(&p.size)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: read size of log %s: %w", log, err)
		}
		if t.logs == nil {
			t.logs = make(map[string]*pendingLog)
		}
		t.logs[log] = p
	}
	r := &t.records[rec]
	r.placements = store.AppendPlacement(r.placements, log, p.size+int64(len(p.leaves)))
	p.records = append(p.records, rec)
	p.leaves = append(p.leaves, r.leaf)
	return nil
}

// appendEntry appends e to each of logs.
func (t *wtx) appendEntry(ctx context.Context, e ledger.Entry, logs ...string) error {
	rec, err := t.newRecord(e)
	if err != nil {
		return err
	}
	for _, log := range logs {
		if err := t.place(ctx, log, rec); err != nil {
			return err
		}
	}
	return nil
}

// rowsPerInsert is how many rows one multi-row INSERT writes.
const rowsPerInsert = 100

// insertRows runs INSERT INTO head VALUES (…), (…) for the rows, at most
// rowsPerInsert a statement; each row is width values.
func (t *wtx) insertRows(ctx context.Context, head string, width int, rows int, values func(i int) []any) error {
	row := "(" + strings.Repeat("?, ", width-1) + "?)"
	for start := 0; start < rows; start += rowsPerInsert {
		n := min(rowsPerInsert, rows-start)
		var q strings.Builder
		q.WriteString(head)
		q.WriteString(" VALUES ")
		args := make([]any, 0, n*width)
		for i := range n {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(row)
			args = append(args, values(start+i)...)
		}
		if _, err := t.tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// flushLedger writes the records, entries, hash tiles and sizes of the
// logs the transaction appended to. It runs once per transaction, just
// before the commit.
func (t *wtx) flushLedger(ctx context.Context) error {
	if len(t.records) == 0 {
		return nil
	}
	var base int64
	if err := t.tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM ledger_records").Scan(&base); err != nil {
		return fmt.Errorf("sqlite: ledger records: %w", err)
	}
	err := t.insertRows(ctx, "INSERT INTO ledger_records (id, object_id, version, placements, data)", 5, len(t.records), func(i int) []any {
		r := &t.records[i]
		return []any{base + 1 + int64(i), r.objectID, r.version, r.placements, r.data}
	})
	if err != nil {
		return fmt.Errorf("sqlite: write ledger records: %w", err)
	}
	names := make([]string, 0, len(t.logs))
	for name := range t.logs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := t.logs[name]
		if len(p.leaves) == 0 {
			continue
		}
		err := t.insertRows(ctx, "INSERT INTO ledger_entries (log, idx, record)", 3, len(p.records), func(i int) []any {
			return []any{name, p.size + int64(i), base + 1 + int64(p.records[i])}
		})
		if err != nil {
			return fmt.Errorf("sqlite: append to log %s: %w", name, err)
		}
		changed, err := ledger.AppendTiles(ctx, txTiles{t, name}, p.size, p.leaves)
		if err != nil {
			return fmt.Errorf("sqlite: log %s: %w", name, err)
		}
		for id, hashes := range changed {
			if _, err := t.stmt(ctx, stPutTile).ExecContext(ctx, name, id.Level, id.Index, hashes); err != nil {
				return fmt.Errorf("sqlite: write tile of log %s: %w", name, err)
			}
		}
		if _, err := t.stmt(ctx, stSetLogSize).ExecContext(ctx, name, p.size+int64(len(p.leaves))); err != nil {
			return fmt.Errorf("sqlite: write size of log %s: %w", name, err)
		}
	}
	return nil
}

// txTiles reads tiles inside the write transaction.
type txTiles struct {
	t   *wtx
	log string
}

func (r txTiles) ReadTile(ctx context.Context, id ledger.TileID) ([]byte, error) {
	var b []byte
	err := r.t.stmt(ctx, stTile).QueryRowContext(ctx, r.log, id.Level, id.Index).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tile %d/%d of log %s: %w", id.Level, id.Index, r.log, ledger.ErrMissing)
	}
	return b, err
}

// withdraw appends a withdrawal entry for one deleted object version to
// the internal log and to every channel that recorded it from this
// collection: the parties it was released to (released), and the
// channels of the records stored of it (from before releases were
// recorded).
func (t *wtx) withdraw(ctx context.Context, collectionID, objectID, version string, hash []byte, released []string) error {
	rows, err := t.tx.QueryContext(ctx, "SELECT placements, data FROM ledger_records WHERE object_id = ? AND version = ?", objectID, version)
	if err != nil {
		return fmt.Errorf("sqlite: find entries of %s: %w", objectID, err)
	}
	var placements []string
	var data [][]byte
	for rows.Next() {
		var p string
		var d []byte
		if err := rows.Scan(&p, &d); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: find entries of %s: %w", objectID, err)
		}
		placements, data = append(placements, p), append(data, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("sqlite: find entries of %s: %w", objectID, err)
	}
	e := ledger.Entry{Kind: ledger.KindWithdrawal, ObjectID: objectID, Version: version, Group: collectionID, Time: now()}
	copy(e.SHA256[:], hash)
	return t.appendEntry(ctx, e, store.WithdrawalLogs(collectionID, released, placements, data)...)
}

// Logs implements store.Store.
func (db *DB) Logs(ctx context.Context) (_ []store.Log, err error) {
	rows, err := db.read.QueryContext(ctx, "SELECT name, size FROM ledger_logs ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("sqlite: list logs: %w", err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	var out []store.Log
	for rows.Next() {
		var l store.Log
		if err := rows.Scan(&l.Name, &l.Size); err != nil {
			return nil, fmt.Errorf("sqlite: list logs: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// LogSize implements store.Store.
func (db *DB) LogSize(ctx context.Context, log string) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, "SELECT size FROM ledger_logs WHERE name = ?", log).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: size of log %s: %w", log, err)
	}
	return n, nil
}

// ReadTile implements store.Store.
func (db *DB) ReadTile(ctx context.Context, log string, id ledger.TileID) ([]byte, error) {
	var b []byte
	err := db.read.QueryRowContext(ctx, "SELECT hashes FROM ledger_tiles WHERE log = ? AND level = ? AND idx = ?", log, id.Level, id.Index).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tile %d/%d of log %s: %w", id.Level, id.Index, log, ledger.ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read tile: %w", err)
	}
	return b, nil
}

// LogEntries implements store.Store.
func (db *DB) LogEntries(ctx context.Context, log string, start int64, n int) (_ [][]byte, err error) {
	rows, err := db.read.QueryContext(ctx, `
SELECT e.idx, r.data FROM ledger_entries e JOIN ledger_records r ON r.id = e.record
WHERE e.log = ? AND e.idx >= ? AND e.idx < ? ORDER BY e.idx`, log, start, start+int64(n))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read entries: %w", err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	out := make([][]byte, 0, n)
	for rows.Next() {
		var idx int64
		var b []byte
		if err := rows.Scan(&idx, &b); err != nil {
			return nil, fmt.Errorf("sqlite: read entries: %w", err)
		}
		if idx != start+int64(len(out)) {
			return nil, fmt.Errorf("sqlite: log %s: entry %d missing: %w", log, start+int64(len(out)), ledger.ErrMissing)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// FindEntries implements store.Store.
func (db *DB) FindEntries(ctx context.Context, log, objectID, version string) (_ []store.LogEntry, err error) {
	rows, err := db.read.QueryContext(ctx, "SELECT placements, data FROM ledger_records WHERE object_id = ? AND version = ? ORDER BY id", objectID, version)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find entries: %w", err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	var out []store.LogEntry
	for rows.Next() {
		var placements string
		var data []byte
		if err := rows.Scan(&placements, &data); err != nil {
			return nil, fmt.Errorf("sqlite: find entries: %w", err)
		}
		if idx, ok := store.PlacementIn(placements, log); ok {
			out = append(out, store.LogEntry{Index: idx, Data: data})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find entries: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("entries of %s %s in log %s: %w", objectID, version, log, store.ErrNotFound)
	}
	return out, nil
}

// PutCheckpoint implements store.Store.
func (db *DB) PutCheckpoint(ctx context.Context, c store.StoredCheckpoint) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		_, err := t.tx.ExecContext(ctx, "INSERT INTO ledger_checkpoints (log, size, note, time_us) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
			c.Log, c.Size, c.Note, micros(c.Time))
		if err != nil {
			return fmt.Errorf("sqlite: put checkpoint: %w", err)
		}
		return nil
	})
}

func (db *DB) checkpoint(ctx context.Context, query string, args ...any) (store.StoredCheckpoint, error) {
	var c store.StoredCheckpoint
	var us int64
	err := db.read.QueryRowContext(ctx, query, args...).Scan(&c.Log, &c.Size, &c.Note, &us)
	if errors.Is(err, sql.ErrNoRows) {
		return store.StoredCheckpoint{}, fmt.Errorf("checkpoint: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.StoredCheckpoint{}, fmt.Errorf("sqlite: read checkpoint: %w", err)
	}
	c.Time = fromMicros(us)
	return c, nil
}

// LatestCheckpoint implements store.Store.
func (db *DB) LatestCheckpoint(ctx context.Context, log string) (store.StoredCheckpoint, error) {
	return db.checkpoint(ctx, "SELECT log, size, note, time_us FROM ledger_checkpoints WHERE log = ? ORDER BY size DESC LIMIT 1", log)
}

// Checkpoint implements store.Store.
func (db *DB) Checkpoint(ctx context.Context, log string, size int64) (store.StoredCheckpoint, error) {
	return db.checkpoint(ctx, "SELECT log, size, note, time_us FROM ledger_checkpoints WHERE log = ? AND size = ?", log, size)
}

// PutReceipt implements store.Store.
func (db *DB) PutReceipt(ctx context.Context, r store.StoredReceipt) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		_, err := t.tx.ExecContext(ctx, `
INSERT INTO ledger_receipts (log, size, note, signed_us, received_us) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (log, size) DO UPDATE SET note = excluded.note, signed_us = excluded.signed_us, received_us = excluded.received_us
WHERE excluded.signed_us > ledger_receipts.signed_us`,
			r.Log, r.Size, r.Note, micros(r.Signed), micros(r.Received))
		if err != nil {
			return fmt.Errorf("sqlite: put receipt: %w", err)
		}
		return nil
	})
}

// LatestReceipt implements store.Store.
func (db *DB) LatestReceipt(ctx context.Context, log string) (store.StoredReceipt, error) {
	var r store.StoredReceipt
	var signed, received int64
	err := db.read.QueryRowContext(ctx, "SELECT log, size, note, signed_us, received_us FROM ledger_receipts WHERE log = ? ORDER BY size DESC LIMIT 1", log).
		Scan(&r.Log, &r.Size, &r.Note, &signed, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return store.StoredReceipt{}, fmt.Errorf("receipt: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.StoredReceipt{}, fmt.Errorf("sqlite: read receipt: %w", err)
	}
	r.Signed, r.Received = fromMicros(signed), fromMicros(received)
	return r, nil
}

// PutPeer implements store.Store.
func (db *DB) PutPeer(ctx context.Context, p store.Peer) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		_, err := t.tx.ExecContext(ctx, `
INSERT INTO peers (party, url, ca_pem, checkpoint_key, receipt_key, added_us) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT DO UPDATE SET url = excluded.url, ca_pem = excluded.ca_pem, checkpoint_key = excluded.checkpoint_key, receipt_key = excluded.receipt_key`,
			p.Party, p.URL, nonNil(p.CA), p.CheckpointKey, p.ReceiptKey, micros(p.Added))
		if err != nil {
			return fmt.Errorf("sqlite: put peer: %w", err)
		}
		return nil
	})
}

const peerColumns = "party, url, ca_pem, checkpoint_key, receipt_key, added_us"

func scanPeer(r rowScanner) (store.Peer, error) {
	var p store.Peer
	var us int64
	if err := r.Scan(&p.Party, &p.URL, &p.CA, &p.CheckpointKey, &p.ReceiptKey, &us); err != nil {
		return store.Peer{}, err
	}
	p.Added = fromMicros(us)
	return p, nil
}

// Peer implements store.Store.
func (db *DB) Peer(ctx context.Context, party string) (store.Peer, error) {
	p, err := scanPeer(db.read.QueryRowContext(ctx, "SELECT "+peerColumns+" FROM peers WHERE party = ?", party))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Peer{}, fmt.Errorf("peer %s: %w", party, store.ErrNotFound)
	}
	if err != nil {
		return store.Peer{}, fmt.Errorf("sqlite: read peer: %w", err)
	}
	return p, nil
}

// Peers implements store.Store.
func (db *DB) Peers(ctx context.Context) (_ []store.Peer, err error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+peerColumns+" FROM peers ORDER BY party")
	if err != nil {
		return nil, fmt.Errorf("sqlite: list peers: %w", err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	var out []store.Peer
	for rows.Next() {
		p, err := scanPeer(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list peers: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeletePeer implements store.Store.
func (db *DB) DeletePeer(ctx context.Context, party string) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		res, err := t.tx.ExecContext(ctx, "DELETE FROM peers WHERE party = ?", party)
		if err != nil {
			return fmt.Errorf("sqlite: delete peer: %w", err)
		}
		return mustAffect(res, "peer "+party)
	})
}

// Inbound implements store.Store.
func (db *DB) Inbound(ctx context.Context, party string) (store.Inbound, error) {
	in := store.Inbound{Party: party}
	var root []byte
	var us int64
	err := db.read.QueryRowContext(ctx, "SELECT size, root, checkpoint, verified_us, receipt_size, unavailable FROM inbound WHERE party = ?", party).
		Scan(&in.Size, &root, &in.Checkpoint, &us, &in.ReceiptSize, &in.Unavailable)
	if errors.Is(err, sql.ErrNoRows) {
		return in, nil
	}
	if err != nil {
		return store.Inbound{}, fmt.Errorf("sqlite: read inbound state: %w", err)
	}
	copy(in.Root[:], root)
	in.Verified = fromMicros(us)
	return in, nil
}

// ApplyPull implements store.Store.
func (db *DB) ApplyPull(ctx context.Context, p store.Pull) ([]store.AddResult, error) {
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	var conflicts []store.AddResult
	err := db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		var old int64
		root := make([]byte, 32)
		err := t.tx.QueryRowContext(ctx, "SELECT size, root FROM inbound WHERE party = ?", p.Party).Scan(&old, &root)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: read inbound state: %w", err)
		}
		if err := p.Continues(old, root); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		// The writer may run this again: conflicts is set, not appended to.
		if conflicts, err = store.ApplyReplicas(ctx, t, p.Party, now(), p.Collections); err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, `
INSERT INTO inbound (party, size, root, checkpoint, verified_us, unavailable) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT DO UPDATE SET size = excluded.size, root = excluded.root,
	checkpoint = CASE WHEN length(excluded.checkpoint) = 0 THEN inbound.checkpoint ELSE excluded.checkpoint END,
	verified_us = excluded.verified_us, unavailable = inbound.unavailable + excluded.unavailable`,
			p.Party, p.State.Size, p.State.Root[:], nonNil(p.State.Checkpoint), micros(p.State.Verified), p.State.Unavailable)
		if err != nil {
			return fmt.Errorf("sqlite: write inbound state: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return conflicts, nil
}

// SetReceiptPosted implements store.Store.
func (db *DB) SetReceiptPosted(ctx context.Context, party string, size int64) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		_, err := t.tx.ExecContext(ctx, "UPDATE inbound SET receipt_size = max(receipt_size, ?) WHERE party = ?", size, party)
		if err != nil {
			return fmt.Errorf("sqlite: record receipt: %w", err)
		}
		return nil
	})
}

// PutAlert implements store.Store.
func (db *DB) PutAlert(ctx context.Context, a store.Alert) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		_, err := t.tx.ExecContext(ctx, "INSERT INTO alerts (time_us, party, kind, message, evidence) VALUES (?, ?, ?, ?, ?)",
			micros(a.Time), a.Party, a.Kind, a.Message, nonNil(a.Evidence))
		if err != nil {
			return fmt.Errorf("sqlite: put alert: %w", err)
		}
		return nil
	})
}

// Alerts implements store.Store.
func (db *DB) Alerts(ctx context.Context, limit int) (_ []store.Alert, err error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: alerts limit %d, must be positive", limit)
	}
	rows, err := db.read.QueryContext(ctx, "SELECT time_us, party, kind, message, evidence FROM alerts ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read alerts: %w", err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	var out []store.Alert
	for rows.Next() {
		var a store.Alert
		var us int64
		if err := rows.Scan(&us, &a.Party, &a.Kind, &a.Message, &a.Evidence); err != nil {
			return nil, fmt.Errorf("sqlite: read alerts: %w", err)
		}
		a.Time = fromMicros(us)
		out = append(out, a)
	}
	return out, rows.Err()
}

// nonNil maps a nil slice to an empty one: NOT NULL BLOB columns take no
// nil.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Lease implements store.Store, on this process's clock.
func (db *DB) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var held bool
	err := db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		nowUS := micros(now())
		res, err := t.tx.ExecContext(ctx, `
INSERT INTO leases (name, holder, until_us) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_us = excluded.until_us
WHERE leases.holder = excluded.holder OR leases.until_us <= ?`, name, holder, nowUS+ttl.Microseconds(), nowUS)
		if err != nil {
			return fmt.Errorf("sqlite: lease %s: %w", name, err)
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	return held, err
}

// CollectionOrigin returns the origin of the collection id (wtx is the
// store.ReplicaTx of store.ApplyReplicas, with AddObjects, DeleteObject
// and CreateCollection).
func (t *wtx) CollectionOrigin(ctx context.Context, id string) (string, bool, error) {
	var origin string
	err := t.tx.QueryRowContext(ctx, "SELECT origin FROM collections WHERE id = ?", id).Scan(&origin)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("sqlite: read collection: %w", err)
	}
	return origin, true, nil
}

var _ store.ReplicaTx = (*wtx)(nil)
