package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
)

// serveProc is a `puente serve` child process.
type serveProc struct {
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	exited chan error
}

func startServe(t *testing.T, bin, dir string) *serveProc {
	t.Helper()
	p := &serveProc{cmd: exec.Command(bin, "serve", "--dir", dir), logs: &bytes.Buffer{}, exited: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { p.kill(syscall.SIGKILL) })
	return p
}

func (p *serveProc) kill(sig syscall.Signal) {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(sig)
		<-p.exited
		p.exited <- nil // for a second kill
	}
}

// TestFederationKilled runs two real `puente serve` processes, MEX and
// USA, peered with the CLI. MEX has released a backlog; while USA pulls
// it, MEX is killed with SIGKILL and restarted, then USA is, mid-pull
// again. In the end USA holds exactly the released objects, verified,
// and MEX holds USA's receipt for all of them (G4, G7).
func TestFederationKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const n = 40_000
	bin := buildPuente(t)
	base := t.TempDir()
	mex, usa := filepath.Join(base, "mex"), filepath.Join(base, "usa")
	mexAddr, usaAddr := freePort(t), freePort(t)
	run(t, bin, "init", "--dir", mex, "--party", "MEX", "--listen", mexAddr)
	run(t, bin, "init", "--dir", usa, "--party", "USA", "--listen", usaAddr)
	run(t, bin, "group", "create", "--dir", mex, "--name", "fentanyl", "--members", "MEX,USA", "--default-marking", "green")
	run(t, bin, "user", "add", "--dir", mex, "--name", "ana", "--role", "analyst")
	for _, p := range [][2]string{{mex, usa}, {usa, mex}} {
		bundle := filepath.Join(base, filepath.Base(p[0])+".peer")
		if err := os.WriteFile(bundle, []byte(run(t, bin, "peer", "export", "--dir", p[0])), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, bin, "peer", "add", "--dir", p[1], "--bundle", bundle)
	}
	for start := 0; start < n; start += 10_000 {
		var objs []string
		for i := start; i < start+10_000; i++ {
			objs = append(objs, string(object(i, "2026-01-15T10:00:00.000Z")))
		}
		file := filepath.Join(base, fmt.Sprintf("share-%d.json", start))
		if err := os.WriteFile(file, []byte(`{"objects":[`+strings.Join(objs, ",")+`]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, bin, "share", "--dir", mex, "--group", "fentanyl", "--user", "ana", file)
	}

	usaCfg, err := node.LoadConfig(usa, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st, err := node.OpenStore(t.Context(), usaCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	verified := func() int64 {
		in, err := st.Inbound(context.Background(), "MEX")
		if err != nil {
			t.Fatal(err)
		}
		return in.Size
	}
	waitPast := func(min int64, procs ...*serveProc) int64 {
		deadline := time.Now().Add(90 * time.Second)
		for {
			if v := verified(); v > min {
				return v
			}
			if time.Now().After(deadline) {
				var logs string
				for _, p := range procs {
					logs += p.logs.String()
				}
				t.Fatalf("USA verified nothing past %d within 90s\n%s", min, logs)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	mexSrv := startServe(t, bin, mex)
	usaSrv := startServe(t, bin, usa)
	first := waitPast(0, mexSrv, usaSrv)
	mexSrv.kill(syscall.SIGKILL)
	atKill := verified()
	time.Sleep(300 * time.Millisecond)
	mexSrv = startServe(t, bin, mex)
	second := atKill
	if second < n { // the pull may have finished before the kill
		second = waitPast(atKill, mexSrv, usaSrv)
	}
	usaSrv.kill(syscall.SIGKILL)
	afterUSAKill := verified()
	usaSrv = startServe(t, bin, usa)
	t.Logf("verified %d, then %d when MEX was killed, %d after its restart, %d when USA was killed", first, atKill, second, afterUSAKill)
	if afterUSAKill >= n {
		t.Logf("the pull finished before USA could be killed mid-pull")
	}

	deadline := time.Now().Add(3 * time.Minute)
	for {
		var doc struct {
			Channels []node.ChannelStatus `json:"channels"`
		}
		if err := json.Unmarshal([]byte(run(t, bin, "status", "--dir", mex, "--json")), &doc); err != nil {
			t.Fatal(err)
		}
		var ch node.ChannelStatus
		for _, c := range doc.Channels {
			if c.Channel == "MEX-USA" {
				ch = c
			}
		}
		if ch.Size == n && ch.ReceiptSize == n && verified() == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered within 3 minutes: MEX-USA %+v, USA verified %d\n%s%s", ch, verified(), mexSrv.logs, usaSrv.logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Exactly the released objects, once each.
	colls, err := st.Collections(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range colls {
		if c.Origin != "MEX" {
			continue
		}
		q := store.Query{CollectionID: c.ID, Limit: 1000, Versions: store.VersionMatch{All: true}, NoContent: true}
		for {
			p, err := st.Objects(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Objects {
				if seen[o.ID] {
					t.Fatalf("replica %s twice", o.ID)
				}
				seen[o.ID] = true
			}
			if !p.More {
				break
			}
			q.AddedAfter = p.Objects[len(p.Objects)-1].DateAdded
		}
	}
	for i := range n {
		if !seen[idOf(i)] {
			t.Fatalf("object %d never arrived", i)
		}
	}
	if len(seen) != n {
		t.Errorf("USA holds %d replicas, want %d", len(seen), n)
	}
	if as, _ := st.Alerts(t.Context(), 10); len(as) != 0 {
		t.Errorf("alerts after crashes (crashes are not tampering): %+v", as)
	}
}
