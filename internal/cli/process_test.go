package cli_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServeProcess builds the puente binary, creates a node with it, serves
// the node as a child process, and checks that SIGTERM stops it cleanly.
func TestServeProcess(t *testing.T) {
	bin := buildPuente(t)
	dir := filepath.Join(t.TempDir(), "mex")
	out, err := exec.Command(bin, "init", "--dir", dir, "--party", "MEX", "--listen", "127.0.0.1:0").CombinedOutput()
	if err != nil {
		t.Fatalf("puente init: %v\n%s", err, out)
	}
	password := initPassword(t, out)
	p := startServe(t, bin, dir)
	serve, stderr, exited, discovery := p.cmd, &p.stderr, p.exited, p.discovery

	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	req, _ := http.NewRequest("GET", discovery, nil)
	req.SetBasicAuth("admin", password)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", discovery, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s = %d %s, want 200", discovery, resp.StatusCode, body)
	}
	tr.CloseIdleConnections()

	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("puente serve after SIGTERM: %v, want exit code 0\n%s", err, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("puente serve did not exit within 10s of SIGTERM\n%s", stderr)
	}
	if !strings.Contains(stderr.String(), "shutdown complete") {
		t.Errorf("puente serve did not log a clean shutdown:\n%s", stderr)
	}
	if strings.Contains(stderr.String(), password) {
		t.Errorf("the admin password appears in the log")
	}
}

// buildPuente builds the puente binary into a temporary directory.
func buildPuente(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the puente binary; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("sends signals")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	bin := filepath.Join(t.TempDir(), "puente")
	build := exec.Command(gobin, "build", "-o", bin, "github.com/puente-project/puente/cmd/puente")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// initPassword returns the admin password from the output of puente init.
func initPassword(t testing.TB, out []byte) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Password: (\S+)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no password in the output of puente init:\n%s", out)
	}
	return string(m[1])
}

// serveProcess is a running 'puente serve'.
type serveProcess struct {
	cmd       *exec.Cmd
	stderr    lockedBuffer
	exited    chan error // receives the exit once; send it back to leave it for the cleanup
	discovery string     // the TAXII discovery URL it printed
}

// startServe starts 'puente serve --dir dir' and waits until it prints its
// URL. The process is killed when t ends, if still running.
func startServe(t testing.TB, bin, dir string) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: exec.Command(bin, "serve", "--dir", dir), exited: make(chan error, 1)}
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start puente serve: %v", err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		err := <-p.exited
		p.exited <- err
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "TAXII discovery: "); ok {
				urlc <- u
			}
		}
		io.Copy(io.Discard, stdout)
		p.exited <- p.cmd.Wait()
	}()
	select {
	case p.discovery = <-urlc:
	case err := <-p.exited:
		p.exited <- err
		t.Fatalf("puente serve exited early: %v\n%s", err, &p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("puente serve printed no URL in time\n%s", &p.stderr)
	}
	return p
}

// lockedBuffer is a bytes.Buffer that a child process may write while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
