package taxii_test

// Conformance cases for TAXII 2.1 and for every trap in
// shared/TAXII-NOTES.md (the trap number is in each case's name). Every case
// also checks, whatever its status, that Content-Type is exactly
// application/taxii+json;version=2.1 (trap 1) and that error bodies are TAXII
// error resources whose http_status is the status as a string (trap 11).

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/taxii"
)

// seeded holds the data every read-only case sees.
const (
	v1 = "2026-01-01T00:00:00.000Z"
	v2 = "2026-01-02T00:00:00.000Z"
	v3 = "2026-01-03T00:00:00.100Z" // matched by value as 2026-01-03T00:00:00.1Z
	ip = `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`
)

func seed(t *testing.T, e *env) {
	t.Helper()
	// Indicator 1 has three versions, added in separate requests.
	e.add(e.coll, indicator(1, v1, 300))
	e.add(e.coll, indicator(1, v2, 300))
	e.add(e.coll, indicator(1, v3, 300), indicator(2, v1, 300), indicator(3, v1, 300),
		indicator(4, v1, 300), indicator(5, v1, 300), []byte(ip))
}

type check func(t *testing.T, e *env, r response)

type conformanceCase struct {
	name   string
	req    func(e *env) req
	status int
	check  check
}

// Checks.
func keys(want ...string) check {
	return func(t *testing.T, e *env, r response) {
		m := r.json(t)
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("body keys = %v, want %v\n%s", got, want, r.body)
		}
	}
}

func exactBody(want string) check {
	return func(t *testing.T, e *env, r response) {
		if string(r.body) != want {
			t.Errorf("body = %s, want %s", r.body, want)
		}
	}
}

func noDateHeaders(t *testing.T, e *env, r response) {
	for _, h := range []string{"X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"} {
		if v := r.header.Get(h); v != "" {
			t.Errorf("%s = %q on an empty page, want absent", h, v)
		}
	}
}

func all(cs ...check) check {
	return func(t *testing.T, e *env, r response) {
		for _, c := range cs {
			c(t, e, r)
		}
	}
}

func objectIDsOf(t *testing.T, r response) []string {
	t.Helper()
	m := r.json(t)
	objs, _ := m["objects"].([]any)
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.(map[string]any)["id"].(string))
	}
	return ids
}

func versionsOf(t *testing.T, r response) []string {
	t.Helper()
	m := r.json(t)
	var out []string
	if vs, ok := m["versions"].([]any); ok {
		for _, v := range vs {
			out = append(out, v.(string))
		}
		return out
	}
	objs, _ := m["objects"].([]any)
	for _, o := range objs {
		out = append(out, o.(map[string]any)["modified"].(string))
	}
	return out
}

func wantVersions(want ...string) check {
	return func(t *testing.T, e *env, r response) {
		if got := versionsOf(t, r); !slices.Equal(got, want) {
			t.Errorf("versions = %v, want %v", got, want)
		}
	}
}

func wantCount(n int) check {
	return func(t *testing.T, e *env, r response) {
		if got := len(objectIDsOf(t, r)); got != n {
			t.Errorf("got %d objects, want %d: %s", got, n, r.body)
		}
	}
}

func headerPresent(h string) check {
	return func(t *testing.T, e *env, r response) {
		if r.header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
}

func get(path string) func(*env) req { return func(*env) req { return req{path: path} } }

func getColl(sub, query string) func(*env) req {
	return func(e *env) req {
		p := root + "collections/" + e.coll + "/" + sub
		if query != "" {
			p += "?" + query
		}
		return req{path: p}
	}
}

func withAccept(accept string, f func(*env) req) func(*env) req {
	return func(e *env) req { q := f(e); q.accept = str(accept); return q }
}

func as(user string, f func(*env) req) func(*env) req {
	return func(e *env) req { q := f(e); q.user = user; return q }
}

func post(body []byte, ctype *string) func(*env) req {
	return func(e *env) req {
		return req{method: http.MethodPost, path: objectsPath(e.coll, ""), body: body, ctype: ctype}
	}
}

var obj1 = indicatorID(1)

// manyTypes returns n distinct STIX-like type names, comma-separated.
func manyTypes(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "type-%03d", i)
	}
	return b.String()
}

// readCases run against one seeded server and change nothing.
var readCases = []conformanceCase{
	// Content negotiation (traps 1, 2, 14).
	{"t1 discovery content type", get("/taxii2/"), 200, keys("title", "default", "api_roots")},
	{"t2 accept without version", withAccept("application/taxii+json", get("/taxii2/")), 200, nil},
	{"t2 accept with version", withAccept(mediaTAXII, get("/taxii2/")), 200, nil},
	{"t2 accept list with q-values", withAccept("application/json;q=0.5, application/taxii+json;version=2.1;q=0.9", get("/taxii2/")), 200, nil},
	{"t2 accept list with spaces and params", withAccept("text/html , application/taxii+json ; version=2.1", get(root)), 200, nil},
	{"t2 accept wildcard", withAccept("*/*", get(root)), 200, nil},
	{"t2 accept application wildcard", withAccept("application/*", get(root)), 200, nil},
	{"t2 no accept header", withAccept("", get(root)), 200, nil},
	{"t2 accept taxii 2.0 only", withAccept("application/taxii+json;version=2.0", get(root)), 406, nil},
	{"t2 accept json only", withAccept("application/json", get(root)), 406, nil},
	{"t2 accept stix only", withAccept("application/stix+json;version=2.1", getColl("objects/", "")), 406, nil},
	{"t2 accept taxii with q=0", withAccept("application/taxii+json;q=0", get(root)), 406, nil},
	{"t14 accept taxii 2.0 vendor type", withAccept("application/vnd.oasis.taxii+json", get(root)), 406, nil},
	{"t2 garbage accept", withAccept(";;;", get(root)), 406, nil},

	// Authentication (trap 12).
	{"t12 no credentials", func(*env) req { return req{path: "/taxii2/", noAuth: true} }, 401, headerPresent("WWW-Authenticate")},
	{"t12 wrong password on collection", func(e *env) req {
		return req{path: objectsPath(e.coll, ""), noAuth: true}
	}, 401, headerPresent("WWW-Authenticate")},
	{"t12 unknown user", as("mallory", get(root)), 401, nil},
	{"t12 no credentials on unknown path", func(*env) req { return req{path: "/nope/", noAuth: true} }, 401, nil},

	// Discovery and api root (traps 13, 14).
	{"t13 discovery roots are relative", get("/taxii2/"), 200, func(t *testing.T, e *env, r response) {
		m := r.json(t)
		roots := m["api_roots"].([]any)
		if len(roots) != 1 || roots[0] != root || m["default"] != root {
			t.Errorf("api_roots = %v, default = %v; want [%s] and %s", roots, m["default"], root, root)
		}
	}},
	{"api root versions and max_content_length", get(root), 200, func(t *testing.T, e *env, r response) {
		m := r.json(t)
		if vs := m["versions"].([]any); !slices.Contains(vs, any(mediaTAXII)) {
			t.Errorf("versions = %v, want %s in it", vs, mediaTAXII)
		}
		if n, _ := m["max_content_length"].(float64); n <= 0 {
			t.Errorf("max_content_length = %v, want > 0", m["max_content_length"])
		}
	}},
	{"unknown path is a TAXII 404", get("/taxii2/other/"), 404, nil},
	{"path without trailing slash is a TAXII 404", get(root + "collections"), 404, nil},
	{"method not allowed", func(e *env) req { return req{method: http.MethodPut, path: root, body: []byte("{}")} }, 405, headerPresent("Allow")},

	// Collections.
	{"collections list with rights", get(root + "collections/"), 200, func(t *testing.T, e *env, r response) {
		cs := r.json(t)["collections"].([]any)
		if len(cs) != 2 {
			t.Fatalf("got %d collections, want 2", len(cs))
		}
		for _, c := range cs {
			m := c.(map[string]any)
			if m["can_read"] != true || m["can_write"] != true || m["media_types"] == nil {
				t.Errorf("collection %v: want can_read, can_write and media_types", m)
			}
		}
	}},
	{"collection by alias", get(root + "collections/fentanyl/"), 200, func(t *testing.T, e *env, r response) {
		if id := r.json(t)["id"]; id != e.coll {
			t.Errorf("id = %v, want %s", id, e.coll)
		}
	}},
	{"collection by id", func(e *env) req { return req{path: root + "collections/" + e.coll + "/"} }, 200, keys("id", "title", "alias", "can_read", "can_write", "media_types")},
	{"auditor cannot write", as("audrey", get(root+"collections/fentanyl/")), 200, func(t *testing.T, e *env, r response) {
		if m := r.json(t); m["can_read"] != true || m["can_write"] != false {
			t.Errorf("can_read, can_write = %v, %v; want true, false", m["can_read"], m["can_write"])
		}
	}},
	{"partner cannot write (G2)", as("USA", get(root+"collections/fentanyl/")), 200, func(t *testing.T, e *env, r response) {
		if m := r.json(t); m["can_write"] != false {
			t.Errorf("can_write = %v, want false", m["can_write"])
		}
	}},
	{"partner does not see internal collection", as("USA", get(root+"collections/internal/")), 404, nil},
	{"partner collection list omits internal", as("USA", get(root+"collections/")), 200, func(t *testing.T, e *env, r response) {
		if cs := r.json(t)["collections"].([]any); len(cs) != 1 {
			t.Errorf("got %d collections, want 1", len(cs))
		}
	}},
	{"unknown collection", get(root + "collections/9b2b7c1e-0000-4000-8000-000000000000/"), 404, nil},
	{"principal without a party sees no collection", as("ghost", get(root+"collections/fentanyl/objects/")), 404, nil},
	{"principal without a party lists none", as("ghost", get(root+"collections/")), 200, exactBody("{}")},
	{"unknown collection objects", get(root + "collections/nope/objects/"), 404, nil},

	// Empty results (trap 3, 5, 8).
	{"t3 empty collection objects is {}", func(e *env) req { return req{path: objectsPath(e.internal, "")} }, 200, all(exactBody("{}"), noDateHeaders)},
	{"t3 empty collection manifest is {}", func(e *env) req { return req{path: root + "collections/internal/manifest/"} }, 200, all(exactBody("{}"), noDateHeaders)},
	{"t8 type not held is not an error", getColl("objects/", "match[type]=malware"), 200, exactBody("{}")},
	{"t8 spec_version 2.0 not held", getColl("objects/", "match[spec_version]=2.0"), 200, exactBody("{}")},

	// Malformed parameters (trap 7).
	{"t7 bad added_after", getColl("objects/", "added_after=yesterday"), 400, nil},
	{"t7 added_after with offset", getColl("objects/", "added_after=2026-01-01T00:00:00%2B01:00"), 400, nil},
	{"t7 limit zero", getColl("objects/", "limit=0"), 400, nil},
	{"t7 limit negative", getColl("objects/", "limit=-1"), 400, nil},
	{"t7 limit not a number", getColl("objects/", "limit=abc"), 400, nil},
	{"t7 limit empty", getColl("objects/", "limit="), 400, nil},
	{"t7 repeated limit", getColl("objects/", "limit=1&limit=2"), 400, nil},
	{"t7 repeated match type", getColl("objects/", "match[type]=indicator&match[type]=malware"), 400, nil},
	{"t7 version all with last", getColl("objects/", "match[version]=all,last"), 400, nil},
	{"t7 version repeated value", getColl("objects/", "match[version]=first,first"), 400, nil},
	{"t7 version bogus", getColl("objects/", "match[version]=newest"), 400, nil},
	{"t7 unknown parameter", getColl("objects/", "match[colour]=red"), 400, nil},
	{"t7 bad spec_version", getColl("objects/", "match[spec_version]=two"), 400, nil},
	{"t7 bad type", getColl("objects/", "match[type]=Indicator"), 400, nil},
	{"t7 bad id", getColl("objects/", "match[id]=not-an-id"), 400, nil},
	{"t7 bad next", getColl("objects/", "next=garbage"), 400, nil},
	{"t7 match version on versions endpoint", getColl("objects/"+obj1+"/versions/", "match[version]=all"), 400, nil},
	{"t7 match type on object endpoint", getColl("objects/"+obj1+"/", "match[type]=indicator"), 400, nil},
	{"t7 bad percent encoding", getColl("objects/", "limit=%zz"), 400, nil},

	// Versions (traps 8, 9).
	{"t8 default is last version", getColl("objects/", "match[id]="+obj1), 200, wantVersions(v3)},
	{"t8 first version", getColl("objects/", "match[id]="+obj1+"&match[version]=first"), 200, wantVersions(v1)},
	{"t8 first and last", getColl("objects/", "match[id]="+obj1+"&match[version]=last,first"), 200, wantVersions(v1, v3)},
	{"t8 all versions", getColl("objects/", "match[id]="+obj1+"&match[version]=all"), 200, wantVersions(v1, v2, v3)},
	{"t9 exact version compared by value", getColl("objects/", "match[id]="+obj1+"&match[version]=2026-01-03T00:00:00.1Z"), 200, wantVersions(v3)},
	{"t9 exact version with nine digits", getColl("objects/", "match[version]=2026-01-02T00:00:00.000000000Z"), 200, wantVersions(v2)},
	{"t9 exact version finer than stored matches nothing", getColl("objects/", "match[version]=2026-01-02T00:00:00.0000000001Z"), 200, exactBody("{}")},
	{"t8 id and type ANDed", getColl("objects/", "match[id]="+obj1+"&match[type]=malware"), 200, exactBody("{}")},
	{"t8 types ORed", getColl("objects/", "match[type]=malware,ipv4-addr"), 200, wantCount(1)},
	{"t8 ids ORed", getColl("objects/", "match[id]="+obj1+","+indicatorID(2)), 200, wantCount(2)},
	{"t8 spec_version 2.1", getColl("objects/", "match[spec_version]=2.1"), 200, wantCount(6)},
	{"t9 versions endpoint strings byte-identical", getColl("objects/"+obj1+"/versions/", ""), 200, all(wantVersions(v1, v2, v3), headerPresent("X-TAXII-Date-Added-First"))},
	{"versions of unknown object", getColl("objects/indicator--00000000-0000-4000-8000-00000000ffff/versions/", ""), 404, nil},
	{"object endpoint returns last version", getColl("objects/"+obj1+"/", ""), 200, wantVersions(v3)},
	{"object endpoint all versions", getColl("objects/"+obj1+"/", "match[version]=all"), 200, wantVersions(v1, v2, v3)},
	{"object endpoint unknown object", getColl("objects/indicator--00000000-0000-4000-8000-00000000ffff/", ""), 404, nil},
	{"object endpoint malformed id", getColl("objects/nonsense/", ""), 404, nil},
	{"object endpoint filters exclude every version", getColl("objects/"+obj1+"/", "match[spec_version]=2.0"), 200, exactBody("{}")},
	// TAXII: a server SHOULD give an object with neither modified nor
	// created a version "consistent to the server". Puente's is the time
	// it was added, the same for every reader; not its date_added, which
	// each partner has its own of.
	{"SCO version is the time it was added", getColl("manifest/", "match[type]=ipv4-addr"), 200, func(t *testing.T, e *env, r response) {
		rec := r.json(t)["objects"].([]any)[0].(map[string]any)
		v, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["version"]))
		d, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["date_added"]))
		if err1 != nil || err2 != nil || v.After(d) || d.Sub(v) > time.Second {
			t.Errorf("version %v, date_added %v: want the time it was added, at most its date_added", rec["version"], rec["date_added"])
		}
		usa := e.get(root+"collections/"+e.coll+"/manifest/?match[type]=ipv4-addr", "USA").json(t)["objects"].([]any)[0].(map[string]any)
		if usa["version"] != rec["version"] {
			t.Errorf("USA sees version %v, the node's own users %v", usa["version"], rec["version"])
		}
	}},

	// Manifest and headers (trap 5).
	{"t5 manifest records and headers", getColl("manifest/", ""), 200, func(t *testing.T, e *env, r response) {
		recs := r.json(t)["objects"].([]any)
		if len(recs) != 6 {
			t.Fatalf("got %d records, want 6", len(recs))
		}
		first := recs[0].(map[string]any)
		last := recs[len(recs)-1].(map[string]any)
		if got := r.header.Get("X-TAXII-Date-Added-First"); got != first["date_added"] {
			t.Errorf("X-TAXII-Date-Added-First = %q, want %v", got, first["date_added"])
		}
		if got := r.header.Get("X-TAXII-Date-Added-Last"); got != last["date_added"] {
			t.Errorf("X-TAXII-Date-Added-Last = %q, want %v", got, last["date_added"])
		}
		for _, rec := range recs {
			m := rec.(map[string]any)
			if m["media_type"] != "application/stix+json;version=2.1" || len(m["date_added"].(string)) != len("2006-01-02T15:04:05.000000Z") {
				t.Errorf("record %v: want STIX media type and a six-digit date_added", m)
			}
		}
	}},
	{"t5 objects headers present", getColl("objects/", ""), 200, all(headerPresent("X-TAXII-Date-Added-First"), headerPresent("X-TAXII-Date-Added-Last"))},
	{"t5 object headers present", getColl("objects/"+obj1+"/", ""), 200, headerPresent("X-TAXII-Date-Added-Last")},
	{"limit caps the page", getColl("objects/", "limit=2"), 200, all(wantCount(2), func(t *testing.T, e *env, r response) {
		if m := r.json(t); m["more"] != true || m["next"] == nil {
			t.Errorf("more = %v, next = %v; want true and a token", m["more"], m["next"])
		}
	})},
	{"last page says no more", getColl("objects/", "limit=6"), 200, keys("objects")},

	// Status (trap 10).
	{"unknown status", get(root + "status/2d086da7-4bdc-4f91-900e-d77486753710/"), 404, nil},

	// Delete rights (section 5.7 table).
	{"delete by reader without write", func(e *env) req {
		return req{method: http.MethodDelete, path: objectsPath(e.coll, "") + obj1 + "/", user: "audrey"}
	}, 403, nil},
	{"delete by partner (G2)", func(e *env) req {
		return req{method: http.MethodDelete, path: objectsPath(e.coll, "") + obj1 + "/", user: "USA"}
	}, 403, nil},
	{"delete in hidden collection", func(e *env) req {
		return req{method: http.MethodDelete, path: objectsPath(e.internal, "") + obj1 + "/", user: "USA"}
	}, 404, nil},
	{"post by partner (G2)", as("USA", post(envelope(indicator(90, v1, 200)), nil)), 403, nil},
	{"post by auditor", as("audrey", post(envelope(indicator(91, v1, 200)), nil)), 403, nil},
	{"post to hidden collection", func(e *env) req {
		return req{method: http.MethodPost, path: objectsPath(e.internal, ""), body: envelope(indicator(92, v1, 200)), user: "USA"}
	}, 404, nil},

	// Bad bodies (traps 2, 14).
	{"t2 post with json content type", post(envelope(indicator(93, v1, 200)), str("application/json")), 415, nil},
	{"t2 post with taxii 2.0 content type", post(envelope(indicator(93, v1, 200)), str("application/taxii+json;version=2.0")), 415, nil},
	{"t14 post with vendor content type", post(envelope(indicator(93, v1, 200)), str("application/vnd.oasis.taxii+json; version=2.0")), 415, nil},
	{"t2 post without content type", post(envelope(indicator(93, v1, 200)), str("")), 415, nil},
	{"post body not JSON", post([]byte("objects please"), nil), 422, nil},
	{"post body truncated", post([]byte(`{"objects":[{"type":`), nil), 422, nil},
	{"post body is a list", post([]byte(`[{"type":"indicator"}]`), nil), 422, nil},
	{"t14 post a STIX bundle", post([]byte(`{"type":"bundle","id":"bundle--6f1f5a6e-3c1d-4b8e-9d2a-0c4b5e6f7a81","objects":[`+string(indicator(94, v1, 200))+`]}`), nil), 422, nil},
	{"t3 post an empty envelope", post([]byte(`{}`), nil), 422, nil},
	{"post objects not a list", post([]byte(`{"objects":{"a":1}}`), nil), 422, nil},
	{"post envelope member twice", post([]byte(`{"objects":[`+string(indicator(95, v1, 200))+`],"objects":[`+string(indicator(96, v1, 200))+`]}`), nil), 422, nil},
	{"post envelope member names match exactly", post([]byte(`{"OBJECTS":[`+string(indicator(97, v1, 200))+`]}`), nil), 422, nil},
	{"post data after the envelope", post([]byte(`{"objects":[`+string(indicator(98, v1, 200))+`]} {}`), nil), 422, nil},
	{"t7 too many match values", getColl("objects/", "match[type]="+manyTypes(101)), 400, nil},
	{"t7 many match values within bound", getColl("objects/", "match[type]="+manyTypes(100)), 200, exactBody("{}")},
	{"t8 spec_version list with 2.1", getColl("objects/", "match[spec_version]=2.0,2.1"), 200, wantCount(6)},
}

func TestConformanceRead(t *testing.T) {
	e := newEnv(t, taxii.Config{})
	seed(t, e)
	for _, tc := range readCases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			r := e.do(tc.req(e))
			checkCommon(t, r, tc.status)
			if tc.check != nil && r.status == tc.status {
				tc.check(t, e, r)
			}
		})
	}
}

// checkCommon asserts the status, the one Content-Type (trap 1) and, on
// errors, a TAXII error body (trap 11).
func checkCommon(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Values("Content-Type"); len(ct) != 1 || ct[0] != mediaTAXII {
		t.Errorf("Content-Type = %q, want exactly %q", ct, mediaTAXII)
	}
	if r.status >= 400 {
		m := r.json(t)
		if title, _ := m["title"].(string); title == "" {
			t.Errorf("error body has no title: %s", r.body)
		}
		if hs := m["http_status"]; hs != strconv.Itoa(r.status) {
			t.Errorf("http_status = %#v, want the string %q", hs, strconv.Itoa(r.status))
		}
	}
	if bytes.Contains(r.body, []byte("[]")) {
		t.Errorf("body holds an empty list (trap 3): %s", r.body)
	}
	_ = strings.TrimSpace
}
