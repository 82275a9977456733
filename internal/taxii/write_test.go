package taxii_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/taxii"
)

func details(t *testing.T, m map[string]any, key string) []map[string]any {
	t.Helper()
	raw, _ := m[key].([]any)
	out := make([]map[string]any, len(raw))
	for i, d := range raw {
		out[i] = d.(map[string]any)
	}
	return out
}

func count(m map[string]any, key string) int {
	n, _ := m[key].(float64)
	return int(n)
}

// Trap 10: counts add up, lists are complete with id and version, bad
// objects fail one by one, duplicates are successes, conflicts are failures.
func TestAddObjectsStatus(t *testing.T) {
	e := newEnv(t, taxii.Config{})
	bad := []string{
		`{"type":"indicator","id":"indicator--bad"}`,
		`"not an object"`,
		`{"type":"indicator","spec_version":"2.0","id":"indicator--00000000-0000-4000-8000-0000000000aa","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z"}`,
	}
	objs := [][]byte{indicator(1, v1, 500), []byte(bad[0]), indicator(2, v1, 500), []byte(bad[1]), []byte(bad[2])}
	st := e.add(e.coll, objs...)
	if st["status"] != "complete" || count(st, "total_count") != 5 || count(st, "success_count") != 2 ||
		count(st, "failure_count") != 3 || count(st, "pending_count") != 0 {
		t.Fatalf("status = %v; want complete with 5 = 2 + 3 + 0", st)
	}
	succ := details(t, st, "successes")
	if len(succ) != 2 || succ[0]["id"] != indicatorID(1) || succ[0]["version"] != v1 || succ[1]["id"] != indicatorID(2) {
		t.Errorf("successes = %v, want indicators 1 and 2 at %s", succ, v1)
	}
	fails := details(t, st, "failures")
	if len(fails) != 3 {
		t.Fatalf("failures = %v, want 3", fails)
	}
	for _, f := range fails {
		if msg, _ := f["message"].(string); msg == "" {
			t.Errorf("failure %v has no message", f)
		}
	}
	if !strings.Contains(fails[2]["message"].(string), "2.1") {
		t.Errorf("spec_version failure message %q does not name 2.1", fails[2]["message"])
	}
	if _, ok := st["pendings"]; ok {
		t.Errorf("pendings present with no pending objects (empty lists are forbidden)")
	}

	// The status resource reads back the same, only for its owner.
	id := st["id"].(string)
	r := e.get(root+"status/"+id+"/", "alice")
	checkCommon(t, r, http.StatusOK)
	if got := r.json(t); count(got, "success_count") != 2 || got["id"] != id {
		t.Errorf("GET status = %v, want the POST's status", got)
	}
	checkCommon(t, e.get(root+"status/"+id+"/", "bruno"), http.StatusNotFound)
	checkCommon(t, e.get(root+"status/"+id+"/", "USA"), http.StatusNotFound)

	// Re-posting the identical object is a success, not a failure.
	st = e.add(e.coll, indicator(1, v1, 500))
	if count(st, "success_count") != 1 || count(st, "failure_count") != 0 {
		t.Errorf("re-post: status = %v, want one success", st)
	}
	// Other content under the same id and version is refused, alone.
	st = e.add(e.coll, indicator(1, v1, 700), indicator(3, v1, 500))
	if count(st, "success_count") != 1 || count(st, "failure_count") != 1 {
		t.Errorf("conflict: status = %v, want one success and one failure", st)
	}
	// Nothing of the bad objects was stored.
	r = e.get(objectsPath(e.coll, "match[version]=all"), "alice")
	if ids := objectIDsOf(t, r); len(ids) != 3 {
		t.Errorf("stored %v, want indicators 1, 2, 3 once each", ids)
	}
}

func TestContentLength(t *testing.T) {
	const maxLen = 4096
	e := newEnv(t, taxii.Config{MaxContentLength: maxLen})
	r := e.get(root, "alice")
	if got := count(r.json(t), "max_content_length"); got != maxLen {
		t.Errorf("max_content_length = %d, want %d", got, maxLen)
	}
	small := envelope(indicator(1, v1, 1000))
	big := envelope(indicator(2, v1, 2000), indicator(3, v1, 2000), indicator(4, v1, 2000))
	checkCommon(t, e.do(req{method: http.MethodPost, path: objectsPath(e.coll, ""), body: small}), http.StatusAccepted)
	checkCommon(t, e.do(req{method: http.MethodPost, path: objectsPath(e.coll, ""), body: big}), http.StatusRequestEntityTooLarge)
	// Nothing of the refused request was stored.
	if ids := objectIDsOf(t, e.get(objectsPath(e.coll, ""), "alice")); len(ids) != 1 {
		t.Errorf("stored %v, want only the small request's object", ids)
	}
}

// A body sent without Content-Length (chunked) is cut at the limit too.
func TestContentLengthChunked(t *testing.T) {
	e := newEnv(t, taxii.Config{MaxContentLength: 2048})
	body := envelope(indicator(1, v1, 3000))
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+objectsPath(e.coll, ""), strings.NewReader(string(body)))
	r.ContentLength = -1
	r.SetBasicAuth("alice", "pw")
	r.Header.Set("Accept", mediaTAXII)
	r.Header.Set("Content-Type", mediaTAXII)
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", resp.StatusCode)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t, taxii.Config{})
	e.add(e.coll, indicator(1, v1, 300))
	e.add(e.coll, indicator(1, v2, 300))
	e.add(e.coll, indicator(2, v1, 300))
	del := func(id, query string) response {
		p := objectsPath(e.coll, "") + id + "/"
		if query != "" {
			p += "?" + query
		}
		return e.do(req{method: http.MethodDelete, path: p, user: "lena"})
	}
	// Analysts may add but not delete.
	checkCommon(t, e.do(req{method: http.MethodDelete, path: objectsPath(e.coll, "") + indicatorID(1) + "/"}), http.StatusForbidden)
	// Delete only the first version of indicator 1.
	r := del(indicatorID(1), "match[version]=first")
	checkCommon(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Errorf("DELETE body = %q, want none", r.body)
	}
	got := versionsOf(t, e.get(objectsPath(e.coll, "")+indicatorID(1)+"/versions/", "alice"))
	if !slices.Equal(got, []string{v2}) {
		t.Errorf("versions after deleting the first = %v, want [%s]", got, v2)
	}
	// Delete every version of indicator 2: gone from object, versions, manifest.
	checkCommon(t, del(indicatorID(2), ""), http.StatusOK)
	checkCommon(t, e.get(objectsPath(e.coll, "")+indicatorID(2)+"/", "alice"), http.StatusNotFound)
	checkCommon(t, e.get(objectsPath(e.coll, "")+indicatorID(2)+"/versions/", "alice"), http.StatusNotFound)
	m := e.get(root+"collections/"+e.coll+"/manifest/", "alice").json(t)
	for _, rec := range details(t, m, "objects") {
		if rec["id"] == indicatorID(2) {
			t.Errorf("manifest still lists deleted %s", indicatorID(2))
		}
	}
	// Deleting again is not found; so is a version that does not exist.
	checkCommon(t, del(indicatorID(2), ""), http.StatusNotFound)
	checkCommon(t, del(indicatorID(1), "match[version]="+v3), http.StatusNotFound)
	checkCommon(t, del(indicatorID(1), "match[version]=all,first"), http.StatusBadRequest)
}

// Traps 4 and 6: paging with next or with added_after returns every object
// exactly once, even when many were added in the same request (and so,
// without care, the same microsecond); next is bound to the query and the
// caller.
func TestPaging(t *testing.T) {
	e := newEnv(t, taxii.Config{})
	const n = 60
	var objs [][]byte
	for i := range n {
		objs = append(objs, indicator(i, v1, 200))
	}
	e.add(e.coll, objs[:n/2]...)
	e.add(e.coll, objs[n/2:]...)

	for _, endpoint := range []string{"objects/", "manifest/"} {
		for limit := 1; limit <= 7; limit++ {
			t.Run(fmt.Sprintf("%s next limit %d", endpoint, limit), func(t *testing.T) {
				seen := pageAll(t, e, endpoint, limit, func(m map[string]any, r response) string {
					if next, _ := m["next"].(string); next != "" {
						return "next=" + url.QueryEscape(next)
					}
					return ""
				})
				checkAllOnce(t, seen, n)
			})
			t.Run(fmt.Sprintf("%s added_after limit %d", endpoint, limit), func(t *testing.T) {
				seen := pageAll(t, e, endpoint, limit, func(m map[string]any, r response) string {
					return "added_after=" + url.QueryEscape(r.header.Get("X-TAXII-Date-Added-Last"))
				})
				checkAllOnce(t, seen, n)
			})
			t.Run(fmt.Sprintf("%s next and added_after together limit %d", endpoint, limit), func(t *testing.T) {
				seen := pageAll(t, e, endpoint, limit, func(m map[string]any, r response) string {
					return "next=" + url.QueryEscape(m["next"].(string)) +
						"&added_after=" + url.QueryEscape(r.header.Get("X-TAXII-Date-Added-Last"))
				})
				checkAllOnce(t, seen, n)
			})
		}
	}

	// added_after is exclusive.
	first := e.get(objectsPath(e.coll, "limit=1"), "alice")
	after := first.header.Get("X-TAXII-Date-Added-First")
	r := e.get(objectsPath(e.coll, "limit=1&added_after="+url.QueryEscape(after)), "alice")
	if got := objectIDsOf(t, r); len(got) != 1 || got[0] == objectIDsOf(t, first)[0] {
		t.Errorf("added_after=%s returned %v, want the second object only", after, got)
	}

	next := first.json(t)["next"].(string)
	q := "limit=1&next=" + url.QueryEscape(next)
	checkCommon(t, e.get(objectsPath(e.coll, q), "alice"), http.StatusOK)
	// Reused by another principal: refused.
	checkCommon(t, e.get(objectsPath(e.coll, q), "bruno"), http.StatusBadRequest)
	// Reused with other filters: refused.
	checkCommon(t, e.get(objectsPath(e.coll, q+"&match[type]=indicator"), "alice"), http.StatusBadRequest)
	// Reused on another endpoint: refused.
	checkCommon(t, e.get(root+"collections/"+e.coll+"/manifest/?"+q, "alice"), http.StatusBadRequest)
	// Tampered: refused.
	checkCommon(t, e.get(objectsPath(e.coll, "next="+url.QueryEscape(next[:len(next)-2]+"AA")), "alice"), http.StatusBadRequest)
	// Another limit is fine.
	checkCommon(t, e.get(objectsPath(e.coll, "limit=3&next="+url.QueryEscape(next)), "alice"), http.StatusOK)
}

func pageAll(t *testing.T, e *env, endpoint string, limit int, cont func(map[string]any, response) string) []string {
	t.Helper()
	base := fmt.Sprintf("limit=%d", limit)
	q := base
	var seen []string
	for range 1000 {
		r := e.get(root+"collections/"+e.coll+"/"+endpoint+"?"+q, "alice")
		checkCommon(t, r, http.StatusOK)
		m := r.json(t)
		recs := details(t, m, "objects")
		if len(recs) > limit {
			t.Fatalf("page of %d, limit %d", len(recs), limit)
		}
		for _, rec := range recs {
			seen = append(seen, rec["id"].(string))
		}
		if m["more"] != true {
			return seen
		}
		q = base + "&" + cont(m, r)
	}
	t.Fatal("paging did not end")
	return nil
}

func checkAllOnce(t *testing.T, seen []string, n int) {
	t.Helper()
	set := map[string]int{}
	for _, id := range seen {
		set[id]++
	}
	if len(seen) != n || len(set) != n {
		t.Errorf("paged %d ids, %d distinct; want %d once each", len(seen), len(set), n)
	}
}

// Trap 3: no collections visible is {}.
func TestNoCollectionsVisible(t *testing.T) {
	e := newEnvWith(t, taxii.Config{}, false)
	r := e.get(root+"collections/", "USA")
	checkCommon(t, r, http.StatusOK)
	if string(r.body) != "{}" {
		t.Errorf("body = %s, want {}", r.body)
	}
}

// An overloaded authenticator gets 503 with Retry-After, not 500.
func TestAuthBusy(t *testing.T) {
	st := newEnv(t, taxii.Config{}).st
	busy := func(*http.Request) (auth.Principal, error) {
		return auth.Principal{}, fmt.Errorf("verify: %w", auth.ErrBusy)
	}
	srv := httptest.NewServer(taxii.New(st, busy, taxii.Config{Party: "MEX"}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/taxii2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// A panic in a handler becomes a TAXII 500 with a generic message.
func TestPanicIsA500(t *testing.T) {
	st := newEnv(t, taxii.Config{}).st
	boom := func(*http.Request) (auth.Principal, error) { panic("boom") }
	srv := httptest.NewServer(taxii.New(st, boom, taxii.Config{Party: "MEX"}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/taxii2/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkCommon(t, response{status: resp.StatusCode, header: resp.Header, body: body}, http.StatusInternalServerError)
	if strings.Contains(string(body), "boom") {
		t.Errorf("500 body leaks the panic: %s", body)
	}
}

// An envelope may hold at most MaxObjects objects; the check happens while
// reading, and nothing is stored.
func TestTooManyObjects(t *testing.T) {
	e := newEnv(t, taxii.Config{MaxObjects: 3})
	checkCommon(t, e.do(req{method: http.MethodPost, path: objectsPath(e.coll, ""),
		body: envelope(indicator(1, v1, 200), indicator(2, v1, 200), indicator(3, v1, 200))}), http.StatusAccepted)
	checkCommon(t, e.do(req{method: http.MethodPost, path: objectsPath(e.coll, ""),
		body: envelope(indicator(4, v1, 200), indicator(5, v1, 200), indicator(6, v1, 200), indicator(7, v1, 200))}), http.StatusRequestEntityTooLarge)
	// A tiny body of many tiny elements is refused too, not amplified into
	// a huge status.
	checkCommon(t, e.do(req{method: http.MethodPost, path: objectsPath(e.coll, ""),
		body: []byte(`{"objects":[1,1,1,1,1,1,1,1,1,1,1,1]}`)}), http.StatusRequestEntityTooLarge)
	if ids := objectIDsOf(t, e.get(objectsPath(e.coll, ""), "alice")); len(ids) != 3 {
		t.Errorf("stored %d objects, want 3", len(ids))
	}
}

// Pages of large objects end at MaxPageBytes with more and a next token
// that carries on; every object is still seen once.
func TestPageBytes(t *testing.T) {
	e := newEnv(t, taxii.Config{MaxPageBytes: 2500})
	var objs [][]byte
	for i := range 10 {
		objs = append(objs, indicator(i, v1, 1000))
	}
	e.add(e.coll, objs...)
	r := e.get(objectsPath(e.coll, "limit=100"), "alice")
	if got := len(objectIDsOf(t, r)); got != 3 || r.json(t)["more"] != true {
		t.Fatalf("first page: %d objects, more %v; want 3 and more", got, r.json(t)["more"])
	}
	seen := pageAll(t, e, "objects/", 100, func(m map[string]any, r response) string {
		return "next=" + url.QueryEscape(m["next"].(string))
	})
	checkAllOnce(t, seen, 10)
}
