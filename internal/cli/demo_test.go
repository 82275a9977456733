package cli_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/cli"
	"github.com/puente-project/puente/internal/node"
)

func mustConfig(t *testing.T, dir string) node.Config {
	t.Helper()
	cfg, err := node.LoadConfig(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestDemo runs `puente demo` in-process on real loopback listeners, reads
// the addresses, CAs and tokens it prints, checks over TLS that a TAXII
// client with those credentials sees each party's view of the scenario,
// waits until both channels are verified and acknowledged in full, has
// an auditor verify the MEX→USA log with puente verify, then interrupts
// it: it must stop cleanly and, without --dir, leave nothing behind. A
// second run with --dir reuses the nodes and their data.
func TestDemo(t *testing.T) {
	base := t.TempDir()
	for run := range 2 {
		out := startDemo(t, "--dir", base, "--listen", "127.0.0.1:0")
		// Both ways, everything released is verified and acknowledged.
		ack := regexp.MustCompile(`MEX→USA: released (\d+), verified by USA (\d+), acknowledged (\d+) \| USA→MEX: released (\d+), verified by MEX (\d+), acknowledged (\d+)`)
		deadline := time.Now().Add(30 * time.Second)
		for {
			if m := ack.FindAllStringSubmatch(out.output(), -1); len(m) > 0 {
				l := m[len(m)-1]
				if l[1] != "0" && l[1] == l[2] && l[2] == l[3] && l[4] != "0" && l[4] == l[5] && l[5] == l[6] {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: the demo did not reach 'acknowledged' both ways within 30s:\n%s", run, out.output())
			}
			time.Sleep(100 * time.Millisecond)
		}
		usaView := demoClient(t, out, "USA")
		var replicaTitles []string
		for _, x := range usaView.get(t, "collections/")["collections"].([]any) {
			if title := x.(map[string]any)["title"].(string); strings.HasPrefix(title, "MEX: ") {
				replicaTitles = append(replicaTitles, title)
			}
		}
		if len(replicaTitles) == 0 {
			t.Errorf("run %d: a USA user sees no replica of MEX's groups", run)
		}
		c := demoClient(t, out, "MEX")
		colls := c.get(t, "collections/")
		var names []string
		for _, x := range colls["collections"].([]any) {
			alias, _ := x.(map[string]any)["alias"].(string) // replicas have none
			names = append(names, alias)
		}
		for _, want := range []string{"fentanyl", "precursors", "money-laundering", "security-coordination", "internal"} {
			if !strings.Contains(strings.Join(names, " "), want) {
				t.Errorf("run %d: collections %v, want %s", run, names, want)
			}
		}
		objs := c.get(t, "collections/fentanyl/objects/")
		list, _ := objs["objects"].([]any)
		if len(list) == 0 {
			t.Fatalf("run %d: the fentanyl group is empty", run)
		}
		for _, o := range list {
			labels, _ := o.(map[string]any)["labels"].([]any)
			if len(labels) == 0 || labels[0] != "demo-data" {
				t.Errorf("run %d: object without the demo-data label: %v", run, o)
			}
		}
		// The ledger: the auditor verifies the MEX→USA channel over HTTPS
		// with the command a user would run (the first checkpoint is signed
		// as the node starts serving).
		ledgerURL := strings.Fields(out.fields["MEX Ledger"])[0]
		auditToken := strings.Fields(out.fields["MEX Auditor token"])[0]
		cfg := mustConfig(t, filepath.Join(base, "mex"))
		var verdict strings.Builder
		deadline = time.Now().Add(10 * time.Second)
		for {
			verdict.Reset()
			code := cli.Main(t.Context(), []string{"verify", "--key", cfg.Path(cfg.SigningPub), "--ca", cfg.Path(cfg.CACert),
				"--token", auditToken, "--url", ledgerURL + "MEX-USA/"}, strings.NewReader(""), &verdict, io.Discard)
			if code == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: puente verify of the demo's MEX-USA channel exited %d:\n%s", run, code, verdict.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(verdict.String(), "OK    log puente/MEX-USA: all ") {
			t.Errorf("run %d: verify printed:\n%s", run, verdict.String())
		}
		if run == 1 && !strings.Contains(out.text, "the one printed when") {
			t.Errorf("second run should reuse the node and not invent a password:\n%s", out.text)
		}
		out.stop(t)
		// The run's tokens died with it.
		for _, dir := range []string{"mex", "usa"} {
			st, err := node.OpenStore(t.Context(), mustConfig(t, filepath.Join(base, dir)))
			if err != nil {
				t.Fatal(err)
			}
			toks, err := st.Tokens(t.Context(), "")
			st.Close()
			if err != nil || len(toks) != 2*(run+1) { // the admin's and the auditor's
				t.Fatalf("%s tokens after run %d: %v, %v", dir, run, toks, err)
			}
			for _, tok := range toks {
				if !tok.Revoked {
					t.Errorf("after run %d: %s token %s still active", run, dir, tok.ID)
				}
			}
		}
	}

	// Without --dir the temporary node is removed on exit.
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "puente-demo-*"))
	out := startDemo(t, "--listen", "127.0.0.1:0")
	demoClient(t, out, "MEX").get(t, "")
	out.stop(t)
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "puente-demo-*"))
	if len(after) > len(before) {
		t.Errorf("temporary demo directories left behind: %v", after)
	}
}

type demoRun struct {
	text   string
	fields map[string]string
	cancel context.CancelFunc
	done   chan int

	mu   sync.Mutex
	rest strings.Builder // output after the banner: the live summary
}

// output returns what the demo printed after its banner so far.
func (d *demoRun) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rest.String()
}

func (d *demoRun) stop(t *testing.T) {
	t.Helper()
	d.cancel()
	select {
	case code := <-d.done:
		if code != 0 {
			t.Fatalf("demo exited %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop within 20s")
	}
}

func startDemo(t *testing.T, args ...string) *demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	d := &demoRun{fields: map[string]string{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := cli.Main(ctx, append([]string{"demo"}, args...), strings.NewReader(""), pw, io.Discard)
		pw.Close()
		d.done <- code
	}()
	sc := bufio.NewScanner(pr)
	section := "" // "MEX " or "USA ": fields are per node
	for sc.Scan() {
		line := sc.Text()
		d.text += line + "\n"
		if p, _, ok := strings.Cut(line, " node ("); ok && len(p) == 3 {
			section = p + " "
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":  "); ok {
			d.fields[section+k] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(line, "Press Ctrl-C") {
			go func() {
				for sc.Scan() {
					d.mu.Lock()
					d.rest.WriteString(sc.Text() + "\n")
					d.mu.Unlock()
				}
				io.Copy(io.Discard, pr)
			}()
			return d
		}
	}
	cancel()
	t.Fatalf("demo ended early (exit %d):\n%s", <-d.done, d.text)
	return nil
}

type taxiiClient struct {
	root, token string
	http        *http.Client
}

func demoClient(t *testing.T, d *demoRun, party string) *taxiiClient {
	t.Helper()
	ca, err := os.ReadFile(d.fields[party+" CA certificate"])
	if err != nil {
		t.Fatalf("demo printed CA %q: %v\n%s", d.fields[party+" CA certificate"], err, d.text)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &taxiiClient{root: d.fields[party+" API root"], token: d.fields[party+" API token"], http: &http.Client{
		Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

func (c *taxiiClient) get(t *testing.T, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, c.root+path, nil)
	req.SetBasicAuth("admin", c.token)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d, %v", path, resp.StatusCode, err)
	}
	return m
}
