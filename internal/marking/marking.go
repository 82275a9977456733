// Package marking decides release: which parties may receive an object
// version, given its data markings, its working group and where it came
// from. It holds the rule behind guarantees G1 (nothing leaves without
// release) and G6 (third-party rule) of DESIGN.md.
//
// It understands three kinds of [STIX 2.1] data markings (section 7.2 of
// the specification): the five official [TLP 2.0] marking definitions,
// Puente's own releasability property-extension on a marking-definition
// (see [ExtensionDefinition]), and the permitted nationalities of
// [ACS 3.0] markings. Any other marking, and any marking a [Registry] does
// not know, releases an object to its originating party only.
//
// The decision has two steps, so that a store can keep the first and
// filter in SQL before LIMIT with the second:
//
//   - [Compute] turns an object's markings into a [ReleaseSet]: a small
//     value that does not depend on the group's membership or on the
//     clock. A store persists it with each object version.
//   - [ReleaseSet.Allows] applies it to one party, the group's current
//     members and the current time. Its documentation gives the same
//     test as an SQL predicate.
//
// [Release] is both steps at once, with a reason for the record of
// denied attempts; [Onward] narrows the set of a replica received from
// another party. The package does no I/O and keeps no global state.
//
// [STIX 2.1]: https://docs.oasis-open.org/cti/stix/v2.1/os/stix-v2.1-os.html
// [TLP 2.0]: https://www.first.org/tlp/
// [ACS 3.0]: https://github.com/oasis-open/cti-stix-common-objects/tree/main/extension-definition-specifications/acs-marking-definition-3a6
package marking

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/puente-project/puente/internal/stix"
)

// The ids of the five official TLP 2.0 marking definitions, published by
// OASIS. They are built into every [Registry] and cannot be redefined.
const (
	TLPClear       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	TLPGreen       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	TLPAmber       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	TLPAmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	TLPRed         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

// Extension-definition ids.
const (
	// ExtensionID is the id of Puente's releasability extension-definition,
	// returned by [ExtensionDefinition]. A marking-definition carries it
	// as a property-extension with the properties rel_to, further_sharing,
	// originator and expires (see [Releasability]).
	ExtensionID = "extension-definition--f67e09ce-1e42-4c4b-ba20-85df909f16b8"
	// TLPExtensionID is the id of the OASIS TLP 2.0 extension-definition,
	// whose tlp_2_0 property names the level of the official definitions.
	TLPExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
	// ACSExtensionID is the id of the OASIS ACS 3.0 marking extension;
	// its control_set.permitted_nationalities is read as a REL TO list.
	ACSExtensionID = "extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce"
)

// creatorID is the identity that created [ExtensionDefinition]: the
// Puente project.
const creatorID = "identity--22b4e3ee-e72a-40e9-b4b8-d9251781cad3"

// ErrInvalid is wrapped by every error that reports a marking definition,
// or the markings of an object, that this package cannot use. A reference
// to a definition that failed to parse releases to the originator only.
var ErrInvalid = errors.New("invalid marking")

// ErrConflict is returned by [Registry.Add] for a definition whose id is
// already known with other content. Marking definitions are not
// versioned, so the first one stays in force; the caller should keep the
// new one out of its store and report it.
var ErrConflict = errors.New("marking definition conflicts with a known definition of the same id")

// Level is a TLP 2.0 level. The zero Level is no level.
type Level uint8

// The TLP 2.0 levels, from the least to the most restrictive.
const (
	LevelClear Level = iota + 1
	LevelGreen
	LevelAmber
	LevelAmberStrict
	LevelRed
)

// String returns the level as TLP 2.0 writes it, such as "TLP:AMBER+STRICT",
// or "none" for the zero Level.
func (l Level) String() string {
	if l >= LevelClear && l <= LevelRed {
		return levels[l-1].name
	}
	return "none"
}

// levels lists, for each Level from LevelClear, its definition id, name
// and value of the tlp_2_0 extension property.
var levels = [...]struct{ id, name, tlp string }{
	{TLPClear, "TLP:CLEAR", "clear"},
	{TLPGreen, "TLP:GREEN", "green"},
	{TLPAmber, "TLP:AMBER", "amber"},
	{TLPAmberStrict, "TLP:AMBER+STRICT", "amber+strict"},
	{TLPRed, "TLP:RED", "red"},
}

// tlpLevel returns the Level whose official definition has the given id,
// or zero.
func tlpLevel(id string) Level {
	for i, l := range levels {
		if l.id == id {
			return Level(i + 1)
		}
	}
	return 0
}

// Kind says what a [Definition] means to the release rule. The zero Kind
// is KindUnknown, which releases to the originator only.
type Kind uint8

// The kinds of definition.
const (
	KindUnknown       Kind = iota // not understood: originator only
	KindTLP                       // one of the five TLP 2.0 definitions
	KindReleasability             // Puente's releasability extension
	KindACS                       // an ACS 3.0 marking
)

// String returns a short name of the kind for messages.
func (k Kind) String() string {
	switch k {
	case KindTLP:
		return "TLP"
	case KindReleasability:
		return "releasability"
	case KindACS:
		return "ACS 3.0"
	}
	return "unknown"
}

// Releasability is what a releasability marking says: Puente's own
// extension, or the part of an ACS 3.0 marking Puente understands.
// Treat it as read-only: definitions share it.
type Releasability struct {
	// RelTo lists the parties the marked content is releasable to, as
	// ISO 3166-1 alpha-3 codes (upper case), sorted and unique. It is
	// never empty for Puente's extension; nil for an ACS marking without
	// permitted_nationalities, which then names no recipients and
	// restricts no one.
	RelTo []string
	// FurtherSharing allows a recipient to release its replica onward,
	// within the parties the originator released it to (see [Onward]).
	// False, the default, is originator control: a recipient may not
	// pass it on. Always false for ACS markings.
	FurtherSharing bool
	// Originator is the party code of the party that issued the marking,
	// as the extension states it ("" for ACS). The rule does not use it:
	// an object's originator is the one its node records.
	Originator string
	// Expires, if not zero, is when the marking lapses: from that instant
	// on, content it marks is released to its originator only.
	Expires time.Time
}

// Definition is a parsed marking-definition.
type Definition struct {
	ID   string
	Kind Kind
	// TLP is the level of a KindTLP definition, else zero.
	TLP Level
	// Rel is set for KindReleasability and KindACS, else nil.
	Rel *Releasability
}

// ParseDefinition parses a marking-definition STIX object strictly. The
// object must pass [stix.Parse] and have type marking-definition; then:
//
//   - An official TLP 2.0 id gives a KindTLP definition, whatever else the
//     object holds, except that a tlp_2_0 value or a TLP name of another
//     level, or a releasability or ACS extension, is an error.
//   - Otherwise, extensions[ExtensionID] gives a KindReleasability
//     definition. The extension is an object with extension_type
//     "property-extension"; rel_to, a non-empty list of distinct party
//     codes (three upper-case letters); originator, a party code;
//     optionally further_sharing, a boolean (default false), and expires,
//     a STIX timestamp; and nothing else.
//   - Otherwise, extensions[ACSExtensionID] gives a KindACS definition.
//     The extension has extension_type "property-extension" and a
//     control_set object; its control_set.permitted_nationalities, if
//     present, is a non-empty list of distinct trigraphs and becomes
//     RelTo. Any other control in control_set, except classification
//     "U", is an error: a control Puente does not interpret could restrict
//     release in ways the rule would miss, so it fails closed.
//   - A releasability or ACS definition that also has definition_type,
//     definition, or any other extension is an error: Puente would not
//     understand all it says.
//   - Anything else, such as statement markings, TLP 1.0 definitions or
//     other extensions, is a KindUnknown definition.
//
// Errors wrap [ErrInvalid], and the result is then the zero Definition.
func ParseDefinition(raw []byte) (Definition, error) {
	d, err := parseDefinition(raw)
	if err != nil {
		return Definition{}, err
	}
	return d, nil
}

func parseDefinition(raw []byte) (Definition, error) {
	o, err := stix.Parse(raw)
	if err != nil {
		return Definition{}, fmt.Errorf("marking: %w: %w", err, ErrInvalid)
	}
	if o.Type != "marking-definition" {
		return Definition{}, invalidf("type is %s, want marking-definition", quote(o.Type))
	}
	// stix.Parse has checked that raw is strict JSON without duplicate
	// names; encoding/json reads it the same way.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return Definition{}, invalidf("%v", err)
	}
	var exts map[string]json.RawMessage
	if v, ok := top["extensions"]; ok {
		if err := json.Unmarshal(v, &exts); err != nil {
			return Definition{}, invalidf("extensions: %v", err)
		}
	}
	rel, hasRel := exts[ExtensionID]
	acs, hasACS := exts[ACSExtensionID]

	if l := tlpLevel(o.ID); l != 0 {
		return parseTLP(o.ID, l, top, exts, hasRel || hasACS)
	}
	if !hasRel && !hasACS {
		return Definition{ID: o.ID}, nil
	}
	if hasRel && hasACS {
		return Definition{}, invalidf("extensions: both the Puente releasability and the ACS 3.0 extension")
	}
	for _, p := range []string{"definition_type", "definition"} {
		if _, ok := top[p]; ok {
			return Definition{}, invalidf("%s: not allowed with a releasability extension", p)
		}
	}
	for name := range exts {
		if name != ExtensionID && name != ACSExtensionID {
			return Definition{}, invalidf("extensions: %s not understood alongside a releasability extension", quote(name))
		}
	}
	if hasRel {
		r, err := parseReleasability(rel)
		if err != nil {
			return Definition{}, err
		}
		return Definition{ID: o.ID, Kind: KindReleasability, Rel: r}, nil
	}
	r, err := parseACS(acs)
	if err != nil {
		return Definition{}, err
	}
	return Definition{ID: o.ID, Kind: KindACS, Rel: r}, nil
}

// parseTLP checks that the content of the official definition of level l
// does not contradict it.
func parseTLP(id string, l Level, top, exts map[string]json.RawMessage, hasRel bool) (Definition, error) {
	want := levels[l-1]
	if hasRel {
		return Definition{}, invalidf("%s is the id of %s, which cannot carry a releasability extension", id, want.name)
	}
	if v, ok := top["name"]; ok {
		var name string
		if err := strictUnmarshal(v, &name); err != nil {
			return Definition{}, invalidf("name: %v", err)
		}
		if name != want.name {
			return Definition{}, invalidf("name is %s, want %s for %s", quote(name), want.name, id)
		}
	}
	if v, ok := exts[TLPExtensionID]; ok {
		var ext map[string]json.RawMessage
		if err := strictUnmarshal(v, &ext); err != nil {
			return Definition{}, invalidf("TLP 2.0 extension: %v", err)
		}
		if tv, ok := ext["tlp_2_0"]; ok {
			var tlp string
			if err := strictUnmarshal(tv, &tlp); err != nil {
				return Definition{}, invalidf("tlp_2_0: %v", err)
			}
			if tlp != want.tlp {
				return Definition{}, invalidf("tlp_2_0 is %s, want %q for %s", quote(tlp), want.tlp, id)
			}
		}
	}
	return Definition{ID: id, Kind: KindTLP, TLP: l}, nil
}

// parseReleasability parses the content of Puente's extension.
func parseReleasability(raw json.RawMessage) (*Releasability, error) {
	var ext map[string]json.RawMessage
	if err := strictUnmarshal(raw, &ext); err != nil {
		return nil, invalidf("releasability extension: %v", err)
	}
	r := &Releasability{}
	var seen [5]bool
	for name, v := range ext {
		var err error
		switch name {
		case "extension_type":
			seen[0] = true
			err = wantPropertyExtension(v)
		case "rel_to":
			seen[1] = true
			r.RelTo, err = parseParties(v)
		case "originator":
			seen[2] = true
			if err = strictUnmarshal(v, &r.Originator); err == nil && !isParty(r.Originator) {
				err = notParty(r.Originator)
			}
		case "further_sharing":
			err = strictUnmarshal(v, &r.FurtherSharing)
		case "expires":
			var s string
			if err = strictUnmarshal(v, &s); err == nil {
				r.Expires, err = stix.ParseTimestamp(s)
			}
			if err == nil && r.Expires.IsZero() {
				// The zero time means "never" in Releasability.
				err = errors.New("0001-01-01T00:00:00Z would read as never expiring")
			}
		default:
			err = errors.New("unknown property of the releasability extension")
		}
		if err != nil {
			return nil, invalidf("releasability extension: %s: %v", quote(name), err)
		}
	}
	for i, name := range []string{"extension_type", "rel_to", "originator"} {
		if !seen[i] {
			return nil, invalidf("releasability extension: %s is required", name)
		}
	}
	return r, nil
}

// parseACS parses the part of an ACS 3.0 marking extension Puente uses.
func parseACS(raw json.RawMessage) (*Releasability, error) {
	var ext map[string]json.RawMessage
	if err := strictUnmarshal(raw, &ext); err != nil {
		return nil, invalidf("ACS 3.0 extension: %v", err)
	}
	et, ok := ext["extension_type"]
	if !ok {
		return nil, invalidf("ACS 3.0 extension: extension_type is required")
	}
	if err := wantPropertyExtension(et); err != nil {
		return nil, invalidf("ACS 3.0 extension: extension_type: %v", err)
	}
	cs, ok := ext["control_set"]
	if !ok {
		return nil, invalidf("ACS 3.0 extension: control_set is required")
	}
	var control map[string]json.RawMessage
	if err := strictUnmarshal(cs, &control); err != nil {
		return nil, invalidf("ACS 3.0 extension: control_set: %v", err)
	}
	// Fail closed: a control Puente does not interpret (permitted
	// organisations, a classification above U, …) could restrict release
	// in ways the rule would miss, so such a definition is invalid and
	// releases to nobody but the originator.
	for k, v := range control {
		switch {
		case k == "permitted_nationalities":
		case k == "classification" && string(v) == `"U"`:
		default:
			return nil, invalidf("ACS 3.0 extension: control_set.%s is not interpreted by Puente", quote(k))
		}
	}
	r := &Releasability{}
	if pn, ok := control["permitted_nationalities"]; ok {
		var err error
		if r.RelTo, err = parseParties(pn); err != nil {
			return nil, invalidf("ACS 3.0 extension: control_set.permitted_nationalities: %v", err)
		}
	}
	return r, nil
}

func wantPropertyExtension(v json.RawMessage) error {
	var s string
	if err := strictUnmarshal(v, &s); err != nil {
		return err
	}
	if s != "property-extension" {
		return fmt.Errorf("is %s, want \"property-extension\"", quote(s))
	}
	return nil
}

// parseParties parses a non-empty JSON list of distinct party codes and
// returns it sorted.
func parseParties(v json.RawMessage) ([]string, error) {
	var list []string
	if err := strictUnmarshal(v, &list); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errors.New("empty list")
	}
	for _, p := range list {
		if !isParty(p) {
			return nil, notParty(p)
		}
	}
	slices.Sort(list)
	for i := 1; i < len(list); i++ {
		if list[i] == list[i-1] {
			return nil, fmt.Errorf("%s is listed twice", list[i])
		}
	}
	return list, nil
}

// strictUnmarshal is json.Unmarshal that refuses null, which encoding/json
// would take as the zero value.
func strictUnmarshal(v json.RawMessage, dst any) error {
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return errors.New("null")
	}
	return json.Unmarshal(v, dst)
}

// isParty reports whether s is a party code: three upper-case ASCII
// letters, as ISO 3166-1 alpha-3 codes are written.
func isParty(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func notParty(s string) error {
	return fmt.Errorf("%s is not a party code (three upper-case letters, ISO 3166-1 alpha-3)", quote(s))
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("marking: %s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}

// quote quotes s for an error message, shortened as stix does.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// extensionDefinition is the source of [ExtensionDefinition]; it is
// canonicalized once.
const extensionDefinition = `{
  "type": "extension-definition",
  "spec_version": "2.1",
  "id": "` + ExtensionID + `",
  "created_by_ref": "` + creatorID + `",
  "created": "2026-01-15T00:00:00.000Z",
  "modified": "2026-01-15T00:00:00.000Z",
  "name": "Puente releasability",
  "description": "Who a marked object may be released to across borders, and whether recipients may pass it on. Used on marking-definition objects by Puente working groups.",
  "schema": "A property-extension of marking-definition with these properties: rel_to (required): a non-empty list of distinct ISO 3166-1 alpha-3 party codes in upper case, the parties the marked content is releasable to; originator (required): the party code of the party that issued the marking; further_sharing (optional, default false): whether a recipient may release the content onward, within the parties named; false means originator control; expires (optional): a STIX timestamp after which the content is released to its originator only. No other properties are allowed.",
  "version": "1.0.0",
  "extension_types": ["property-extension"]
}`

var canonicalExtensionDefinition = sync.OnceValue(func() []byte {
	b, err := stix.Canonicalize([]byte(extensionDefinition))
	if err != nil {
		panic("marking: extension definition: " + err.Error())
	}
	return b
})

// ExtensionDefinition returns the canonical JSON bytes ([RFC 8785]) of the
// STIX extension-definition that declares Puente's releasability
// property-extension, with id [ExtensionID] and version 1.0.0. Nodes serve
// it to partners and tools so that they can look the extension up.
// Each call returns a new slice.
//
// [RFC 8785]: https://www.rfc-editor.org/rfc/rfc8785
func ExtensionDefinition() []byte {
	return bytes.Clone(canonicalExtensionDefinition())
}
