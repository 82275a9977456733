package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
)

// AddObjects implements store.Store.
func (db *DB) AddObjects(ctx context.Context, collectionID string, objs []store.NewObject) ([]store.AddResult, error) {
	for i := range objs {
		if err := objs[i].Check(); err != nil {
			return nil, fmt.Errorf("postgres: add object %d: %w", i, err)
		}
	}
	var results []store.AddResult
	err := db.tx(ctx, func(ctx context.Context, t *wtx) error {
		results = make([]store.AddResult, len(objs))
		return t.AddObjects(ctx, collectionID, objs, results)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// writeCollection is what a write reads of its collection.
type writeCollection struct {
	pk, last int64
	members  []string
	origin   string
}

// lockCollection locks the row of a collection until the commit and
// returns what a write needs of it; store.ErrNotFound when there is
// none. Every write to the collection's objects and releases holds it.
func (t *wtx) lockCollection(ctx context.Context, collectionID string) (writeCollection, error) {
	var c writeCollection
	var members string
	err := t.tx.QueryRow(ctx, "SELECT pk, last_added_us, members, origin FROM collections WHERE id = $1 FOR UPDATE", collectionID).Scan(&c.pk, &c.last, &members, &c.origin)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("collection %q: %w", collectionID, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("postgres: lock collection: %w", err)
	}
	c.members = store.DecodeSet(members)
	return c, nil
}

// addObjects adds objs in a few statements, whatever their number: the
// versionless ones are looked up (duplicates, and the newest version held
// for store.VersionlessVersion), every candidate is given a date_added
// (in input order, so that they increase), all are inserted by one
// INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING, and the ones it
// did not insert are looked up to tell a duplicate from a conflict. A
// date_added given to an object that turns out to be stored already is
// not used; the ones used still increase.
func (t *wtx) AddObjects(ctx context.Context, collectionID string, objs []store.NewObject, results []store.AddResult) error {
	c, err := t.lockCollection(ctx, collectionID)
	if err != nil {
		return err
	}
	pk, last := c.pk, c.last
	start := last
	now := t.db.now()
	nowUS := micros(now)
	rel := releaser{t: t, pk: pk, now: nowUS}
	if c.origin == "" {
		if err := t.defineMarkings(ctx, objs); err != nil {
			return err
		}
	}

	// Versionless objects: the identical object is a duplicate whatever
	// version it was given.
	versionless := make(map[string]int) // id + hash -> input index of the first
	newest := make(map[string]string)   // id -> its newest version held, for the versionless
	for i := range objs {
		if objs[i].Version == "" {
			versionless[objs[i].ID+string(objs[i].Hash[:])] = -1
		}
	}
	if len(versionless) > 0 {
		var ids []string
		var hashes [][]byte
		for i := range objs {
			if objs[i].Version == "" {
				ids, hashes = append(ids, objs[i].ID), append(hashes, objs[i].Hash[:])
			}
		}
		rows, err := t.tx.Query(ctx, `
SELECT DISTINCT ON (o.object_id, o.hash) o.object_id, o.hash, o.version, o.date_added_us
FROM objects o JOIN unnest($2::text[], $3::bytea[]) AS w(id, hash) ON o.object_id = w.id AND o.hash = w.hash
WHERE o.collection = $1 ORDER BY o.object_id, o.hash, o.seq`, pk, ids, hashes)
		if err != nil {
			return fmt.Errorf("postgres: look up versionless objects: %w", err)
		}
		held := make(map[string]store.AddResult)
		for rows.Next() {
			var id, version string
			var hash []byte
			var added int64
			if err := rows.Scan(&id, &hash, &version, &added); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: look up versionless objects: %w", err)
			}
			held[id+string(hash)] = store.AddResult{ID: id, Version: version, Outcome: store.Duplicate, DateAdded: fromMicros(added)}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: look up versionless objects: %w", err)
		}
		for i := range objs {
			if objs[i].Version != "" {
				continue
			}
			if r, ok := held[objs[i].ID+string(objs[i].Hash[:])]; ok {
				results[i] = r
			}
		}
		rows, err = t.tx.Query(ctx, `
SELECT DISTINCT ON (object_id) object_id, version FROM objects
WHERE collection = $1 AND object_id = ANY($2) ORDER BY object_id, version_key DESC`, pk, ids)
		if err != nil {
			return fmt.Errorf("postgres: look up versionless objects: %w", err)
		}
		for rows.Next() {
			var id, version string
			if err := rows.Scan(&id, &version); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: look up versionless objects: %w", err)
			}
			newest[id] = version
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: look up versionless objects: %w", err)
		}
	}

	// Candidates: every object not settled yet, with its date_added.
	type candidate struct {
		i            int
		version, key string
		added        int64
	}
	cands := make([]candidate, 0, len(objs))
	for i := range objs {
		o := &objs[i]
		if results[i].Outcome != 0 {
			continue
		}
		version, key := o.Version, o.VersionKey
		if version == "" {
			k := o.ID + string(o.Hash[:])
			if first := versionless[k]; first >= 0 {
				// The same versionless object earlier in this call.
				results[i] = store.AddResult{ID: o.ID, Outcome: store.Duplicate, Version: cands[first].version, DateAdded: fromMicros(cands[first].added)}
				continue
			}
			versionless[k] = len(cands)
		}
		added := max(nowUS, last+1)
		last = added
		if version == "" {
			d := store.VersionlessVersion(now, newest[o.ID])
			version, key = d.Format(store.VersionLayout), stix.VersionKey(d)
			newest[o.ID] = version
		}
		cands = append(cands, candidate{i: i, version: version, key: key, added: added})
	}
	type insertion struct{ added, seq int64 }
	inserted := make(map[string]insertion, len(cands)) // id + "\x00" + key -> the date_added it was inserted with, and its row
	if len(cands) > 0 {
		cols := struct {
			added                                  []int64
			ids, types, specs, versions, keys, org []string
			all                                    []bool
			parties                                []string
			expires                                []int64
			hashes, raws                           [][]byte
		}{}
		for _, cd := range cands {
			o := &objs[cd.i]
			cols.added = append(cols.added, cd.added)
			cols.ids = append(cols.ids, o.ID)
			cols.types = append(cols.types, o.Type)
			cols.specs = append(cols.specs, o.SpecVersion)
			cols.versions = append(cols.versions, cd.version)
			cols.keys = append(cols.keys, cd.key)
			cols.org = append(cols.org, o.Release.Originator)
			cols.all = append(cols.all, o.Release.AllMembers)
			cols.parties = append(cols.parties, store.EncodeSet(o.Release.Parties))
			cols.expires = append(cols.expires, store.ExpiresMicros(o.Release.Expires))
			cols.hashes = append(cols.hashes, o.Hash[:])
			cols.raws = append(cols.raws, nonNil(o.Raw))
		}
		// Each version goes in as its object's first and last; the
		// objects that turn out to have several versions get their flags
		// settled below (fixFlags).
		rows, err := t.tx.Query(ctx, `
INSERT INTO objects (collection, date_added_us, object_id, type, spec_version, version, version_key, is_first, is_last,
	originator, release_all, release_parties, release_expires_us, hash, raw)
SELECT $1, n.added, n.id, n.type, n.spec, n.version, n.key, true, true,
	n.org, n.all_members, n.parties, n.expires, n.hash, n.raw
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[], $11::bigint[], $12::bytea[], $13::bytea[])
	AS n(added, id, type, spec, version, key, org, all_members, parties, expires, hash, raw)
ON CONFLICT (collection, object_id, version_key) DO NOTHING
RETURNING object_id, version_key, date_added_us, seq`,
			pk, cols.added, cols.ids, cols.types, cols.specs, cols.versions, cols.keys, cols.org, cols.all, cols.parties, cols.expires, cols.hashes, cols.raws)
		if err != nil {
			return fmt.Errorf("postgres: insert objects: %w", err)
		}
		var ids []string // of the versions inserted
		for rows.Next() {
			var id, key string
			var in insertion
			if err := rows.Scan(&id, &key, &in.added, &in.seq); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: insert objects: %w", err)
			}
			inserted[id+"\x00"+key] = in
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: insert objects: %w", err)
		}
		if err := t.fixFlags(ctx, pk, ids); err != nil {
			return err
		}
	}

	// The ones not inserted: that version is stored already, the same or
	// another.
	var lookIDs, lookKeys []string
	for _, cd := range cands {
		if _, ok := inserted[objs[cd.i].ID+"\x00"+cd.key]; !ok {
			lookIDs, lookKeys = append(lookIDs, objs[cd.i].ID), append(lookKeys, cd.key)
		}
	}
	type heldVersion struct {
		hash    []byte
		version string
		added   int64
	}
	held := make(map[string]heldVersion, len(lookIDs))
	if len(lookIDs) > 0 {
		rows, err := t.tx.Query(ctx, `
SELECT o.object_id, o.version_key, o.hash, o.version, o.date_added_us
FROM objects o JOIN unnest($2::text[], $3::text[]) AS w(id, key) ON o.object_id = w.id AND o.version_key = w.key
WHERE o.collection = $1`, pk, lookIDs, lookKeys)
		if err != nil {
			return fmt.Errorf("postgres: look up versions: %w", err)
		}
		for rows.Next() {
			var id, key string
			var h heldVersion
			if err := rows.Scan(&id, &key, &h.hash, &h.version, &h.added); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: look up versions: %w", err)
			}
			held[id+"\x00"+key] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: look up versions: %w", err)
		}
	}

	// Results and ledger entries, in input order.
	last = start
	for _, cd := range cands {
		o := &objs[cd.i]
		r := &results[cd.i]
		r.ID, r.Version = o.ID, cd.version
		k := o.ID + "\x00" + cd.key
		if in := inserted[k]; in.added == cd.added {
			last = cd.added
			r.Outcome, r.DateAdded = store.Added, fromMicros(cd.added)
			e := ledger.Entry{Kind: ledger.KindObject, ObjectID: o.ID, Version: cd.version, SHA256: o.Hash, Group: collectionID, Time: r.DateAdded}
			var channels []string
			if c.origin == "" {
				channels = o.Release.Recipients(c.members, now)
			}
			if err := rel.record(ctx, e, in.seq, true, channels); err != nil {
				return err
			}
			continue
		}
		h, ok := held[k]
		if in, dup := inserted[k]; dup {
			// Another copy in this call was inserted: compare with it.
			for _, p := range cands {
				if p.added == in.added {
					h, ok = heldVersion{hash: objs[p.i].Hash[:], version: p.version, added: p.added}, true
					break
				}
			}
		}
		if !ok {
			return fmt.Errorf("postgres: object %s version %s neither inserted nor found", o.ID, cd.version)
		}
		if string(h.hash) == string(o.Hash[:]) {
			r.Outcome, r.Version, r.DateAdded = store.Duplicate, h.version, fromMicros(h.added)
		} else {
			r.Outcome = store.Conflict
		}
	}
	for i := range results {
		if results[i].ID == "" {
			results[i].ID = objs[i].ID
		}
	}
	if last != start {
		if _, err := t.tx.Exec(ctx, "UPDATE collections SET last_added_us = $1 WHERE pk = $2", last, pk); err != nil {
			return fmt.Errorf("postgres: update collection: %w", err)
		}
	}
	return rel.flush(ctx)
}

// releaser releases the versions of one write to partners: it gives each
// partner its own date_added in the collection (store.Store.AddObjects),
// records the release, and appends the version's entry to the internal
// log and the partners' channels. The caller holds the collection's
// lock; the releases go in at flush, in one statement.
type releaser struct {
	t    *wtx
	pk   int64
	now  int64            // the write's time, µs
	last map[string]int64 // each party's last date_added, read at the first release
	// The releases to insert.
	parties         []string
	added, versions []int64
}

// record releases the version seq, whose entry is e (its time the
// collection's date_added), to the parties, and appends e to the internal
// log when internal is set.
func (r *releaser) record(ctx context.Context, e ledger.Entry, seq int64, internal bool, parties []string) error {
	shared := -1 // the record of e, once made
	if internal {
		rec, err := r.t.newRecord(e)
		if err != nil {
			return err
		}
		r.t.place(rec, store.InternalLog)
		shared = rec
	}
	for _, p := range parties {
		d, err := r.next(ctx, p)
		if err != nil {
			return err
		}
		r.parties, r.added, r.versions = append(r.parties, p), append(r.added, d), append(r.versions, seq)
		rec := shared
		if rec < 0 || d != micros(e.Time) {
			// The party's entry tells its own date_added.
			pe := e
			pe.Time = fromMicros(d)
			if rec, err = r.t.newRecord(pe); err != nil {
				return err
			}
		}
		r.t.place(rec, p)
	}
	return nil
}

// next returns the next date_added of party.
func (r *releaser) next(ctx context.Context, party string) (int64, error) {
	if r.last == nil {
		rows, err := r.t.tx.Query(ctx, "SELECT party, last_us FROM release_clocks WHERE collection = $1", r.pk)
		if err != nil {
			return 0, fmt.Errorf("postgres: read release clocks: %w", err)
		}
		r.last = make(map[string]int64)
		for rows.Next() {
			var p string
			var last int64
			if err := rows.Scan(&p, &last); err != nil {
				rows.Close()
				return 0, fmt.Errorf("postgres: read release clocks: %w", err)
			}
			r.last[p] = last
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("postgres: read release clocks: %w", err)
		}
	}
	d := max(r.now, r.last[party]+1)
	r.last[party] = d
	return d, nil
}

// flush inserts the releases and stores the parties' clocks.
func (r *releaser) flush(ctx context.Context) error {
	if len(r.parties) == 0 {
		return nil
	}
	// COPY: a batch's releases are as many rows as its objects.
	_, err := r.t.tx.CopyFrom(ctx, pgx.Identifier{"releases"}, []string{"collection", "party", "date_added_us", "object"},
		pgx.CopyFromSlice(len(r.parties), func(i int) ([]any, error) {
			return []any{r.pk, r.parties[i], r.added[i], r.versions[i]}, nil
		}))
	if err != nil {
		return fmt.Errorf("postgres: record releases: %w", err)
	}
	var parties []string
	var lasts []int64
	for p, last := range r.last {
		parties, lasts = append(parties, p), append(lasts, last)
	}
	if _, err := r.t.tx.Exec(ctx, `
INSERT INTO release_clocks (collection, party, last_us)
SELECT $1, n.party, n.last FROM unnest($2::text[], $3::bigint[]) AS n(party, last)
ON CONFLICT (collection, party) DO UPDATE SET last_us = excluded.last_us`, r.pk, parties, lasts); err != nil {
		return fmt.Errorf("postgres: write release clocks: %w", err)
	}
	return nil
}

// defineMarkings records the content of the marking definitions among
// objs, or refuses them when their id is defined with another
// (store.Store.AddObjects). The primary key makes a transaction that
// defines an id another one is defining wait for its outcome.
func (t *wtx) defineMarkings(ctx context.Context, objs []store.NewObject) error {
	type def struct {
		id   string
		hash []byte
	}
	var defs []def
	for i := range objs {
		if objs[i].Type == "marking-definition" {
			defs = append(defs, def{objs[i].ID, objs[i].Hash[:]})
		}
	}
	if len(defs) == 0 {
		return nil
	}
	// In id order, so that two transactions take the keys in one order.
	slices.SortStableFunc(defs, func(a, b def) int { return strings.Compare(a.id, b.id) })
	ids, hashes := make([]string, len(defs)), make([][]byte, len(defs))
	for i, d := range defs {
		ids[i], hashes[i] = d.id, d.hash
	}
	if _, err := t.tx.Exec(ctx, `
INSERT INTO marking_definitions (id, hash) SELECT * FROM unnest($1::text[], $2::bytea[])
ON CONFLICT (id) DO NOTHING`, ids, hashes); err != nil {
		return fmt.Errorf("postgres: define markings: %w", err)
	}
	rows, err := t.tx.Query(ctx, "SELECT id, hash FROM marking_definitions WHERE id = ANY($1)", ids)
	if err != nil {
		return fmt.Errorf("postgres: define markings: %w", err)
	}
	held := make(map[string][]byte, len(ids))
	for rows.Next() {
		var id string
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: define markings: %w", err)
		}
		held[id] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: define markings: %w", err)
	}
	for _, d := range defs {
		if string(held[d.id]) != string(d.hash) {
			return fmt.Errorf("marking definition %s is already defined with other content: %w", d.id, store.ErrConflict)
		}
	}
	return nil
}

// fixFlags sets is_first and is_last of the versions of the objects ids
// that have more than one, from their version keys: one statement, which
// reads objects_version for each id and writes only the rows that change.
func (t *wtx) fixFlags(ctx context.Context, pk int64, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	_, err := t.tx.Exec(ctx, `
UPDATE objects o SET is_first = (o.version_key = m.lo), is_last = (o.version_key = m.hi)
FROM (SELECT object_id, min(version_key) AS lo, max(version_key) AS hi FROM objects
	WHERE collection = $1 AND object_id = ANY($2) GROUP BY object_id HAVING count(*) > 1) m
WHERE o.collection = $1 AND o.object_id = m.object_id
	AND (o.is_first <> (o.version_key = m.lo) OR o.is_last <> (o.version_key = m.hi))`, pk, ids)
	if err != nil {
		return fmt.Errorf("postgres: update versions: %w", err)
	}
	return nil
}

// Objects implements store.Store.
func (db *DB) Objects(ctx context.Context, q store.Query) (store.Page, error) {
	if q.Limit <= 0 {
		return store.Page{}, fmt.Errorf("postgres: query limit %d, must be positive", q.Limit)
	}
	pk, err := db.collectionPK(ctx, q.CollectionID)
	if err != nil {
		return store.Page{}, err
	}
	query, a := objectsQuery(pk, q)
	if len(q.Types) > 0 || len(q.IDs) > 0 {
		// How rare a type or an id is decides which index to read: plan
		// these for their values, never from a cached generic plan (an
		// unnamed statement). The other shapes read date_added order
		// whatever the values, and keep their prepared statements
		// (BenchmarkTAXIIRead: unnamed statements cost a third of the
		// throughput there).
		a = append([]any{pgx.QueryExecModeDescribeExec}, a...)
	}
	var p store.Page
	err = db.read(ctx, func() error {
		rows, err := db.pool.Query(ctx, query, a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		p = store.Page{Objects: make([]store.Object, 0, min(q.Limit, 1024))}
		size := 0
		for rows.Next() {
			if len(p.Objects) == q.Limit || (q.MaxBytes > 0 && size >= q.MaxBytes) {
				p.More = true
				break
			}
			var o store.Object
			var added int64
			var hash []byte
			if err := rows.Scan(&o.ID, &o.Type, &o.SpecVersion, &o.Version, &o.VersionKey, &added, &hash, &o.Raw); err != nil {
				return err
			}
			if len(hash) != len(o.Hash) {
				return fmt.Errorf("object %s has a hash of %d bytes", o.ID, len(hash))
			}
			copy(o.Hash[:], hash)
			o.DateAdded = fromMicros(added)
			size += len(o.Raw)
			p.Objects = append(p.Objects, o)
		}
		rows.Close()
		return rows.Err()
	})
	if err != nil {
		return store.Page{}, fmt.Errorf("postgres: query objects: %w", err)
	}
	return p, nil
}

// objectsQuery builds the SQL for q. It asks for one row more than q.Limit,
// to learn whether there are more. Version selection is evaluated per
// object among the versions that pass the spec-version filter and are
// released to the reader: the is_first/is_last flags say it when there is
// no such filter; otherwise a correlated subquery on objects_version
// compares each row with the other versions of its object.
func objectsQuery(pk int64, q store.Query) (string, []any) {
	var a args
	var b strings.Builder
	// A partner reads only what was released to it (r), with its own
	// date_added.
	added := "o.date_added_us"
	if q.ReleasedTo != "" {
		added = "r.date_added_us"
	}
	raw := "o.raw"
	if q.NoContent {
		raw = "NULL::bytea"
	}
	b.WriteString("SELECT o.object_id, o.type, o.spec_version, o.version, o.version_key, " + added + ", o.hash, " + raw)
	var party, nowArg string
	if q.ReleasedTo != "" {
		party = a.add(q.ReleasedTo)
		b.WriteString(" FROM releases AS r JOIN objects AS o ON o.seq = r.object WHERE r.collection = " + a.add(pk) + " AND r.party = " + party)
	} else {
		b.WriteString(" FROM objects AS o WHERE o.collection = " + a.add(pk))
	}
	if !q.AddedAfter.IsZero() {
		b.WriteString(" AND " + added + " > " + a.add(micros(q.AddedAfter)))
	}
	if len(q.IDs) > 0 {
		b.WriteString(" AND o.object_id = ANY(" + a.add(q.IDs) + ")")
	}
	if len(q.Types) > 0 {
		b.WriteString(" AND o.type = ANY(" + a.add(q.Types) + ")")
	}
	var specs string
	if len(q.SpecVersions) > 0 {
		specs = a.add(q.SpecVersions)
		b.WriteString(" AND o.spec_version = ANY(" + specs + ")")
	}
	if q.ReleasedTo != "" {
		now := q.Now
		if now.IsZero() {
			now = time.Now()
		}
		nowArg = a.add(micros(now))
		b.WriteString(" AND " + releasedSQL("o", party, nowArg))
	}

	m := q.Versions
	if m.IsZero() {
		m.Last = true
	}
	if !m.All {
		var terms []string
		if len(q.SpecVersions) == 0 && q.ReleasedTo == "" {
			if m.First {
				terms = append(terms, "o.is_first")
			}
			if m.Last {
				terms = append(terms, "o.is_last")
			}
		} else {
			for _, t := range []struct {
				on       bool
				op, flag string
			}{{m.First, "<", "o.is_first"}, {m.Last, ">", "o.is_last"}} {
				if !t.on {
					continue
				}
				cond := "NOT EXISTS (SELECT 1 FROM objects AS p WHERE p.collection = o.collection AND p.object_id = o.object_id AND p.version_key " + t.op + " o.version_key"
				if specs != "" {
					cond += " AND p.spec_version = ANY(" + specs + ")"
				}
				if party != "" {
					cond += " AND " + releasedSQL("p", party, nowArg) +
						" AND EXISTS (SELECT 1 FROM releases AS pr WHERE pr.object = p.seq AND pr.party = " + party + ")"
				}
				cond += ")"
				if specs == "" {
					// The newest (oldest) of all, when released, is the
					// newest (oldest) released: spares most objects the
					// subquery.
					cond = "(" + t.flag + " OR " + cond + ")"
				}
				terms = append(terms, cond)
			}
		}
		if len(m.Keys) > 0 {
			terms = append(terms, "o.version_key = ANY("+a.add(m.Keys)+")")
		}
		if len(terms) == 1 {
			b.WriteString(" AND " + terms[0])
		} else {
			b.WriteString(" AND (" + strings.Join(terms, " OR ") + ")")
		}
	}
	b.WriteString(" ORDER BY " + added + " LIMIT " + a.add(q.Limit+1))
	return b.String(), a
}

// releasedSQL is store.Release as an SQL condition on the row alias r, for
// the party and time given as parameters.
func releasedSQL(r, party, now string) string {
	return "(" + r + ".originator = " + party + " OR ((" + r + ".release_expires_us = 0 OR " + r + ".release_expires_us > " + now + ")" +
		" AND (" + r + ".release_all OR strpos(" + r + ".release_parties, ',' || " + party + " || ',') > 0)))"
}

// DeleteObject implements store.Store.
func (db *DB) DeleteObject(ctx context.Context, collectionID, objectID string, m store.VersionMatch, specVersions []string) (int, error) {
	var n int
	err := db.tx(ctx, func(ctx context.Context, t *wtx) error {
		var err error
		n, err = t.DeleteObject(ctx, collectionID, objectID, m, specVersions)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (t *wtx) DeleteObject(ctx context.Context, collectionID, objectID string, m store.VersionMatch, specVersions []string) (int, error) {
	c, err := t.lockCollection(ctx, collectionID)
	if err != nil {
		return 0, err
	}
	pk := c.pk
	type version struct {
		key, spec, version string
		hash               []byte
	}
	rows, err := t.tx.Query(ctx, "SELECT version_key, spec_version, version, hash FROM objects WHERE collection = $1 AND object_id = $2", pk, objectID)
	if err != nil {
		return 0, fmt.Errorf("postgres: read versions of %s: %w", objectID, err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (version, error) {
		var v version
		err := r.Scan(&v.key, &v.spec, &v.version, &v.hash)
		return v, err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: read versions of %s: %w", objectID, err)
	}
	var candidates []string // keys of the versions with an allowed spec version
	for _, v := range all {
		if len(specVersions) == 0 || slices.Contains(specVersions, v.spec) {
			candidates = append(candidates, v.key)
		}
	}
	if m.IsZero() {
		m.Last = true
	}
	var doomed, rest []string
	for _, k := range candidates {
		if m.All || slices.Contains(m.Keys, k) ||
			m.First && k == slices.Min(candidates) ||
			m.Last && k == slices.Max(candidates) {
			doomed = append(doomed, k)
		}
	}
	if len(doomed) == 0 {
		return 0, fmt.Errorf("object %s: %w", objectID, store.ErrNotFound)
	}
	// The versions go, with their releases: the parties they were
	// released to, in this transaction too, get the withdrawals.
	rows, err = t.tx.Query(ctx, `
WITH gone AS (DELETE FROM objects WHERE collection = $1 AND object_id = $2 AND version_key = ANY($3) RETURNING seq, version_key),
	rel AS (DELETE FROM releases WHERE object IN (SELECT seq FROM gone) RETURNING object, party)
SELECT g.version_key, r.party FROM gone g JOIN rel r ON r.object = g.seq`, pk, objectID, doomed)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete %s: %w", objectID, err)
	}
	released := make(map[string][]string) // version key -> parties
	for rows.Next() {
		var key, party string
		if err := rows.Scan(&key, &party); err != nil {
			rows.Close()
			return 0, fmt.Errorf("postgres: delete %s: %w", objectID, err)
		}
		released[key] = append(released[key], party)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("postgres: delete %s: %w", objectID, err)
	}
	for _, v := range all {
		if !slices.Contains(doomed, v.key) {
			rest = append(rest, v.key)
			continue
		}
		if err := t.withdraw(ctx, collectionID, objectID, v.version, v.hash, released[v.key]); err != nil {
			return 0, err
		}
	}
	if len(rest) > 0 {
		if _, err := t.tx.Exec(ctx,
			"UPDATE objects SET is_first = (version_key = $1), is_last = (version_key = $2) WHERE collection = $3 AND object_id = $4",
			slices.Min(rest), slices.Max(rest), pk, objectID); err != nil {
			return 0, fmt.Errorf("postgres: update versions of %s: %w", objectID, err)
		}
	}
	return len(doomed), nil
}
