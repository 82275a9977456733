package node

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// cutProxy forwards TCP connections to a target until cut: then it
// closes every open connection and refuses new ones, until restored.
type cutProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool                  // guarded by mu
	conns map[net.Conn]struct{} // guarded by mu
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	return p
}

func (p *cutProxy) url() string { return "https://" + p.ln.Addr().String() + "/" }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	}
}

// setCut cuts (true) or restores (false) the network.
func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// restart stops f's node and serves it again, from its directory, on the
// same address, as after a crash and restart of the partner.
func (f *fedNode) restart(t testing.TB) {
	t.Helper()
	addr := f.url[len("https://") : len(f.url)-1]
	dir := f.n.Config().Dir
	f.shutdown()
	n, err := Open(context.Background(), dir, Options{PullEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n.checkpointEvery = 50 * time.Millisecond
	var ln net.Listener
	for range 50 { // the old listener's port may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.n, f.stop, f.done = n, cancel, make(chan error, 1)
	go func() { f.done <- n.Serve(ctx, ln) }()
}

// TestFederationFaults: a catch-up pull is cut part way by the network
// (all connections dropped, new ones refused), resumes, is cut again by
// the partner stopping and restarting, and still ends with the replica
// equal to exactly the released set, verified and acknowledged, without
// alerts. Progress made before each cut is kept (batches are stored with
// their verified size).
func TestFederationFaults(t *testing.T) {
	n := 30_000
	if raceEnabled || testing.Short() {
		n = 6_000
	}
	mex := newFedNode(t, "MEX", true)
	usa := newFedNode(t, "USA", true)
	mex.pin(usa)
	proxy := newCutProxy(t, mex.url[len("https://"):len(mex.url)-1])
	via := *mex
	via.url = proxy.url()
	usa.pin(&via)
	g := mex.group("fentanyl", "USA")
	mex.shareMany(g, 0, n)

	waitProgress := func(min int64) int64 {
		deadline := time.Now().Add(60 * time.Second)
		for {
			in, _ := usa.n.Store().Inbound(context.Background(), "MEX")
			if in.Size > min {
				return in.Size
			}
			if time.Now().After(deadline) {
				t.Fatalf("no progress past %d within 60s", min)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	first := waitProgress(0)
	proxy.setCut(true)
	time.Sleep(500 * time.Millisecond)
	cut1, _ := usa.n.Store().Inbound(context.Background(), "MEX")
	if cut1.Size < first {
		t.Fatalf("verified size went back from %d to %d", first, cut1.Size)
	}
	proxy.setCut(false)
	second := cut1.Size
	if second < int64(n) { // the pull may have finished before the cut
		second = waitProgress(cut1.Size)
	}
	mex.restart(t)
	t.Logf("progress: %d before the cut, %d during it, %d before the restart", first, cut1.Size, second)

	s := waitDelivered(t, mex, usa, 120*time.Second)
	if s.Size != int64(n) {
		t.Errorf("channel size %d, want %d", s.Size, n)
	}
	got := usa.replicas("MEX")
	var want []string
	for i := range n {
		id, _ := fedIndicator("MEX", i)
		want = append(want, id)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("USA holds %d replicas, want exactly the %d released", len(got), len(want))
	}
	if as := alerts(t, usa); len(as) != 0 {
		t.Errorf("alerts after network faults (faults are not tampering): %+v", as)
	}
}

// serve starts serving an unserved fedNode.
func (f *fedNode) serve(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.url, f.stop = "https://"+ln.Addr().String()+"/", cancel
	go func() { f.done <- f.n.Serve(ctx, ln) }()
	t.Cleanup(func() { f.shutdown() })
}

// TestFederationCatchUp: 100,000 objects (10,000 under the race
// detector) released while the partner was down are pulled, verified,
// stored and acknowledged once it is back.
func TestFederationCatchUp(t *testing.T) {
	n := 100_000
	if raceEnabled || testing.Short() {
		n = 10_000
	}
	mex := newFedNode(t, "MEX", true)
	usa := newFedNode(t, "USA", false) // down
	mex.pin(usa)
	usa.pin(mex)
	g := mex.group("fentanyl", "USA")
	start := time.Now()
	mex.shareMany(g, 0, n)
	shared := time.Since(start)
	if in, _ := usa.n.Store().Inbound(context.Background(), "MEX"); in.Size != 0 {
		t.Fatalf("USA verified %d entries while down", in.Size)
	}
	start = time.Now()
	usa.serve(t)
	s := waitDelivered(t, mex, usa, 5*time.Minute)
	t.Logf("%d objects shared in %v; caught up (pulled, verified, stored, acknowledged) in %v", n, shared.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if s.Size != int64(n) || len(usa.replicas("MEX")) != n {
		t.Errorf("after catch-up: channel %d, replicas %d, want %d", s.Size, len(usa.replicas("MEX")), n)
	}
}
