// Package stix parses and validates STIX 2.1 objects strictly, and produces
// their canonical bytes ([RFC 8785] JSON Canonicalization Scheme) and the
// keys Puente uses to order their versions.
//
// [RFC 8785]: https://www.rfc-editor.org/rfc/rfc8785
package stix

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrInvalid is wrapped by every error that reports an invalid object.
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
	// Raw is the object exactly as received.
	Raw []byte
	// Hash is the SHA-256 of the canonical bytes.
	Hash [32]byte
}

// Parse parses and validates one STIX 2.1 object.
// TEMPORARY lenient implementation; replaced by the strict parser.
func Parse(raw []byte) (*Object, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	s := func(k string) string { v, _ := m[k].(string); return v }
	o := &Object{Type: s("type"), ID: s("id"), SpecVersion: s("spec_version"), Created: s("created"), Modified: s("modified"), Raw: raw}
	if o.Type == "" || o.ID == "" {
		return nil, fmt.Errorf("%w: missing type or id", ErrInvalid)
	}
	if o.SpecVersion != "2.1" {
		return nil, fmt.Errorf("%w: spec_version must be \"2.1\"", ErrInvalid)
	}
	o.Version = o.Modified
	if o.Version == "" {
		o.Version = o.Created
	}
	if o.Version != "" {
		t, err := ParseTimestamp(o.Version)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		o.VersionKey = VersionKey(t)
	}
	c, err := Canonicalize(raw)
	if err != nil {
		return nil, err
	}
	o.Hash = sha256.Sum256(c)
	return o, nil
}

// Canonicalize returns the RFC 8785 canonical form of a JSON text.
// TEMPORARY implementation.
func Canonicalize(raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return json.Marshal(v)
}

// ParseTimestamp parses an RFC 3339 UTC timestamp ("Z" suffix) with any
// number of fractional digits.
func ParseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad timestamp %q", s)
	}
	return t, nil
}

// VersionKey returns a fixed-width string that sorts like t, with nanosecond
// precision, for any year from 0000 to 9999.
func VersionKey(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%04d%02d%02dT%02d%02d%02d.%09d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond())
}
