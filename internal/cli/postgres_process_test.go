package cli_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/postgres"
	"github.com/puente-project/puente/internal/store/postgres/pgtest"
	"github.com/puente-project/puente/internal/store/storetest"
)

const taxiiType = "application/taxii+json;version=2.1"

// TestServeProcessesPostgres serves one node from two 'puente serve'
// processes on one PostgreSQL database, as a ministry would behind a load
// balancer. Both take objects at once; a status made by one is read from
// the other; the internal log stays one verified log holding each object
// once, with date_added strictly increasing. One process signs the
// checkpoints; when it is killed with SIGKILL, the other takes over.
func TestServeProcessesPostgres(t *testing.T) {
	dsn := pgtest.Database(t)
	bin := buildPuente(t)
	tmp := t.TempDir()
	urlFile := filepath.Join(tmp, "database-url")
	if err := os.WriteFile(urlFile, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "mex")
	out, err := exec.Command(bin, "init", "--dir", dir, "--party", "MEX", "--listen", "127.0.0.1:0", "--database-file", urlFile).CombinedOutput()
	if err != nil {
		t.Fatalf("puente init: %v\n%s", err, out)
	}
	password := initPassword(t, out)
	cfg, err := os.ReadFile(filepath.Join(dir, "puente.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(cfg, []byte(dsn)) || !bytes.Contains(cfg, []byte(urlFile)) || bytes.Contains(cfg, []byte(`"database":`)) {
		t.Fatalf("puente.json should name the URL file only, not hold the URL or an SQLite file name:\n%s", cfg)
	}

	procs := []*serveProcess{startServe(t, bin, dir), startServe(t, bin, dir)}
	c := newAdminClient(t, dir, password)
	coll := c.internalCollection(t, procs[0].discovery)

	// Two writers per process, 8 envelopes of 50 objects each.
	const writers, envelopes, per = 2, 8, 50
	var mu sync.Mutex
	statuses := map[string]int{} // status id -> process that made it
	var wg sync.WaitGroup
	for pi, p := range procs {
		for w := range writers {
			wg.Go(func() {
				for e := range envelopes {
					first := ((pi*writers+w)*envelopes + e) * per
					id := c.post(t, p.discovery, coll, first, per)
					mu.Lock()
					statuses[id] = pi
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Each status is read from the other process.
	for id, pi := range statuses {
		var st struct {
			ID           string `json:"id"`
			Status       string `json:"status"`
			SuccessCount int    `json:"success_count"`
		}
		c.get(t, procs[1-pi].discovery, "api/status/"+id+"/", &st)
		if st.ID != id || st.Status != "complete" || st.SuccessCount != per {
			t.Fatalf("status %s read from the other process: %+v", id, st)
		}
	}

	// The metrics of a node on PostgreSQL count the retried transactions.
	req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(procs[0].discovery, "taxii2/")+"metrics", nil)
	req.SetBasicAuth("admin", password)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(metrics, []byte("\npuente_database_retries_total ")) {
		t.Errorf("GET /metrics = %d, without puente_database_retries_total:\n%s", resp.StatusCode, metrics)
	}

	db, err := postgres.Open(t.Context(), dsn, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	total := len(procs) * writers * envelopes * per
	checkCollection(t, db, coll, total)

	// One of the two signs checkpoints; the checkpoint covers everything.
	vkey, err := os.ReadFile(filepath.Join(dir, "signing.pub"))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		t.Fatal(err)
	}
	waitCheckpoint(t, db, verifier, int64(total))
	holder := leaseHolder(t, dsn)
	signer := -1
	for i, p := range procs {
		if strings.Contains(holder, fmt.Sprintf("/%d/", p.cmd.Process.Pid)) {
			signer = i
		}
	}
	if signer < 0 {
		t.Fatalf("the signer lease is held by %q, neither process", holder)
	}

	// Kill the signer for good; the other takes over.
	if err := procs[signer].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	survivor := procs[1-signer]
	c.post(t, survivor.discovery, coll, total, per)
	total += per
	checkCollection(t, db, coll, total)
	waitCheckpoint(t, db, verifier, int64(total))
	if h := leaseHolder(t, dsn); !strings.Contains(h, fmt.Sprintf("/%d/", survivor.cmd.Process.Pid)) {
		t.Fatalf("after the signer was killed, the lease is held by %q, not the survivor", h)
	}
}

// checkCollection checks that the collection holds n objects with strictly
// increasing date_added, and that the internal log verifies and records
// each once.
func checkCollection(t *testing.T, db store.Store, coll string, n int) {
	t.Helper()
	var last time.Time
	count := 0
	q := store.Query{CollectionID: coll, Versions: store.VersionMatch{All: true}, Limit: 500, NoContent: true}
	for {
		p, err := db.Objects(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Objects {
			if !o.DateAdded.After(last) {
				t.Fatalf("date_added %v does not follow %v", o.DateAdded, last)
			}
			last = o.DateAdded
			count++
		}
		if !p.More {
			break
		}
		q.AddedAfter = last
	}
	if count != n {
		t.Fatalf("the collection holds %d objects, want %d", count, n)
	}
	seen := map[string]bool{}
	for _, e := range storetest.VerifyLog(t, db, store.InternalLog) {
		if seen[e.ObjectID] {
			t.Fatalf("the internal log records %s twice", e.ObjectID)
		}
		seen[e.ObjectID] = true
	}
	if len(seen) != n {
		t.Fatalf("the internal log records %d objects, want %d", len(seen), n)
	}
}

// waitCheckpoint waits until the internal log has a checkpoint of size,
// and checks its signature.
func waitCheckpoint(t *testing.T, db store.Store, v note.Verifier, size int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := db.LatestCheckpoint(t.Context(), store.InternalLog)
		if err == nil && c.Size == size {
			if _, _, err := ledger.OpenCheckpoint(c.Note, ledger.Origin("MEX", store.InternalLog), v); err != nil {
				t.Fatalf("checkpoint of size %d: %v", size, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size %d within 30s (latest: %+v, %v)", size, c.Size, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leaseHolder returns the holder of the checkpoint-signer lease.
func leaseHolder(t *testing.T, dsn string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var h string
	if err := conn.QueryRow(t.Context(), "SELECT holder FROM leases WHERE name = 'checkpoint-signer'").Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// adminClient talks to a node as its admin user, with the password, or
// with an API token when token is set.
type adminClient struct {
	http     *http.Client
	password string
	token    string
}

func newAdminClient(t testing.TB, dir, password string) *adminClient {
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	t.Cleanup(tr.CloseIdleConnections)
	return &adminClient{http: &http.Client{Transport: tr, Timeout: 60 * time.Second}, password: password}
}

func (c *adminClient) do(t testing.TB, method, url string, body []byte, want int, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else {
		req.SetBasicAuth("admin", c.password)
	}
	req.Header.Set("Accept", taxiiType)
	if body != nil {
		req.Header.Set("Content-Type", taxiiType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Errorf("%s %s = %d %s, want %d", method, url, resp.StatusCode, b, want)
		return
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Errorf("%s %s: %v", method, url, err)
	}
}

func (c *adminClient) get(t testing.TB, discovery, path string, v any) {
	t.Helper()
	c.do(t, http.MethodGet, strings.TrimSuffix(discovery, "/")+"/"+path, nil, http.StatusOK, v)
}

// internalCollection returns the id of the party-internal collection.
func (c *adminClient) internalCollection(t testing.TB, discovery string) string {
	t.Helper()
	var list struct {
		Collections []struct {
			ID    string `json:"id"`
			Alias string `json:"alias"`
		} `json:"collections"`
	}
	c.get(t, discovery, "api/collections/", &list)
	for _, col := range list.Collections {
		if col.Alias == "internal" {
			return col.ID
		}
	}
	t.Fatalf("no internal collection in %+v", list)
	return ""
}

// post adds indicators first … first+n-1 and returns the status id.
func (c *adminClient) post(t testing.TB, discovery, coll string, first, n int) string {
	t.Helper()
	var objs []string
	for i := first; i < first+n; i++ {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000","created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z"}`, i, i%250))
	}
	body := []byte(`{"objects":[` + strings.Join(objs, ",") + `]}`)
	var st struct {
		ID           string `json:"id"`
		SuccessCount int    `json:"success_count"`
	}
	c.do(t, http.MethodPost, strings.TrimSuffix(discovery, "/")+"/api/collections/"+coll+"/objects/", body, http.StatusAccepted, &st)
	if st.SuccessCount != n && !t.Failed() {
		t.Errorf("POST of %d objects: %d successes", n, st.SuccessCount)
	}
	return st.ID
}

// TestInitInterruptedPostgres interrupts 'puente init' (SIGINT) while it
// waits for a PostgreSQL server that never answers: no node is left in
// the directory, and init then runs there on a real database.
func TestInitInterruptedPostgres(t *testing.T) {
	dsn := pgtest.Database(t)
	bin := buildPuente(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	done := make(chan []net.Conn)
	go func() {
		var held []net.Conn // open, never answered
		for {
			c, err := ln.Accept()
			if err != nil {
				done <- held
				return
			}
			held = append(held, c)
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for _, c := range <-done {
			c.Close()
		}
	})
	dir := filepath.Join(t.TempDir(), "mex")
	cmd := exec.Command(bin, "init", "--dir", dir, "--party", "MEX", "--database", "postgres://postgres@"+ln.Addr().String()+"/x?sslmode=disable")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-accepted:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("init never connected to the database: %s", out.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("interrupted init succeeded: %s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "puente.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("interrupted init left a node in %s (%v): %s", dir, err, out.String())
	}
	again, err := exec.Command(bin, "init", "--dir", dir, "--party", "MEX", "--database", dsn).CombinedOutput()
	if err != nil {
		t.Fatalf("init after an interrupted one: %v\n%s", err, again)
	}
	if _, err := os.Stat(filepath.Join(dir, "puente.json")); err != nil {
		t.Fatalf("no node after init: %v", err)
	}
}
