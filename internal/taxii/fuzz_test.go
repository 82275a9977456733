package taxii

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzAcceptable checks the Accept parser never panics, always admits a
// header that lists the exact TAXII 2.1 media type first, and never admits a
// header with no TAXII, application or wildcard range at all.
func FuzzAcceptable(f *testing.F) {
	for _, s := range []string{
		mediaTAXII, "application/taxii+json", "*/*", "application/*", "application/json",
		"application/taxii+json;version=2.0", "application/taxii+json;q=0",
		"text/html, application/taxii+json ; version=2.1 ; q=0.5", ";;;", "", `a/b;x="\"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := acceptable([]string{h})
		if !strings.Contains(strings.ToLower(h), "application/") && !strings.Contains(h, "*") && got {
			t.Errorf("acceptable(%q) = true without any application or wildcard range", h)
		}
		if !acceptable([]string{mediaTAXII + "," + h}) {
			t.Errorf("acceptable(%q) = false with the TAXII 2.1 type listed first", mediaTAXII+","+h)
		}
		taxiiContent(h) // must not panic
	})
}

// FuzzParseFilter checks the query parser never panics, that every refusal
// is a 400 TAXII error, and that accepted queries respect the invariants the
// store relies on.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"", "limit=5", "limit=0", "added_after=2026-01-01T00:00:00.000000Z",
		"match[version]=all,last", "match[version]=first,2026-01-01T00:00:00.1Z,last",
		"match[type]=indicator,malware&match[id]=indicator--6f1f5a6e-3c1d-4b8e-9d2a-0c4b5e6f7a81",
		"match[spec_version]=2.1", "next=AQAAAAAAAAAA", "limit=%zz", "limit=1&limit=2",
		"match[version]=2026-01-02T00:00:00.0000000001Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		const maxPage = 100
		fl, err := parseFilter(q, listParams, maxPage)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || te.Status != http.StatusBadRequest {
				t.Fatalf("parseFilter(%q) error %v, want a 400 *Error", q, err)
			}
			return
		}
		if fl.limit < 1 || fl.limit > maxPage {
			t.Errorf("parseFilter(%q) limit %d, want 1..%d", q, fl.limit, maxPage)
		}
		if fl.versions.All && (fl.versions.First || fl.versions.Last || len(fl.versions.Keys) > 0) {
			t.Errorf("parseFilter(%q) combines all with other versions", q)
		}
		for _, k := range fl.versions.Keys {
			if len(k) != len("00000101T000000.000000000") {
				t.Errorf("parseFilter(%q) version key %q has the wrong width", q, k)
			}
		}
		if fl.addedAfter.Location() != time.UTC && !fl.addedAfter.IsZero() {
			t.Errorf("parseFilter(%q) added_after not UTC", q)
		}
	})
}

// FuzzCursor checks that a token opens only with the binding it was sealed
// with, and that arbitrary tokens never panic.
func FuzzCursor(f *testing.F) {
	f.Add("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", int64(0))
	f.Add("", int64(1_700_000_000_000_000))
	f.Fuzz(func(t *testing.T, tok string, us int64) {
		k := cursorKey("0123456789abcdef0123456789abcdef")
		bind := []byte("objects\x00c\x00MEX:alice")
		k.open(tok, bind) // must not panic
		if us < 0 || us > 253402300799999999 {
			return
		}
		at := time.UnixMicro(us).UTC()
		sealed := k.seal(at, bind)
		got, err := k.open(sealed, bind)
		if err != nil || !got.Equal(at) {
			t.Fatalf("open(seal(%v)) = %v, %v", at, got, err)
		}
		if _, err := k.open(sealed, []byte("objects\x00c\x00MEX:bruno")); err == nil {
			t.Fatalf("token opened for another caller")
		}
	})
}

// FuzzParseEnvelope checks the envelope reader never panics, refuses with a
// 413 or 422 TAXII error only, never returns more than the cap, and returns
// elements that are each valid JSON.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"objects":[{"type":"indicator"}]}`, `{"objects":[1,2,3]}`, `{}`, `[]`, `{"objects":{}}`,
		`{"objects":[{}],"objects":[{}]}`, `{"OBJECTS":[{}]}`, `{"objects":[{}]} x`, `{"more":true,"next":"a","objects":[{"a":[1,{"b":"]"}]}]}`,
		`{"type":"bundle","objects":[{}]}`, `{"objects":[{"a":"\u0000"}`, ` {"objects" : [ {} , {} ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		const maxObjects = 4
		objs, err := parseEnvelope(body, maxObjects)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || (te.Status != http.StatusUnprocessableEntity && te.Status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("parseEnvelope(%q) error %v, want a 413 or 422 *Error", body, err)
			}
			if objs != nil {
				t.Fatalf("parseEnvelope(%q) returned objects with an error", body)
			}
			return
		}
		if len(objs) == 0 || len(objs) > maxObjects {
			t.Fatalf("parseEnvelope(%q) returned %d objects", body, len(objs))
		}
		for _, o := range objs {
			if !json.Valid(o) {
				t.Fatalf("parseEnvelope(%q) returned invalid element %q", body, o)
			}
		}
	})
}
