package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/marking"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/taxii"
)

// fedNode is a real node serving on a loopback listener over TLS.
type fedNode struct {
	t     testing.TB
	n     *Node
	party string
	url   string
	stop  context.CancelFunc
	done  chan error
}

// startNodes makes and serves one node per party, and pins every pair.
func startNodes(t testing.TB, parties ...string) map[string]*fedNode {
	t.Helper()
	nodes := map[string]*fedNode{}
	for _, p := range parties {
		nodes[p] = newFedNode(t, p, true)
	}
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				a.pin(b)
			}
		}
	}
	return nodes
}

// newFedNode makes a node for party; serve starts serving it (and its
// federation loop). An unserved node can still pull (Federation.Pull).
func newFedNode(t testing.TB, party string, serve bool) *fedNode {
	t.Helper()
	return newFedNodeEvery(t, party, serve, 50*time.Millisecond, 100*time.Millisecond)
}

// newFedNodeEvery is newFedNode with the intervals between checkpoints
// and between scheduled pulls.
func newFedNodeEvery(t testing.TB, party string, serve bool, checkpointEvery, pullEvery time.Duration) *fedNode {
	t.Helper()
	dir := filepath.Join(t.TempDir(), strings.ToLower(party))
	res, err := Init(context.Background(), InitOptions{Dir: dir, Party: party, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := Open(context.Background(), res.Config.Dir, Options{PullEvery: pullEvery})
	if err != nil {
		t.Fatal(err)
	}
	n.checkpointEvery = checkpointEvery
	fn := &fedNode{t: t, n: n, party: party, done: make(chan error, 1)}
	if !serve {
		t.Cleanup(func() { n.Close() })
		fn.url = "https://127.0.0.1:1/"
		return fn
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fn.url, fn.stop = "https://"+ln.Addr().String()+"/", cancel
	go func() { fn.done <- n.Serve(ctx, ln) }()
	t.Cleanup(func() { fn.shutdown() })
	return fn
}

func (f *fedNode) shutdown() {
	if f.stop == nil {
		return
	}
	f.stop()
	f.stop = nil
	if err := <-f.done; err != nil {
		f.t.Errorf("node %s: Serve = %v", f.party, err)
	}
}

// pin makes f trust other.
func (f *fedNode) pin(other *fedNode) {
	f.t.Helper()
	b, err := PeerBundle(other.n.Config(), other.url)
	if err != nil {
		f.t.Fatal(err)
	}
	p := b.Peer()
	p.Added = time.Now()
	if err := f.n.Store().PutPeer(f.t.Context(), p); err != nil {
		f.t.Fatal(err)
	}
}

// group creates a working group on f's node.
func (f *fedNode) group(name string, members ...string) string {
	f.t.Helper()
	c, err := CreateGroup(f.t.Context(), f.n.Store(), f.party, Group{Name: name, Members: members})
	if err != nil {
		f.t.Fatal(err)
	}
	return c.ID
}

// share adds objects to a group as a local analyst, through the TAXII
// ingest path.
func (f *fedNode) share(group string, objs ...string) {
	f.t.Helper()
	srv := taxii.New(f.n.Store(), nil, taxii.Config{Party: f.party})
	st, err := srv.Share(f.t.Context(), auth.Principal{Name: "ana", Party: f.party, Roles: []string{"analyst"}}, group,
		[]byte(`{"objects":[`+strings.Join(objs, ",")+`]}`))
	if err != nil || len(st.Failures) > 0 {
		f.t.Fatalf("share: %v %+v", err, st.Failures)
	}
}

// replicas returns the ids of the objects f holds from partner, sorted.
func (f *fedNode) replicas(partner string) []string {
	f.t.Helper()
	ctx := f.t.Context()
	colls, err := f.n.Store().Collections(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, c := range colls {
		if c.Origin != partner {
			continue
		}
		q := store.Query{CollectionID: c.ID, Limit: 1000, Versions: store.VersionMatch{All: true}, NoContent: true}
		for {
			p, err := f.n.Store().Objects(ctx, q)
			if err != nil {
				f.t.Fatal(err)
			}
			for _, o := range p.Objects {
				ids = append(ids, o.ID)
			}
			if !p.More {
				break
			}
			q.AddedAfter = p.Objects[len(p.Objects)-1].DateAdded
		}
	}
	sort.Strings(ids)
	return ids
}

// waitDelivered waits until to has verified from's whole channel to it
// and from holds to's receipt for it.
func waitDelivered(t testing.TB, from, to *fedNode, within time.Duration) ChannelStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		sts, err := LedgerStatus(context.Background(), from.n.Store(), from.party)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts {
			if s.Partner == to.party && s.Size > 0 && s.ReceiptSize == s.Size {
				in, err := to.n.Store().Inbound(context.Background(), from.party)
				if err != nil {
					t.Fatal(err)
				}
				if in.Size == s.Size {
					return s
				}
			}
		}
		if time.Now().After(deadline) {
			in, _ := to.n.Store().Inbound(context.Background(), from.party)
			as, _ := to.n.Store().Alerts(context.Background(), 5)
			t.Fatalf("%s→%s not delivered within %v: sender %+v, recipient verified %d, alerts %+v", from.party, to.party, within, sts, in.Size, as)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fedIndicator(party string, n int, markings ...string) (string, string) {
	id := fmt.Sprintf("indicator--%08x-%04x-4bbb-8ccc-%012x", n, len(party)*1000+int(party[0]), n)
	refs := ""
	if len(markings) > 0 {
		refs = `,"object_marking_refs":["` + strings.Join(markings, `","`) + `"]`
	}
	return id, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","name":"%s %d","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z"%s}`, id, party, n, n%250, refs)
}

// TestFederationTwoNodes: what MEX releases to USA arrives at USA
// verified, and MEX holds USA's receipt for all of it; what MEX does not
// release never arrives; a withdrawal reaches the replica.
func TestFederationTwoNodes(t *testing.T) {
	nodes := startNodes(t, "MEX", "USA")
	mex, usa := nodes["MEX"], nodes["USA"]
	g := mex.group("fentanyl", "USA")
	var want []string
	var objs []string
	for i := range 120 {
		m := marking.TLPGreen
		if i%3 == 0 {
			m = marking.TLPAmberStrict // MEX only
		}
		id, raw := fedIndicator("MEX", i, m)
		if m == marking.TLPGreen {
			want = append(want, id)
		}
		objs = append(objs, raw)
	}
	mex.share(g, objs...)
	s := waitDelivered(t, mex, usa, 20*time.Second)
	sort.Strings(want)
	if got := usa.replicas("MEX"); !slices.Equal(got, want) {
		t.Fatalf("USA holds %d replicas of MEX, want exactly the %d released", len(got), len(want))
	}
	if s.Size != int64(len(want)) {
		t.Errorf("channel MEX-USA has %d entries, want %d", s.Size, len(want))
	}

	// A withdrawal: the replica goes too, and is acknowledged.
	if _, err := mex.n.Store().DeleteObject(t.Context(), g, want[0], store.VersionMatch{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, mex, usa, 20*time.Second)
	if got := usa.replicas("MEX"); slices.Contains(got, want[0]) || len(got) != len(want)-1 {
		t.Errorf("after the withdrawal USA holds %d replicas (withdrawn one: %v)", len(got), slices.Contains(got, want[0]))
	}
	if as, _ := usa.n.Store().Alerts(t.Context(), 10); len(as) != 0 {
		t.Errorf("alerts on a clean run: %+v", as)
	}
}

// TestFederationThirdParty: MEX, USA and CAN. What MEX releases to USA
// only never reaches CAN, not through USA either (G6): USA's replicas are
// in no channel of USA's and in no collection CAN can read.
func TestFederationThirdParty(t *testing.T) {
	nodes := startNodes(t, "MEX", "USA", "CAN")
	mex, usa, can := nodes["MEX"], nodes["USA"], nodes["CAN"]
	bilat := mex.group("fentanyl", "USA")
	arms := mex.group("arms", "USA", "CAN")
	usaArms := usa.group("arms", "MEX", "CAN")
	toUSA, rawUSA := fedIndicator("MEX", 1, marking.TLPGreen)
	toBoth, rawBoth := fedIndicator("MEX", 2, marking.TLPGreen)
	fromUSA, rawFromUSA := fedIndicator("USA", 3, marking.TLPGreen)
	mex.share(bilat, rawUSA)
	mex.share(arms, rawBoth)
	usa.share(usaArms, rawFromUSA)
	waitDelivered(t, mex, usa, 20*time.Second)
	waitDelivered(t, mex, can, 20*time.Second)
	waitDelivered(t, usa, can, 20*time.Second)

	if got := usa.replicas("MEX"); !slices.Equal(got, sorted(toUSA, toBoth)) {
		t.Errorf("USA holds %v from MEX", got)
	}
	if got := can.replicas("MEX"); !slices.Equal(got, []string{toBoth}) {
		t.Errorf("CAN holds %v from MEX, want only %s", got, toBoth)
	}
	if got := can.replicas("USA"); !slices.Equal(got, []string{fromUSA}) {
		t.Errorf("CAN holds %v from USA, want only USA's own %s: never MEX's objects through USA", got, fromUSA)
	}
	// USA's channel to CAN records USA's own object only.
	f, err := usa.n.Store().LogEntries(t.Context(), "CAN", 0, 10)
	if err != nil || len(f) != 1 || !strings.Contains(string(f[0]), fromUSA) {
		t.Errorf("USA-CAN channel: %d entries %v", len(f), err)
	}
}

func sorted(ss ...string) []string { slices.Sort(ss); return ss }

// evil serves a node's handler on another listener, with the node's TLS
// settings, and tampers with what it serves as mode says.
type evil struct {
	mode atomic.Value // string
	url  string
}

func startEvil(t *testing.T, f *fedNode) *evil {
	t.Helper()
	e := &evil{}
	e.mode.Store("")
	h := f.n.Handler()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		mode := e.mode.Load().(string)
		switch {
		case mode == "object" && strings.Contains(r.URL.Path, "/objects/"):
			body = bytes.ReplaceAll(body, []byte("198.51.100."), []byte("203.0.113."))
		case mode == "tile" && strings.Contains(r.URL.Path, "/tile/0/"):
			body = bytes.Clone(body)
			body[len(body)-1] ^= 1
		case mode == "fork" && strings.HasSuffix(r.URL.Path, "/checkpoint"):
			cp, _, err := ledger.OpenCheckpoint(body, ledger.Origin(f.party, "USA"), f.n.verifier)
			if err == nil {
				cp.Root[0] ^= 1 // same size, another root, signed with the real key
				body, _ = ledger.Sign(cp, f.n.signer)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	srv.TLS = f.n.serverTLS()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.url = srv.URL + "/"
	return e
}

// reachThroughEvil serves from's node through a tampering server and has
// to reach from through it; it returns the server and the peer it pinned.
func reachThroughEvil(t *testing.T, from, to *fedNode) (*evil, store.Peer) {
	t.Helper()
	ev := startEvil(t, from)
	b, err := PeerBundle(from.n.Config(), ev.url)
	if err != nil {
		t.Fatal(err)
	}
	p := b.Peer()
	if err := to.n.Store().PutPeer(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return ev, p
}

// TestFederationRefusesTampering: a partner serving a tampered object, a
// tampered tile, a forked checkpoint, or a certificate from a CA other
// than the pinned one is refused, with an alert, and nothing of it is
// kept; once it serves the truth again, the replica is exactly the
// released set and the receipts are up to date.
func TestFederationRefusesTampering(t *testing.T) {
	nodes := startNodes(t, "MEX", "USA")
	mex, usa := nodes["MEX"], nodes["USA"]
	ev, good := reachThroughEvil(t, mex, usa)
	g := mex.group("fentanyl", "USA")
	var want []string
	share := func(from, to int) {
		var objs []string
		for i := from; i < to; i++ {
			id, raw := fedIndicator("MEX", i, marking.TLPGreen)
			want = append(want, id)
			objs = append(objs, raw)
		}
		mex.share(g, objs...)
	}
	share(0, 10)
	waitDelivered(t, mex, usa, 20*time.Second)

	for i, mode := range []string{"object", "tile", "fork"} {
		ev.mode.Store(mode)
		// Genuine batches of the phase before may still be verified and
		// stored now; nothing shared in this phase may be.
		released := int64(len(want))
		nAlerts := len(alerts(t, usa))
		share(10*(i+2), 10*(i+2)+10)
		deadline := time.Now().Add(20 * time.Second)
		for len(alerts(t, usa)) == nAlerts {
			if time.Now().After(deadline) {
				in, _ := usa.n.Store().Inbound(t.Context(), "MEX")
				p, _ := usa.n.Store().Peer(t.Context(), "MEX")
				_, perr := usa.n.fed.Pull(t.Context(), p)
				t.Fatalf("%s: no alert; verified %d (released before: %d), %d replicas; pull: %v", mode, in.Size, released, len(usa.replicas("MEX")), perr)
			}
			time.Sleep(20 * time.Millisecond)
		}
		a := alerts(t, usa)[0]
		if a.Party != "MEX" || len(a.Evidence) == 0 {
			t.Errorf("%s: alert %+v without party or evidence", mode, a)
		}
		after, _ := usa.n.Store().Inbound(t.Context(), "MEX")
		if after.Size > released {
			t.Errorf("%s: verified size %d, past the %d entries released before the tampering", mode, after.Size, released)
		}
		for _, id := range usa.replicas("MEX") {
			if !slices.Contains(want[:len(want)-10], id) {
				t.Errorf("%s: USA stored %s from a refused pull", mode, id)
			}
		}
		t.Logf("%s refused: %s: %s", mode, a.Kind, a.Message)
	}

	// A certificate from another CA than the one pinned.
	other := initNode(t, "MEX")
	wrong, err := PeerBundle(other.Config, ev.url)
	if err != nil {
		t.Fatal(err)
	}
	ev.mode.Store("")
	bad := good
	bad.CA = wrong.Peer().CA
	if err := usa.n.Store().PutPeer(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !slices.ContainsFunc(alerts(t, usa), func(a store.Alert) bool { return a.Kind == "tls" }) {
		if time.Now().After(deadline) {
			t.Fatalf("no tls alert for a certificate from another CA; alerts %+v", alerts(t, usa))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The truth again: everything released arrives, and is acknowledged.
	if err := usa.n.Store().PutPeer(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, mex, usa, 20*time.Second)
	slices.Sort(want)
	if got := usa.replicas("MEX"); !slices.Equal(got, want) {
		t.Errorf("after recovery USA holds %d replicas, want the %d released", len(got), len(want))
	}
}

func alerts(t *testing.T, f *fedNode) []store.Alert {
	as, err := f.n.Store().Alerts(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// TestMetrics reads the delivery accounting as an auditor would scrape it.
func TestMetrics(t *testing.T) {
	nodes := startNodes(t, "MEX", "USA")
	mex, usa := nodes["MEX"], nodes["USA"]
	g := mex.group("fentanyl", "USA")
	_, raw := fedIndicator("MEX", 1, marking.TLPGreen)
	mex.share(g, raw)
	waitDelivered(t, mex, usa, 20*time.Second)
	if err := mex.n.Store().CreateUser(t.Context(), store.User{Name: "otto", Roles: []string{"auditor"}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	secret, tok := auth.NewToken()
	tok.User, tok.Created = "otto", time.Now()
	if err := mex.n.Store().CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	get := func(token string) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, mex.url+"metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, mex)}}}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("metrics without credentials: %d", code)
	}
	code, body := get(secret)
	for _, want := range []string{
		`puente_log_entries{channel="MEX-USA"} 1`,
		`puente_channel_acknowledged_entries{channel="MEX-USA"} 1`,
		`puente_channel_oldest_unacknowledged_seconds{channel="MEX-USA"} 0`,
		`puente_inbound_verified_entries{channel="USA-MEX"} 0`,
		`# TYPE puente_alerts gauge`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics (%d) lack %q:\n%s", code, want, body)
		}
	}
}

func caPool(t *testing.T, f *fedNode) *x509.CertPool {
	pem, err := os.ReadFile(f.n.Config().Path(f.n.Config().CACert))
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(pem)
	return p
}

// fedObservable returns an ipv4-addr marked TLP:GREEN: an object with
// neither modified nor created, whose version the sending node gives it.
func fedObservable(n int) (string, string) {
	id := fmt.Sprintf("ipv4-addr--%08x-0000-4000-8000-%012x", n, n)
	return id, fmt.Sprintf(`{"type":"ipv4-addr","spec_version":"2.1","id":%q,"value":"198.51.100.%d","object_marking_refs":[%q]}`, id, n%250, marking.TLPGreen)
}

// TestFederationObservables: an object without modified or created keeps,
// as a replica, the version its sender gave it, so that its withdrawal
// reaches the replica; and one served altered is refused with an alert,
// though it carries no version to compare.
func TestFederationObservables(t *testing.T) {
	nodes := startNodes(t, "MEX", "USA")
	mex, usa := nodes["MEX"], nodes["USA"]
	ev, _ := reachThroughEvil(t, mex, usa)
	g := mex.group("arms", "USA")
	a, rawA := fedObservable(1)
	bID, rawB := fedObservable(2)
	mex.share(g, rawA, rawB)
	waitDelivered(t, mex, usa, 20*time.Second)
	versions := func(f *fedNode, origin string) map[string]string {
		out := map[string]string{}
		colls, err := f.n.Store().Collections(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range colls {
			if c.Origin != origin || c.Internal {
				continue
			}
			p, err := f.n.Store().Objects(t.Context(), store.Query{CollectionID: c.ID, Types: []string{"ipv4-addr"}, Versions: store.VersionMatch{All: true}, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Objects {
				out[o.ID] = o.Version
			}
		}
		return out
	}
	sent, got := versions(mex, ""), versions(usa, "MEX")
	if len(sent) != 2 || sent[a] != got[a] || sent[bID] != got[bID] {
		t.Fatalf("MEX gave the versions %v, USA's replicas hold %v", sent, got)
	}
	if _, err := mex.n.Store().DeleteObject(t.Context(), g, a, store.VersionMatch{All: true}, nil); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, mex, usa, 20*time.Second)
	if got := usa.replicas("MEX"); !slices.Equal(got, []string{bID}) {
		t.Errorf("after MEX withdrew %s, USA holds %v", a, got)
	}

	ev.mode.Store("object")
	c, rawC := fedObservable(3)
	mex.share(g, rawC)
	deadline := time.Now().Add(20 * time.Second)
	for !slices.ContainsFunc(alerts(t, usa), func(a store.Alert) bool { return a.Kind == "object" }) {
		if time.Now().After(deadline) {
			in, _ := usa.n.Store().Inbound(t.Context(), "MEX")
			t.Fatalf("an altered observable raised no alert: verified %d, unavailable %d, replicas %v", in.Size, in.Unavailable, usa.replicas("MEX"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if slices.Contains(usa.replicas("MEX"), c) {
		t.Errorf("USA stored the altered %s", c)
	}
	ev.mode.Store("")
	waitDelivered(t, mex, usa, 20*time.Second)
	if got := usa.replicas("MEX"); !slices.Equal(got, sorted(bID, c)) {
		t.Errorf("once MEX serves the truth, USA holds %v, want %v", got, sorted(bID, c))
	}
}
