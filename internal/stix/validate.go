package stix

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// category says which common properties an object type requires.
type category uint8

const (
	// catSDO is for SDOs, SROs, language-content, extension-definition and
	// new SDO and SRO types: created and modified are required.
	catSDO category = iota
	// catSCO is for cyber-observable objects: neither is required.
	catSCO
	// catMarking is for marking-definition: created is required and,
	// since marking definitions are not versioned, modified is refused.
	catMarking
)

// stixTypes holds the object types STIX 2.1 defines, with their category.
// Any other type is a new type declared by an extension-definition.
var stixTypes = map[string]category{
	// SDOs (STIX 2.1 section 4)
	"attack-pattern":   catSDO,
	"campaign":         catSDO,
	"course-of-action": catSDO,
	"grouping":         catSDO,
	"identity":         catSDO,
	"incident":         catSDO,
	"indicator":        catSDO,
	"infrastructure":   catSDO,
	"intrusion-set":    catSDO,
	"location":         catSDO,
	"malware":          catSDO,
	"malware-analysis": catSDO,
	"note":             catSDO,
	"observed-data":    catSDO,
	"opinion":          catSDO,
	"report":           catSDO,
	"threat-actor":     catSDO,
	"tool":             catSDO,
	"vulnerability":    catSDO,
	// SROs (section 5)
	"relationship": catSDO,
	"sighting":     catSDO,
	// SCOs (section 6)
	"artifact":             catSCO,
	"autonomous-system":    catSCO,
	"directory":            catSCO,
	"domain-name":          catSCO,
	"email-addr":           catSCO,
	"email-message":        catSCO,
	"file":                 catSCO,
	"ipv4-addr":            catSCO,
	"ipv6-addr":            catSCO,
	"mac-addr":             catSCO,
	"mutex":                catSCO,
	"network-traffic":      catSCO,
	"process":              catSCO,
	"software":             catSCO,
	"url":                  catSCO,
	"user-account":         catSCO,
	"windows-registry-key": catSCO,
	"x509-certificate":     catSCO,
	// Meta objects (section 7)
	"language-content":     catSDO,
	"marking-definition":   catMarking,
	"extension-definition": catSDO,
}

// predefinedExtensions maps the names of the extensions STIX 2.1 predefines
// (section 6) to the object type they extend.
var predefinedExtensions = map[string]string{
	"archive-ext":          "file",
	"ntfs-ext":             "file",
	"pdf-ext":              "file",
	"raster-image-ext":     "file",
	"windows-pebinary-ext": "file",
	"http-request-ext":     "network-traffic",
	"icmp-ext":             "network-traffic",
	"socket-ext":           "network-traffic",
	"tcp-ext":              "network-traffic",
	"windows-process-ext":  "process",
	"windows-service-ext":  "process",
	"unix-account-ext":     "user-account",
}

// isExtensionType reports whether s is an extension_type STIX 2.1 defines.
func isExtensionType(s []byte) bool {
	switch string(s) {
	case "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension":
		return true
	}
	return false
}

const extensionTypes = "new-sdo, new-sco, new-sro, property-extension or toplevel-property-extension"

// path names a property, or a part of one, for error messages. It is
// formatted only when there is an error.
type path struct {
	prop string
	i    int    // element index in prop, or -1
	sub  string // property of that element, or ""
	j    int    // element index in sub, or -1
}

// at names the top-level property prop.
func at(prop string) path { return path{prop: prop, i: -1, j: -1} }

// elem names element i of the list property prop, with an optional
// sub-property.
func elem(prop string, i int, sub string) path { return path{prop, i, sub, -1} }

// elem names element k of the list p.
func (p path) elem(k int) path {
	if p.i < 0 {
		p.i = k
	} else {
		p.j = k
	}
	return p
}

func (p path) String() string {
	s := p.prop
	if p.i >= 0 {
		s += "[" + strconv.Itoa(p.i) + "]"
	}
	if p.sub != "" {
		s += "." + p.sub
	}
	if p.j >= 0 {
		s += "[" + strconv.Itoa(p.j) + "]"
	}
	return s
}

// propError reports that the top-level property prop is invalid.
func propError(prop, format string, args ...any) error {
	return pathError(at(prop), format, args...)
}

// pathError reports that the property p is invalid.
func pathError(p path, format string, args ...any) error {
	return fmt.Errorf("stix: property %s: %s: %w", quote([]byte(p.String())), fmt.Sprintf(format, args...), ErrInvalid)
}

// props holds the indices in tree.nodes of the top-level properties
// validate looks at; 0, the root's own index, means absent.
type props struct {
	typ, id, specVersion, created, modified          int32
	revoked, labels, confidence, lang, createdByRef  int32
	markingRefs, granularMarkings, externalRefs, ext int32
	name, schema, version, extensionTypes            int32
}

// validate checks that the parsed tree t is a valid STIX 2.1 object, as
// [Parse] documents, and fills o from it.
func (t *tree) validate(o *Object) error {
	root := &t.nodes[0]
	if root.kind != kindObject {
		return fmt.Errorf("stix: top-level value is not a JSON object: %w", ErrInvalid)
	}
	var p props
	for _, m := range t.members(root) {
		name := t.bytes(m.name)
		if !validPropertyName(name) {
			return fmt.Errorf("stix: property %s: invalid name, want ^[a-z0-9_]{3,250}$: %w", quote(name), ErrInvalid)
		}
		switch string(name) {
		case "type":
			p.typ = m.val
		case "id":
			p.id = m.val
		case "spec_version":
			p.specVersion = m.val
		case "created":
			p.created = m.val
		case "modified":
			p.modified = m.val
		case "revoked":
			p.revoked = m.val
		case "labels":
			p.labels = m.val
		case "confidence":
			p.confidence = m.val
		case "lang":
			p.lang = m.val
		case "created_by_ref":
			p.createdByRef = m.val
		case "object_marking_refs":
			p.markingRefs = m.val
		case "granular_markings":
			p.granularMarkings = m.val
		case "external_references":
			p.externalRefs = m.val
		case "extensions":
			p.ext = m.val
		case "name":
			p.name = m.val
		case "schema":
			p.schema = m.val
		case "version":
			p.version = m.val
		case "extension_types":
			p.extensionTypes = m.val
		}
	}

	// Identity: type, id, spec_version.
	typ, err := t.requiredString(at("type"), p.typ)
	if err != nil {
		return err
	}
	if reason := checkType(typ); reason != "" {
		return propError("type", "%s %s", quote(typ), reason)
	}
	if string(typ) == "bundle" {
		return propError("type", `"bundle" is not a STIX object; TAXII 2.1 carries objects in envelopes`)
	}
	id, err := t.requiredString(at("id"), p.id)
	if err != nil {
		return err
	}
	idType, reason := checkIdentifier(id)
	if reason != "" {
		return propError("id", "%s %s", quote(id), reason)
	}
	if !bytes.Equal(idType, typ) {
		return propError("id", "%s does not start with the object's type %s", quote(id), quote(typ))
	}
	// Extensions decide the category of a new type.
	var newType []byte
	if p.ext != 0 {
		if newType, err = t.extensions(p.ext, typ); err != nil {
			return err
		}
	}
	cat, standard := stixTypes[string(typ)]
	switch {
	case standard && newType != nil:
		return propError("extensions", "extension_type %s is for objects of a new type, and %s is a STIX 2.1 type", quote(newType), quote(typ))
	case !standard && newType == nil:
		return propError("extensions", "%s is not a STIX 2.1 type, so an extension with extension_type new-sdo, new-sco or new-sro is required", quote(typ))
	case !standard && string(newType) == "new-sco":
		cat = catSCO
	}

	// spec_version is required, and "2.1", except on cyber-observables,
	// where STIX 2.1 makes it optional with "2.1" implied.
	switch {
	case p.specVersion == 0 && cat != catSCO:
		return propError("spec_version", `required; only STIX 2.1 objects are accepted, with spec_version "2.1"`)
	case p.specVersion != 0:
		if sv := &t.nodes[p.specVersion]; sv.kind != kindString || string(t.bytes(sv.txt)) != "2.1" {
			return propError("spec_version", `only STIX 2.1 objects are accepted, spec_version must be "2.1"`)
		}
	}

	// Versioning: created and modified.
	switch cat {
	case catSDO:
		if p.created == 0 {
			return propError("created", "required for %s", quote(typ))
		}
		if p.modified == 0 {
			return propError("modified", "required for %s", quote(typ))
		}
	case catMarking:
		if p.created == 0 {
			return propError("created", "required for %s", quote(typ))
		}
		if p.modified != 0 {
			return propError("modified", "not allowed: marking definitions are not versioned")
		}
	}
	var created, modified []byte
	var ct, mt time.Time
	if p.created != 0 {
		if created, ct, err = t.timestamp("created", p.created); err != nil {
			return err
		}
	}
	if p.modified != 0 {
		if modified, mt, err = t.timestamp("modified", p.modified); err != nil {
			return err
		}
		if created != nil && mt.Before(ct) {
			return propError("modified", `before "created"`)
		}
	}
	var keyBuf [25]byte
	var key []byte // VersionKey of modified, else created, else empty
	switch {
	case modified != nil:
		keyBuf = versionKey(mt)
		key = keyBuf[:]
	case created != nil:
		keyBuf = versionKey(ct)
		key = keyBuf[:]
	}

	// Common optional properties.
	if p.revoked != 0 {
		switch t.nodes[p.revoked].kind {
		case kindTrue:
			o.Revoked = true
		case kindFalse:
		default:
			return propError("revoked", "must be a boolean")
		}
	}
	if p.labels != 0 {
		if err := t.stringList(at("labels"), p.labels); err != nil {
			return err
		}
	}
	if p.confidence != 0 {
		// An integer literal with at most 15 digits is canonical; any
		// other literal is not an integer from 0 to 100.
		c := &t.nodes[p.confidence]
		lit := t.bytes(c.txt)
		if c.kind != kindNumber || !c.canonical || lit[0] == '-' || len(lit) > 3 || (len(lit) == 3 && string(lit) != "100") {
			return propError("confidence", "must be an integer from 0 to 100")
		}
	}
	if p.lang != 0 {
		if t.nodes[p.lang].kind != kindString {
			return propError("lang", "must be a string")
		}
	}
	if p.createdByRef != 0 {
		if _, err := t.ref(at("created_by_ref"), p.createdByRef, "identity"); err != nil {
			return err
		}
	}
	var refs []member
	if p.markingRefs != 0 {
		if refs, err = t.list(at("object_marking_refs"), p.markingRefs); err != nil {
			return err
		}
		for i, e := range refs {
			if _, err := t.ref(elem("object_marking_refs", i, ""), e.val, "marking-definition"); err != nil {
				return err
			}
		}
	}
	if p.granularMarkings != 0 {
		if err := t.granularMarkings(p.granularMarkings); err != nil {
			return err
		}
	}
	if p.externalRefs != 0 {
		if err := t.externalReferences(p.externalRefs); err != nil {
			return err
		}
	}

	if string(typ) == "extension-definition" {
		if err := t.extensionDefinition(&p); err != nil {
			return err
		}
	}

	// Fill o, with all its strings in one allocation.
	size := len(id) + len(created) + len(modified) + len(key)
	for _, r := range refs {
		size += len(t.bytes(t.nodes[r.val].txt))
	}
	var b strings.Builder
	b.Grow(size)
	b.Write(id)
	b.Write(created)
	b.Write(modified)
	b.Write(key)
	for _, r := range refs {
		b.Write(t.bytes(t.nodes[r.val].txt))
	}
	all := b.String()
	next := func(n int) string {
		s := all[:n]
		all = all[n:]
		return s
	}
	o.ID = next(len(id))
	o.Type = o.ID[:len(typ)]
	o.SpecVersion = "2.1"
	o.Created = next(len(created))
	o.Modified = next(len(modified))
	o.Version = o.Modified
	if o.Version == "" {
		o.Version = o.Created
	}
	o.VersionKey = next(len(key))
	if len(refs) > 0 {
		o.MarkingRefs = make([]string, len(refs))
		for i, r := range refs {
			o.MarkingRefs[i] = next(int(t.nodes[r.val].txt.n))
		}
	}
	if p.granularMarkings != 0 {
		// Validated above; rare, so plain allocations.
		elems, _ := t.list(at("granular_markings"), p.granularMarkings)
		for _, e := range elems {
			if ref := t.lookup(&t.nodes[e.val], "marking_ref"); ref != 0 {
				o.GranularRefs = append(o.GranularRefs, string(t.bytes(t.nodes[ref].txt)))
			}
		}
	}
	return nil
}

// members returns the members of the object or array n.
func (t *tree) members(n *node) []member {
	return t.mems[n.first : n.first+n.n]
}

// lookup returns the index of the value of member name of the object n,
// or 0 if it has none.
func (t *tree) lookup(n *node, name string) int32 {
	for _, m := range t.members(n) {
		if string(t.bytes(m.name)) == name {
			return m.val
		}
	}
	return 0
}

// requiredString returns the string value v of the required property prop.
func (t *tree) requiredString(prop path, v int32) ([]byte, error) {
	if v == 0 {
		return nil, pathError(prop, "required")
	}
	n := &t.nodes[v]
	if n.kind != kindString {
		return nil, pathError(prop, "must be a string")
	}
	return t.bytes(n.txt), nil
}

// timestamp returns the value v of the timestamp property prop, as
// written and as a time.
func (t *tree) timestamp(prop string, v int32) ([]byte, time.Time, error) {
	n := &t.nodes[v]
	if n.kind != kindString {
		return nil, time.Time{}, propError(prop, "must be a timestamp string")
	}
	s := t.bytes(n.txt)
	tm, err := parseTimestamp(string(s), maxObjectFraction)
	if err != nil {
		return nil, time.Time{}, propError(prop, "%s is not a STIX timestamp: %s", quote(s), err.reason)
	}
	return s, tm, nil
}

// list returns the elements of the list property prop, which must be a
// non-empty array: STIX forbids empty lists.
func (t *tree) list(prop path, v int32) ([]member, error) {
	n := &t.nodes[v]
	if n.kind != kindArray {
		return nil, pathError(prop, "must be a list")
	}
	if n.n == 0 {
		return nil, pathError(prop, "must not be empty")
	}
	return t.members(n), nil
}

// stringList checks that the property prop is a non-empty list of strings.
func (t *tree) stringList(prop path, v int32) error {
	elems, err := t.list(prop, v)
	if err != nil {
		return err
	}
	for i, e := range elems {
		if t.nodes[e.val].kind != kindString {
			return pathError(prop.elem(i), "must be a string")
		}
	}
	return nil
}

// ref checks that the property prop is the identifier of an object of
// type typ and returns it.
func (t *tree) ref(prop path, v int32, typ string) ([]byte, error) {
	n := &t.nodes[v]
	if n.kind != kindString {
		return nil, pathError(prop, "must be a string identifier")
	}
	s := t.bytes(n.txt)
	got, reason := checkIdentifier(s)
	if reason != "" {
		return nil, pathError(prop, "%s %s", quote(s), reason)
	}
	if string(got) != typ {
		return nil, pathError(prop, "%s is not the id of a %s object", quote(s), typ)
	}
	return s, nil
}

// granularMarkings checks the granular_markings property.
func (t *tree) granularMarkings(v int32) error {
	const prop = "granular_markings"
	elems, err := t.list(at(prop), v)
	if err != nil {
		return err
	}
	for i, e := range elems {
		g := &t.nodes[e.val]
		if g.kind != kindObject {
			return pathError(elem(prop, i, ""), "must be an object")
		}
		sel := t.lookup(g, "selectors")
		if sel == 0 {
			return pathError(elem(prop, i, "selectors"), "required")
		}
		if err := t.stringList(elem(prop, i, "selectors"), sel); err != nil {
			return err
		}
		ref, lang := t.lookup(g, "marking_ref"), t.lookup(g, "lang")
		switch {
		case ref != 0 && lang != 0:
			return pathError(elem(prop, i, ""), "has both marking_ref and lang, want exactly one")
		case ref != 0:
			if _, err := t.ref(elem(prop, i, "marking_ref"), ref, "marking-definition"); err != nil {
				return err
			}
		case lang != 0:
			if t.nodes[lang].kind != kindString {
				return pathError(elem(prop, i, "lang"), "must be a string")
			}
		default:
			return pathError(elem(prop, i, ""), "has neither marking_ref nor lang, want exactly one")
		}
	}
	return nil
}

// externalReferences checks the external_references property.
func (t *tree) externalReferences(v int32) error {
	const prop = "external_references"
	elems, err := t.list(at(prop), v)
	if err != nil {
		return err
	}
	for i, e := range elems {
		r := &t.nodes[e.val]
		if r.kind != kindObject {
			return pathError(elem(prop, i, ""), "must be an object")
		}
		if _, err := t.requiredString(elem(prop, i, "source_name"), t.lookup(r, "source_name")); err != nil {
			return err
		}
		found := false
		for _, name := range []string{"description", "url", "external_id"} {
			if x := t.lookup(r, name); x != 0 {
				if t.nodes[x].kind != kindString {
					return pathError(elem(prop, i, name), "must be a string")
				}
				found = true
			}
		}
		if !found {
			return pathError(elem(prop, i, ""), "needs at least one of description, url and external_id")
		}
	}
	return nil
}

// extensions checks the extensions property of an object of type typ and
// returns the extension_type of its new-sdo, new-sco or new-sro
// extension, or nil if it has none.
func (t *tree) extensions(v int32, typ []byte) (newType []byte, err error) {
	const prop = "extensions"
	n := &t.nodes[v]
	if n.kind != kindObject {
		return nil, propError(prop, "must be an object")
	}
	for _, m := range t.members(n) {
		name := t.bytes(m.name)
		val := &t.nodes[m.val]
		if bytes.HasPrefix(name, []byte("extension-definition--")) {
			if _, reason := checkIdentifier(name); reason != "" {
				return nil, propError(prop, "key %s %s", quote(name), reason)
			}
			if val.kind != kindObject {
				return nil, propError(prop, "value of %s must be an object", quote(name))
			}
			et := t.lookup(val, "extension_type")
			if et == 0 {
				continue
			}
			s := t.bytes(t.nodes[et].txt)
			if t.nodes[et].kind != kindString || !isExtensionType(s) {
				return nil, propError(prop, "extension_type of %s must be %s", quote(name), extensionTypes)
			}
			if bytes.HasPrefix(s, []byte("new-")) {
				if newType != nil {
					return nil, propError(prop, "more than one extension has extension_type new-sdo, new-sco or new-sro")
				}
				newType = s
			}
			continue
		}
		if owner, ok := predefinedExtensions[string(name)]; ok && owner == string(typ) {
			if val.kind != kindObject {
				return nil, propError(prop, "value of %s must be an object", quote(name))
			}
			continue
		}
		return nil, propError(prop, "key %s is neither an extension-definition id nor an extension STIX 2.1 predefines for %s", quote(name), quote(typ))
	}
	return newType, nil
}

// extensionDefinition checks the properties an extension-definition
// requires.
func (t *tree) extensionDefinition(p *props) error {
	const typ = "extension-definition"
	if p.createdByRef == 0 {
		return propError("created_by_ref", "required for %q", typ)
	}
	for _, s := range []struct {
		name string
		v    int32
	}{{"name", p.name}, {"schema", p.schema}, {"version", p.version}} {
		if s.v == 0 {
			return propError(s.name, "required for %q", typ)
		}
		if t.nodes[s.v].kind != kindString {
			return propError(s.name, "must be a string")
		}
	}
	if p.extensionTypes == 0 {
		return propError("extension_types", "required for %q", typ)
	}
	elems, err := t.list(at("extension_types"), p.extensionTypes)
	if err != nil {
		return err
	}
	for i, e := range elems {
		n := &t.nodes[e.val]
		if n.kind != kindString || !isExtensionType(t.bytes(n.txt)) {
			return pathError(elem("extension_types", i, ""), "must be %s", extensionTypes)
		}
	}
	return nil
}

// validPropertyName reports whether name is "id" or matches
// ^[a-z0-9_]{3,250}$, the rule STIX sets for custom property names and
// that every other standard name also meets.
func validPropertyName(name []byte) bool {
	if string(name) == "id" {
		return true
	}
	if len(name) < 3 || len(name) > 250 {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// checkType returns why s is not a valid STIX type name, or "".
func checkType(s []byte) string {
	if len(s) < 3 || len(s) > 250 {
		return "must be 3 to 250 characters long"
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || isDigit(c) || c == '-') {
			return "may contain only a-z, 0-9 and hyphens"
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return "must not start or end with a hyphen"
	}
	if bytes.Contains(s, []byte("--")) {
		return "must not contain consecutive hyphens"
	}
	return ""
}

// checkIdentifier checks that s is a STIX identifier, type--UUID, with a
// lower-case UUID of the RFC 4122 variant, and returns its type; or it
// returns why not.
func checkIdentifier(s []byte) (typ []byte, reason string) {
	i := bytes.Index(s, []byte("--"))
	if i < 0 {
		return nil, "is not an identifier of the form type--UUID"
	}
	typ, u := s[:i], s[i+2:]
	if r := checkType(typ); r != "" {
		return nil, "is not an identifier: its type " + r
	}
	if len(u) != 36 {
		return nil, "is not an identifier: its UUID must be 36 characters of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
	}
	for k, c := range u {
		switch k {
		case 8, 13, 18, 23:
			if c != '-' {
				return nil, "is not an identifier: its UUID must be of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
			}
		default:
			if !(isDigit(c) || 'a' <= c && c <= 'f') {
				return nil, "is not an identifier: its UUID must be lower-case hexadecimal"
			}
		}
	}
	switch u[19] {
	case '8', '9', 'a', 'b':
	default:
		return nil, "is not an identifier: its UUID is not of the RFC 4122 variant (want 8, 9, a or b at offset 19)"
	}
	return typ, ""
}
