package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/marking"
	"github.com/puente-project/puente/internal/store"
)

const maxGroupNameLen = 64

// CheckGroupName returns an error unless name is a valid working-group
// name: 1 to 64 characters from a-z, 0-9 and '-', not starting or ending
// with '-'. The name is the collection's alias, used in TAXII URLs.
func CheckGroupName(name string) error {
	if name == "" || len(name) > maxGroupNameLen {
		return fmt.Errorf("group name %q: want 1 to %d characters", name, maxGroupNameLen)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("group name %q: use only a-z, 0-9 and '-'", name)
		}
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return fmt.Errorf("group name %q: must not start or end with '-'", name)
	}
	return nil
}

// Group describes a new working group.
type Group struct {
	Name        string
	Description string
	// Members are the member parties; the node's own party is always one.
	Members []string
	// DefaultMarking names the TLP level objects without markings get:
	// clear, green, amber (the default), amber+strict or red.
	DefaultMarking string
	// Agencies, when set, are the agencies whose users may write to the
	// group; each must be recorded (AddAgency).
	Agencies []string
}

// defaultMarkings maps the names CreateGroup accepts to TLP 2.0 ids.
var defaultMarkings = map[string]string{
	"clear":        marking.TLPClear,
	"green":        marking.TLPGreen,
	"amber":        marking.TLPAmber,
	"amber+strict": marking.TLPAmberStrict,
	"red":          marking.TLPRed,
}

// CreateGroup creates the TAXII collection of a new working group of party:
// a random id, alias and title the group's name. It returns an error
// wrapping store.ErrExists when the name is taken.
func CreateGroup(ctx context.Context, st store.Store, party string, g Group) (store.Collection, error) {
	if err := CheckGroupName(g.Name); err != nil {
		return store.Collection{}, err
	}
	members := []string{party}
	for _, m := range g.Members {
		if err := CheckParty(m); err != nil {
			return store.Collection{}, fmt.Errorf("group %s: member: %w", g.Name, err)
		}
		if !slices.Contains(members, m) {
			members = append(members, m)
		}
	}
	slices.Sort(members)
	def := strings.ToLower(g.DefaultMarking)
	if def == "" {
		def = "amber"
	}
	id, ok := defaultMarkings[def]
	if !ok {
		return store.Collection{}, fmt.Errorf("group %s: default marking %q: want clear, green, amber, amber+strict or red", g.Name, g.DefaultMarking)
	}
	if len(g.Agencies) > 0 {
		known, err := Agencies(ctx, st)
		if err != nil {
			return store.Collection{}, err
		}
		for _, a := range g.Agencies {
			if !slices.ContainsFunc(known, func(k Agency) bool { return k.Name == a }) {
				return store.Collection{}, fmt.Errorf("group %s: no agency %s: record it with 'puente agency add'", g.Name, a)
			}
		}
	}
	c := store.Collection{
		Agencies:       g.Agencies,
		ID:             newUUID(),
		Alias:          g.Name,
		Title:          g.Name,
		Description:    g.Description,
		Created:        time.Now(),
		Members:        members,
		DefaultMarking: id,
	}
	if err := st.CreateCollection(ctx, c); err != nil {
		return store.Collection{}, fmt.Errorf("create group %s: %w", g.Name, err)
	}
	return c, nil
}
