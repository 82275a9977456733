package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
)

// An Agency is an organisation of the node's party (SEMAR, Guardia
// Nacional, FGR …), kept as a STIX identity in the party-internal
// collection.
type Agency struct {
	ID    string // the identity's STIX id, for created_by_ref
	Name  string // short name, unique on the node, like SEMAR
	Title string // full name
}

// ErrAgencyExists means an agency of that name is already recorded.
var ErrAgencyExists = errors.New("agency already exists")

// AddAgency records an agency of party as a STIX identity in the
// party-internal collection.
func AddAgency(ctx context.Context, st store.Store, party, name, title string) (Agency, error) {
	if err := CheckAgencyName(name); err != nil {
		return Agency{}, err
	}
	if title == "" {
		title = name
	}
	existing, err := Agencies(ctx, st)
	if err != nil {
		return Agency{}, err
	}
	for _, a := range existing {
		if a.Name == name {
			return Agency{}, fmt.Errorf("agency %s: %w", name, ErrAgencyExists)
		}
	}
	internal, err := st.Collection(ctx, InternalAlias)
	if err != nil {
		return Agency{}, fmt.Errorf("find the internal collection: %w", err)
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	a := Agency{ID: "identity--" + newUUID(), Name: name, Title: title}
	raw, err := json.Marshal(map[string]any{
		"type": "identity", "spec_version": "2.1", "id": a.ID, "created": now, "modified": now,
		"name": title, "identity_class": "organization", "labels": []string{"agency"},
		"x_puente_party": party, "x_puente_agency": name,
	})
	if err != nil {
		return Agency{}, fmt.Errorf("agency %s: %w", name, err)
	}
	o, err := stix.Parse(raw)
	if err != nil {
		return Agency{}, fmt.Errorf("agency %s: %w", name, err)
	}
	_, err = st.AddObjects(ctx, internal.ID, []store.NewObject{{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion,
		Version: o.Version, VersionKey: o.VersionKey, Hash: o.Hash, Raw: o.Raw,
		Release: store.Release{Originator: party}}})
	if err != nil {
		return Agency{}, fmt.Errorf("record agency %s: %w", name, err)
	}
	return a, nil
}

// Agencies returns the agencies recorded on the node, in the order added.
func Agencies(ctx context.Context, st store.Store) ([]Agency, error) {
	internal, err := st.Collection(ctx, InternalAlias)
	if err != nil {
		return nil, fmt.Errorf("find the internal collection: %w", err)
	}
	q := store.Query{CollectionID: internal.ID, Types: []string{"identity"}, Limit: 1000}
	var out []Agency
	for {
		pg, err := st.Objects(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list agencies: %w", err)
		}
		for _, o := range pg.Objects {
			var v struct {
				Name   string `json:"name"`
				Agency string `json:"x_puente_agency"`
			}
			if json.Unmarshal(o.Raw, &v) == nil && v.Agency != "" {
				out = append(out, Agency{ID: o.ID, Name: v.Agency, Title: v.Name})
			}
		}
		if !pg.More {
			return out, nil
		}
		q.AddedAfter = pg.Objects[len(pg.Objects)-1].DateAdded
	}
}

// CheckAgencyName returns an error unless name is a valid agency short
// name: 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-'.
func CheckAgencyName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("agency name %q: want 1 to 64 characters", name)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("agency name %q: use only letters, digits, '_' and '-'", name)
		}
	}
	return nil
}
