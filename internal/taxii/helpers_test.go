package taxii_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/sqlite"
	"github.com/puente-project/puente/internal/taxii"
)

const (
	mediaTAXII = "application/taxii+json;version=2.1"
	root       = "/taxii2/api/"
)

// Test principals, by Basic user name. The password is always "pw".
var principals = map[string]auth.Principal{
	"alice":  {Name: "alice", Party: "MEX", Roles: []string{"analyst"}},
	"bruno":  {Name: "bruno", Party: "MEX", Roles: []string{"analyst"}},
	"lena":   {Name: "lena", Party: "MEX", Roles: []string{"liaison"}},
	"sara":   {Name: "sara", Party: "MEX", Agency: "SEMAR", Roles: []string{"analyst"}},
	"audrey": {Name: "audrey", Party: "MEX", Roles: []string{"auditor"}},
	"USA":    {Name: "USA", Party: "USA"},
	"CAN":    {Name: "CAN", Party: "CAN"},
	"GTM":    {Name: "GTM", Party: "GTM"},
	"ghost":  {Name: "ghost"}, // no party: must see nothing

}

// authenticate stands in for the node's authenticator: it knows the test
// principals above.
func authenticate(r *http.Request) (auth.Principal, error) {
	u, pw, ok := r.BasicAuth()
	p, known := principals[u]
	if !ok || !known || pw != "pw" {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return p, nil
}

// env is a TAXII server on a real TLS listener over a real SQLite file.
type env struct {
	t   *testing.T
	srv *httptest.Server
	st  store.Store
	// coll is the id of the "fentanyl" collection; internal is the id of
	// the party-internal one.
	coll, internal string
}

func newEnv(t *testing.T, cfg taxii.Config) *env {
	t.Helper()
	e := newEnvTB(t, cfg, true)
	e.t = t
	return e
}

// newEnvWith is newEnv, with the fentanyl collection only when shared is set.
func newEnvWith(t *testing.T, cfg taxii.Config, shared bool) *env {
	t.Helper()
	e := newEnvTB(t, cfg, shared)
	e.t = t
	return e
}

func newEnvTB(t testing.TB, cfg taxii.Config, shared bool) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "puente.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvStore(t, st, cfg, shared)
}

// newEnvStore builds the test server on st, which must be empty.
func newEnvStore(t testing.TB, st store.Store, cfg taxii.Config, shared bool) *env {
	t.Helper()
	e := &env{st: st, coll: "6f1f5a6e-3c1d-4b8e-9d2a-0c4b5e6f7a81", internal: "0b9c7d5e-1f2a-4c3b-8d4e-5f6a7b8c9d0e"}
	colls := []store.Collection{
		{ID: e.internal, Alias: "internal", Title: "MEX internal", Internal: true, Created: time.Now(), Members: []string{"MEX"}},
		{ID: e.coll, Alias: "fentanyl", Title: "Fentanyl working group", Created: time.Now(), Members: []string{"MEX", "USA"}},
	}
	if !shared {
		colls = colls[:1]
	}
	for _, c := range colls {
		if err := st.CreateCollection(t.Context(), c); err != nil {
			t.Fatalf("create collection: %v", err)
		}
	}
	if cfg.Party == "" {
		cfg.Party = "MEX"
	}
	e.srv = httptest.NewTLSServer(taxii.New(st, authenticate, cfg))
	t.Cleanup(e.srv.Close)
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// req describes one request. Zero fields take the usual values: user alice,
// TAXII Accept, TAXII Content-Type on bodies.
type req struct {
	method, path, user string
	accept, ctype      *string
	body               []byte
	noAuth             bool
}

func str(s string) *string { return &s }

func (e *env) do(q req) response {
	e.t.Helper()
	if q.method == "" {
		q.method = http.MethodGet
	}
	var body io.Reader
	if q.body != nil {
		body = bytes.NewReader(q.body)
	}
	r, err := http.NewRequestWithContext(e.t.Context(), q.method, e.srv.URL+q.path, body)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if !q.noAuth {
		u := q.user
		if u == "" {
			u = "alice"
		}
		r.SetBasicAuth(u, "pw")
	}
	if q.accept == nil {
		r.Header.Set("Accept", mediaTAXII)
	} else if *q.accept != "" {
		r.Header.Set("Accept", *q.accept)
	}
	if q.body != nil {
		if q.ctype == nil {
			r.Header.Set("Content-Type", mediaTAXII)
		} else if *q.ctype != "" {
			r.Header.Set("Content-Type", *q.ctype)
		}
	}
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", q.method, q.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) get(path, user string) response { return e.do(req{path: path, user: user}) }

// objectsPath returns the objects URL of collection c with a query.
func objectsPath(c, query string) string {
	p := root + "collections/" + c + "/objects/"
	if query != "" {
		p += "?" + query
	}
	return p
}

// indicator returns an indicator of about size bytes with the given id
// number and modified time.
func indicator(n int, modified string, size int) []byte {
	id := fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", n, n)
	o := map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": id,
		"created": "2025-12-28T10:00:00.000Z", "modified": modified,
		"name":         fmt.Sprintf("precursor shipment %d", n),
		"pattern":      fmt.Sprintf("[file:hashes.'SHA-256' = '%064x']", n),
		"pattern_type": "stix", "valid_from": "2025-12-28T10:00:00Z",
		"labels": []string{"demo-data"},
	}
	b, _ := json.Marshal(o)
	if pad := size - len(b) - len(`,"description":""`); pad > 0 {
		o["description"] = strings.Repeat("x", pad)
		b, _ = json.Marshal(o)
	}
	return b
}

func indicatorID(n int) string {
	return fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", n, n)
}

func envelope(objs ...[]byte) []byte {
	return append(append([]byte(`{"objects":[`), bytes.Join(objs, []byte(","))...), ']', '}')
}

// add posts objects to collection c as alice and checks the 202.
func (e *env) add(c string, objs ...[]byte) map[string]any {
	e.t.Helper()
	r := e.do(req{method: http.MethodPost, path: objectsPath(c, ""), body: envelope(objs...)})
	if r.status != http.StatusAccepted {
		e.t.Fatalf("POST objects: status %d, want 202: %s", r.status, r.body)
	}
	return r.json(e.t)
}
