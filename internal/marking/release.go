package marking

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/stix"
)

// Object is what the release rule needs of one object version.
type Object struct {
	// Originator is the party that created the object: for a local
	// object, the node's own party; for a replica, the party it came from.
	Originator string
	// MarkingRefs are the object's object_marking_refs.
	MarkingRefs []string
	// GranularRefs are the marking_ref values of its granular_markings
	// (granular markings by lang are not data markings and are left out).
	GranularRefs []string
}

// ObjectOf returns the Object of raw STIX bytes created by the party
// originator. raw must pass [stix.Parse]; errors wrap [ErrInvalid].
func ObjectOf(raw []byte, originator string) (Object, error) {
	o, err := stix.Parse(raw)
	if err != nil {
		return Object{}, fmt.Errorf("marking: %w: %w", err, ErrInvalid)
	}
	return ObjectFrom(o, originator)
}

// ObjectFrom is ObjectOf for an object already parsed by stix.Parse, which
// has checked its object_marking_refs and granular_markings.
func ObjectFrom(o *stix.Object, originator string) (Object, error) {
	if !isParty(originator) {
		return Object{}, invalidf("originator: %v", notParty(originator))
	}
	return Object{Originator: originator, MarkingRefs: o.MarkingRefs, GranularRefs: o.GranularRefs}, nil
}

// Group is what the release rule needs of a working group.
type Group struct {
	// Members are the party codes of the member parties.
	Members []string
	// DefaultMarking is the id of the marking definition that applies to
	// objects without object_marking_refs; "" means [TLPAmber].
	DefaultMarking string
	// Internal marks the party-internal collection: nothing in it crosses
	// a border.
	Internal bool
}

// ReleaseSet is the release decision for one object version in one group,
// in the compact form a store persists and evaluates in SQL. It does not
// depend on the group's members or on the time: [ReleaseSet.Allows] takes
// those, so a change of membership needs no recomputation.
//
// Compute returns it in canonical form: Parties is sorted, unique, never
// holds Originator, and is nil when AllMembers is set; a set that releases
// to the originator only has AllMembers false, Parties nil, Expires zero
// and FurtherSharing false. So two canonical sets with the same
// FurtherSharing allow the same parties, for every membership and time,
// exactly when they are equal. A store keeps a zero Expires as NULL.
type ReleaseSet struct {
	// Originator is always allowed.
	Originator string
	// AllMembers releases to every current member of the group.
	AllMembers bool
	// Parties, when AllMembers is false, are the only other parties that
	// may be allowed, and each only while it is a current member. It may
	// name parties that are not members (a rel_to list can); they are
	// allowed only if they join.
	Parties []string
	// Expires, if not zero, is when release to anyone but the originator
	// ends (exclusive: at Expires, it has ended).
	Expires time.Time
	// FurtherSharing says whether a party that receives the object may
	// release its replica onward (see [Onward]). It plays no part in
	// Allows.
	FurtherSharing bool
}

// Allows reports whether rs releases the object to party, given the
// group's current members, at time now. The originator is always allowed;
// any other party must be a current member, now must be before Expires
// (if set), and the party must be in Parties unless AllMembers is set.
// Party codes are compared exactly. The empty party is never allowed.
//
// As SQL, with the members in a table and the parties in another:
//
//	originator = :p OR (
//	  :p IN (SELECT party FROM members WHERE group_id = :g)
//	  AND (expires IS NULL OR expires > :now)
//	  AND (all_members OR :p IN (SELECT party FROM parties WHERE version_id = v.id)))
func (rs ReleaseSet) Allows(party string, members []string, now time.Time) bool {
	if party == "" {
		return false
	}
	if party == rs.Originator {
		return true
	}
	if !slices.Contains(members, party) {
		return false
	}
	if !rs.Expires.IsZero() && !now.Before(rs.Expires) {
		return false
	}
	return rs.AllMembers || contains(rs.Parties, party)
}

// Compute returns the release set of obj in g, with the definitions of r.
// obj.Originator must be a party code, as [ObjectOf] checks. The rule, for every party other than the originator, who is always
// allowed, and the group's members, who are the only others ever allowed:
//
//   - Each marking allows a set of parties, and the object is released to
//     the intersection: the most restrictive marking wins. Granular
//     markings count as if they marked the whole object: one stricter
//     than the object-level markings withholds the whole object from
//     those it does not release to (no redaction).
//   - An object without object_marking_refs has the group's default
//     marking at object level ([TLPAmber] when the group sets none).
//   - TLP:CLEAR and TLP:GREEN allow all members.
//   - A releasability or ACS marking with a rel_to list allows the
//     parties in it; one without (ACS only) allows all.
//   - TLP:AMBER allows all members; with a releasability marking, the
//     latter restricts it to its rel_to.
//   - TLP:AMBER+STRICT allows the originator only.
//   - TLP:RED allows the recipients named by the rel_to of a releasability
//     or ACS marking at object level (not a granular one, which could
//     name recipients for part of the object only), and the originator
//     only when none is named.
//   - A reference to a definition r does not know, or that is
//     KindUnknown, allows the originator only.
//   - Expires is the earliest expiry of the releasability markings, and
//     FurtherSharing is set when there is at least one and all of them
//     allow further sharing.
//   - In an Internal group, the object is released to the originator only.
//
// Adding a marking to an object never releases it to more parties, with
// one exception: the first object-level releasability marking with a
// rel_to names the recipients of a TLP:RED object. (It may also allow
// further sharing, which only a releasability marking grants.)
func Compute(obj Object, g Group, r *Registry) ReleaseSet {
	var e eval
	e.run(obj, g, r)
	return e.set(obj.Originator)
}

// Decision explains a release decision, for the record of denied
// attempts and for tests.
type Decision struct {
	Allow bool
	// Reason says which rule decided. It is for the node's own records
	// and users: never show it to the party denied, for whom a denied
	// read must look exactly like absent data (DESIGN.md §7).
	Reason string
}

// Release decides whether obj, in group g, is released to party at time
// now. It is the one decision function: Release(party, obj, g, r, now).Allow
// always equals Compute(obj, g, r).Allows(party, g.Members, now). The
// Reason says which rule decided, for example "TLP:RED: not a named
// recipient", "not a member of the group" or "released: TLP:GREEN to
// all members".
func Release(party string, obj Object, g Group, r *Registry, now time.Time) Decision {
	e := eval{party: party}
	e.run(obj, g, r)
	rs := e.set(obj.Originator)
	d := Decision{Allow: rs.Allows(party, g.Members, now)}
	switch {
	case party == "":
		d.Reason = "no party"
	case party == rs.Originator:
		d.Reason = "released: originator"
	case !slices.Contains(g.Members, party):
		d.Reason = "not a member of the group"
	case e.why != "":
		d.Reason = e.why
	case !rs.Expires.IsZero() && !now.Before(rs.Expires):
		d.Reason = "releasability expired at " + rs.Expires.UTC().Format(time.RFC3339Nano) + ": originator only"
	case rs.AllMembers:
		d.Reason = "released: " + e.label() + " to all members"
	default:
		d.Reason = "released: " + e.label() + " to " + strings.Join(rs.Parties, ", ")
	}
	return d
}

// Onward returns the release set a recipient node may use for a replica
// it received: the third-party rule (G6). original is the set Compute
// gives for the replica, and members are the group's members as the
// originator released it, since AllMembers meant those parties and not
// whoever the recipient's node lists later. The result never allows a
// party that original did not allow, with members, at the same time:
//
//   - with FurtherSharing, it allows the members original allowed;
//   - without, only recipient (if original allowed it) and the originator.
//
// The result has AllMembers false, keeps Originator, Expires and
// FurtherSharing, and is canonical.
func Onward(original ReleaseSet, members []string, recipient string) ReleaseSet {
	out := ReleaseSet{
		Originator:     original.Originator,
		Expires:        original.Expires,
		FurtherSharing: original.FurtherSharing,
	}
	var reach []string
	for _, p := range members {
		if p != original.Originator && (original.AllMembers || contains(original.Parties, p)) &&
			(original.FurtherSharing || p == recipient) {
			reach = append(reach, p)
		}
	}
	slices.Sort(reach)
	out.Parties = slices.Compact(reach)
	if len(out.Parties) == 0 {
		out.Parties = nil
		out.Expires = time.Time{}
		out.FurtherSharing = false
	}
	return out
}

// eval evaluates the rule, keeping the set it allows so far.
type eval struct {
	// party, if set, is the party to explain the decision for, and why
	// the first rule that excluded it.
	party, why string

	narrowed bool     // some marking restricted the set
	parties  []string // the set when narrowed: sorted, unique
	expires  time.Time
	rels     int  // releasability and ACS markings seen
	further  bool // all of them allow further sharing
	strict   Level
	dflt     bool // the group's default marking applied
}

func (e *eval) run(obj Object, g Group, r *Registry) {
	e.further = true
	if g.Internal {
		e.restrict(nil, "internal collection: originator only")
		return
	}
	refs := obj.MarkingRefs
	if len(refs) == 0 {
		e.dflt = true
		refs = []string{orDefault(g.DefaultMarking, TLPAmber)}
	}
	type marking struct {
		ref   string
		def   Definition
		known bool // known and not KindUnknown
		obj   bool // object-level
	}
	ms := make([]marking, 0, 8)
	for i, list := range [2][]string{refs, obj.GranularRefs} {
		for _, ref := range list {
			d, ok := r.Definition(ref)
			ms = append(ms, marking{ref, d, ok && d.Kind != KindUnknown, i == 0})
		}
	}
	// Passes in the order of the reasons given: unknown markings, then
	// AMBER+STRICT, then RED without recipients, then rel_to lists.
	var levels [LevelRed + 1]bool
	named := false
	for _, m := range ms {
		switch d := m.def; {
		case !m.known:
			e.restrict(nil, "marking "+m.ref+" is not known: originator only")
		case d.Kind == KindTLP:
			levels[d.TLP] = true
			e.strict = max(e.strict, d.TLP)
		case d.Rel != nil && d.Rel.RelTo != nil && m.obj:
			named = true // only object-level markings name RED recipients
		}
	}
	if levels[LevelAmberStrict] {
		e.restrict(nil, "TLP:AMBER+STRICT: originator only")
	}
	if levels[LevelRed] && !named {
		e.restrict(nil, "TLP:RED: no named recipients: originator only")
	}
	for _, m := range ms {
		d := m.def
		if !m.known || d.Rel == nil {
			continue
		}
		e.rels++
		e.further = e.further && d.Rel.FurtherSharing
		if exp := d.Rel.Expires; !exp.IsZero() && (e.expires.IsZero() || exp.Before(e.expires)) {
			e.expires = exp
		}
		if d.Rel.RelTo == nil {
			continue
		}
		why := "not in rel_to of " + d.Kind.String() + " marking " + d.ID
		switch {
		case levels[LevelRed]:
			why = "TLP:RED: not a named recipient"
		case levels[LevelAmber]:
			why = "TLP:AMBER: not in rel_to"
		}
		e.restrict(d.Rel.RelTo, why)
	}
}

// restrict intersects the set with parties (nil: nobody but the
// originator), and records why if it excludes e.party first.
func (e *eval) restrict(parties []string, why string) {
	if e.why == "" && e.party != "" && !contains(parties, e.party) {
		e.why = why
	}
	if !e.narrowed {
		e.narrowed = true
		e.parties = slices.Clone(parties)
		return
	}
	e.parties = slices.DeleteFunc(e.parties, func(p string) bool { return !contains(parties, p) })
}

// set returns the canonical ReleaseSet.
func (e *eval) set(originator string) ReleaseSet {
	rs := ReleaseSet{Originator: originator}
	if !e.narrowed {
		rs.AllMembers = true
	} else {
		for _, p := range e.parties {
			if p != originator {
				rs.Parties = append(rs.Parties, p)
			}
		}
		if len(rs.Parties) == 0 {
			return rs
		}
	}
	rs.Expires = e.expires
	rs.FurtherSharing = e.rels > 0 && e.further
	return rs
}

// label names the markings of an allowed decision.
func (e *eval) label() string {
	s := e.strict.String()
	if e.strict == 0 {
		s = "releasability"
	}
	if e.dflt {
		s += " (group default)"
	}
	return s
}

// contains reports whether the sorted list s holds p.
func contains(s []string, p string) bool {
	_, ok := slices.BinarySearch(s, p)
	return ok
}

// orDefault returns s, or def if s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
