// Package scenario builds the illustrative MEX–USA demo data of the Puente
// design (DESIGN.md §11) as [STIX 2.1] objects, so that `puente demo` and
// two-node federation demos can load the same scenario on every run.
//
// The scenario is built from public facts of early 2026: working groups on
// fentanyl, precursor chemicals, money laundering and security coordination;
// the agencies of both parties; the late-December 2025 interdiction of 1.6 t
// of cocaine on Mexico's Pacific coast; seized laboratories and precursor
// shipments; the two 2025 transfers of cartel figures to U.S. custody; a
// pending joint-operation request with Mexico as host; and contested figures
// with both sides' assessments kept side by side.
//
// Every object is demo data: it carries the label [Label], its text says
// that it is illustrative, it quotes nobody, and every assessment is made by
// a fictional demo analyst. Quantities and dates of single events are
// illustrative. Objects are marked with the official [TLP 2.0] marking
// definitions, referenced by id only.
//
// Identifiers are name-based (UUID version 5, [RFC 9562]) in a namespace of
// this package, and timestamps are fixed, so every build of the scenario
// produces identical bytes. STIX recommends version 4 UUIDs for domain
// objects; version 5 in a namespace of our own is allowed and is what makes
// the scenario reproducible.
//
// [STIX 2.1]: https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html
// [TLP 2.0]: https://www.first.org/tlp/
// [RFC 9562]: https://www.rfc-editor.org/rfc/rfc9562
package scenario

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
)

// Label is the label every object of the scenario carries in "labels".
const Label = "demo-data"

// A Group is a working group of the scenario. On each node it is a TAXII
// collection whose alias is Name.
type Group struct {
	Name        string   // collection alias, [a-z0-9-]
	Title       string   // short human-readable title
	Description string   // says that the group holds demo data
	Members     []string // member parties, ISO 3166-1 alpha-3 codes
}

// An Object is one STIX object of the scenario, with where it is shared and
// who originates it.
type Object struct {
	// Group is the Name of the Group the object is shared in, or "" for
	// the originating party's internal collection: such objects never
	// cross a border.
	Group string
	// Party is the party that originates the object: "MEX" or "USA". Only
	// that party's node loads it; the other gets it through federation.
	Party string
	// JSON is one STIX 2.1 object in canonical ([RFC 8785]) JSON.
	//
	// [RFC 8785]: https://www.rfc-editor.org/rfc/rfc8785
	JSON []byte
}

// The parties of the scenario.
const (
	mex = "MEX"
	usa = "USA"
)

// The working groups of the scenario.
const (
	gFentanyl   = "fentanyl"
	gPrecursors = "precursors"
	gMoney      = "money-laundering"
	gCoord      = "security-coordination"
	gInternal   = "" // the party-internal collection
)

// STIX constants.
const (
	specVersion  = "2.1"
	newSDO       = "new-sdo"
	extDefPrefix = "extension-definition--"
)

// Groups returns the working groups of the scenario. Identities and the
// definitions of the scenario's new object types are shared in
// "security-coordination", to which every party belongs. The caller owns
// the result.
func Groups() []Group {
	both := func() []string { return []string{mex, usa} }
	return []Group{
		{
			Name:        gFentanyl,
			Title:       "Fentanyl",
			Description: "Demo working group with illustrative data: seizures of fentanyl, clandestine laboratories and related reports.",
			Members:     both(),
		},
		{
			Name:        gPrecursors,
			Title:       "Precursor chemicals",
			Description: "Demo working group with illustrative data: shipments of precursor chemicals used to make synthetic drugs, and their links to laboratories.",
			Members:     both(),
		},
		{
			Name:        gMoney,
			Title:       "Money laundering",
			Description: "Demo working group with illustrative data: financial flows linked to drug trafficking.",
			Members:     both(),
		},
		{
			Name:        gCoord,
			Title:       "Security coordination",
			Description: "Demo working group with illustrative data: joint operations, custody transfers, coordination requests and figures under discussion. The identities and object type definitions that the other groups use are shared here.",
			Members:     both(),
		},
	}
}

// Objects returns the objects of the scenario, each after the objects it
// refers to, so that loading them in order never leaves a dangling
// reference. Identifiers and timestamps are fixed: two calls return
// identical bytes. The caller owns the result.
func Objects() []Object {
	var b builder
	b.build()
	return b.objs
}

// TLP 2.0 marking definitions, as OASIS publishes them.
const (
	tlpClear       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	tlpGreen       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	tlpAmber       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	tlpAmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	tlpRed         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

// nameSpaceURL is the RFC 9562 namespace for names that are URLs.
var nameSpaceURL = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// namespace is the UUID namespace of the scenario's identifiers.
var namespace = uuid5(nameSpaceURL, "https://github.com/puente-project/puente/internal/scenario")

// uuid5 returns the name-based UUID, version 5 (SHA-1), of name in the
// namespace ns, as RFC 9562 section 5.5 defines it.
func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// formatUUID returns u in the lower-case 8-4-4-4-12 form.
func formatUUID(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// id returns the identifier of the scenario's object of type typ named key.
func id(typ, key string) string {
	return typ + "--" + formatUUID(uuid5(namespace, typ+"--"+key))
}

// spec describes one object of the scenario.
type spec struct {
	group string // Group.Name, or gInternal
	party string // originating party
	typ   string // STIX type
	key   string // names the object within its type; see id
	at    string // created and modified
	by    string // created_by_ref, or "" for none
	tlp   string // the one TLP marking-definition id
	props map[string]any
}

// builder accumulates the scenario's objects.
type builder struct {
	objs []Object
}

// newTypes maps each new object type of the scenario to the id of the
// extension-definition that declares it.
var newTypes = map[string]string{
	"seizure":              idExtSeizure,
	"coordination-request": idExtCoordRequest,
}

// add appends the object s describes. It panics if s cannot be encoded, a
// programmer error that the tests catch.
func (b *builder) add(s spec) {
	m := map[string]any{
		"type":                s.typ,
		"spec_version":        specVersion,
		"id":                  id(s.typ, s.key),
		"created":             s.at,
		"modified":            s.at,
		"labels":              []string{Label},
		"object_marking_refs": []string{s.tlp},
	}
	if s.by != "" {
		m["created_by_ref"] = s.by
	}
	if ext, ok := newTypes[s.typ]; ok {
		m["extensions"] = map[string]any{ext: map[string]any{"extension_type": newSDO}}
	}
	for k, v := range s.props {
		if _, dup := m[k]; dup {
			panic(fmt.Sprintf("scenario: %s %s: property %q set twice", s.typ, s.key, k))
		}
		m[k] = v
	}
	b.objs = append(b.objs, Object{Group: s.group, Party: s.party, JSON: encode(m)})
}

// encode returns m as compact JSON. encoding/json sorts map keys, and with
// HTML escaping off it writes strings as RFC 8785 does for the text of this
// package (no control characters, U+2028 or U+2029), so the result is
// canonical; a test checks it.
func encode(m map[string]any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		panic(fmt.Sprintf("scenario: encode %v: %v", m["id"], err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
