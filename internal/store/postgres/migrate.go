package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/puente-project/puente/internal/store"
)

// migrations are the schema steps, in order. Step i (0-based) brings the
// schema from version i to version i+1. Never edit a step that has shipped;
// append a new one.
//
// Every text column uses the "C" collation: byte order, as in SQLite,
// whatever the database's locale (sorted lists, version keys, and index
// comparisons that do not depend on the server's C library).
var migrations = []string{
	// 1: the whole schema of the SQLite driver's step 7.
	`
CREATE TABLE collections (
	pk              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id              text COLLATE "C" NOT NULL UNIQUE,
	alias           text COLLATE "C" UNIQUE,            -- NULL when the collection has none
	title           text COLLATE "C" NOT NULL,
	description     text COLLATE "C" NOT NULL,
	internal        boolean NOT NULL,
	created_us      bigint  NOT NULL,
	-- last date_added given in this collection, kept so that deleting the
	-- newest object cannot make a date_added come round again. Writers
	-- lock this row: date_added is given in order.
	last_added_us   bigint  NOT NULL DEFAULT 0,
	members         text COLLATE "C" NOT NULL DEFAULT '', -- ",MEX,USA,"
	default_marking text COLLATE "C" NOT NULL DEFAULT '',
	archived        boolean NOT NULL DEFAULT false,
	agencies        text COLLATE "C" NOT NULL DEFAULT '', -- ",SEMAR,GN,"
	origin          text COLLATE "C" NOT NULL DEFAULT ''  -- the partner of a replica collection
);

CREATE TABLE objects (
	seq                bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- No foreign key: collections are never deleted, every writer reads
	-- the key from the collection's locked row, and a per-row check took
	-- a second lock on that row for each object (12% of an insert).
	collection         bigint  NOT NULL,
	date_added_us      bigint  NOT NULL,
	object_id          text COLLATE "C" NOT NULL,
	type               text COLLATE "C" NOT NULL,
	spec_version       text COLLATE "C" NOT NULL,
	version            text COLLATE "C" NOT NULL,             -- as written in the object
	version_key        text COLLATE "C" NOT NULL, -- stix.VersionKey: sorts by value
	-- the oldest and newest version of the object (over every spec
	-- version), so that the default match[version]=last reads an index.
	is_first           boolean NOT NULL,
	is_last            boolean NOT NULL,
	originator         text COLLATE "C" NOT NULL,
	release_all        boolean NOT NULL,
	release_parties    text COLLATE "C" NOT NULL,             -- ",USA,CAN,"
	release_expires_us bigint  NOT NULL,             -- 0: never
	hash               bytea   NOT NULL,
	raw                bytea   NOT NULL
);
CREATE UNIQUE INDEX objects_added   ON objects (collection, date_added_us);
CREATE UNIQUE INDEX objects_version ON objects (collection, object_id, version_key);
CREATE INDEX        objects_type    ON objects (collection, type, date_added_us);
CREATE INDEX        objects_last    ON objects (collection, date_added_us) WHERE is_last;

CREATE TABLE statuses (
	id            text COLLATE "C" PRIMARY KEY,
	owner         text COLLATE "C" NOT NULL,
	collection_id text COLLATE "C" NOT NULL,
	status        text COLLATE "C" NOT NULL,
	request_us    bigint NOT NULL,
	successes     text COLLATE "C" NOT NULL,   -- JSON list of store.StatusDetail
	failures      text COLLATE "C" NOT NULL,
	pendings      text COLLATE "C" NOT NULL,
	created_us    bigint NOT NULL
);
CREATE INDEX statuses_created ON statuses (created_us);

CREATE TABLE users (
	name          text COLLATE "C" PRIMARY KEY,
	password_hash text COLLATE "C" NOT NULL,
	roles         text COLLATE "C" NOT NULL,  -- JSON list of strings
	disabled      boolean NOT NULL,
	created_us    bigint  NOT NULL,
	agency        text COLLATE "C" NOT NULL DEFAULT ''
);

CREATE TABLE tokens (
	id         text COLLATE "C" PRIMARY KEY,
	user_name  text COLLATE "C" NOT NULL,
	hash       bytea   NOT NULL UNIQUE,
	created_us bigint  NOT NULL,
	revoked    boolean NOT NULL
);

CREATE TABLE denials (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at_us     bigint NOT NULL,
	principal text COLLATE "C" NOT NULL,
	action    text COLLATE "C" NOT NULL,
	target    text COLLATE "C" NOT NULL,
	reason    text COLLATE "C" NOT NULL
);

-- The ledger. Writers hold the advisory lock ledgerLock while they read
-- and change the sizes, entries and tiles.
CREATE TABLE ledger_logs (
	name text COLLATE "C" PRIMARY KEY, -- store.InternalLog or a partner party code
	size bigint NOT NULL
);
CREATE SEQUENCE ledger_records_id;
-- One row per record (ledger.Entry), however many logs it is appended to;
-- placements lists them: ",internal:5,USA:3,".
CREATE TABLE ledger_records (
	id         bigint PRIMARY KEY,
	object_id  text COLLATE "C" NOT NULL,
	version    text COLLATE "C" NOT NULL,
	placements text COLLATE "C" NOT NULL,
	data       bytea  NOT NULL     -- canonical entry bytes
);
CREATE INDEX ledger_records_object ON ledger_records (object_id, version);
CREATE TABLE ledger_entries (
	log    text COLLATE "C" NOT NULL,
	idx    bigint NOT NULL,
	-- No foreign key to ledger_records: a per-row check cost 60% of the
	-- COPY of a batch's entries; entries and records are written together,
	-- under the ledger lock, and a missing record is a missing entry to
	-- every reader (ledger.ErrMissing).
	record bigint NOT NULL,
	PRIMARY KEY (log, idx)
);
-- Hash tiles (tlog-tiles): full tiles, and the latest partial tile of each
-- level, which only ever grows.
CREATE TABLE ledger_tiles (
	log    text COLLATE "C" NOT NULL,
	level  integer NOT NULL,
	idx    bigint  NOT NULL,
	hashes bytea   NOT NULL,
	PRIMARY KEY (log, level, idx)
);
CREATE TABLE ledger_checkpoints (
	log     text COLLATE "C" NOT NULL,
	size    bigint NOT NULL,
	note    bytea  NOT NULL,
	time_us bigint NOT NULL,
	PRIMARY KEY (log, size)
);
CREATE TABLE ledger_receipts (
	log         text COLLATE "C" NOT NULL,
	size        bigint NOT NULL,
	note        bytea  NOT NULL,
	signed_us   bigint NOT NULL,
	received_us bigint NOT NULL,
	PRIMARY KEY (log, size)
);
CREATE TABLE peers (
	party          text COLLATE "C" PRIMARY KEY,
	url            text COLLATE "C" NOT NULL,
	ca_pem         bytea  NOT NULL,
	checkpoint_key text COLLATE "C" NOT NULL,
	receipt_key    text COLLATE "C" NOT NULL,
	added_us       bigint NOT NULL
);
CREATE TABLE inbound (
	party        text COLLATE "C" PRIMARY KEY,
	size         bigint NOT NULL,
	root         bytea  NOT NULL,
	checkpoint   bytea  NOT NULL,
	verified_us  bigint NOT NULL,
	receipt_size bigint NOT NULL DEFAULT 0,
	unavailable  bigint NOT NULL DEFAULT 0
);
CREATE TABLE alerts (
	id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time_us  bigint NOT NULL,
	party    text COLLATE "C" NOT NULL,
	kind     text COLLATE "C" NOT NULL,
	message  text COLLATE "C" NOT NULL,
	evidence bytea  NOT NULL
);
-- Leases: which process does a node-wide periodic job (store.Store.Lease).
CREATE TABLE leases (
	name     text COLLATE "C" PRIMARY KEY,
	holder   text COLLATE "C" NOT NULL,
	until_us bigint NOT NULL
);
`,
	// 2: releases, as the SQLite driver's step 8: which versions went to
	// which partner, and the date_added each partner sees
	// (store.Store.AddObjects); see backfillReleases.
	`
CREATE TABLE releases (
	collection    bigint NOT NULL,
	party         text COLLATE "C" NOT NULL,
	date_added_us bigint NOT NULL,   -- as the party sees it
	object        bigint NOT NULL,   -- objects.seq
	PRIMARY KEY (collection, party, date_added_us)
);
CREATE UNIQUE INDEX releases_object ON releases (object, party);
-- The last date_added given to each party in each collection, kept so
-- that a delete cannot make one come round again. Writers hold the
-- collection's row lock.
CREATE TABLE release_clocks (
	collection bigint NOT NULL,
	party      text COLLATE "C" NOT NULL,
	last_us    bigint NOT NULL,
	PRIMARY KEY (collection, party)
);
-- The one content of each marking definition of the node's groups
-- (store.Store.AddObjects): the first stored. Its primary key serialises
-- two transactions that define one id.
CREATE TABLE marking_definitions (
	id   text COLLATE "C" PRIMARY KEY,
	hash bytea NOT NULL
);
INSERT INTO marking_definitions (id, hash)
SELECT DISTINCT ON (o.object_id) o.object_id, o.hash FROM objects o JOIN collections c ON c.pk = o.collection
WHERE c.origin = '' AND o.type = 'marking-definition' ORDER BY o.object_id, o.seq;
` + backfillReleases,
}

// backfillReleases is the part of step 2 that fills the new tables: each
// member of each group is given every version it could read before,
// released to it and not expired, with the collection's date_added, so
// that every partner reads after the migration exactly what it read
// before. (Not from the channel logs: a withdrawn version added again may
// be on a channel it is no longer released to.)
const backfillReleases = `
INSERT INTO releases (collection, party, date_added_us, object)
SELECT o.collection, m.party, o.date_added_us, o.seq
FROM (SELECT pk, unnest(string_to_array(trim(both ',' from members), ',')) AS party
	FROM collections WHERE origin = '' AND members <> '') m
JOIN objects o ON o.collection = m.pk
WHERE o.originator <> m.party
	AND (o.release_expires_us = 0 OR o.release_expires_us > (extract(epoch from clock_timestamp()) * 1000000)::bigint)
	AND (o.release_all OR strpos(o.release_parties, ',' || m.party || ',') > 0)
ON CONFLICT DO NOTHING;
INSERT INTO release_clocks (collection, party, last_us)
SELECT c.pk, r.party, c.last_added_us FROM collections c JOIN (SELECT DISTINCT collection, party FROM releases) r ON r.collection = c.pk;
`

// Advisory lock keys (pg_advisory_xact_lock): arbitrary, fixed, and
// distinct.
const (
	migrationLock int64 = 0x7075656e74650001 // "puente" 1
	ledgerLock    int64 = 0x7075656e74650002 // "puente" 2
)

// migrate brings the schema up to len(steps), one transaction per step,
// each under the advisory lock migrationLock. It refuses, with an error
// wrapping store.ErrSchemaTooNew, a database whose schema is newer.
func migrate(ctx context.Context, pool *pgxpool.Pool, steps []string) error {
	for {
		done, err := migrateStep(ctx, pool, steps)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateStep applies the next step, if any, and reports whether the schema
// was already current.
func migrateStep(ctx context.Context, pool *pgxpool.Pool, steps []string) (done bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if rbErr := tx.Rollback(ctx); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
			err = errors.Join(err, rbErr)
		}
	}()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return false, fmt.Errorf("lock for migration: %w", err)
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"); err != nil {
		return false, fmt.Errorf("create schema_version: %w", err)
	}
	var versions []int
	rows, err := tx.Query(ctx, "SELECT version FROM schema_version")
	if err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if versions, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	v := 0
	switch len(versions) {
	case 0:
	case 1:
		v = versions[0]
	default:
		return false, fmt.Errorf("schema_version has %d rows, want 1", len(versions))
	}
	switch {
	case v > len(steps):
		return false, fmt.Errorf("schema version %d, this program knows up to %d: %w", v, len(steps), store.ErrSchemaTooNew)
	case v == len(steps):
		return true, nil
	}
	if _, err := tx.Exec(ctx, steps[v]); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: %w", v+1, err)
	}
	if v == 0 {
		_, err = tx.Exec(ctx, "INSERT INTO schema_version (version) VALUES (1)")
	} else {
		_, err = tx.Exec(ctx, "UPDATE schema_version SET version = $1", v+1)
	}
	if err != nil {
		return false, fmt.Errorf("record schema version %d: %w", v+1, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit schema version %d: %w", v+1, err)
	}
	return false, nil
}
