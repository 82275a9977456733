package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Check reports a pull that no store may apply: a replica that is not a
// valid NewObject.
func (p *Pull) Check() error {
	for _, c := range p.Collections {
		for i := range c.Objects {
			if err := c.Objects[i].Check(); err != nil {
				return fmt.Errorf("replica %d of collection %s: %w", i, c.ID, err)
			}
		}
	}
	return nil
}

// Continues reports whether p continues the stored inbound state (size
// and root): ErrConflict when another pull moved it first, an error when
// p would move it back.
func (p *Pull) Continues(size int64, root []byte) error {
	if size != p.PrevSize || (size > 0 && string(root) != string(p.PrevRoot[:])) {
		return fmt.Errorf("pull from %s continues size %d, but the verified state is size %d: %w", p.Party, p.PrevSize, size, ErrConflict)
	}
	if p.State.Size < size {
		return fmt.Errorf("pull from %s would move the verified size back from %d to %d", p.Party, size, p.State.Size)
	}
	return nil
}

// ReplicaTx is what ApplyReplicas needs of a driver's write transaction.
type ReplicaTx interface {
	// CollectionOrigin returns the Origin of the collection id; ok is
	// false when there is no such collection.
	CollectionOrigin(ctx context.Context, id string) (origin string, ok bool, err error)
	CreateCollection(ctx context.Context, c Collection) error
	// AddObjects and DeleteObject behave as Store's, inside the
	// transaction; AddObjects fills results.
	AddObjects(ctx context.Context, collectionID string, objs []NewObject, results []AddResult) error
	DeleteObject(ctx context.Context, collectionID, objectID string, m VersionMatch, specVersions []string) (int, error)
}

// ApplyReplicas stores the replicas and withdrawals of a pull from party
// in t, creating the replica collections it lacks (created at now), and
// returns the replicas that conflict with a version already held. It is
// the part of ApplyPull that does not depend on the database.
func ApplyReplicas(ctx context.Context, t ReplicaTx, party string, now time.Time, cs []ReplicaCollection) ([]AddResult, error) {
	var conflicts []AddResult
	for _, c := range cs {
		origin, ok, err := t.CollectionOrigin(ctx, c.ID)
		switch {
		case err != nil:
			return nil, err
		case !ok:
			if err := t.CreateCollection(ctx, Collection{ID: c.ID, Title: c.Title, Created: now, Origin: party}); err != nil {
				return nil, err
			}
		case origin != party:
			return nil, fmt.Errorf("collection %s is not a replica of %s: %w", c.ID, party, ErrExists)
		}
		if len(c.Objects) > 0 {
			results := make([]AddResult, len(c.Objects))
			if err := t.AddObjects(ctx, c.ID, c.Objects, results); err != nil {
				return nil, err
			}
			for _, r := range results {
				if r.Outcome == Conflict {
					conflicts = append(conflicts, r)
				}
			}
		}
		for _, w := range c.Withdrawals {
			_, err := t.DeleteObject(ctx, c.ID, w.ObjectID, VersionMatch{Keys: []string{w.VersionKey}}, nil)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
		}
	}
	return conflicts, nil
}
