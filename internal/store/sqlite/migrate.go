package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/puente-project/puente/internal/store"
)

// migrations are the schema steps, in order. Step i (0-based) brings the
// schema from version i to version i+1. Never edit a step that has shipped;
// append a new one.
var migrations = []string{
	// 1: collections, objects, statuses, users, tokens.
	`
CREATE TABLE collections (
	pk            INTEGER PRIMARY KEY,
	id            TEXT    NOT NULL UNIQUE,
	alias         TEXT    UNIQUE,           -- NULL when the collection has none
	title         TEXT    NOT NULL,
	description   TEXT    NOT NULL,
	internal      INTEGER NOT NULL,
	created_us    INTEGER NOT NULL,
	-- last date_added given in this collection, kept so that deleting the
	-- newest object cannot make a date_added come round again.
	last_added_us INTEGER NOT NULL DEFAULT 0
);

-- One row per stored object version. seq grows with insertion order, and so
-- (the writer being serial) with date_added within each collection: reading
-- a collection in date_added order reads the table forwards.
CREATE TABLE objects (
	seq           INTEGER PRIMARY KEY,
	collection    INTEGER NOT NULL REFERENCES collections(pk),
	date_added_us INTEGER NOT NULL,
	object_id     TEXT    NOT NULL,
	type          TEXT    NOT NULL,
	spec_version  TEXT    NOT NULL,
	version       TEXT    NOT NULL,         -- as written in the object
	version_key   TEXT    NOT NULL,         -- stix.VersionKey: sorts by value
	-- is_first and is_last mark the oldest and newest version of the object
	-- (over every spec version), so that the default match[version]=last
	-- reads an index instead of comparing versions.
	is_first      INTEGER NOT NULL,
	is_last       INTEGER NOT NULL,
	hash          BLOB    NOT NULL,
	raw           BLOB    NOT NULL          -- last: reading the rest does not touch it
);
CREATE UNIQUE INDEX objects_added   ON objects (collection, date_added_us);
CREATE UNIQUE INDEX objects_version ON objects (collection, object_id, version_key);
CREATE INDEX        objects_type    ON objects (collection, type, date_added_us);
CREATE INDEX        objects_last    ON objects (collection, date_added_us) WHERE is_last = 1;

-- A new first or last version takes the flag from the one before it, inside
-- the INSERT, so that adding an object costs one statement.
CREATE TRIGGER objects_flags AFTER INSERT ON objects
-- (a version both first and last is the only one: nothing to clear)
WHEN NEW.is_first + NEW.is_last = 1
BEGIN
	UPDATE objects SET is_first = 0
	WHERE NEW.is_first = 1 AND collection = NEW.collection AND object_id = NEW.object_id
		AND version_key > NEW.version_key AND is_first = 1;
	UPDATE objects SET is_last = 0
	WHERE NEW.is_last = 1 AND collection = NEW.collection AND object_id = NEW.object_id
		AND version_key < NEW.version_key AND is_last = 1;
END;

CREATE TABLE statuses (
	id                TEXT    PRIMARY KEY,
	owner             TEXT    NOT NULL,
	collection_id     TEXT    NOT NULL,
	status            TEXT    NOT NULL,
	request_us        INTEGER NOT NULL,
	successes         TEXT    NOT NULL,     -- JSON list of store.StatusDetail
	failures          TEXT    NOT NULL,
	pendings          TEXT    NOT NULL,
	created_us        INTEGER NOT NULL
);
CREATE INDEX statuses_created ON statuses (created_us);

CREATE TABLE users (
	name          TEXT    PRIMARY KEY,
	password_hash TEXT    NOT NULL,
	roles         TEXT    NOT NULL,         -- JSON list of strings
	disabled      INTEGER NOT NULL,
	created_us    INTEGER NOT NULL
);

CREATE TABLE tokens (
	id         TEXT    PRIMARY KEY,
	user       TEXT    NOT NULL,
	hash       BLOB    NOT NULL UNIQUE,
	created_us INTEGER NOT NULL,
	revoked    INTEGER NOT NULL
);
`,
	// Working-group members and default marking; each version's release
	// (store.Release). The defaults release older rows to nobody but the
	// node's own users.
	`
ALTER TABLE collections ADD COLUMN members TEXT NOT NULL DEFAULT '';          -- ",MEX,USA,"
ALTER TABLE collections ADD COLUMN default_marking TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN originator TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN release_all INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN release_parties TEXT NOT NULL DEFAULT '';      -- ",USA,CAN,"
ALTER TABLE objects ADD COLUMN release_expires_us INTEGER NOT NULL DEFAULT 0; -- 0: never
`,
	// The record of refused attempts (store.Denial).
	`
CREATE TABLE denials (
	seq       INTEGER PRIMARY KEY,
	at_us     INTEGER NOT NULL,
	principal TEXT    NOT NULL,
	action    TEXT    NOT NULL,
	target    TEXT    NOT NULL,
	reason    TEXT    NOT NULL
);
`,
	// Archived working groups.
	`
ALTER TABLE collections ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
`,
	// Users' agencies; the agencies that may write to a working group.
	`
ALTER TABLE users ADD COLUMN agency TEXT NOT NULL DEFAULT '';
ALTER TABLE collections ADD COLUMN agencies TEXT NOT NULL DEFAULT '';  -- ",SEMAR,GN,"
`,
	// The ledger: one Merkle log per channel and the internal log.
	`
CREATE TABLE ledger_logs (
	name TEXT PRIMARY KEY,   -- store.InternalLog or a partner party code
	size INTEGER NOT NULL
) WITHOUT ROWID;
-- One row per record (ledger.Entry), however many logs it is appended
-- to; placements lists them: ",internal:5,USA:3,".
CREATE TABLE ledger_records (
	id         INTEGER PRIMARY KEY,
	object_id  TEXT NOT NULL,
	version    TEXT NOT NULL,
	placements TEXT NOT NULL,
	data       BLOB NOT NULL   -- canonical entry bytes
);
CREATE INDEX ledger_records_object ON ledger_records (object_id, version);
-- The logs: entry idx of log is record.
CREATE TABLE ledger_entries (
	log    TEXT    NOT NULL,
	idx    INTEGER NOT NULL,
	record INTEGER NOT NULL REFERENCES ledger_records(id),
	PRIMARY KEY (log, idx)
) WITHOUT ROWID;
-- Hash tiles (tlog-tiles): full tiles, and the latest partial tile of each
-- level, which only ever grows.
CREATE TABLE ledger_tiles (
	log    TEXT    NOT NULL,
	level  INTEGER NOT NULL,
	idx    INTEGER NOT NULL,
	hashes BLOB    NOT NULL,
	PRIMARY KEY (log, level, idx)
) WITHOUT ROWID;
CREATE TABLE ledger_checkpoints (
	log     TEXT    NOT NULL,
	size    INTEGER NOT NULL,
	note    BLOB    NOT NULL,
	time_us INTEGER NOT NULL,
	PRIMARY KEY (log, size)
) WITHOUT ROWID;
-- Partner parties pinned by this node (federation).
CREATE TABLE peers (
	party          TEXT PRIMARY KEY,
	url            TEXT NOT NULL,     -- its node, https://host:port/
	ca_pem         BLOB NOT NULL,     -- the only CA trusted for it
	checkpoint_key TEXT NOT NULL,     -- signed-note verifier key of its logs
	receipt_key    TEXT NOT NULL,     -- tlog-cosignature v1 verifier key
	added_us       INTEGER NOT NULL
) WITHOUT ROWID;
-- What this node verified of each partner's channel to it.
CREATE TABLE inbound (
	party        TEXT PRIMARY KEY,
	size         INTEGER NOT NULL,
	root         BLOB    NOT NULL,
	checkpoint   BLOB    NOT NULL,  -- the partner's signed checkpoint at size
	verified_us  INTEGER NOT NULL,
	receipt_size INTEGER NOT NULL DEFAULT 0,  -- the last receipt posted to it
	unavailable  INTEGER NOT NULL DEFAULT 0   -- entries whose object it did not serve
) WITHOUT ROWID;
-- Alerts: what federation refused, with the evidence, for the auditors.
CREATE TABLE alerts (
	id       INTEGER PRIMARY KEY,
	time_us  INTEGER NOT NULL,
	party    TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	message  TEXT    NOT NULL,
	evidence BLOB    NOT NULL
);
-- Replica collections hold a partner's objects, read-only.
ALTER TABLE collections ADD COLUMN origin TEXT NOT NULL DEFAULT '';
CREATE TABLE ledger_receipts (
	log         TEXT    NOT NULL,
	size        INTEGER NOT NULL,
	note        BLOB    NOT NULL,
	signed_us   INTEGER NOT NULL,
	received_us INTEGER NOT NULL,
	PRIMARY KEY (log, size)
) WITHOUT ROWID;
`,
	// Leases: which process does a node-wide periodic job (store.Store.Lease).
	`
CREATE TABLE leases (
	name     TEXT    PRIMARY KEY,
	holder   TEXT    NOT NULL,
	until_us INTEGER NOT NULL
) WITHOUT ROWID;
`,
	// Releases: which versions went to which partner, and the date_added
	// each partner sees (store.Store.AddObjects); see backfillReleases.
	`
CREATE TABLE releases (
	collection    INTEGER NOT NULL,
	party         TEXT    NOT NULL,
	date_added_us INTEGER NOT NULL,   -- as the party sees it
	object        INTEGER NOT NULL,   -- objects.seq
	PRIMARY KEY (collection, party, date_added_us)
) WITHOUT ROWID;
CREATE UNIQUE INDEX releases_object ON releases (object, party);
-- The last date_added given to each party in each collection, kept so
-- that a delete cannot make one come round again.
CREATE TABLE release_clocks (
	collection INTEGER NOT NULL,
	party      TEXT    NOT NULL,
	last_us    INTEGER NOT NULL,
	PRIMARY KEY (collection, party)
) WITHOUT ROWID;
-- The one content of each marking definition of the node's groups
-- (store.Store.AddObjects): the first stored.
CREATE TABLE marking_definitions (
	id   TEXT PRIMARY KEY,
	hash BLOB NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO marking_definitions (id, hash)
SELECT o.object_id, o.hash FROM objects o JOIN collections c ON c.pk = o.collection
WHERE c.origin = '' AND o.type = 'marking-definition' ORDER BY o.seq;
` + backfillReleases,
}

// backfillReleases is the part of step 8 that fills the new tables: each
// member of each group is given every version it could read before,
// released to it and not expired, with the collection's date_added, so
// that every partner reads after the migration exactly what it read
// before. (Not from the channel logs: versions added before the ledger
// existed are on none, and a withdrawn version added again may be on a
// channel it is no longer released to.)
const backfillReleases = `
WITH RECURSIVE m(pk, party, rest) AS (
	SELECT pk, '', substr(members, 2) FROM collections WHERE origin = '' AND members <> ''
	UNION ALL
	SELECT pk, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1) FROM m WHERE rest <> ''
)
INSERT OR IGNORE INTO releases (collection, party, date_added_us, object)
SELECT o.collection, m.party, o.date_added_us, o.seq
FROM m JOIN objects o ON o.collection = m.pk
WHERE m.party <> '' AND o.originator <> m.party
	AND (o.release_expires_us = 0 OR o.release_expires_us > CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
	AND (o.release_all = 1 OR instr(o.release_parties, ',' || m.party || ',') > 0);
INSERT INTO release_clocks (collection, party, last_us)
SELECT c.pk, r.party, c.last_added_us FROM collections c JOIN (SELECT DISTINCT collection, party FROM releases) r ON r.collection = c.pk;
`

// migrate brings the schema of db up to len(steps), one transaction per
// step. It refuses, with an error wrapping store.ErrSchemaTooNew, a database
// whose schema is newer than steps.
func migrate(ctx context.Context, db *sql.DB, steps []string) error {
	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	for {
		done, err := migrateStep(ctx, db, steps)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateStep applies the next step, if any, in one transaction, and
// reports whether the schema was already current.
func migrateStep(ctx context.Context, db *sql.DB, steps []string) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() { err = errors.Join(err, ignoreTxDone(tx.Rollback())) }()
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	switch {
	case v > len(steps):
		return false, fmt.Errorf("schema version %d, this program knows up to %d: %w", v, len(steps), store.ErrSchemaTooNew)
	case v == len(steps):
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: %w", v+1, err)
	}
	if v == 0 {
		_, err = tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (1)")
	} else {
		_, err = tx.ExecContext(ctx, "UPDATE schema_version SET version = ?", v+1)
	}
	if err != nil {
		return false, fmt.Errorf("record schema version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit schema version %d: %w", v+1, err)
	}
	return false, nil
}

// schemaVersion reads the schema version: 0 for a new database.
func schemaVersion(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (v int, err error) {
	rows, err := q.QueryContext(ctx, "SELECT version FROM schema_version")
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	n := 0
	for rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return 0, fmt.Errorf("read schema version: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if n > 1 {
		return 0, fmt.Errorf("schema_version has %d rows, want 1", n)
	}
	return v, nil
}

func ignoreTxDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
