package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
)

// AddObjects implements store.Store.
func (db *DB) AddObjects(ctx context.Context, collectionID string, objs []store.NewObject) ([]store.AddResult, error) {
	for i := range objs {
		if err := objs[i].Check(); err != nil {
			return nil, fmt.Errorf("sqlite: add object %d: %w", i, err)
		}
	}
	var results []store.AddResult
	err := db.w.do(ctx, func(ctx context.Context, t *wtx) error {
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

// collectionForWrite reads the collection a write goes to;
// store.ErrNotFound when there is none.
func (t *wtx) collectionForWrite(ctx context.Context, id string) (writeCollection, error) {
	var c writeCollection
	var members string
	err := t.stmt(ctx, stCollectionForWrite).QueryRowContext(ctx, id).Scan(&c.pk, &c.last, &members, &c.origin)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("collection %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: read collection: %w", err)
	}
	c.members = store.DecodeSet(members)
	return c, nil
}

func (t *wtx) AddObjects(ctx context.Context, collectionID string, objs []store.NewObject, results []store.AddResult) error {
	c, err := t.collectionForWrite(ctx, collectionID)
	if err != nil {
		return err
	}
	pk, last := c.pk, c.last
	start := last
	now := now()
	nowUS := micros(now)
	rel := releaser{t: t, pk: pk, now: nowUS}
	for i := range objs {
		o := &objs[i]
		r := &results[i]
		r.ID, r.Version = o.ID, o.Version
		if o.Type == "marking-definition" && c.origin == "" {
			if err := t.defineMarking(ctx, o.ID, o.Hash); err != nil {
				return err
			}
		}
		added := max(nowUS, last+1)
		version, key := o.Version, o.VersionKey
		if version == "" {
			// Versionless: the identical object is a duplicate whatever
			// version it was given; otherwise its version is the time of the add
			// (store.NewObject.Version).
			var addedUS int64
			err := t.stmt(ctx, stVersionlessDuplicate).QueryRowContext(ctx, pk, o.ID, o.Hash[:]).Scan(&r.Version, &addedUS)
			if err == nil {
				r.Outcome, r.DateAdded = store.Duplicate, fromMicros(addedUS)
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite: look up %s: %w", o.ID, err)
			}
			d, err := t.versionlessVersion(ctx, pk, o.ID, now)
			if err != nil {
				return err
			}
			version, key = d.Format(store.VersionLayout), stix.VersionKey(d)
			r.Version = version
		}
		res, err := t.stmt(ctx, stInsertObject).ExecContext(ctx,
			pk, added, o.ID, o.Type, o.SpecVersion, version, key,
			pk, o.ID, key, pk, o.ID, key,
			o.Hash[:], o.Raw,
			o.Release.Originator, boolInt(o.Release.AllMembers), store.EncodeSet(o.Release.Parties), store.ExpiresMicros(o.Release.Expires))
		if err != nil {
			return fmt.Errorf("sqlite: insert %s: %w", o.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlite: insert %s: %w", o.ID, err)
		}
		if n == 1 {
			last = added
			r.Outcome, r.DateAdded = store.Added, fromMicros(added)
			seq, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("sqlite: insert %s: %w", o.ID, err)
			}
			e := ledger.Entry{Kind: ledger.KindObject, ObjectID: o.ID, Version: version, SHA256: o.Hash, Group: collectionID, Time: r.DateAdded}
			var channels []string
			if c.origin == "" {
				channels = o.Release.Recipients(c.members, now)
			}
			if err := rel.record(ctx, e, seq, true, channels); err != nil {
				return err
			}
			continue
		}
		// That version is stored already: the same or a conflict.
		var hash []byte
		var addedUS int64
		if err := t.stmt(ctx, stVersion).QueryRowContext(ctx, pk, o.ID, key).Scan(&hash, &r.Version, &addedUS); err != nil {
			return fmt.Errorf("sqlite: look up %s: %w", o.ID, err)
		}
		if string(hash) == string(o.Hash[:]) {
			r.Outcome, r.DateAdded = store.Duplicate, fromMicros(addedUS)
		} else {
			r.Outcome, r.Version = store.Conflict, version
		}
	}
	if last != start {
		if _, err := t.stmt(ctx, stSetLastAdded).ExecContext(ctx, last, pk); err != nil {
			return fmt.Errorf("sqlite: update collection: %w", err)
		}
	}
	return rel.flush(ctx)
}

// defineMarking records the content of a marking definition of the
// node's groups, or refuses it when its id is defined with another
// (store.Store.AddObjects).
func (t *wtx) defineMarking(ctx context.Context, id string, hash [32]byte) error {
	var held []byte
	err := t.stmt(ctx, stDefineMarking).QueryRowContext(ctx, id, hash[:]).Scan(&held)
	if err != nil {
		return fmt.Errorf("sqlite: define marking %s: %w", id, err)
	}
	if string(held) != string(hash[:]) {
		return fmt.Errorf("marking definition %s is already defined with other content: %w", id, store.ErrConflict)
	}
	return nil
}

// versionlessVersion returns the version of a new version of object id
// that has neither modified nor created: the time of the write, or a
// microsecond after the newest version held of that object
// (store.NewObject.Version).
func (t *wtx) versionlessVersion(ctx context.Context, pk int64, id string, now time.Time) (time.Time, error) {
	var newest string
	err := t.stmt(ctx, stNewestVersion).QueryRowContext(ctx, pk, id).Scan(&newest)
	if errors.Is(err, sql.ErrNoRows) {
		return now.Truncate(time.Microsecond), nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: look up %s: %w", id, err)
	}
	return store.VersionlessVersion(now, newest), nil
}

// releaser releases the versions of one write to partners: it gives each
// partner its own date_added in the collection (store.Store.AddObjects),
// records the release, and appends the version's entry to the internal
// log and the partners' channels.
type releaser struct {
	t    *wtx
	pk   int64
	now  int64            // the write's time, µs
	last map[string]int64 // each party's last date_added, once read
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
		if err := r.t.place(ctx, store.InternalLog, rec); err != nil {
			return err
		}
		shared = rec
	}
	for _, p := range parties {
		d, err := r.next(ctx, p)
		if err != nil {
			return err
		}
		if _, err := r.t.stmt(ctx, stInsertRelease).ExecContext(ctx, r.pk, p, d, seq); err != nil {
			return fmt.Errorf("sqlite: release %s to %s: %w", e.ObjectID, p, err)
		}
		rec := shared
		if rec < 0 || d != micros(e.Time) {
			// The party's entry tells its own date_added.
			pe := e
			pe.Time = fromMicros(d)
			if rec, err = r.t.newRecord(pe); err != nil {
				return err
			}
		}
		if err := r.t.place(ctx, p, rec); err != nil {
			return err
		}
	}
	return nil
}

// next returns the next date_added of party.
func (r *releaser) next(ctx context.Context, party string) (int64, error) {
	last, ok := r.last[party]
	if !ok {
		err := r.t.stmt(ctx, stReleaseClock).QueryRowContext(ctx, r.pk, party).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("sqlite: read release clock: %w", err)
		}
		if r.last == nil {
			r.last = make(map[string]int64)
		}
	}
	d := max(r.now, last+1)
	r.last[party] = d
	return d, nil
}

// flush stores the parties' clocks.
func (r *releaser) flush(ctx context.Context) error {
	for p, last := range r.last {
		if _, err := r.t.stmt(ctx, stSetReleaseClock).ExecContext(ctx, r.pk, p, last); err != nil {
			return fmt.Errorf("sqlite: write release clock: %w", err)
		}
	}
	return nil
}

// Objects implements store.Store.
func (db *DB) Objects(ctx context.Context, q store.Query) (_ store.Page, err error) {
	if q.Limit <= 0 {
		return store.Page{}, fmt.Errorf("sqlite: query limit %d, must be positive", q.Limit)
	}
	pk, err := db.collectionPK(ctx, q.CollectionID)
	if err != nil {
		return store.Page{}, err
	}
	query, args := objectsQuery(pk, q)
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: query objects: %w", err)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sqlite: query objects: %w", cerr)
		}
	}()
	var p store.Page
	p.Objects = make([]store.Object, 0, min(q.Limit, 1024))
	size := 0
	for rows.Next() {
		if len(p.Objects) == q.Limit || (q.MaxBytes > 0 && size >= q.MaxBytes) {
			p.More = true
			break
		}
		var o store.Object
		var added int64
		var hash sql.RawBytes
		if err := rows.Scan(&o.ID, &o.Type, &o.SpecVersion, &o.Version, &o.VersionKey, &added, &hash, &o.Raw); err != nil {
			return store.Page{}, fmt.Errorf("sqlite: query objects: %w", err)
		}
		if len(hash) != len(o.Hash) {
			return store.Page{}, fmt.Errorf("sqlite: object %s has a hash of %d bytes", o.ID, len(hash))
		}
		copy(o.Hash[:], hash)
		o.DateAdded = fromMicros(added)
		size += len(o.Raw)
		p.Objects = append(p.Objects, o)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("sqlite: query objects: %w", err)
	}
	return p, nil
}

// objectsQuery builds the SQL for q. It asks for one row more than q.Limit,
// to learn whether there are more.
//
// Version selection is evaluated per object among the versions that pass the
// spec-version filter. Without that filter, the is_first/is_last flags say it
// (and the partial index objects_last serves the default, last); with it, a
// correlated subquery on objects_version compares each row with the other
// versions of its object.
//
// The plan must not depend on how the collection's rows are spread, which
// SQLite (without statistics) cannot know, so two shapes are forced:
//   - with ids, the objects_version index finds their few versions, which
//     are then sorted, instead of a walk of the collection in date_added
//     order that keeps the matching ones;
//   - with several types, one arm per type reads objects_type in date_added
//     order, stops after a page, and the arms are merged: a page costs at
//     most a page per type, however rare or common each type is.
func objectsQuery(pk int64, q store.Query) (string, []any) {
	args := make([]any, 0, 8+len(q.IDs)+len(q.Types)+len(q.SpecVersions)+len(q.Versions.Keys))
	types := slices.Clone(q.Types)
	slices.Sort(types)
	types = slices.Compact(types)
	added := addedColumn(q)
	if len(q.IDs) > 0 || len(types) < 2 || q.ReleasedTo != "" {
		// (A partner's page walks its releases in its date_added order
		// and keeps the types asked for.)
		var b strings.Builder
		args = objectsSelect(&b, objectColumns(q), pk, q, types, args)
		b.WriteString(" ORDER BY " + added + " LIMIT ?")
		return b.String(), append(args, q.Limit+1)
	}
	// The arms carry only (seq, date_added_us): sorting and merging rows
	// with their content would copy every candidate's raw bytes; the
	// page's rows are fetched by seq afterwards, in the merged order.
	var b strings.Builder
	b.WriteString(objectColumns(q) + " FROM (")
	for i, t := range types {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT * FROM (")
		args = objectsSelect(&b, "SELECT o.seq, o.date_added_us", pk, q, []string{t}, args)
		b.WriteString(" ORDER BY o.date_added_us LIMIT ?)")
		args = append(args, q.Limit+1)
	}
	b.WriteString(" ORDER BY date_added_us LIMIT ?) AS k CROSS JOIN objects AS o ON o.seq = k.seq ORDER BY k.date_added_us")
	return b.String(), append(args, q.Limit+1)
}

// addedColumn is the date_added that q reads: the partner's own when q
// reads for a partner (r is its release row), else the collection's.
func addedColumn(q store.Query) string {
	if q.ReleasedTo != "" {
		return "r.date_added_us"
	}
	return "o.date_added_us"
}

// objectColumns is the SELECT list of an object query.
func objectColumns(q store.Query) string {
	raw := "o.raw"
	if q.NoContent {
		raw = "NULL"
	}
	return "SELECT o.object_id, o.type, o.spec_version, o.version, o.version_key, " + addedColumn(q) + ", o.hash, " + raw
}

// objectsSelect writes "SELECT cols FROM objects AS o WHERE …" for q, with
// types in place of q.Types, to b. A partner's query joins its releases
// (r): it reads only what was released to it.
func objectsSelect(b *strings.Builder, cols string, pk int64, q store.Query, types []string, args []any) []any {
	b.WriteString(cols)
	switch {
	case q.ReleasedTo != "" && len(q.IDs) > 0:
		b.WriteString(" FROM objects AS o INDEXED BY objects_version CROSS JOIN releases AS r ON r.object = o.seq AND r.party = ? WHERE o.collection = ?")
		args = append(args, q.ReleasedTo, pk)
	case q.ReleasedTo != "":
		b.WriteString(" FROM releases AS r CROSS JOIN objects AS o ON o.seq = r.object WHERE r.collection = ? AND r.party = ?")
		args = append(args, pk, q.ReleasedTo)
	case len(q.IDs) > 0:
		b.WriteString(" FROM objects AS o INDEXED BY objects_version WHERE o.collection = ?")
		args = append(args, pk)
	default:
		b.WriteString(" FROM objects AS o WHERE o.collection = ?")
		args = append(args, pk)
	}
	if !q.AddedAfter.IsZero() {
		b.WriteString(" AND " + addedColumn(q) + " > ?")
		args = append(args, micros(q.AddedAfter))
	}
	args = in(b, "o.object_id", q.IDs, args)
	args = in(b, "o.type", types, args)
	args = in(b, "o.spec_version", q.SpecVersions, args)
	if q.ReleasedTo != "" {
		// store.Release, evaluated in the query so that Limit counts only
		// released versions (expiry). Membership was checked by the
		// caller.
		b.WriteString(" AND " + releasedSQL("o"))
		args = append(args, releasedArgs(q)...)
	}

	m := q.Versions
	if m.IsZero() {
		m.Last = true
	}
	if m.All {
		return args
	}
	var terms []string
	if len(q.SpecVersions) == 0 && q.ReleasedTo == "" {
		if m.First {
			terms = append(terms, "o.is_first = 1")
		}
		if m.Last {
			terms = append(terms, "o.is_last = 1")
		}
	} else {
		// The newest (oldest) version among those of allowed spec
		// versions, and released to the reader, is the one with no such
		// version after (before) it. A reader's newest version is thus the
		// newest released to it: a version withheld from it looks absent.
		for _, t := range []struct {
			on   bool
			op   string
			flag string
		}{{m.First, "<", "o.is_first = 1"}, {m.Last, ">", "o.is_last = 1"}} {
			if !t.on {
				continue
			}
			cond := "NOT EXISTS (SELECT 1 FROM objects AS p WHERE p.collection = o.collection AND p.object_id = o.object_id AND p.version_key " + t.op + " o.version_key"
			if len(q.SpecVersions) > 0 {
				cond += " AND p.spec_version IN (" + strings.Repeat("?, ", len(q.SpecVersions)-1) + "?)"
				for _, s := range q.SpecVersions {
					args = append(args, s)
				}
			}
			if q.ReleasedTo != "" {
				cond += " AND " + releasedSQL("p") + " AND EXISTS (SELECT 1 FROM releases AS pr WHERE pr.object = p.seq AND pr.party = ?)"
				args = append(args, releasedArgs(q)...)
				args = append(args, q.ReleasedTo)
			}
			cond += ")"
			if len(q.SpecVersions) == 0 {
				// A released version that is the newest (oldest) of all
				// is the newest (oldest) released one: most objects have
				// one version, and this spares them the subquery
				// (BenchmarkTAXIIRead: partner reads 13% slower without).
				cond = "(" + t.flag + " OR " + cond + ")"
			}
			terms = append(terms, cond)
		}
	}
	if len(m.Keys) > 0 {
		var kb strings.Builder
		args = in(&kb, "o.version_key", m.Keys, args)
		terms = append(terms, strings.TrimPrefix(kb.String(), " AND "))
	}
	// A single term stays bare so that the planner can match the partial
	// index objects_last (WHERE is_last = 1).
	if len(terms) == 1 {
		b.WriteString(" AND " + terms[0])
	} else {
		b.WriteString(" AND (" + strings.Join(terms, " OR ") + ")")
	}
	return args
}

// releasedSQL is store.Release as an SQL condition on the row alias a; its
// arguments come from releasedArgs.
func releasedSQL(a string) string {
	return "(" + a + ".originator = ? OR ((" + a + ".release_expires_us = 0 OR " + a + ".release_expires_us > ?)" +
		" AND (" + a + ".release_all = 1 OR instr(" + a + ".release_parties, ?) > 0)))"
}

func releasedArgs(q store.Query) []any {
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	return []any{q.ReleasedTo, micros(now), "," + q.ReleasedTo + ","}
}

// in appends " AND col IN (?, …)" for vals to b, and vals to args.
func in(b *strings.Builder, col string, vals []string, args []any) []any {
	if len(vals) == 0 {
		return args
	}
	b.WriteString(" AND " + col + " IN (")
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?")
		args = append(args, v)
	}
	b.WriteString(")")
	return args
}

// DeleteObject implements store.Store.
func (db *DB) DeleteObject(ctx context.Context, collectionID, objectID string, m store.VersionMatch, specVersions []string) (int, error) {
	var n int
	err := db.w.do(ctx, func(ctx context.Context, t *wtx) error {
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
	c, err := t.collectionForWrite(ctx, collectionID)
	if err != nil {
		return 0, err
	}
	pk := c.pk
	type version struct {
		key, spec, version string
		hash               []byte
	}
	var all []version
	if err := func() (err error) {
		rows, err := t.tx.QueryContext(ctx, "SELECT version_key, spec_version, version, hash FROM objects WHERE collection = ? AND object_id = ?", pk, objectID)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, rows.Close()) }()
		for rows.Next() {
			var v version
			if err := rows.Scan(&v.key, &v.spec, &v.version, &v.hash); err != nil {
				return err
			}
			all = append(all, v)
		}
		return rows.Err()
	}(); err != nil {
		return 0, fmt.Errorf("sqlite: read versions of %s: %w", objectID, err)
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
	var doomed []string
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
	for _, v := range all {
		if !slices.Contains(doomed, v.key) {
			continue
		}
		// The parties it was released to, in this transaction too.
		var released []string
		if err := func() (err error) {
			rows, err := t.tx.QueryContext(ctx, "DELETE FROM releases WHERE object = (SELECT seq FROM objects WHERE collection = ? AND object_id = ? AND version_key = ?) RETURNING party", pk, objectID, v.key)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, rows.Close()) }()
			for rows.Next() {
				var p string
				if err := rows.Scan(&p); err != nil {
					return err
				}
				released = append(released, p)
			}
			return rows.Err()
		}(); err != nil {
			return 0, fmt.Errorf("sqlite: delete %s: %w", objectID, err)
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM objects WHERE collection = ? AND object_id = ? AND version_key = ?", pk, objectID, v.key); err != nil {
			return 0, fmt.Errorf("sqlite: delete %s: %w", objectID, err)
		}
		if err := t.withdraw(ctx, collectionID, objectID, v.version, v.hash, released); err != nil {
			return 0, err
		}
	}
	var rest []string
	for _, v := range all {
		if !slices.Contains(doomed, v.key) {
			rest = append(rest, v.key)
		}
	}
	if len(rest) > 0 {
		if _, err := t.tx.ExecContext(ctx,
			"UPDATE objects SET is_first = (version_key = ?), is_last = (version_key = ?) WHERE collection = ? AND object_id = ?",
			slices.Min(rest), slices.Max(rest), pk, objectID); err != nil {
			return 0, fmt.Errorf("sqlite: update versions of %s: %w", objectID, err)
		}
	}
	return len(doomed), nil
}
