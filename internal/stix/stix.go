// Package stix parses and validates STIX 2.1 objects strictly, and produces
// their canonical bytes ([RFC 8785] JSON Canonicalization Scheme) and the
// keys Puente uses to order their versions.
//
// Objects arrive from untrusted peers and clients, and their canonical bytes
// are hashed and signed, so the JSON parser here is written for that: it
// accepts only [RFC 8259] texts that are also [I-JSON] (valid UTF-8, no lone
// surrogates or noncharacters, no duplicate member names at any depth,
// numbers that are finite doubles), nested at most 64 deep. What it accepts
// has exactly one canonical form.
//
// The STIX rules checked are those of the [STIX 2.1] specification that
// Puente relies on: identifiers, spec_version, timestamps and versioning,
// the common properties, markings, extensions and new object types. See
// [Parse].
//
// [RFC 8785]: https://www.rfc-editor.org/rfc/rfc8785
// [RFC 8259]: https://www.rfc-editor.org/rfc/rfc8259
// [I-JSON]: https://www.rfc-editor.org/rfc/rfc7493
// [STIX 2.1]: https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html
package stix

import (
	"bytes"
	"crypto/sha256"
	"errors"
)

// ErrInvalid is wrapped by every error that reports an invalid object, or
// input to [Canonicalize] that is not canonicalizable JSON. Messages have
// the form
//
//	stix: property "modified": before "created": invalid STIX object
//	stix: json: offset 17: object has duplicate member name "id": invalid STIX object
//
// and are safe to return to the sender of the object: quoted input is
// shortened.
var ErrInvalid = errors.New("invalid STIX object")

// Object is the part of a STIX object Puente needs to store and serve it.
type Object struct {
	Type        string
	ID          string
	SpecVersion string
	Created     string // as written; empty when absent
	Modified    string // as written; empty when absent
	// Version is Modified, else Created, else empty.
	Version string
	// VersionKey orders Version by value; empty when Version is.
	VersionKey  string
	Revoked     bool
	MarkingRefs []string
	// GranularRefs are the marking_ref values of granular_markings, in
	// order (lang-only entries have none).
	GranularRefs []string
	// Raw is the object exactly as received.
	Raw []byte
	// Hash is the SHA-256 of the canonical bytes.
	Hash [32]byte
}

// Parse parses and validates one STIX 2.1 object. It returns a nil Object
// and an error wrapping [ErrInvalid] if raw is not strict JSON (see the
// package documentation) or not a valid STIX 2.1 object:
//
//   - the top-level value is an object, and every top-level property name
//     is "id" or matches ^[a-z0-9_]{3,250}$;
//   - type is 3–250 characters of [a-z0-9-], without a leading, trailing or
//     doubled hyphen; "bundle" is refused, as TAXII 2.1 uses envelopes;
//   - id is type--UUID with the object's type and a lower-case RFC 9562
//     UUID of the RFC 4122 variant (any version);
//   - spec_version is "2.1";
//   - created and modified are timestamps as [ParseTimestamp] accepts, with
//     at most 9 fractional digits, and modified is not before created;
//     both are required except on cyber-observable objects (SCOs, which
//     need neither) and marking definitions (created only; they are not
//     versioned, so modified is refused);
//   - revoked is a boolean, labels a non-empty list of strings, confidence
//     an integer 0–100, lang a string, created_by_ref an identity id,
//     object_marking_refs a non-empty list of marking-definition ids;
//   - granular_markings are objects with a non-empty list of string
//     selectors and exactly one of marking_ref (a marking-definition id)
//     or lang;
//   - external_references are objects with a string source_name and at
//     least one of description, url or external_id;
//   - extensions maps extension-definition ids, or the names of the
//     extensions STIX predefines for the object's type, to objects; an
//     extension_type, where given, is one of new-sdo, new-sco, new-sro,
//     property-extension and toplevel-property-extension;
//   - an object of a type STIX does not define has exactly one extension
//     whose extension_type is new-sdo, new-sco or new-sro, and that
//     extension type decides which of the rules above apply;
//   - an extension-definition has created_by_ref, name, schema, version
//     and a non-empty extension_types list.
//
// Raw of the result is raw itself, not a copy: the caller must not modify
// raw afterwards.
func Parse(raw []byte) (*Object, error) {
	t := getTree()
	defer putTree(t)
	if err := t.parse(raw); err != nil {
		return nil, err
	}
	o := &Object{Raw: raw}
	if err := t.validate(o); err != nil {
		return nil, err
	}
	t.out = t.appendCanonical(t.out[:0], 0)
	o.Hash = sha256.Sum256(t.out)
	return o, nil
}

// Canonicalize returns the [RFC 8785] canonical form of a JSON text:
// members sorted by the UTF-16 code units of their names, no whitespace,
// strings with only the escapes JSON requires, and numbers as ECMAScript
// writes them. The text must be strict JSON as described in the package
// documentation; errors wrap [ErrInvalid].
//
// [RFC 8785]: https://www.rfc-editor.org/rfc/rfc8785
func Canonicalize(raw []byte) ([]byte, error) {
	t := getTree()
	defer putTree(t)
	if err := t.parse(raw); err != nil {
		return nil, err
	}
	t.out = t.appendCanonical(t.out[:0], 0)
	return bytes.Clone(t.out), nil
}
