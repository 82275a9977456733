package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	tessera "github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/marking"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/sqlite"
	"github.com/puente-project/puente/internal/taxii"
)

// ledgerEnv is a MEX node's TAXII server and ledger on one real TLS
// listener over a real SQLite file, with test principals.
type ledgerEnv struct {
	t        *testing.T
	srv      *httptest.Server
	st       store.Store
	signer   note.Signer
	verifier note.Verifier
	shared   string // collection MEX, USA, CAN
	bilat    string // collection MEX, USA
}

var ledgerPrincipals = map[string]auth.Principal{
	"ana":    {Name: "ana", Party: "MEX", Roles: []string{"analyst"}},
	"audrey": {Name: "audrey", Party: "MEX", Roles: []string{"auditor"}},
	"USA":    {Name: "USA", Party: "USA"},
	"CAN":    {Name: "CAN", Party: "CAN"},
}

func newLedgerEnv(t *testing.T) *ledgerEnv {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "puente.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	skey, vkey, err := note.GenerateKey(rand.Reader, "puente-MEX")
	if err != nil {
		t.Fatal(err)
	}
	signer, verifier, err := loadSigningKey(skey, vkey)
	if err != nil {
		t.Fatal(err)
	}
	e := &ledgerEnv{t: t, st: st, signer: signer, verifier: verifier,
		shared: "11111111-1111-4111-8111-111111111111", bilat: "22222222-2222-4222-8222-222222222222"}
	for _, c := range []store.Collection{
		{ID: e.shared, Title: "arms", Members: []string{"MEX", "USA", "CAN"}, Created: time.Now()},
		{ID: e.bilat, Title: "fentanyl", Members: []string{"MEX", "USA"}, Created: time.Now()},
	} {
		if err := st.CreateCollection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	authn := func(r *http.Request) (auth.Principal, error) {
		u, pw, ok := r.BasicAuth()
		p, known := ledgerPrincipals[u]
		if !ok || !known || pw != "pw" {
			return auth.Principal{}, auth.ErrUnauthenticated
		}
		return p, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/taxii2/", taxii.New(st, authn, taxii.Config{Party: "MEX", TokenKey: []byte("0123456789abcdef0123456789abcdef")}))
	mux.Handle("/ledger/", &ledgerHandler{st: st, party: "MEX", authn: authn, verifiers: []note.Verifier{verifier}, logger: slog.New(slog.DiscardHandler), now: time.Now})
	e.srv = httptest.NewTLSServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *ledgerEnv) do(method, user, path string, body []byte) (int, []byte) {
	e.t.Helper()
	r, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	r.SetBasicAuth(user, "pw")
	if strings.HasPrefix(path, "/taxii2/") {
		r.Header.Set("Accept", "application/taxii+json;version=2.1")
		r.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	}
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// share posts objects as ana to a collection and checks they are added.
func (e *ledgerEnv) share(coll string, objs ...string) {
	e.t.Helper()
	env := `{"objects":[` + strings.Join(objs, ",") + `]}`
	status, body := e.do(http.MethodPost, "ana", "/taxii2/api/collections/"+coll+"/objects/", []byte(env))
	if status != http.StatusAccepted || !strings.Contains(string(body), `"failure_count":0`) {
		e.t.Fatalf("share: %d %s", status, body)
	}
}

func indicator(n int, markings ...string) (id, raw string) {
	id = fmt.Sprintf("indicator--%08x-aaaa-4bbb-8ccc-%012x", n, n)
	refs := ""
	if len(markings) > 0 {
		refs = `,"object_marking_refs":["` + strings.Join(markings, `","`) + `"]`
	}
	return id, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z"%s}`, id, n%250, refs)
}

// TestLedgerChannels shares objects with several markings in two groups
// and checks, through the served logs, that each channel records exactly
// what was released to its partner, that only the partner and auditors
// can read it, that an outside client verifies it, and that receipts are
// taken only from the partner with its pinned key.
func TestLedgerChannels(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := t.Context()
	want := map[string][]string{"USA": nil, "CAN": nil}
	var objs []string
	for i := range 300 {
		var id, raw string
		switch i % 4 {
		case 0: // GREEN in the three-party group: USA and CAN
			id, raw = indicator(i, marking.TLPGreen)
			want["USA"], want["CAN"] = append(want["USA"], id), append(want["CAN"], id)
		case 1: // AMBER+STRICT: nobody
			id, raw = indicator(i, marking.TLPAmberStrict)
		case 2: // RED with no recipient: nobody
			id, raw = indicator(i, marking.TLPRed)
		case 3: // unmarked, the group's default (AMBER): all members
			id, raw = indicator(i)
			want["USA"], want["CAN"] = append(want["USA"], id), append(want["CAN"], id)
		}
		_ = id
		objs = append(objs, raw)
	}
	e.share(e.shared, objs...)
	id, raw := indicator(1000, marking.TLPGreen)
	e.share(e.bilat, raw)
	want["USA"] = append(want["USA"], id)

	if _, err := PublishCheckpoints(ctx, e.st, "MEX", e.signer, time.Now()); err != nil {
		t.Fatal(err)
	}
	for partner, ids := range want {
		prefix := e.srv.URL + "/ledger/MEX-" + partner + "/"
		f := ledger.HTTPFetcher{Client: e.srv.Client(), Prefix: prefix, Authorize: func(r *http.Request) { r.SetBasicAuth(partner, "pw") }}
		msg, err := f.Fetch(ctx, "checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		cp, _, err := ledger.OpenCheckpoint(msg, "puente/MEX-"+partner, e.verifier)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		err = ledger.VerifyLog(ctx, ledger.LogCheck{Fetch: f, Checkpoint: cp, Entry: func(_ int64, en ledger.Entry) error {
			got = append(got, en.ObjectID)
			return nil
		}})
		if err != nil {
			t.Fatalf("channel MEX-%s does not verify: %v", partner, err)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("channel MEX-%s records %d objects, want exactly the %d released to %s", partner, len(got), len(ids), partner)
		}

		// The outside judge reads the same log over HTTPS.
		u, _ := url.Parse(prefix)
		hf, err := tessera.NewHTTPFetcher(u, e.srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		hf.SetAuthorizationHeader("Basic " + basic(partner, "pw"))
		tc, _, _, err := tessera.FetchCheckpoint(ctx, hf.ReadCheckpoint, e.verifier, "puente/MEX-"+partner)
		if err != nil {
			t.Fatalf("Tessera refuses the checkpoint of MEX-%s: %v", partner, err)
		}
		pb, err := tessera.NewProofBuilder(ctx, tc.Size, hf.ReadTile)
		if err != nil {
			t.Fatal(err)
		}
		p, err := pb.InclusionProof(ctx, tc.Size-1)
		if err != nil {
			t.Fatal(err)
		}
		last, err := f.Fetch(ctx, ledger.TilePath(ledger.EntriesLevel, int64(tc.Size-1)/ledger.TileWidth, ledger.TileWidthAt(ledger.TileID{Level: ledger.EntriesLevel, Index: int64(tc.Size-1) / ledger.TileWidth}, int64(tc.Size))))
		if err != nil {
			t.Fatal(err)
		}
		es, err := ledger.ParseBundle(last, ledger.TileWidthAt(ledger.TileID{Level: ledger.EntriesLevel, Index: int64(tc.Size-1) / ledger.TileWidth}, int64(tc.Size)))
		if err != nil {
			t.Fatal(err)
		}
		leaf := ledger.LeafHash(es[len(es)-1])
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, tc.Size-1, tc.Size, leaf[:], p, tc.Hash); err != nil {
			t.Errorf("Tessera's inclusion proof from our tiles: %v", err)
		}
	}

	// Who may read which log: the same 404 for a log one may not read as
	// for one that does not exist.
	for _, c := range []struct {
		user, path string
		status     int
	}{
		{"USA", "/ledger/MEX-USA/checkpoint", 200},
		{"USA", "/ledger/MEX-CAN/checkpoint", 404},
		{"USA", "/ledger/MEX-internal/checkpoint", 404},
		{"USA", "/ledger/MEX-GTM/checkpoint", 404},
		{"CAN", "/ledger/MEX-USA/tile/0/000.p/1", 404},
		{"CAN", "/ledger/MEX-CAN/tile/entries/000.p/1", 200},
		{"ana", "/ledger/MEX-USA/checkpoint", 404},
		{"audrey", "/ledger/MEX-USA/checkpoint", 200},
		{"audrey", "/ledger/MEX-internal/checkpoint", 200},
		{"audrey", "/ledger/MEX-USA/tile/0/x999/999", 404},
		{"audrey", "/ledger/MEX-USA/tile/0/0000", 404},
		{"nobody", "/ledger/MEX-USA/checkpoint", 401},
	} {
		status, body := e.do(http.MethodGet, c.user, c.path, nil)
		if status != c.status {
			t.Errorf("%s GET %s = %d %s, want %d", c.user, c.path, status, body, c.status)
		}
	}
	_, denied := e.do(http.MethodGet, "USA", "/ledger/MEX-CAN/checkpoint", nil)
	_, missing := e.do(http.MethodGet, "USA", "/ledger/MEX-GTM/checkpoint", nil)
	if !bytes.Equal(denied, missing) {
		t.Errorf("a denied log answers %q, a missing one %q: they must not differ", denied, missing)
	}
	_, list := e.do(http.MethodGet, "USA", "/ledger/", nil)
	if !strings.Contains(string(list), `"MEX-USA"`) || strings.Contains(string(list), "MEX-CAN") || strings.Contains(string(list), "internal") {
		t.Errorf("USA's list of logs: %s", list)
	}

	// An inclusion proof bundle for one object, checked offline against
	// the object's bytes as USA reads them over TAXII.
	status, bundle := e.do(http.MethodGet, "USA", "/ledger/MEX-USA/proof/inclusion?object="+url.QueryEscape(id)+"&version=2026-01-02T03:04:05.000Z", nil)
	if status != 200 {
		t.Fatalf("proof: %d %s", status, bundle)
	}
	pb, err := ledger.ParseProofBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pb.Verify("puente/MEX-USA", e.verifier, []byte(raw)); err != nil {
		t.Errorf("proof bundle: %v", err)
	}
	// An object not released to CAN has no proof on CAN's channel.
	if status, _ := e.do(http.MethodGet, "CAN", "/ledger/MEX-CAN/proof/inclusion?object="+url.QueryEscape(id)+"&version=2026-01-02T03:04:05.000Z", nil); status != 404 {
		t.Errorf("proof of an object not released to CAN: %d, want 404", status)
	}
	status, cons := e.do(http.MethodGet, "USA", "/ledger/MEX-USA/proof/consistency?old=10", nil)
	if status != 200 || !strings.Contains(string(cons), `"proof"`) {
		t.Errorf("consistency proof: %d %s", status, cons)
	}

	// Receipts.
	usaKey, usaPub, err := ledger.GenerateCosigner(rand.Reader, "puente-USA-receipts")
	if err != nil {
		t.Fatal(err)
	}
	usa, _ := ledger.ParseCosigner(usaKey)
	_, cp := e.do(http.MethodGet, "USA", "/ledger/MEX-USA/checkpoint", nil)
	n, err := note.Open(cp, note.VerifierList(e.verifier))
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := note.Sign(n, usa)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := e.do(http.MethodPost, "USA", "/ledger/MEX-USA/receipt", receipt); status != 400 || !strings.Contains(string(body), "not pinned") {
		t.Errorf("receipt before USA is pinned: %d %s, want 400", status, body)
	}
	if err := e.st.PutPeer(ctx, store.Peer{Party: "USA", ReceiptKey: usaPub, Added: time.Now()}); err != nil {
		t.Fatal(err)
	}
	canKey, _, _ := ledger.GenerateCosigner(rand.Reader, "puente-USA-receipts")
	impostor, _ := ledger.ParseCosigner(canKey)
	forged, _ := note.Sign(n, impostor)
	otherSigner, _ := testKeys(t, "puente-MEX")
	fakeCP, _ := ledger.Sign(ledger.Checkpoint{Origin: "puente/MEX-USA", Size: 5}, otherSigner)
	fn, _ := note.Open(fakeCP, note.VerifierList(otherVerifierOf(t, otherSigner)))
	fakeReceipt, _ := note.Sign(fn, usa)
	for _, c := range []struct {
		name, user, path string
		body             []byte
		status           int
	}{
		{"by CAN on USA's channel", "CAN", "/ledger/MEX-USA/receipt", receipt, 404},
		{"by an auditor", "audrey", "/ledger/MEX-USA/receipt", receipt, 404},
		{"wrong receipt key", "USA", "/ledger/MEX-USA/receipt", forged, 400},
		{"checkpoint we never signed", "USA", "/ledger/MEX-USA/receipt", fakeReceipt, 400},
		{"garbage", "USA", "/ledger/MEX-USA/receipt", []byte("hello\n"), 400},
		{"good", "USA", "/ledger/MEX-USA/receipt", receipt, 200},
	} {
		if status, body := e.do(http.MethodPost, c.user, c.path, c.body); status != c.status {
			t.Errorf("receipt %s: %d %s, want %d", c.name, status, body, c.status)
		}
	}
	sts, err := LedgerStatus(ctx, e.st, "MEX")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		switch s.Channel {
		case "MEX-USA":
			if s.ReceiptSize != s.Size || s.Unacknowledged != 0 || s.ReceiptTime.IsZero() {
				t.Errorf("status of MEX-USA after the receipt: %+v", s)
			}
		case "MEX-CAN":
			if s.ReceiptSize != 0 || s.Unacknowledged != s.Size || s.OldestUnacknowledged.IsZero() {
				t.Errorf("status of MEX-CAN without receipt: %+v", s)
			}
		}
	}
	j, _ := json.Marshal(sts)
	for _, k := range []string{"channel", "size", "checkpoint_time", "receipt_size", "receipt_time", "unacknowledged"} {
		if !strings.Contains(string(j), `"`+k+`"`) {
			t.Errorf("status JSON lacks %q: %s", k, j)
		}
	}
}

func testKeys(t *testing.T, name string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func otherVerifierOf(t *testing.T, s note.Signer) note.Verifier {
	t.Helper()
	// The test made s with testKeys; open the note with a verifier that
	// accepts any signature under its name and hash, to re-sign it below.
	return acceptAll{s.Name(), s.KeyHash()}
}

type acceptAll struct {
	name string
	hash uint32
}

func (a acceptAll) Name() string                { return a.name }
func (a acceptAll) KeyHash() uint32             { return a.hash }
func (a acceptAll) Verify(msg, sig []byte) bool { return true }

func basic(user, pw string) string {
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pw)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// TestPublishRoundLease checks that an idle node takes no signer lease
// (it writes nothing four times a second), and that a node signs only
// while it holds the lease.
func TestPublishRoundLease(t *testing.T) {
	n, res, _ := openNode(t)
	ctx := t.Context()
	if made, err := n.publishRound(ctx); err != nil || len(made) != 0 {
		t.Fatalf("publishRound on an empty node = %v, %v", made, err)
	}
	// Nothing was due: the lease is free for another process.
	if held, err := n.st.Lease(ctx, signerLease, "another process", time.Hour); err != nil || !held {
		t.Fatalf("the lease was taken by an idle node (%v, %v)", held, err)
	}
	id, raw := indicator(1)
	o := store.NewObject{ID: id, Type: "indicator", SpecVersion: "2.1", Hash: sha256.Sum256([]byte(raw)), Raw: []byte(raw)}
	if _, err := n.st.AddObjects(ctx, res.Internal.ID, []store.NewObject{o}); err != nil {
		t.Fatal(err)
	}
	if made, err := n.publishRound(ctx); err != nil || len(made) != 0 {
		t.Fatalf("publishRound without the lease = %v, %v; want nothing signed", made, err)
	}
	if _, err := n.st.LatestCheckpoint(ctx, store.InternalLog); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a checkpoint was signed without the lease: %v", err)
	}
}
