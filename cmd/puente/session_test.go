package main_test

// TestTAXIISession builds the puente binary, creates a node with
// `puente init`, serves it with `puente serve` as a child process on a real
// loopback listener over TLS (trusting only the node's CA), and drives a
// whole TAXII 2.1 session through it as a client tool would. It ends the
// server with SIGTERM and expects a clean exit.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const mediaTAXII = "application/taxii+json;version=2.1"

func buildPuente(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "puente")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("puente %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type client struct {
	t     *testing.T
	base  string
	token string
	http  *http.Client
}

func (c *client) do(method, path string, body []byte) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", mediaTAXII)
	if body != nil {
		req.Header.Set("Content-Type", mediaTAXII)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != mediaTAXII {
		c.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return resp.StatusCode, resp.Header, b
}

func (c *client) getJSON(path string, want int) (map[string]any, http.Header) {
	c.t.Helper()
	code, h, b := c.do(http.MethodGet, path, nil)
	if code != want {
		c.t.Fatalf("GET %s: status %d, want %d: %s", path, code, want, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	return m, h
}

func object(n int, modified string) []byte {
	typ := []string{"indicator", "malware", "report"}[n%3]
	o := map[string]any{
		"type": typ, "spec_version": "2.1",
		"id":      fmt.Sprintf("%s--%08x-0000-4000-8000-%012x", typ, n, n),
		"created": "2025-12-28T10:00:00.000Z", "modified": modified,
		"name": fmt.Sprintf("demo-data record %d", n), "labels": []string{"demo-data"},
	}
	switch typ {
	case "indicator":
		o["pattern"], o["pattern_type"], o["valid_from"] = fmt.Sprintf("[ipv4-addr:value = '198.51.100.%d']", n%256), "stix", "2025-12-28T10:00:00Z"
	case "malware":
		o["is_family"] = false
	case "report":
		o["published"] = "2025-12-29T00:00:00Z"
		o["object_refs"] = []string{fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", 0, 0)}
	}
	b, _ := json.Marshal(o)
	return b
}

func idOf(n int) string {
	typ := []string{"indicator", "malware", "report"}[n%3]
	return fmt.Sprintf("%s--%08x-0000-4000-8000-%012x", typ, n, n)
}

func TestTAXIISession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildPuente(t)
	dir := filepath.Join(t.TempDir(), "mex")
	addr := freePort(t)
	run(t, bin, "init", "--dir", dir, "--party", "MEX", "--listen", addr)
	token := strings.TrimSpace(run(t, bin, "token", "create", "--dir", dir, "--user", "admin"))
	if strings.ContainsAny(token, " \n") || token == "" {
		t.Fatalf("token create printed %q, want one token", token)
	}
	run(t, bin, "group", "create", "--dir", dir, "--name", "fentanyl")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "serve", "--dir", dir)
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()

	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	c := &client{t: t, base: "https://" + addr, token: token, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}}
	waitReady(t, c, exited, &logs)

	// Discovery, api root, collections.
	disc, _ := c.getJSON("/taxii2/", 200)
	rootPath := disc["default"].(string)
	apiRoot, _ := c.getJSON(rootPath, 200)
	if !slices.Contains(apiRoot["versions"].([]any), any(mediaTAXII)) {
		t.Fatalf("api root versions = %v", apiRoot["versions"])
	}
	colls, _ := c.getJSON(rootPath+"collections/", 200)
	var coll string
	aliases := map[string]bool{}
	for _, x := range colls["collections"].([]any) {
		m := x.(map[string]any)
		alias, _ := m["alias"].(string)
		aliases[alias] = true
		if alias == "fentanyl" {
			coll = m["id"].(string)
			if m["can_write"] != true {
				t.Fatalf("admin cannot write to fentanyl: %v", m)
			}
		}
	}
	if coll == "" || !aliases["internal"] {
		t.Fatalf("collections %v: want fentanyl and the party-internal collection", colls)
	}
	objs := rootPath + "collections/" + coll + "/objects/"

	// Add 1,000 objects in four envelopes; objects 0..49 get a second version.
	const n = 1000
	const m1, m2 = "2026-01-05T12:00:00.000Z", "2026-01-06T12:00:00.000Z"
	for start := 0; start < n; start += 250 {
		var env bytes.Buffer
		env.WriteString(`{"objects":[`)
		for i := start; i < start+250; i++ {
			if i > start {
				env.WriteByte(',')
			}
			env.Write(object(i, m1))
		}
		env.WriteString(`]}`)
		code, _, body := c.do(http.MethodPost, objs, env.Bytes())
		if code != http.StatusAccepted {
			t.Fatalf("POST: status %d: %s", code, body)
		}
		var st map[string]any
		json.Unmarshal(body, &st)
		if st["success_count"] != float64(250) || st["total_count"] != float64(250) {
			t.Fatalf("POST status = %v", st)
		}
		// The status resource reads back.
		again, _ := c.getJSON(rootPath+"status/"+st["id"].(string)+"/", 200)
		if again["success_count"] != float64(250) || len(again["successes"].([]any)) != 250 {
			t.Fatalf("GET status = %v", again)
		}
	}
	var env bytes.Buffer
	env.WriteString(`{"objects":[`)
	for i := range 50 {
		if i > 0 {
			env.WriteByte(',')
		}
		env.Write(object(i, m2))
	}
	env.WriteString(`]}`)
	if code, _, body := c.do(http.MethodPost, objs, env.Bytes()); code != http.StatusAccepted {
		t.Fatalf("POST versions: %d %s", code, body)
	}

	// Read back by id, type, version and added_after.
	got, _ := c.getJSON(objs+"?match[id]="+idOf(7), 200)
	if o := got["objects"].([]any); len(o) != 1 || o[0].(map[string]any)["modified"] != m2 {
		t.Errorf("by id: %v, want the newest version of object 7", got)
	}
	got, _ = c.getJSON(objs+"?match[id]="+idOf(7)+"&match[version]=first", 200)
	if o := got["objects"].([]any); len(o) != 1 || o[0].(map[string]any)["modified"] != m1 {
		t.Errorf("first version: %v", got)
	}
	got, _ = c.getJSON(objs+"?match[type]=malware&limit=1000", 200)
	if o := got["objects"].([]any); len(o) != 333 {
		t.Errorf("by type: %d malware objects, want 333", len(o))
	}
	got, _ = c.getJSON(objs+"?match[version]="+m2+"&limit=1000", 200)
	if o := got["objects"].([]any); len(o) != 50 {
		t.Errorf("by version: %d objects, want 50", len(o))
	}
	_, h := c.getJSON(objs+"?limit=10", 200)
	tenth := h.Get("X-TAXII-Date-Added-Last")
	got, _ = c.getJSON(objs+"?limit=1000&added_after="+url.QueryEscape(tenth), 200)
	if o := got["objects"].([]any); len(o) != n-10 {
		t.Errorf("added_after the tenth: %d objects, want %d", len(o), n-10)
	}

	// Page through everything with small limits, by next and by added_after:
	// every object exactly once (250 of them were added in one transaction).
	for _, limit := range []int{7, 64} {
		for _, byNext := range []bool{true, false} {
			seen := map[string]int{}
			q := fmt.Sprintf("?limit=%d", limit)
			for pages := 0; ; pages++ {
				if pages > n {
					t.Fatal("paging does not end")
				}
				page, h := c.getJSON(objs+q, 200)
				for _, o := range page["objects"].([]any) {
					seen[o.(map[string]any)["id"].(string)]++
				}
				if page["more"] != true {
					break
				}
				if byNext {
					q = fmt.Sprintf("?limit=%d&next=%s", limit, url.QueryEscape(page["next"].(string)))
				} else {
					q = fmt.Sprintf("?limit=%d&added_after=%s", limit, url.QueryEscape(h.Get("X-TAXII-Date-Added-Last")))
				}
			}
			if len(seen) != n {
				t.Errorf("limit %d next=%v: saw %d objects, want %d", limit, byNext, len(seen), n)
			}
			for id, k := range seen {
				if k != 1 {
					t.Errorf("limit %d next=%v: %s seen %d times", limit, byNext, id, k)
				}
			}
		}
	}

	// Manifest and versions.
	man, h := c.getJSON(rootPath+"collections/"+coll+"/manifest/?match[id]="+idOf(3)+"&match[version]=all", 200)
	if recs := man["objects"].([]any); len(recs) != 2 || h.Get("X-TAXII-Date-Added-First") == "" {
		t.Errorf("manifest: %v", man)
	}
	vers, _ := c.getJSON(objs+idOf(3)+"/versions/", 200)
	if v := vers["versions"].([]any); len(v) != 2 || v[0] != m1 || v[1] != m2 {
		t.Errorf("versions: %v", vers)
	}

	// Delete, then the object is gone.
	if code, _, body := c.do(http.MethodDelete, objs+idOf(3)+"/", nil); code != 200 {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	c.getJSON(objs+idOf(3)+"/", 404)

	// SIGTERM: a clean, prompt exit.
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop within 15s of SIGTERM\n%s", logs.String())
	}
}

func waitReady(t *testing.T, c *client, exited chan error, logs *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("serve exited early: %v\n%s", err, logs.String())
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, c.base+"/taxii2/", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		if resp, err := c.http.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("serve did not answer within 30s\n%s", logs.String())
}
