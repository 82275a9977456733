package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// CreateCollection implements store.Store. An alias may not equal another
// collection's id or alias, nor an id another's alias, so that
// Collection(idOrAlias) is never ambiguous.
func (db *DB) CreateCollection(ctx context.Context, c store.Collection) error {
	if c.ID == "" {
		return errors.New("postgres: create collection: empty id")
	}
	return db.tx(ctx, func(ctx context.Context, t *wtx) error { return t.CreateCollection(ctx, c) })
}

// collectionsLock serialises the creation of collections, so that the
// check of ids against aliases holds across processes.
const collectionsLock int64 = 0x7075656e74650003

func (t *wtx) CreateCollection(ctx context.Context, c store.Collection) error {
	if _, err := t.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", collectionsLock); err != nil {
		return fmt.Errorf("postgres: create collection: %w", err)
	}
	var n int
	err := t.tx.QueryRow(ctx, "SELECT count(*) FROM collections WHERE id IN ($1, $2) OR alias IN ($1, $2)", c.ID, c.Alias).Scan(&n)
	if err != nil {
		return fmt.Errorf("postgres: create collection: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("collection %q: %w", c.ID, store.ErrExists)
	}
	_, err = t.tx.Exec(ctx, `
INSERT INTO collections (id, alias, title, description, internal, created_us, members, default_marking, archived, agencies, origin)
VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.Alias, c.Title, c.Description, c.Internal, micros(c.Created), store.EncodeSet(c.Members), c.DefaultMarking, c.Archived, store.EncodeSet(c.Agencies), c.Origin)
	if err != nil {
		return fmt.Errorf("postgres: create collection: %w", err)
	}
	return nil
}

const collectionColumns = "id, coalesce(alias, ''), title, description, internal, created_us, members, default_marking, archived, agencies, origin"

func scanCollection(r pgx.Row) (store.Collection, error) {
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
	return db.tx(ctx, func(ctx context.Context, t *wtx) error {
		tag, err := t.tx.Exec(ctx, "UPDATE collections SET archived = $1 WHERE id = $2 OR alias = $2", archived, idOrAlias)
		if err != nil {
			return fmt.Errorf("postgres: set archived: %w", err)
		}
		return mustAffect(tag, "collection "+idOrAlias)
	})
}

// SetMembers implements store.Store.
func (db *DB) SetMembers(ctx context.Context, idOrAlias string, members []string) error {
	return db.tx(ctx, func(ctx context.Context, t *wtx) error {
		var pk int64
		var id, old, origin string
		err := t.tx.QueryRow(ctx, "SELECT pk, id, members, origin FROM collections WHERE id = $1 OR alias = $1 FOR UPDATE", idOrAlias).Scan(&pk, &id, &old, &origin)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("collection %s: %w", idOrAlias, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: set members: %w", err)
		}
		if origin != "" {
			return fmt.Errorf("collection %s: %w", idOrAlias, store.ErrReplica)
		}
		set := store.EncodeSet(members)
		if _, err := t.tx.Exec(ctx, "UPDATE collections SET members = $1 WHERE pk = $2", set, pk); err != nil {
			return fmt.Errorf("postgres: set members: %w", err)
		}
		for _, p := range store.DecodeSet(set) {
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
// it, as new, so its channel must say so. The collection's row is locked:
// no version is added meanwhile.
func (t *wtx) releaseToNewMember(ctx context.Context, pk int64, collectionID, party string) error {
	now := micros(t.db.now())
	rows, err := t.tx.Query(ctx, "SELECT seq, object_id, version, hash, date_added_us FROM objects a WHERE collection = $1 AND "+
		releasedSQL("a", "$2", "$3")+" AND a.originator <> $2 AND NOT EXISTS (SELECT 1 FROM releases r WHERE r.object = a.seq AND r.party = $2)"+
		" ORDER BY date_added_us", pk, party, now)
	if err != nil {
		return fmt.Errorf("postgres: versions released to %s: %w", party, err)
	}
	type version struct {
		seq int64
		e   ledger.Entry
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (version, error) {
		v := version{e: ledger.Entry{Kind: ledger.KindObject, Group: collectionID}}
		var hash []byte
		var added int64
		err := r.Scan(&v.seq, &v.e.ObjectID, &v.e.Version, &hash, &added)
		copy(v.e.SHA256[:], hash)
		v.e.Time = fromMicros(added)
		return v, err
	})
	if err != nil {
		return fmt.Errorf("postgres: versions released to %s: %w", party, err)
	}
	rel := releaser{t: t, pk: pk, now: now}
	for _, v := range vs {
		if err := rel.record(ctx, v.e, v.seq, false, []string{party}); err != nil {
			return err
		}
	}
	return rel.flush(ctx)
}

// Collections implements store.Store.
func (db *DB) Collections(ctx context.Context) ([]store.Collection, error) {
	cs, err := collect(ctx, db, func(r pgx.CollectableRow) (store.Collection, error) { return scanCollection(r) }, "SELECT "+collectionColumns+" FROM collections ORDER BY created_us, pk")
	if err != nil {
		return nil, fmt.Errorf("postgres: list collections: %w", err)
	}
	return cs, nil
}

// Collection implements store.Store.
func (db *DB) Collection(ctx context.Context, idOrAlias string) (store.Collection, error) {
	c, err := scanCollection(db.queryRow(ctx, "SELECT "+collectionColumns+" FROM collections WHERE id = $1 OR alias = $1", idOrAlias))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Collection{}, fmt.Errorf("collection %q: %w", idOrAlias, store.ErrNotFound)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("postgres: read collection: %w", err)
	}
	return c, nil
}

// PutStatus implements store.Store.
func (db *DB) PutStatus(ctx context.Context, s store.Status) error {
	var lists [3][]byte
	for i, l := range [][]store.StatusDetail{s.Successes, s.Failures, s.Pendings} {
		var err error
		if lists[i], err = json.Marshal(l); err != nil {
			return fmt.Errorf("postgres: put status: %w", err)
		}
	}
	return db.exec(ctx, "put status", `
INSERT INTO statuses (id, owner, collection_id, status, request_us, successes, failures, pendings, created_us)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO UPDATE SET
	owner = excluded.owner, collection_id = excluded.collection_id, status = excluded.status,
	request_us = excluded.request_us, successes = excluded.successes, failures = excluded.failures,
	pendings = excluded.pendings, created_us = excluded.created_us`,
		s.ID, s.Owner, s.CollectionID, s.Status, micros(s.RequestTimestamp),
		string(lists[0]), string(lists[1]), string(lists[2]), micros(s.Created))
}

// Status implements store.Store.
func (db *DB) Status(ctx context.Context, id string) (store.Status, error) {
	var s store.Status
	var request, created int64
	var lists [3]string
	err := db.queryRow(ctx, `
SELECT id, owner, collection_id, status, request_us, successes, failures, pendings, created_us
FROM statuses WHERE id = $1`, id).Scan(
		&s.ID, &s.Owner, &s.CollectionID, &s.Status, &request, &lists[0], &lists[1], &lists[2], &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Status{}, fmt.Errorf("status %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Status{}, fmt.Errorf("postgres: read status: %w", err)
	}
	for i, dst := range []*[]store.StatusDetail{&s.Successes, &s.Failures, &s.Pendings} {
		if err := json.Unmarshal([]byte(lists[i]), dst); err != nil {
			return store.Status{}, fmt.Errorf("postgres: read status %s: %w", id, err)
		}
	}
	s.RequestTimestamp, s.Created = fromMicros(request), fromMicros(created)
	return s, nil
}

// PruneStatuses implements store.Store.
func (db *DB) PruneStatuses(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := db.tx(ctx, func(ctx context.Context, t *wtx) error {
		tag, err := t.tx.Exec(ctx, "DELETE FROM statuses WHERE created_us < $1", micros(cutoff))
		if err != nil {
			return fmt.Errorf("postgres: prune statuses: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return int(n), err
}

// CreateUser implements store.Store.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	if u.Name == "" {
		return errors.New("postgres: create user: empty name")
	}
	roles, err := json.Marshal(u.Roles)
	if err != nil {
		return fmt.Errorf("postgres: create user: %w", err)
	}
	return db.tx(ctx, func(ctx context.Context, t *wtx) error {
		tag, err := t.tx.Exec(ctx, `
INSERT INTO users (name, password_hash, roles, disabled, created_us, agency) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING`,
			u.Name, u.PasswordHash, string(roles), u.Disabled, micros(u.Created), u.Agency)
		if err != nil {
			return fmt.Errorf("postgres: create user: %w", err)
		}
		return mustInsert(tag, fmt.Sprintf("user %q", u.Name))
	})
}

const userColumns = "name, password_hash, roles, disabled, created_us, agency"

func scanUser(r pgx.Row) (store.User, error) {
	var u store.User
	var roles string
	var created int64
	if err := r.Scan(&u.Name, &u.PasswordHash, &roles, &u.Disabled, &created, &u.Agency); err != nil {
		return store.User{}, err
	}
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
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
	u, err := scanUser(db.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, fmt.Errorf("user %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: read user: %w", err)
	}
	return u, nil
}

// Users implements store.Store.
func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	us, err := collect(ctx, db, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) }, "SELECT "+userColumns+" FROM users ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return us, nil
}

// SetUserDisabled implements store.Store.
func (db *DB) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	return db.tx(ctx, func(ctx context.Context, t *wtx) error {
		tag, err := t.tx.Exec(ctx, "UPDATE users SET disabled = $1 WHERE name = $2", disabled, name)
		if err != nil {
			return fmt.Errorf("postgres: update user: %w", err)
		}
		return mustAffect(tag, "user "+name)
	})
}

// CreateToken implements store.Store. It returns store.ErrExists when the
// id or the hash is already stored.
func (db *DB) CreateToken(ctx context.Context, tok store.Token) error {
	if tok.ID == "" {
		return errors.New("postgres: create token: empty id")
	}
	return db.tx(ctx, func(ctx context.Context, t *wtx) error {
		tag, err := t.tx.Exec(ctx, `
INSERT INTO tokens (id, user_name, hash, created_us, revoked) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING`,
			tok.ID, tok.User, tok.Hash[:], micros(tok.Created), tok.Revoked)
		if err != nil {
			return fmt.Errorf("postgres: create token: %w", err)
		}
		return mustInsert(tag, fmt.Sprintf("token %q", tok.ID))
	})
}

func scanToken(r pgx.Row) (store.Token, error) {
	var tok store.Token
	var hash []byte
	var created int64
	if err := r.Scan(&tok.ID, &tok.User, &hash, &created, &tok.Revoked); err != nil {
		return store.Token{}, err
	}
	if len(hash) != len(tok.Hash) {
		return store.Token{}, fmt.Errorf("token %s has a hash of %d bytes", tok.ID, len(hash))
	}
	copy(tok.Hash[:], hash)
	tok.Created = fromMicros(created)
	return tok, nil
}

// TokenByHash implements store.Store.
func (db *DB) TokenByHash(ctx context.Context, h [32]byte) (store.Token, error) {
	tok, err := scanToken(db.queryRow(ctx, "SELECT id, user_name, hash, created_us, revoked FROM tokens WHERE hash = $1", h[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("postgres: read token: %w", err)
	}
	return tok, nil
}

// RevokeToken implements store.Store.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	return db.tx(ctx, func(ctx context.Context, t *wtx) error {
		tag, err := t.tx.Exec(ctx, "UPDATE tokens SET revoked = true WHERE id = $1", id)
		if err != nil {
			return fmt.Errorf("postgres: revoke token: %w", err)
		}
		return mustAffect(tag, "token "+id)
	})
}

// Tokens implements store.Store.
func (db *DB) Tokens(ctx context.Context, user string) ([]store.Token, error) {
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (store.Token, error) { return scanToken(r) }, `
SELECT id, user_name, hash, created_us, revoked FROM tokens
WHERE $1 = '' OR user_name = $1 ORDER BY created_us, id`, user)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", err)
	}
	return out, nil
}

// RecordDenials implements store.Store.
func (db *DB) RecordDenials(ctx context.Context, ds []store.Denial) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([][]any, len(ds))
	for i, d := range ds {
		rows[i] = []any{micros(d.Time), d.Principal, d.Action, d.Target, d.Reason}
	}
	return db.tx(ctx, func(ctx context.Context, t *wtx) error {
		_, err := t.tx.CopyFrom(ctx, pgx.Identifier{"denials"}, []string{"at_us", "principal", "action", "target", "reason"}, pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("postgres: record denials: %w", err)
		}
		return nil
	})
}

// Denials implements store.Store.
func (db *DB) Denials(ctx context.Context, limit int) ([]store.Denial, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: denials limit %d, must be positive", limit)
	}
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (store.Denial, error) {
		var d store.Denial
		var at int64
		err := r.Scan(&at, &d.Principal, &d.Action, &d.Target, &d.Reason)
		d.Time = fromMicros(at)
		return d, err
	}, "SELECT at_us, principal, action, target, reason FROM denials ORDER BY seq DESC LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list denials: %w", err)
	}
	return out, nil
}
