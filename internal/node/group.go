package node

import (
	"context"
	"fmt"
	"time"

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

// CreateGroup creates the TAXII collection of a new working group: a
// random id, alias and title name. It returns an error wrapping
// store.ErrExists when the name is taken.
func CreateGroup(ctx context.Context, st store.Store, name, description string) (store.Collection, error) {
	if err := CheckGroupName(name); err != nil {
		return store.Collection{}, err
	}
	c := store.Collection{
		ID:          newUUID(),
		Alias:       name,
		Title:       name,
		Description: description,
		Created:     time.Now(),
	}
	if err := st.CreateCollection(ctx, c); err != nil {
		return store.Collection{}, fmt.Errorf("create group %s: %w", name, err)
	}
	return c, nil
}
