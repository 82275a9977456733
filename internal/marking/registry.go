package marking

import (
	"fmt"
	"reflect"
	"sync"
)

// Registry holds the marking definitions a node knows: the five TLP 2.0
// definitions, built in, and those added from stored marking-definition
// objects. A Registry is safe for concurrent use. A nil *Registry knows
// the TLP 2.0 definitions only.
type Registry struct {
	mu   sync.RWMutex
	defs map[string]Definition // guarded by mu; never holds a TLP 2.0 id
}

// NewRegistry returns a Registry that knows the TLP 2.0 definitions.
func NewRegistry() *Registry {
	return &Registry{defs: map[string]Definition{}}
}

// Add parses raw with [ParseDefinition] and makes the definition known.
// Definitions are never replaced: adding one whose id is known with other
// content returns an error wrapping [ErrConflict], and adding the same one
// again is a no-op. The TLP 2.0 definitions are built in; for their ids
// Add only checks raw and returns the built-in definition.
//
// A definition of KindUnknown is added too; it releases to the
// originator only, like a missing one.
//
// Adding a definition can widen the release of objects that referred to
// it while it was missing: a store that persists [ReleaseSet] values
// must recompute theirs.
func (r *Registry) Add(raw []byte) (Definition, error) {
	d, err := ParseDefinition(raw)
	if err != nil {
		return Definition{}, err
	}
	if d.Kind == KindTLP {
		return d, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.defs[d.ID]; ok {
		if !reflect.DeepEqual(old, d) {
			return Definition{}, fmt.Errorf("marking: %s: %w", d.ID, ErrConflict)
		}
		return old, nil
	}
	r.defs[d.ID] = d
	return d, nil
}

// Definition returns the definition with the given id, and whether it is
// known. The result must not be modified.
func (r *Registry) Definition(id string) (Definition, bool) {
	if l := tlpLevel(id); l != 0 {
		return Definition{ID: id, Kind: KindTLP, TLP: l}, true
	}
	if r == nil {
		return Definition{}, false
	}
	r.mu.RLock()
	d, ok := r.defs[id]
	r.mu.RUnlock()
	return d, ok
}
