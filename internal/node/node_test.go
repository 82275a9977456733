package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/store"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes, for logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openNode creates a node and opens it, logging into the returned buffer.
func openNode(t *testing.T) (*Node, InitResult, *syncBuffer) {
	t.Helper()
	res := initNode(t, "MEX")
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := Open(t.Context(), res.Config.Dir, Options{Logger: logger})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n, res, logs
}

// serve runs n.Serve on a new loopback listener until the returned cancel
// is called. Serve's result arrives on the channel.
func serve(t *testing.T, n *Node) (baseURL string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		errc <- n.Serve(ctx, ln)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Errorf("Serve did not return")
		}
	})
	return "https://" + ln.Addr().String(), cancel, errc
}

// client returns an HTTPS client that trusts only the node's CA.
func client(t *testing.T, cfg Config) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(cfg.Path(cfg.CACert))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func get(t *testing.T, c *http.Client, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServe(t *testing.T) {
	t.Parallel()
	n, res, _ := openNode(t)
	base, _, _ := serve(t, n)
	c := client(t, res.Config)

	resp, body := get(t, c, base+"/healthz")
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", resp.StatusCode, body)
	}
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("TLS version = %v, want TLS 1.3", resp.TLS)
	}

	const taxii = "application/taxii+json;version=2.1"
	resp, _ = get(t, c, base+"/taxii2/", "Accept", taxii)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("GET /taxii2/ without credentials = %d %v, want 401 with WWW-Authenticate", resp.StatusCode, resp.Header)
	}

	basic := "Basic " + basicCred("admin", res.AdminPassword)
	resp, body = get(t, c, base+"/taxii2/", "Accept", taxii, "Authorization", basic)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Puente MEX") {
		t.Errorf("GET /taxii2/ as admin = %d %s, want 200 with the node's title", resp.StatusCode, body)
	}

	// The TAXII server knows the node's party: the admin is local, sees
	// the internal collection and may write to it.
	var disc struct{ Default string }
	if err := json.Unmarshal([]byte(body), &disc); err != nil || disc.Default == "" {
		t.Fatalf("discovery %s: no default api root (%v)", body, err)
	}
	resp, body = get(t, c, base+disc.Default+"collections/", "Accept", taxii, "Authorization", basic)
	var cols struct {
		Collections []struct {
			ID       string `json:"id"`
			Alias    string `json:"alias"`
			CanWrite bool   `json:"can_write"`
		} `json:"collections"`
	}
	if err := json.Unmarshal([]byte(body), &cols); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET collections = %d %s (%v)", resp.StatusCode, body, err)
	}
	found := false
	for _, col := range cols.Collections {
		if col.ID == res.Internal.ID {
			found = true
			if !col.CanWrite {
				t.Errorf("admin may not write to the internal collection: %s", body)
			}
		}
	}
	if !found {
		t.Errorf("admin does not see the internal collection: %s", body)
	}

	resp, _ = get(t, c, base+"/taxii2/", "Accept", taxii, "Authorization", "Basic "+basicCred("admin", "wrong"))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /taxii2/ with a wrong password = %d, want 401", resp.StatusCode)
	}

	secret, tok := auth.NewToken()
	tok.User, tok.Created = "admin", time.Now()
	if err := n.Store().CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, c, base+"/taxii2/", "Accept", taxii, "Authorization", "Bearer "+secret)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /taxii2/ with a token = %d %s, want 200", resp.StatusCode, body)
	}
}

func basicCred(user, pw string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pw)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestServeTLS(t *testing.T) {
	t.Parallel()
	n, res, _ := openNode(t)
	base, _, _ := serve(t, n)
	pem, _ := os.ReadFile(res.Config.Path("ca.pem"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	tests := []struct {
		name string
		cfg  *tls.Config
		want string // error text; empty: success
	}{
		{"trusting the CA", &tls.Config{RootCAs: roots}, ""},
		{"TLS 1.2", &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS12}, ""},
		{"TLS 1.1", &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, "protocol version"},
		{"not trusting the CA", &tls.Config{RootCAs: x509.NewCertPool()}, "certificate"},
		{"by another name", &tls.Config{RootCAs: roots, ServerName: "example.org"}, "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: tc.cfg}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(base + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("GET: %v, want success", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("GET error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	n, res, logs := openNode(t)
	started, release := make(chan struct{}), make(chan struct{})
	n.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	base, cancel, done := serve(t, n)
	c := client(t, res.Config)

	type result struct {
		body string
		err  error
	}
	respc := make(chan result, 1)
	go func() {
		resp, err := c.Get(base + "/slow")
		if err != nil {
			respc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		respc <- result{string(b), err}
	}()
	<-started
	cancel()

	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	if conn, err := net.Dial("tcp", strings.TrimPrefix(base, "https://")); err == nil {
		conn.Close()
		t.Errorf("the node accepts new connections while shutting down")
	}

	close(release)
	if r := <-respc; r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request = %q, %v; want it to finish", r.body, r.err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after a clean shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Serve did not return after the request finished")
	}
	if _, err := n.Store().Collections(context.Background()); err == nil {
		t.Errorf("the store is still open after Serve returned")
	}
	if !strings.Contains(logs.String(), "shutdown complete") {
		t.Errorf("logs lack the clean shutdown:\n%s", logs)
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	t.Parallel()
	n, res, _ := openNode(t)
	n.shutdownTimeout = 100 * time.Millisecond
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	n.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})
	base, cancel, done := serve(t, n)
	go func() {
		resp, err := client(t, res.Config).Get(base + "/stuck")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "shutdown") {
			t.Errorf("Serve = %v, want a shutdown error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Serve did not give up on a stuck request")
	}
}

func TestJanitorPrunesOldStatuses(t *testing.T) {
	t.Parallel()
	n, res, _ := openNode(t)
	n.pruneEvery = 20 * time.Millisecond
	ctx := t.Context()
	now := time.Now()
	old := store.Status{ID: newUUID(), Owner: "admin", CollectionID: res.Internal.ID, Status: "complete",
		RequestTimestamp: now.Add(-25 * time.Hour), Created: now.Add(-25 * time.Hour)}
	fresh := old
	fresh.ID, fresh.RequestTimestamp, fresh.Created = newUUID(), now, now
	for _, s := range []store.Status{old, fresh} {
		if err := n.Store().PutStatus(ctx, s); err != nil {
			t.Fatalf("PutStatus: %v", err)
		}
	}
	serve(t, n)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := n.Store().Status(ctx, old.ID)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old status still there: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := n.Store().Status(ctx, fresh.ID); err != nil {
		t.Errorf("fresh status pruned: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   string
	}{
		{"no node", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "puente.json")) }, "no node"},
		{"missing server key", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "server-key.pem")) }, "TLS certificate"},
		{"signing keys of two parties", func(t *testing.T, dir string) {
			other := initNode(t, "USA")
			b, _ := os.ReadFile(other.Config.Path("signing.pub"))
			os.WriteFile(filepath.Join(dir, "signing.pub"), b, 0o644)
		}, "not one pair"},
		{"signing key without newline", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "signing.key"))
			os.WriteFile(filepath.Join(dir, "signing.key"), bytes.TrimSuffix(b, []byte("\n")), 0o600)
		}, "one line"},
		{"bad CA file", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("x"), 0o644) }, "CA certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := initNode(t, "MEX")
			tc.break_(t, res.Config.Dir)
			n, err := Open(t.Context(), res.Config.Dir, Options{})
			if err == nil {
				n.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestOpenWarnsAboutReadableKeys(t *testing.T) {
	t.Parallel()
	res := initNode(t, "MEX")
	os.Chmod(res.Config.Path("signing.key"), 0o644)
	logs := &syncBuffer{}
	n, err := Open(t.Context(), res.Config.Dir, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	if !strings.Contains(logs.String(), "signing.key") || !strings.Contains(logs.String(), "chmod 600") {
		t.Errorf("no warning about a readable signing.key in:\n%s", logs)
	}
	if strings.Contains(logs.String(), "PRIVATE+KEY") {
		t.Errorf("the signing key was logged")
	}
}

// Paths under /taxii2 that are not clean, or lack the final slash, reach the
// TAXII server: authenticated first, then a TAXII 404, never an HTML
// redirect.
func TestRoutesUncleanTAXIIPaths(t *testing.T) {
	n, res, _ := openNode(t)
	base, _, _ := serve(t, n)
	c := client(t, res.Config)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, p := range []string{"/taxii2", "/taxii2/api/collections//", "/taxii2/api/../api/", "/taxii2/./"} {
		resp, _ := get(t, c, base+p)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/taxii+json;version=2.1" {
			t.Errorf("GET %s without credentials: %d %q, want 401 TAXII", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		resp, _ = get(t, c, base+p, "Authorization", "Basic "+basicCred(AdminUser, res.AdminPassword))
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/taxii+json;version=2.1" {
			t.Errorf("GET %s: %d %q, want 404 TAXII", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// Revoking a token or disabling its user takes effect on the running node
// at the next request.
func TestRevokeAndDisableTakeEffect(t *testing.T) {
	n, res, _ := openNode(t)
	base, _, _ := serve(t, n)
	c := client(t, res.Config)
	ctx := t.Context()
	status := func(token string) int {
		resp, _ := get(t, c, base+"/taxii2/", "Authorization", "Bearer "+token)
		return resp.StatusCode
	}
	secret, tok := auth.NewToken()
	tok.User, tok.Created = AdminUser, time.Now()
	if err := n.Store().CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if got := status(secret); got != http.StatusOK {
		t.Fatalf("new token: %d, want 200", got)
	}
	if err := n.Store().SetUserDisabled(ctx, AdminUser, true); err != nil {
		t.Fatal(err)
	}
	if got := status(secret); got != http.StatusUnauthorized {
		t.Errorf("token of a disabled user: %d, want 401", got)
	}
	if resp, _ := get(t, c, base+"/taxii2/", "Authorization", "Basic "+basicCred(AdminUser, res.AdminPassword)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("password of a disabled user: %d, want 401", resp.StatusCode)
	}
	if err := n.Store().SetUserDisabled(ctx, AdminUser, false); err != nil {
		t.Fatal(err)
	}
	if got := status(secret); got != http.StatusOK {
		t.Errorf("token after enabling: %d, want 200", got)
	}
	if err := n.Store().RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if got := status(secret); got != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", got)
	}
}

// A refused attempt on a running node lands in the denial record, written
// in the background and flushed when the node closes.
func TestDenialRecorded(t *testing.T) {
	n, res, _ := openNode(t)
	hash, err := auth.HashPassword("analyst password")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Store().CreateUser(t.Context(), store.User{Name: "ana", PasswordHash: hash, Roles: []string{auth.RoleAnalyst}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	base, cancel, done := serve(t, n)
	c := client(t, res.Config)
	req, _ := http.NewRequest(http.MethodDelete, base+"/taxii2/api/collections/internal/objects/indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2/", nil)
	req.Header.Set("Authorization", "Basic "+basicCred("ana", "analyst password"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("DELETE by an analyst: %d, want 403", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	st, err := OpenStore(t.Context(), res.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.Denials(t.Context(), 10)
	if err != nil || len(ds) != 1 || ds[0].Principal != "MEX:ana" || ds[0].Action != "delete object" {
		t.Fatalf("Denials = %+v, %v; want the analyst's delete", ds, err)
	}
}
