package taxii

import (
	"slices"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/store"
)

// Rights says what a principal may do with a collection.
type Rights struct {
	Read  bool // manifest, objects, object, versions
	Write bool // add objects
	// Delete allows, with Read and Write, deleting objects: liaisons and
	// admins only, since a deletion erases what analysts shared.
	Delete bool
}

// writerRoles may add objects to collections; deleterRoles may delete them.
var (
	writerRoles  = []string{"analyst", "liaison", "admin"}
	deleterRoles = []string{"liaison", "admin"}
)

// rights decides a principal's rights on a collection. Every local user may
// read; analysts, liaisons and admins may write. Principals of another party
// never write (G2) and never see the party-internal collection.
//
// Working-group membership and marking-based release refine this in the
// marking package; until then every collection other than the internal one
// is shared with every principal this node authenticates.
func (s *Server) rights(p auth.Principal, c store.Collection) Rights {
	local := p.Party == s.cfg.Party
	if !local {
		return Rights{Read: !c.Internal}
	}
	var rt Rights
	rt.Read = true
	for _, r := range p.Roles {
		rt.Write = rt.Write || slices.Contains(writerRoles, r)
		rt.Delete = rt.Delete || slices.Contains(deleterRoles, r)
	}
	return rt
}

// visible reports whether p may know that c exists.
func (s *Server) visible(p auth.Principal, c store.Collection) bool {
	r := s.rights(p, c)
	return r.Read || r.Write
}
