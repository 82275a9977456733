package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// CreateCollection implements store.Store. An alias may not equal another
// collection's id or alias, nor an id another's alias, so that
// Collection(idOrAlias) is never ambiguous.
func (db *DB) CreateCollection(ctx context.Context, c store.Collection) error {
	if c.ID == "" {
		return errors.New("sqlite: create collection: empty id")
	}
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error { return t.CreateCollection(ctx, c) })
}

func (t *wtx) CreateCollection(ctx context.Context, c store.Collection) error {
	{
		var n int
		err := t.tx.QueryRowContext(ctx,
			"SELECT count(*) FROM collections WHERE id IN (?1, ?2) OR alias IN (?1, ?2)",
			c.ID, nullIfEmpty(c.Alias)).Scan(&n)
		if err != nil {
			return fmt.Errorf("sqlite: create collection: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("collection %q: %w", c.ID, store.ErrExists)
		}
		_, err = t.tx.ExecContext(ctx,
			"INSERT INTO collections (id, alias, title, description, internal, created_us, members, default_marking, archived, agencies, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			c.ID, nullIfEmpty(c.Alias), c.Title, c.Description, boolInt(c.Internal), micros(c.Created), store.EncodeSet(c.Members), c.DefaultMarking, boolInt(c.Archived), store.EncodeSet(c.Agencies), c.Origin)
		if err != nil {
			return fmt.Errorf("sqlite: create collection: %w", err)
		}
		return nil
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const collectionColumns = "id, coalesce(alias, ''), title, description, internal, created_us, members, default_marking, archived, agencies, origin"

func scanCollection(r rowScanner) (store.Collection, error) {
	var c store.Collection
	var created int64
	var members, agencies string
	if err := r.Scan(&c.ID, &c.Alias, &c.Title, &c.Description, &c.Internal, &created, &members, &c.DefaultMarking, &c.Archived, &agencies, &c.Origin); err != nil {
		return store.Collection{}, err
	}
	c.Created = fromMicros(created)
	c.Members = store.DecodeSet(members)
	c.Agencies = store.DecodeSet(agencies)
	return c, nil
}

// SetArchived implements store.Store.
func (db *DB) SetArchived(ctx context.Context, idOrAlias string, archived bool) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		res, err := t.tx.ExecContext(ctx, "UPDATE collections SET archived = ? WHERE id = ? OR alias = ?",
			boolInt(archived), idOrAlias, idOrAlias)
		if err != nil {
			return fmt.Errorf("sqlite: set archived: %w", err)
		}
		return mustAffect(res, "collection "+idOrAlias)
	})
}

// SetMembers implements store.Store.
func (db *DB) SetMembers(ctx context.Context, idOrAlias string, members []string) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		var pk int64
		var id, old, origin string
		err := t.tx.QueryRowContext(ctx, "SELECT pk, id, members, origin FROM collections WHERE id = ? OR alias = ?", idOrAlias, idOrAlias).Scan(&pk, &id, &old, &origin)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("collection %s: %w", idOrAlias, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: set members: %w", err)
		}
		if origin != "" {
			// Its objects were released to this node, not by it: adding
			// a member would record them on that member's channel.
			return fmt.Errorf("collection %s: %w", idOrAlias, store.ErrReplica)
		}
		if _, err := t.tx.ExecContext(ctx, "UPDATE collections SET members = ? WHERE pk = ?", store.EncodeSet(members), pk); err != nil {
			return fmt.Errorf("sqlite: set members: %w", err)
		}
		for _, p := range store.DecodeSet(store.EncodeSet(members)) {
			if !slices.Contains(store.DecodeSet(old), p) {
				if err := t.releaseToNewMember(ctx, pk, id, p); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// releaseToNewMember releases to a party that just joined a group every
// version of the group its Release now releases to it and that was not
// released to it before, oldest first: from now on TAXII serves them to
// it, as new, so its channel must say so.
func (t *wtx) releaseToNewMember(ctx context.Context, pk int64, collectionID, party string) (err error) {
	q := "SELECT seq, object_id, version, hash, date_added_us FROM objects a WHERE collection = ? AND " + releasedSQL("a") +
		" AND a.originator <> ? AND NOT EXISTS (SELECT 1 FROM releases r WHERE r.object = a.seq AND r.party = ?) ORDER BY date_added_us"
	at := now()
	args := append([]any{pk}, releasedArgs(store.Query{ReleasedTo: party, Now: at})...)
	rows, err := t.tx.QueryContext(ctx, q, append(args, party, party)...)
	if err != nil {
		return fmt.Errorf("sqlite: versions released to %s: %w", party, err)
	}
	type version struct {
		seq int64
		e   ledger.Entry
	}
	var vs []version
	for rows.Next() {
		v := version{e: ledger.Entry{Kind: ledger.KindObject, Group: collectionID}}
		var hash []byte
		var added int64
		if err := rows.Scan(&v.seq, &v.e.ObjectID, &v.e.Version, &hash, &added); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: versions released to %s: %w", party, err)
		}
		copy(v.e.SHA256[:], hash)
		v.e.Time = fromMicros(added)
		vs = append(vs, v)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("sqlite: versions released to %s: %w", party, err)
	}
	rel := releaser{t: t, pk: pk, now: micros(at)}
	for _, v := range vs {
		if err := rel.record(ctx, v.e, v.seq, false, []string{party}); err != nil {
			return err
		}
	}
	return rel.flush(ctx)
}

// Collections implements store.Store.
func (db *DB) Collections(ctx context.Context) (_ []store.Collection, err error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+collectionColumns+" FROM collections ORDER BY created_us, pk")
	if err != nil {
		return nil, fmt.Errorf("sqlite: list collections: %w", err)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sqlite: list collections: %w", cerr)
		}
	}()
	var cs []store.Collection
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list collections: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list collections: %w", err)
	}
	return cs, nil
}

// Collection implements store.Store.
func (db *DB) Collection(ctx context.Context, idOrAlias string) (store.Collection, error) {
	c, err := scanCollection(db.read.QueryRowContext(ctx,
		"SELECT "+collectionColumns+" FROM collections WHERE id = ?1 OR alias = ?1", idOrAlias))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Collection{}, fmt.Errorf("collection %q: %w", idOrAlias, store.ErrNotFound)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("sqlite: read collection: %w", err)
	}
	return c, nil
}

// PutStatus implements store.Store.
func (db *DB) PutStatus(ctx context.Context, s store.Status) error {
	var lists [3][]byte
	for i, l := range [][]store.StatusDetail{s.Successes, s.Failures, s.Pendings} {
		var err error
		if lists[i], err = json.Marshal(l); err != nil {
			return fmt.Errorf("sqlite: put status: %w", err)
		}
	}
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		_, err := t.tx.ExecContext(ctx, `
INSERT INTO statuses (id, owner, collection_id, status, request_us, successes, failures, pendings, created_us)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	owner = excluded.owner, collection_id = excluded.collection_id, status = excluded.status,
	request_us = excluded.request_us, successes = excluded.successes, failures = excluded.failures,
	pendings = excluded.pendings, created_us = excluded.created_us`,
			s.ID, s.Owner, s.CollectionID, s.Status, micros(s.RequestTimestamp),
			string(lists[0]), string(lists[1]), string(lists[2]), micros(s.Created))
		if err != nil {
			return fmt.Errorf("sqlite: put status: %w", err)
		}
		return nil
	})
}

// Status implements store.Store.
func (db *DB) Status(ctx context.Context, id string) (store.Status, error) {
	var s store.Status
	var request, created int64
	var lists [3][]byte
	err := db.read.QueryRowContext(ctx, `
SELECT id, owner, collection_id, status, request_us, successes, failures, pendings, created_us
FROM statuses WHERE id = ?`, id).Scan(
		&s.ID, &s.Owner, &s.CollectionID, &s.Status, &request, &lists[0], &lists[1], &lists[2], &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Status{}, fmt.Errorf("status %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Status{}, fmt.Errorf("sqlite: read status: %w", err)
	}
	for i, dst := range []*[]store.StatusDetail{&s.Successes, &s.Failures, &s.Pendings} {
		if err := json.Unmarshal(lists[i], dst); err != nil {
			return store.Status{}, fmt.Errorf("sqlite: read status %s: %w", id, err)
		}
	}
	s.RequestTimestamp, s.Created = fromMicros(request), fromMicros(created)
	return s, nil
}

// PruneStatuses implements store.Store.
func (db *DB) PruneStatuses(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		res, err := t.tx.ExecContext(ctx, "DELETE FROM statuses WHERE created_us < ?", micros(cutoff))
		if err != nil {
			return fmt.Errorf("sqlite: prune statuses: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: prune statuses: %w", err)
		}
		return nil
	})
	return int(n), err
}

// CreateUser implements store.Store.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	if u.Name == "" {
		return errors.New("sqlite: create user: empty name")
	}
	roles, err := json.Marshal(u.Roles)
	if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		res, err := t.tx.ExecContext(ctx, `
INSERT INTO users (name, password_hash, roles, disabled, created_us, agency) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`,
			u.Name, u.PasswordHash, string(roles), boolInt(u.Disabled), micros(u.Created), u.Agency)
		if err != nil {
			return fmt.Errorf("sqlite: create user: %w", err)
		}
		return mustInsert(res, fmt.Sprintf("user %q", u.Name))
	})
}

// mustInsert turns an INSERT … ON CONFLICT DO NOTHING that inserted nothing
// into store.ErrExists.
func mustInsert(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: insert %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrExists)
	}
	return nil
}

const userColumns = "name, password_hash, roles, disabled, created_us, agency"

func scanUser(r rowScanner) (store.User, error) {
	var u store.User
	var roles []byte
	var created int64
	if err := r.Scan(&u.Name, &u.PasswordHash, &roles, &u.Disabled, &created, &u.Agency); err != nil {
		return store.User{}, err
	}
	if err := json.Unmarshal(roles, &u.Roles); err != nil {
		return store.User{}, fmt.Errorf("roles of %s: %w", u.Name, err)
	}
	if len(u.Roles) == 0 {
		u.Roles = nil
	}
	u.Created = fromMicros(created)
	return u, nil
}

// User implements store.Store.
func (db *DB) User(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, fmt.Errorf("user %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: read user: %w", err)
	}
	return u, nil
}

// Users implements store.Store.
func (db *DB) Users(ctx context.Context) (_ []store.User, err error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sqlite: list users: %w", cerr)
		}
	}()
	var us []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list users: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return us, nil
}

// CreateToken implements store.Store. It returns store.ErrExists when the id
// or the hash is already stored.
func (db *DB) CreateToken(ctx context.Context, tok store.Token) error {
	if tok.ID == "" {
		return errors.New("sqlite: create token: empty id")
	}
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		res, err := t.tx.ExecContext(ctx, `
INSERT INTO tokens (id, user, hash, created_us, revoked) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`,
			tok.ID, tok.User, tok.Hash[:], micros(tok.Created), boolInt(tok.Revoked))
		if err != nil {
			return fmt.Errorf("sqlite: create token: %w", err)
		}
		return mustInsert(res, fmt.Sprintf("token %q", tok.ID))
	})
}

// TokenByHash implements store.Store.
func (db *DB) TokenByHash(ctx context.Context, h [32]byte) (store.Token, error) {
	var tok store.Token
	var hash []byte
	var created int64
	err := db.read.QueryRowContext(ctx,
		"SELECT id, user, hash, created_us, revoked FROM tokens WHERE hash = ?", h[:]).Scan(
		&tok.ID, &tok.User, &hash, &created, &tok.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlite: read token: %w", err)
	}
	if len(hash) != len(tok.Hash) {
		return store.Token{}, fmt.Errorf("sqlite: token %s has a hash of %d bytes", tok.ID, len(hash))
	}
	copy(tok.Hash[:], hash)
	tok.Created = fromMicros(created)
	return tok, nil
}

// SetUserDisabled implements store.Store.
func (db *DB) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		res, err := t.tx.ExecContext(ctx, "UPDATE users SET disabled = ? WHERE name = ?", boolInt(disabled), name)
		if err != nil {
			return fmt.Errorf("sqlite: update user: %w", err)
		}
		return mustAffect(res, "user "+name)
	})
}

// RevokeToken implements store.Store.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		res, err := t.tx.ExecContext(ctx, "UPDATE tokens SET revoked = 1 WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("sqlite: revoke token: %w", err)
		}
		return mustAffect(res, "token "+id)
	})
}

// mustAffect returns ErrNotFound, naming what, when res changed no row.
func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// Tokens implements store.Store.
func (db *DB) Tokens(ctx context.Context, user string) (_ []store.Token, err error) {
	rows, err := db.read.QueryContext(ctx, `
SELECT id, user, hash, created_us, revoked FROM tokens
WHERE ? = '' OR user = ? ORDER BY created_us, id`, user, user)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sqlite: list tokens: %w", cerr)
		}
	}()
	var out []store.Token
	for rows.Next() {
		var tok store.Token
		var hash []byte
		var created int64
		if err := rows.Scan(&tok.ID, &tok.User, &hash, &created, &tok.Revoked); err != nil {
			return nil, fmt.Errorf("sqlite: list tokens: %w", err)
		}
		if len(hash) != len(tok.Hash) {
			return nil, fmt.Errorf("sqlite: token %s has a hash of %d bytes", tok.ID, len(hash))
		}
		copy(tok.Hash[:], hash)
		tok.Created = fromMicros(created)
		out = append(out, tok)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	return out, nil
}

// RecordDenials implements store.Store.
func (db *DB) RecordDenials(ctx context.Context, ds []store.Denial) error {
	if len(ds) == 0 {
		return nil
	}
	return db.w.do(ctx, func(ctx context.Context, t *wtx) error {
		for _, d := range ds {
			if _, err := t.tx.ExecContext(ctx, "INSERT INTO denials (at_us, principal, action, target, reason) VALUES (?, ?, ?, ?, ?)",
				micros(d.Time), d.Principal, d.Action, d.Target, d.Reason); err != nil {
				return fmt.Errorf("sqlite: record denial: %w", err)
			}
		}
		return nil
	})
}

// Denials implements store.Store.
func (db *DB) Denials(ctx context.Context, limit int) (_ []store.Denial, err error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: denials limit %d, must be positive", limit)
	}
	rows, err := db.read.QueryContext(ctx,
		"SELECT at_us, principal, action, target, reason FROM denials ORDER BY seq DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list denials: %w", err)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sqlite: list denials: %w", cerr)
		}
	}()
	var out []store.Denial
	for rows.Next() {
		var d store.Denial
		var at int64
		if err := rows.Scan(&at, &d.Principal, &d.Action, &d.Target, &d.Reason); err != nil {
			return nil, fmt.Errorf("sqlite: list denials: %w", err)
		}
		d.Time = fromMicros(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list denials: %w", err)
	}
	return out, nil
}
