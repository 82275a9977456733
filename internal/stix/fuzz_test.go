package stix

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// FuzzParse checks that whatever Parse accepts canonicalizes, and that the
// canonical bytes parse to the same object; and that Parse returns nil
// with every error.
func FuzzParse(f *testing.F) {
	for _, tc := range validObjectTests {
		f.Add([]byte(tc.in))
	}
	for _, tc := range invalidObjectTests {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte(benchObject))
	f.Fuzz(checkParse)
}

// fuzzProperties are the properties FuzzParseProperty sets.
var fuzzProperties = []string{
	"type", "id", "spec_version", "created", "modified", "revoked", "labels", "confidence", "lang",
	"created_by_ref", "object_marking_refs", "granular_markings", "external_references", "extensions",
	"x_acme", "extension_types",
}

// fuzzObjects are the valid objects FuzzParseProperty modifies.
var fuzzObjects = []obj{base, sco, marking, newSCO, extDef}

// FuzzParseProperty is FuzzParse with fuzzed property values in a valid
// object, to reach the checks behind the JSON syntax.
func FuzzParseProperty(f *testing.F) {
	for i, name := range fuzzProperties {
		for j, o := range fuzzObjects {
			for _, m := range o {
				if m[0] == name {
					f.Add(uint8(i), uint8(j), []byte(m[1]))
				}
			}
		}
	}
	f.Add(uint8(10), uint8(0), []byte(`["`+amberRef+`","`+greenRef+`"]`))
	f.Add(uint8(11), uint8(0), []byte(`[{"selectors":["description"],"marking_ref":"`+amberRef+`"},{"selectors":["name"],"lang":"fr"}]`))
	f.Add(uint8(12), uint8(0), []byte(`[{"source_name":"capec","external_id":"CAPEC-163"}]`))
	f.Add(uint8(13), uint8(3), []byte(`{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"new-sco"}}`))
	f.Add(uint8(13), uint8(0), []byte(`{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber"}}`))
	f.Fuzz(func(t *testing.T, prop, obj uint8, value []byte) {
		o := fuzzObjects[int(obj)%len(fuzzObjects)]
		name := fuzzProperties[int(prop)%len(fuzzProperties)]
		checkParse(t, []byte(o.with(name, string(value)).String()))
	})
}

// checkParse checks the properties FuzzParse and FuzzParseProperty
// assert of raw.
func checkParse(t *testing.T, raw []byte) {
	o, err := Parse(raw)
	if err != nil {
		if o != nil {
			t.Fatalf("Parse(%q) = %+v, %v, want nil with the error", raw, o, err)
		}
		return
	}
	if !bytes.Equal(o.Raw, raw) {
		t.Fatalf("Parse(%q).Raw = %q, want the input", raw, o.Raw)
	}
	canon, err := Canonicalize(raw)
	if err != nil {
		t.Fatalf("Parse(%q) succeeded but Canonicalize failed: %v", raw, err)
	}
	if o.Hash != sha256.Sum256(canon) {
		t.Fatalf("Parse(%q).Hash is not the SHA-256 of the canonical bytes %q", raw, canon)
	}
	again, err := Canonicalize(canon)
	if err != nil || !bytes.Equal(again, canon) {
		t.Fatalf("Canonicalize(%q) = %q, %v, want it unchanged", canon, again, err)
	}
	o2, err := Parse(canon)
	if err != nil {
		t.Fatalf("Parse(%q) succeeded but Parse of its canonical form %q failed: %v", raw, canon, err)
	}
	if o2.Type != o.Type || o2.ID != o.ID || o2.Version != o.Version || o2.VersionKey != o.VersionKey ||
		o2.Hash != o.Hash || o2.Revoked != o.Revoked || !slices.Equal(o2.MarkingRefs, o.MarkingRefs) {
		t.Fatalf("Parse(%q) = %+v, but Parse of its canonical form = %+v", raw, o, o2)
	}
}

// FuzzCanonicalize checks that canonical output is valid JSON, is its own
// canonical form, and decodes to what the input decodes to.
func FuzzCanonicalize(f *testing.F) {
	for _, tc := range canonicalTests {
		f.Add([]byte(tc.in))
	}
	for _, tc := range invalidJSONTests {
		f.Add([]byte(tc.in))
	}
	for _, tc := range validObjectTests {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		canon, err := Canonicalize(raw)
		if err != nil {
			if canon != nil {
				t.Fatalf("Canonicalize(%q) = %q, %v, want nil with the error", raw, canon, err)
			}
			return
		}
		if !json.Valid(canon) {
			t.Fatalf("Canonicalize(%q) = %q, not valid JSON", raw, canon)
		}
		if !json.Valid(raw) {
			t.Fatalf("Canonicalize accepted %q, which encoding/json rejects", raw)
		}
		again, err := Canonicalize(canon)
		if err != nil || !bytes.Equal(again, canon) {
			t.Fatalf("Canonicalize(%q) = %q, %v, want it unchanged", canon, again, err)
		}
		if err := checkSorted(canon); err != nil {
			t.Fatalf("Canonicalize(%q) = %q: %v", raw, canon, err)
		}
		// Canonicalize accepted raw, so it has no duplicate names and
		// encoding/json decodes it faithfully.
		var want, got any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("json.Unmarshal(%q): %v", raw, err)
		}
		if err := json.Unmarshal(canon, &got); err != nil {
			t.Fatalf("json.Unmarshal(%q): %v", canon, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Canonicalize(%q) = %q, which decodes to %v, want %v", raw, canon, got, want)
		}
	})
}

// checkSorted checks, with encoding/json's tokenizer, that the members of
// every object of the JSON text b are in strictly increasing UTF-16 order.
func checkSorted(b []byte) error {
	type frame struct {
		object, wantKey bool
		last            []uint16
		first           bool
	}
	stack := []frame{{}}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if tok == json.Delim('}') || tok == json.Delim(']') {
			stack = stack[:len(stack)-1]
			continue
		}
		top := &stack[len(stack)-1]
		if top.object && top.wantKey {
			key := utf16.Encode([]rune(tok.(string)))
			if !top.first && compareUnits(top.last, key) >= 0 {
				return fmt.Errorf("member %q is not after %q", tok, string(utf16.Decode(top.last)))
			}
			top.last, top.first, top.wantKey = key, false, false
			continue
		}
		top.wantKey = true
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true, first: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		}
	}
}

// FuzzParseTimestamp checks that accepted timestamps are UTC, agree with
// time.Parse, format and parse back to themselves, and have version keys
// that sort like them.
func FuzzParseTimestamp(f *testing.F) {
	for i, tc := range validTimestampTests {
		f.Add(tc.in, validTimestampTests[(i+1)%len(validTimestampTests)].in)
	}
	for _, tc := range invalidTimestampTests {
		f.Add(tc.in, "2016-04-06T20:03:48.1234567891Z")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, err := ParseTimestamp(a)
		if err != nil {
			if !ta.IsZero() {
				t.Fatalf("ParseTimestamp(%q) = %v, %v, want the zero time with the error", a, ta, err)
			}
			return
		}
		if ta.Location() != time.UTC {
			t.Fatalf("ParseTimestamp(%q) = %v, not UTC", a, ta)
		}
		if frac := strings.IndexByte(a, '.'); frac < 0 || len(a)-frac-2 <= 9 {
			std, err := time.Parse(time.RFC3339Nano, a)
			if err != nil || !std.Equal(ta) {
				t.Fatalf("ParseTimestamp(%q) = %v, but time.Parse = %v, %v", a, ta, std, err)
			}
		}
		s := ta.Format("2006-01-02T15:04:05.000000000Z")
		if back, err := ParseTimestamp(s); err != nil || !back.Equal(ta) {
			t.Fatalf("ParseTimestamp(%q) = %v, %v, want %v", s, back, err, ta)
		}
		ka := VersionKey(ta)
		if len(ka) != 25 {
			t.Fatalf("VersionKey(%v) = %q, want 25 bytes", ta, ka)
		}
		tb, err := ParseTimestamp(b)
		if err != nil {
			return
		}
		if got, want := strings.Compare(ka, VersionKey(tb)), ta.Compare(tb); got != want {
			t.Fatalf("VersionKey(%v) vs VersionKey(%v) compare %d, want %d", ta, tb, got, want)
		}
	})
}
