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
// read; analysts, liaisons and admins may write, and when the group names
// the agencies that write to it, only users of those agencies; nobody
// writes to an archived group. A principal of another
// party reads only the working groups its party is a member of, never the
// party-internal collection, never a replica collection (G6), and never
// writes (G2); nobody writes to a replica. What a partner reads in a
// group is then filtered object by object (see releasedTo).
func (s *Server) rights(p auth.Principal, c store.Collection) Rights {
	if p.Party == "" {
		// Never happens with the node's authenticator; an empty party
		// must not turn into an unfiltered read.
		return Rights{}
	}
	if !s.local(p) {
		// Never a replica: what a partner sent us is not ours to release
		// to anyone (G6), not even back through this interface.
		return Rights{Read: !c.Internal && c.Origin == "" && slices.Contains(c.Members, p.Party)}
	}
	var rt Rights
	rt.Read = true
	if c.Archived || c.Origin != "" {
		// A closed group keeps its content, read-only; a replica is
		// written only by federation (G2).
		return rt
	}
	if len(c.Agencies) > 0 && !slices.Contains(c.Agencies, p.Agency) {
		return rt // the group names the agencies that write to it
	}
	for _, r := range p.Roles {
		rt.Write = rt.Write || slices.Contains(writerRoles, r)
		rt.Delete = rt.Delete || slices.Contains(deleterRoles, r)
	}
	return rt
}

// local reports whether p is of the node's own party.
func (s *Server) local(p auth.Principal) bool { return p.Party == s.cfg.Party }

// releasedTo is the party a query for p must be filtered for (G1): the
// partner's party, or "" for the node's own users, who see all it holds.
func (s *Server) releasedTo(p auth.Principal) string {
	if s.local(p) {
		return ""
	}
	return p.Party
}

// visible reports whether p may know that c exists.
func (s *Server) visible(p auth.Principal, c store.Collection) bool {
	r := s.rights(p, c)
	return r.Read || r.Write
}
