package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// pendingLog is what one transaction appends to one log: the new entries
// (positions in wtx.records) and their leaf hashes. Where they start is
// read at the commit, under the ledger lock.
type pendingLog struct {
	records []int
	leaves  []ledger.Hash
}

// pendingRecord is an entry made in the transaction, to be appended to one
// or more logs.
type pendingRecord struct {
	objectID, version string
	data              []byte
	leaf              ledger.Hash
	logs              []string // in the order placed
	placements        []byte   // ",internal:5,USA:3,", made at the commit
}

// appendEntry appends e to each of logs, at the commit.
func (t *wtx) appendEntry(e ledger.Entry, logs ...string) error {
	rec, err := t.newRecord(e)
	if err != nil {
		return err
	}
	for _, log := range logs {
		t.place(rec, log)
	}
	return nil
}

// newRecord marshals e once, for every log it goes to.
func (t *wtx) newRecord(e ledger.Entry) (int, error) {
	data, err := e.Marshal()
	if err != nil {
		return 0, err
	}
	t.records = append(t.records, pendingRecord{objectID: e.ObjectID, version: e.Version, data: data, leaf: ledger.LeafHash(data)})
	return len(t.records) - 1, nil
}

// place appends record rec to log, at the commit.
func (t *wtx) place(rec int, log string) {
	p, ok := t.logs[log]
	if !ok {
		p = &pendingLog{}
		if t.logs == nil {
			t.logs = make(map[string]*pendingLog)
		}
		t.logs[log] = p
	}
	r := &t.records[rec]
	r.logs = append(r.logs, log)
	p.records = append(p.records, rec)
	p.leaves = append(p.leaves, r.leaf)
}

// flushLedger writes the records, entries, hash tiles and sizes of the
// logs the transaction appended to, under the advisory lock ledgerLock,
// which it holds to the end of the commit. It runs just before the
// commit, so that the lock every ledger write needs is not held while the
// objects are written; the commit itself still runs under it.
func (t *wtx) flushLedger(ctx context.Context) error {
	if len(t.records) == 0 {
		return nil
	}
	if _, err := t.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", ledgerLock); err != nil {
		return fmt.Errorf("postgres: lock the ledger: %w", err)
	}
	names := make([]string, 0, len(t.logs))
	for name := range t.logs {
		names = append(names, name)
	}
	sort.Strings(names)
	sizes := make(map[string]int64, len(names))
	rows, err := t.tx.Query(ctx, "SELECT name, size FROM ledger_logs WHERE name = ANY($1)", names)
	if err != nil {
		return fmt.Errorf("postgres: read log sizes: %w", err)
	}
	for rows.Next() {
		var name string
		var size int64
		if err := rows.Scan(&name, &size); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: read log sizes: %w", err)
		}
		sizes[name] = size
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read log sizes: %w", err)
	}

	// Record ids: a block of the sequence, contiguous because only
	// holders of the ledger lock take from it; ids grow with log order.
	n := int64(len(t.records))
	var lastID int64
	if err := t.tx.QueryRow(ctx, "SELECT setval('ledger_records_id', nextval('ledger_records_id') + $1 - 1)", n).Scan(&lastID); err != nil {
		return fmt.Errorf("postgres: ledger record ids: %w", err)
	}
	firstID := lastID - n + 1
	next := make(map[string]int64, len(names))
	for _, name := range names {
		next[name] = sizes[name]
	}
	recRows := make([][]any, len(t.records))
	for i := range t.records {
		r := &t.records[i]
		r.placements = []byte{','}
		for _, log := range r.logs {
			r.placements = store.AppendPlacement(r.placements, log, next[log])
			next[log]++
		}
		recRows[i] = []any{firstID + int64(i), r.objectID, r.version, string(r.placements), r.data}
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"ledger_records"}, []string{"id", "object_id", "version", "placements", "data"}, pgx.CopyFromRows(recRows)); err != nil {
		return fmt.Errorf("postgres: write ledger records: %w", err)
	}
	var entryRows [][]any
	var tileLogs []string
	var tileLevels []int32
	var tileIdx []int64
	var tileHashes [][]byte
	newSizes := make([]int64, len(names))
	for i, name := range names {
		p := t.logs[name]
		size := sizes[name]
		for j, rec := range p.records {
			entryRows = append(entryRows, []any{name, size + int64(j), firstID + int64(rec)})
		}
		changed, err := ledger.AppendTiles(ctx, txTiles{t, name}, size, p.leaves)
		if err != nil {
			return fmt.Errorf("postgres: log %s: %w", name, err)
		}
		for id, hashes := range changed {
			tileLogs = append(tileLogs, name)
			tileLevels = append(tileLevels, int32(id.Level))
			tileIdx = append(tileIdx, id.Index)
			tileHashes = append(tileHashes, hashes)
		}
		newSizes[i] = size + int64(len(p.leaves))
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"ledger_entries"}, []string{"log", "idx", "record"}, pgx.CopyFromRows(entryRows)); err != nil {
		return fmt.Errorf("postgres: append entries: %w", err)
	}
	if _, err := t.tx.Exec(ctx, `
INSERT INTO ledger_tiles (log, level, idx, hashes) SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bytea[])
ON CONFLICT (log, level, idx) DO UPDATE SET hashes = excluded.hashes`, tileLogs, tileLevels, tileIdx, tileHashes); err != nil {
		return fmt.Errorf("postgres: write tiles: %w", err)
	}
	if _, err := t.tx.Exec(ctx, `
INSERT INTO ledger_logs (name, size) SELECT * FROM unnest($1::text[], $2::bigint[])
ON CONFLICT (name) DO UPDATE SET size = excluded.size`, names, newSizes); err != nil {
		return fmt.Errorf("postgres: write log sizes: %w", err)
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
	err := r.t.tx.QueryRow(ctx, "SELECT hashes FROM ledger_tiles WHERE log = $1 AND level = $2 AND idx = $3", r.log, id.Level, id.Index).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := t.tx.Query(ctx, "SELECT placements, data FROM ledger_records WHERE object_id = $1 AND version = $2", objectID, version)
	if err != nil {
		return fmt.Errorf("postgres: find entries of %s: %w", objectID, err)
	}
	var placements []string
	var data [][]byte
	for rows.Next() {
		var p string
		var d []byte
		if err := rows.Scan(&p, &d); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: find entries of %s: %w", objectID, err)
		}
		placements, data = append(placements, p), append(data, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: find entries of %s: %w", objectID, err)
	}
	e := ledger.Entry{Kind: ledger.KindWithdrawal, ObjectID: objectID, Version: version, Group: collectionID, Time: t.db.now()}
	copy(e.SHA256[:], hash)
	return t.appendEntry(e, store.WithdrawalLogs(collectionID, released, placements, data)...)
}

// Logs implements store.Store.
func (db *DB) Logs(ctx context.Context) ([]store.Log, error) {
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (store.Log, error) {
		var l store.Log
		return l, r.Scan(&l.Name, &l.Size)
	}, "SELECT name, size FROM ledger_logs WHERE size > 0 ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("postgres: list logs: %w", err)
	}
	return out, nil
}

// LogSize implements store.Store.
func (db *DB) LogSize(ctx context.Context, log string) (int64, error) {
	var n int64
	err := db.queryRow(ctx, "SELECT size FROM ledger_logs WHERE name = $1", log).Scan(&n)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: size of log %s: %w", log, err)
	}
	return n, nil
}

// ReadTile implements store.Store.
func (db *DB) ReadTile(ctx context.Context, log string, id ledger.TileID) ([]byte, error) {
	var b []byte
	err := db.queryRow(ctx, "SELECT hashes FROM ledger_tiles WHERE log = $1 AND level = $2 AND idx = $3", log, id.Level, id.Index).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("tile %d/%d of log %s: %w", id.Level, id.Index, log, ledger.ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read tile: %w", err)
	}
	return b, nil
}

// LogEntries implements store.Store.
func (db *DB) LogEntries(ctx context.Context, log string, start int64, n int) ([][]byte, error) {
	var out [][]byte
	err := db.read(ctx, func() error {
		rows, err := db.pool.Query(ctx, `
SELECT e.idx, r.data FROM ledger_entries e JOIN ledger_records r ON r.id = e.record
WHERE e.log = $1 AND e.idx >= $2 AND e.idx < $3 ORDER BY e.idx`, log, start, start+int64(n))
		if err != nil {
			return err
		}
		defer rows.Close()
		out = make([][]byte, 0, n)
		for rows.Next() {
			var idx int64
			var b []byte
			if err := rows.Scan(&idx, &b); err != nil {
				return err
			}
			if idx != start+int64(len(out)) {
				return fmt.Errorf("log %s: entry %d missing: %w", log, start+int64(len(out)), ledger.ErrMissing)
			}
			out = append(out, b)
		}
		rows.Close()
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read entries: %w", err)
	}
	return out, nil
}

// FindEntries implements store.Store.
func (db *DB) FindEntries(ctx context.Context, log, objectID, version string) ([]store.LogEntry, error) {
	var out []store.LogEntry
	err := db.read(ctx, func() error {
		rows, err := db.pool.Query(ctx, "SELECT placements, data FROM ledger_records WHERE object_id = $1 AND version = $2 ORDER BY id", objectID, version)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = nil
		for rows.Next() {
			var placements string
			var data []byte
			if err := rows.Scan(&placements, &data); err != nil {
				return err
			}
			if idx, ok := store.PlacementIn(placements, log); ok {
				out = append(out, store.LogEntry{Index: idx, Data: data})
			}
		}
		rows.Close()
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find entries: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("entries of %s %s in log %s: %w", objectID, version, log, store.ErrNotFound)
	}
	return out, nil
}

// exec runs one statement in its own transaction (retried like every
// write).
func (db *DB) exec(ctx context.Context, what, sql string, a ...any) error {
	return db.tx(ctx, func(ctx context.Context, t *wtx) error {
		if _, err := t.tx.Exec(ctx, sql, a...); err != nil {
			return fmt.Errorf("postgres: %s: %w", what, err)
		}
		return nil
	})
}

// PutCheckpoint implements store.Store.
func (db *DB) PutCheckpoint(ctx context.Context, c store.StoredCheckpoint) error {
	return db.exec(ctx, "put checkpoint", "INSERT INTO ledger_checkpoints (log, size, note, time_us) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
		c.Log, c.Size, nonNil(c.Note), micros(c.Time))
}

func (db *DB) checkpoint(ctx context.Context, query string, a ...any) (store.StoredCheckpoint, error) {
	var c store.StoredCheckpoint
	var us int64
	err := db.queryRow(ctx, query, a...).Scan(&c.Log, &c.Size, &c.Note, &us)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.StoredCheckpoint{}, fmt.Errorf("checkpoint: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.StoredCheckpoint{}, fmt.Errorf("postgres: read checkpoint: %w", err)
	}
	c.Time = fromMicros(us)
	return c, nil
}

// LatestCheckpoint implements store.Store.
func (db *DB) LatestCheckpoint(ctx context.Context, log string) (store.StoredCheckpoint, error) {
	return db.checkpoint(ctx, "SELECT log, size, note, time_us FROM ledger_checkpoints WHERE log = $1 ORDER BY size DESC LIMIT 1", log)
}

// Checkpoint implements store.Store.
func (db *DB) Checkpoint(ctx context.Context, log string, size int64) (store.StoredCheckpoint, error) {
	return db.checkpoint(ctx, "SELECT log, size, note, time_us FROM ledger_checkpoints WHERE log = $1 AND size = $2", log, size)
}

// PutReceipt implements store.Store.
func (db *DB) PutReceipt(ctx context.Context, r store.StoredReceipt) error {
	return db.exec(ctx, "put receipt", `
INSERT INTO ledger_receipts (log, size, note, signed_us, received_us) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (log, size) DO UPDATE SET note = excluded.note, signed_us = excluded.signed_us, received_us = excluded.received_us
WHERE excluded.signed_us > ledger_receipts.signed_us`,
		r.Log, r.Size, nonNil(r.Note), micros(r.Signed), micros(r.Received))
}

// LatestReceipt implements store.Store.
func (db *DB) LatestReceipt(ctx context.Context, log string) (store.StoredReceipt, error) {
	var r store.StoredReceipt
	var signed, received int64
	err := db.queryRow(ctx, "SELECT log, size, note, signed_us, received_us FROM ledger_receipts WHERE log = $1 ORDER BY size DESC LIMIT 1", log).
		Scan(&r.Log, &r.Size, &r.Note, &signed, &received)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.StoredReceipt{}, fmt.Errorf("receipt: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.StoredReceipt{}, fmt.Errorf("postgres: read receipt: %w", err)
	}
	r.Signed, r.Received = fromMicros(signed), fromMicros(received)
	return r, nil
}

// PutPeer implements store.Store.
func (db *DB) PutPeer(ctx context.Context, p store.Peer) error {
	return db.exec(ctx, "put peer", `
INSERT INTO peers (party, url, ca_pem, checkpoint_key, receipt_key, added_us) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (party) DO UPDATE SET url = excluded.url, ca_pem = excluded.ca_pem, checkpoint_key = excluded.checkpoint_key, receipt_key = excluded.receipt_key`,
		p.Party, p.URL, nonNil(p.CA), p.CheckpointKey, p.ReceiptKey, micros(p.Added))
}

const peerColumns = "party, url, ca_pem, checkpoint_key, receipt_key, added_us"

func scanPeer(r pgx.Row) (store.Peer, error) {
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
	p, err := scanPeer(db.queryRow(ctx, "SELECT "+peerColumns+" FROM peers WHERE party = $1", party))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Peer{}, fmt.Errorf("peer %s: %w", party, store.ErrNotFound)
	}
	if err != nil {
		return store.Peer{}, fmt.Errorf("postgres: read peer: %w", err)
	}
	return p, nil
}

// Peers implements store.Store.
func (db *DB) Peers(ctx context.Context) ([]store.Peer, error) {
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (store.Peer, error) { return scanPeer(r) }, "SELECT "+peerColumns+" FROM peers ORDER BY party")
	if err != nil {
		return nil, fmt.Errorf("postgres: list peers: %w", err)
	}
	return out, nil
}

// DeletePeer implements store.Store.
func (db *DB) DeletePeer(ctx context.Context, party string) error {
	return db.tx(ctx, func(ctx context.Context, t *wtx) error {
		tag, err := t.tx.Exec(ctx, "DELETE FROM peers WHERE party = $1", party)
		if err != nil {
			return fmt.Errorf("postgres: delete peer: %w", err)
		}
		return mustAffect(tag, "peer "+party)
	})
}

// Inbound implements store.Store.
func (db *DB) Inbound(ctx context.Context, party string) (store.Inbound, error) {
	in := store.Inbound{Party: party}
	var root []byte
	var us int64
	err := db.queryRow(ctx, "SELECT size, root, checkpoint, verified_us, receipt_size, unavailable FROM inbound WHERE party = $1", party).
		Scan(&in.Size, &root, &in.Checkpoint, &us, &in.ReceiptSize, &in.Unavailable)
	if errors.Is(err, pgx.ErrNoRows) {
		return in, nil
	}
	if err != nil {
		return store.Inbound{}, fmt.Errorf("postgres: read inbound state: %w", err)
	}
	copy(in.Root[:], root)
	in.Verified = fromMicros(us)
	return in, nil
}

// ApplyPull implements store.Store. It locks the partner's inbound row
// first, so that two processes pulling from one partner apply one pull
// each, in turn, and the second finds the state moved (store.ErrConflict).
func (db *DB) ApplyPull(ctx context.Context, p store.Pull) ([]store.AddResult, error) {
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	var conflicts []store.AddResult
	err := db.tx(ctx, func(ctx context.Context, t *wtx) error {
		if _, err := t.tx.Exec(ctx, "INSERT INTO inbound (party, size, root, checkpoint, verified_us) VALUES ($1, 0, ''::bytea, ''::bytea, 0) ON CONFLICT DO NOTHING", p.Party); err != nil {
			return fmt.Errorf("postgres: read inbound state: %w", err)
		}
		var old int64
		var root []byte
		if err := t.tx.QueryRow(ctx, "SELECT size, root FROM inbound WHERE party = $1 FOR UPDATE", p.Party).Scan(&old, &root); err != nil {
			return fmt.Errorf("postgres: read inbound state: %w", err)
		}
		if err := p.Continues(old, root); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		// A transient failure runs this again: conflicts is set, not
		// appended to.
		var err error
		if conflicts, err = store.ApplyReplicas(ctx, t, p.Party, t.db.now(), p.Collections); err != nil {
			return err
		}
		_, err = t.tx.Exec(ctx, `
UPDATE inbound SET size = $2, root = $3,
	checkpoint = CASE WHEN length($4::bytea) = 0 THEN checkpoint ELSE $4::bytea END,
	verified_us = $5, unavailable = unavailable + $6
WHERE party = $1`,
			p.Party, p.State.Size, p.State.Root[:], nonNil(p.State.Checkpoint), micros(p.State.Verified), p.State.Unavailable)
		if err != nil {
			return fmt.Errorf("postgres: write inbound state: %w", err)
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
	return db.exec(ctx, "record receipt", "UPDATE inbound SET receipt_size = greatest(receipt_size, $1) WHERE party = $2", size, party)
}

// PutAlert implements store.Store.
func (db *DB) PutAlert(ctx context.Context, a store.Alert) error {
	return db.exec(ctx, "put alert", "INSERT INTO alerts (time_us, party, kind, message, evidence) VALUES ($1, $2, $3, $4, $5)",
		micros(a.Time), a.Party, a.Kind, a.Message, nonNil(a.Evidence))
}

// Alerts implements store.Store.
func (db *DB) Alerts(ctx context.Context, limit int) ([]store.Alert, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: alerts limit %d, must be positive", limit)
	}
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (store.Alert, error) {
		var a store.Alert
		var us int64
		err := r.Scan(&us, &a.Party, &a.Kind, &a.Message, &a.Evidence)
		a.Time = fromMicros(us)
		return a, err
	}, "SELECT time_us, party, kind, message, evidence FROM alerts ORDER BY id DESC LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read alerts: %w", err)
	}
	return out, nil
}

// Lease implements store.Store, on the database server's clock, which
// every process sharing the database reads alike.
func (db *DB) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var held bool
	err := db.tx(ctx, func(ctx context.Context, t *wtx) error {
		rows, err := t.tx.Query(ctx, `
WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS us)
INSERT INTO leases (name, holder, until_us) SELECT $1, $2, now.us + $3 FROM now
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_us = excluded.until_us
WHERE leases.holder = excluded.holder OR leases.until_us <= (SELECT us FROM now)
RETURNING holder`, name, holder, ttl.Microseconds())
		if err != nil {
			return fmt.Errorf("postgres: lease %s: %w", name, err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("postgres: lease %s: %w", name, err)
		}
		held = len(got) == 1
		return nil
	})
	return held, err
}

// CollectionOrigin returns the origin of the collection id (wtx is the
// store.ReplicaTx of store.ApplyReplicas, with AddObjects, DeleteObject
// and CreateCollection).
func (t *wtx) CollectionOrigin(ctx context.Context, id string) (string, bool, error) {
	var origin string
	err := t.tx.QueryRow(ctx, "SELECT origin FROM collections WHERE id = $1", id).Scan(&origin)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("postgres: read collection: %w", err)
	}
	return origin, true, nil
}

var _ store.ReplicaTx = (*wtx)(nil)
