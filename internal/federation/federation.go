// Package federation moves what one party released to another, from the
// sender's node to the recipient's, verified (DESIGN.md §4; guarantees
// G2, G4 and G6). The recipient pulls: it reads its channel's signed
// checkpoint from the partner's ledger, checks that it extends the last
// one it verified, reads the new entries against it, fetches the objects
// they name over the partner's TAXII interface as its own party (mutual
// TLS), checks each object's hash against its entry, and stores the
// replicas and the new verified size in one transaction. Then it
// co-signs the checkpoint and posts the receipt.
//
// Anything that does not verify is refused: nothing of the batch that
// holds it is stored (batches verified before it in the same pull are,
// each in its own transaction), an alert is recorded with the evidence,
// and the last good state stays. A partner that is down or slow is retried with backoff and
// jitter; each partner has its own loop, so none blocks another.
package federation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
)

// Options configure a Federation.
type Options struct {
	Party       string // this node's party
	Store       store.Store
	Cosigner    *ledger.Cosigner // signs receipts
	Certificate tls.Certificate  // this node's client certificate
	Logger      *slog.Logger
	// Interval is the time between pulls from one partner when all is
	// well (default 2s); MaxBackoff bounds the wait after failures
	// (default 1 minute).
	Interval, MaxBackoff time.Duration
	// Progress, when set, hears of long pulls.
	Progress func(party string, done, total int64)
}

// Federation pulls from every pinned partner.
type Federation struct {
	o Options

	mu      sync.Mutex
	running map[string]chan struct{} // guarded by mu: party → wake-up
	clients map[string]peerClient    // guarded by mu: party → client for its pinned CA
}

// peerClient is an HTTPS client for one pinned CA, kept so that pulls
// reuse connections.
type peerClient struct {
	ca []byte
	c  *http.Client
}

// New returns a Federation; Run starts it.
func New(o Options) *Federation {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Federation{o: o, running: map[string]chan struct{}{}, clients: map[string]peerClient{}}
}

// Notify asks for a pull from party now (a partner said it has news).
func (f *Federation) Notify(party string) {
	f.mu.Lock()
	wake := f.running[party]
	f.mu.Unlock()
	if wake != nil {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// NotifyPartner tells party's node that its channel from us has a new
// checkpoint, so that it pulls now rather than at its next scheduled
// pull. It is best effort: a partner that does not answer pulls later.
func (f *Federation) NotifyPartner(ctx context.Context, party string) error {
	peer, err := f.o.Store.Peer(ctx, party)
	if err != nil {
		return err
	}
	c, err := f.client(peer)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, peer.URL+"federation/notify", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("notify %s: HTTP %s", party, resp.Status)
	}
	return nil
}

// Run pulls from every pinned partner until ctx ends: one loop per
// partner, started when it is pinned, stopped when it is removed.
func (f *Federation) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		peers, err := f.o.Store.Peers(ctx)
		if err != nil && ctx.Err() == nil {
			f.o.Logger.ErrorContext(ctx, "federation: list peers", slog.Any("error", err))
		}
		for _, p := range peers {
			f.mu.Lock()
			_, ok := f.running[p.Party]
			if !ok {
				wake := make(chan struct{}, 1)
				f.running[p.Party] = wake
				wg.Go(func() { f.loop(ctx, p.Party, wake) })
			}
			f.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(f.o.Interval):
		}
	}
}

// loop pulls from one partner until ctx ends or it is unpinned.
func (f *Federation) loop(ctx context.Context, party string, wake chan struct{}) {
	defer func() {
		f.mu.Lock()
		delete(f.running, party)
		f.mu.Unlock()
	}()
	log := f.o.Logger.With(slog.String("partner", party))
	backoff := f.o.Interval
	for {
		peer, err := f.o.Store.Peer(ctx, party)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		wait := f.o.Interval
		if err == nil {
			var res Result
			res, err = f.Pull(ctx, peer)
			if err == nil && res.New > 0 {
				log.InfoContext(ctx, "pulled", slog.Int64("new_entries", res.New), slog.Int64("objects", res.Stored),
					slog.Int64("verified_size", res.Size), slog.Bool("receipt", res.Receipt))
			}
		}
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, store.ErrConflict):
			// Another process serving this node from the same database
			// stored a pull first: pull again from the state it left.
			log.DebugContext(ctx, "another process stored this pull first", slog.Any("error", err))
			wait = 0
		case err != nil:
			backoff = min(2*backoff, f.o.MaxBackoff)
			wait = backoff/2 + rand.N(backoff/2+1) // jitter: partners retried apart
			log.WarnContext(ctx, "pull failed; will retry", slog.Duration("in", wait), slog.Any("error", err))
		default:
			backoff = f.o.Interval
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(wait):
		}
	}
}

// Result is what one pull did.
type Result struct {
	Size        int64 // the verified size of the channel after the pull
	New         int64 // entries verified in this pull
	Stored      int64 // object versions stored (new or already held)
	Withdrawn   int64
	Unavailable int64 // entries whose object the partner did not serve
	Receipt     bool  // a receipt was posted
}

// ErrRefused marks a pull refused because what the partner served does
// not verify; an alert with the evidence was recorded.
var ErrRefused = errors.New("refused")

// Pull pulls once from peer: see the package doc.
func (f *Federation) Pull(ctx context.Context, peer store.Peer) (Result, error) {
	var res Result
	c, err := f.client(peer)
	if err != nil {
		return res, err
	}
	verifier, err := note.NewVerifier(peer.CheckpointKey)
	if err != nil {
		return res, fmt.Errorf("pinned checkpoint key of %s: %w", peer.Party, err)
	}
	log := f.o.Party // our party: the channel is peer → us
	origin := ledger.Origin(peer.Party, log)
	fetch := ledger.HTTPFetcher{Client: c, Prefix: peer.URL + "ledger/" + ledger.ChannelName(peer.Party, log) + "/"}
	msg, err := fetch.Fetch(ctx, "checkpoint")
	if errors.Is(err, ledger.ErrMissing) {
		return res, nil // nothing released to us yet
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		var evidence []byte
		for _, c := range certErr.UnverifiedCertificates {
			evidence = append(evidence, c.Raw...)
		}
		return res, f.refuse(ctx, peer.Party, "tls", err, evidence)
	}
	if err != nil {
		return res, err
	}
	cp, _, err := ledger.OpenCheckpoint(msg, origin, verifier)
	if err != nil {
		return res, f.refuse(ctx, peer.Party, "checkpoint", err, msg)
	}
	in, err := f.o.Store.Inbound(ctx, peer.Party)
	if err != nil {
		return res, err
	}
	res.Size = in.Size
	var old *ledger.Checkpoint
	if in.Size > 0 {
		old = &ledger.Checkpoint{Origin: origin, Size: in.Size, Root: in.Root}
	}
	var progress func(done, total int64)
	if f.o.Progress != nil {
		progress = func(done, total int64) { f.o.Progress(peer.Party, done, total) }
	}
	// Verify and fetch batch n+1 while batch n is stored: each batch is
	// stored with the verified (size, root) it ends at, so that a pull
	// cut short resumes exactly there.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type stage struct {
		pull store.Pull
		n    counts
		err  error
	}
	batches := make(chan stage, 1)
	prevSize, prevRoot := in.Size, ledger.Hash(in.Root) // each batch continues the one before
	go func() {
		defer close(batches)
		err := ledger.Follow(pctx, fetch, old, cp, pullBatch, func(first int64, entries [][]byte, root ledger.Hash) error {
			end := first + int64(len(entries))
			var note []byte
			if end == cp.Size {
				note = msg // the state is that of a signed checkpoint: a receipt can follow
			}
			pull, n, err := f.fetchObjects(pctx, c, peer, entries, store.Inbound{Party: peer.Party, Size: end, Root: root, Checkpoint: note, Verified: time.Now()})
			if err != nil {
				return err
			}
			pull.PrevSize, pull.PrevRoot = prevSize, prevRoot
			prevSize, prevRoot = end, root
			select {
			case batches <- stage{pull: pull, n: n}:
				return nil
			case <-pctx.Done():
				return pctx.Err()
			}
		})
		if err != nil && pctx.Err() == nil {
			if !errors.Is(err, ErrRefused) && (errors.Is(err, ledger.ErrFork) || errors.Is(err, ledger.ErrBadProof) || errors.Is(err, ledger.ErrMalformed)) {
				err = f.refuse(ctx, peer.Party, "log", err, append(append([]byte{}, in.Checkpoint...), msg...))
			}
			select {
			case batches <- stage{err: err}:
			case <-pctx.Done(): // the consumer stopped first
			}
		}
	}()
	for st := range batches {
		if st.err != nil {
			return res, st.err
		}
		conflicts, err := f.o.Store.ApplyPull(ctx, st.pull)
		if err != nil {
			return res, fmt.Errorf("store the pull from %s: %w", peer.Party, err)
		}
		for _, c := range conflicts {
			// The partner's log vouches for other content under a version
			// we hold: versions are immutable, so one of its releases was
			// not. Keep what we hold, say so with the evidence.
			f.alert(ctx, peer.Party, "version", fmt.Errorf("object %s version %s was released again with other content; the replica keeps the first", c.ID, c.Version), []byte(c.ID+" "+c.Version))
		}
		res.New += st.pull.State.Size - res.Size
		res.Size = st.pull.State.Size
		res.Stored += st.n.stored
		res.Withdrawn += st.n.withdrawn
		res.Unavailable += st.n.unavailable
		if progress != nil {
			progress(res.Size-in.Size, cp.Size-in.Size)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if in, err = f.o.Store.Inbound(ctx, peer.Party); err != nil {
		return res, err
	}
	res.Size = in.Size
	if in.Size > in.ReceiptSize && f.o.Cosigner != nil {
		// Only the state of a whole signed checkpoint is acknowledged.
		if held, _, err := ledger.OpenCheckpoint(in.Checkpoint, origin, verifier); err == nil && held.Size == in.Size {
			if err := f.postReceipt(ctx, c, peer, fetch.Prefix, verifier, in); err != nil {
				return res, fmt.Errorf("receipt to %s: %w", peer.Party, err)
			}
			res.Receipt = true
		}
	}
	return res, nil
}

// pullBatch is how many entries one stored batch of a pull holds.
const pullBatch = 2000

// refuse records an alert with its evidence and returns err marked
// ErrRefused.
func (f *Federation) refuse(ctx context.Context, party, kind string, err error, evidence []byte) error {
	f.alert(ctx, party, kind, err, evidence)
	return fmt.Errorf("%s from %s: %w: %w", kind, party, ErrRefused, err)
}

// alert logs at error level and records an alert with its evidence.
func (f *Federation) alert(ctx context.Context, party, kind string, err error, evidence []byte) {
	f.o.Logger.ErrorContext(ctx, "federation: a partner served what we refuse", slog.String("partner", party),
		slog.String("kind", kind), slog.Any("error", err))
	a := store.Alert{Time: time.Now(), Party: party, Kind: kind, Message: err.Error(), Evidence: evidence}
	if perr := f.o.Store.PutAlert(context.WithoutCancel(ctx), a); perr != nil {
		f.o.Logger.ErrorContext(ctx, "federation: record alert", slog.Any("error", perr))
	}
}

type counts struct{ stored, withdrawn, unavailable int64 }

// want is one object version a pull must bring.
type want struct {
	entry ledger.Entry
	raw   []byte       // the object as served, once found
	obj   *stix.Object // raw, parsed
	// bad is an object served with the entry's id and version whose
	// content does not match the entry: evidence of tampering.
	bad []byte
	// suspect is set when a copy of the entry's object without modified
	// or created (which carries no version) was served with other
	// content: another version of it, or this one altered. fetchVersion
	// asks for the entry's version to tell.
	suspect bool
}

// match records what a served object o (its bytes r) says of w.
func (w *want) match(o *stix.Object, r []byte) {
	switch {
	case w.raw != nil || w.entry.ObjectID != o.ID:
	case w.entry.SHA256 == o.Hash:
		w.raw, w.obj = o.Raw, o
	case o.Version == w.entry.Version:
		w.bad = append([]byte(nil), r...)
	case o.Version == "":
		w.suspect = true
	}
}

// maxIDs is how many ids one TAXII request asks for (the server's limit
// per match parameter); maxPages bounds the pages read for them (every
// version of 100 objects), so that a partner cannot page us forever.
const (
	maxIDs   = 100
	maxPages = 100
)

// fetchObjects fetches, over TAXII, the objects the new entries name and
// checks each against its entry. An object whose content does not match
// its entry refuses the whole pull.
func (f *Federation) fetchObjects(ctx context.Context, c *http.Client, peer store.Peer, raw [][]byte, state store.Inbound) (store.Pull, counts, error) {
	pull := store.Pull{Party: peer.Party, State: state}
	var n counts
	byGroup := map[string][]*want{}
	var groups []string
	withdrawals := map[string][]store.Withdrawal{}
	for _, r := range raw {
		e, err := ledger.ParseEntry(r)
		if err != nil {
			return pull, n, f.refuse(ctx, peer.Party, "entry", err, r)
		}
		if !slices.Contains(groups, e.Group) {
			groups = append(groups, e.Group)
		}
		switch e.Kind {
		case ledger.KindObject:
			byGroup[e.Group] = append(byGroup[e.Group], &want{entry: e})
		case ledger.KindWithdrawal:
			ts, err := stix.ParseTimestamp(e.Version)
			if err != nil {
				continue // a version that is not a timestamp was never stored here
			}
			withdrawals[e.Group] = append(withdrawals[e.Group], store.Withdrawal{ObjectID: e.ObjectID, VersionKey: stix.VersionKey(ts)})
			n.withdrawn++
		}
	}
	for _, g := range groups {
		rc := store.ReplicaCollection{ID: ReplicaID(peer.Party, g), Title: peer.Party + " " + g, Withdrawals: withdrawals[g]}
		if title, err := f.collectionTitle(ctx, c, peer, g); err == nil {
			rc.Title = peer.Party + ": " + title
		}
		ws := byGroup[g]
		// First by date_added, the entries' times (a few large pages);
		// then by id for what that did not find.
		if err := f.fetchRange(ctx, c, peer, g, ws); err != nil {
			return pull, n, err
		}
		var rest []*want
		for _, w := range ws {
			if w.raw == nil {
				rest = append(rest, w)
			}
		}
		for start := 0; start < len(rest); start += maxIDs {
			chunk := rest[start:min(start+maxIDs, len(rest))]
			if err := f.fetchChunk(ctx, c, peer, g, chunk); err != nil {
				return pull, n, err
			}
		}
		for _, w := range ws {
			if w.raw == nil && w.bad == nil && w.suspect {
				if err := f.fetchVersion(ctx, c, peer, g, w); err != nil {
					return pull, n, err
				}
			}
			if w.raw == nil && w.bad != nil {
				return pull, n, f.refuse(ctx, peer.Party, "object",
					fmt.Errorf("object %s version %s does not match its ledger entry", w.entry.ObjectID, w.entry.Version), w.bad)
			}
			if w.raw == nil {
				n.unavailable++ // withdrawn since, expired, or not served
				continue
			}
			o := w.obj // its hash is the entry's (fetchChunk)
			version, key := o.Version, o.VersionKey
			if version == "" {
				// No modified or created: the version the partner gave it,
				// as its entry says, so that its withdrawal finds it.
				ts, err := stix.ParseTimestamp(w.entry.Version)
				if err != nil {
					return pull, n, f.refuse(ctx, peer.Party, "entry",
						fmt.Errorf("object %s: version %q is not a timestamp", o.ID, w.entry.Version), w.raw)
				}
				version, key = w.entry.Version, stix.VersionKey(ts)
			}
			rc.Objects = append(rc.Objects, store.NewObject{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion,
				Version: version, VersionKey: key, Hash: o.Hash, Raw: o.Raw,
				Release: store.Release{Originator: peer.Party}})
			n.stored++
		}
		pull.Collections = append(pull.Collections, rc)
	}
	pull.State.Unavailable = n.unavailable
	return pull, n, nil
}

// fetchRange reads, as our party, the objects of group added in the time
// span of the wants' entries (an entry's time is its version's
// date_added), in pages of 1,000, and matches them to the wants.
func (f *Federation) fetchRange(ctx context.Context, c *http.Client, peer store.Peer, group string, ws []*want) error {
	if len(ws) == 0 {
		return nil
	}
	lo, hi := ws[0].entry.Time, ws[0].entry.Time
	for _, w := range ws {
		if w.entry.Time.Before(lo) {
			lo = w.entry.Time
		}
		if w.entry.Time.After(hi) {
			hi = w.entry.Time
		}
	}
	byKey := make(map[string][]*want, len(ws))
	for _, w := range ws {
		byKey[w.entry.ObjectID] = append(byKey[w.entry.ObjectID], w)
	}
	after := lo.Add(-time.Microsecond)
	for {
		q := url.Values{"added_after": {after.UTC().Format("2006-01-02T15:04:05.000000Z")}, "match[version]": {"all"}, "limit": {"1000"}}
		u := peer.URL + "taxii2/api/collections/" + url.PathEscape(group) + "/objects/?" + q.Encode()
		env, last, err := getEnvelope(ctx, c, u)
		if err != nil {
			if errors.Is(err, errNotFound) {
				return nil
			}
			return err
		}
		for _, r := range env.Objects {
			o, err := stix.Parse(r)
			if err != nil {
				continue
			}
			for _, w := range byKey[o.ID] {
				w.match(o, r)
			}
		}
		if !env.More || last.IsZero() || !last.Before(hi) || !last.After(after) {
			return nil
		}
		after = last
	}
}

// fetchChunk reads, as our party, every version of the chunk's objects
// the partner releases to us, and keeps for each wanted version the one
// whose canonical hash is the entry's.
func (f *Federation) fetchChunk(ctx context.Context, c *http.Client, peer store.Peer, group string, chunk []*want) error {
	ids := make([]string, 0, len(chunk))
	for _, w := range chunk {
		if !slices.Contains(ids, w.entry.ObjectID) {
			ids = append(ids, w.entry.ObjectID)
		}
	}
	q := url.Values{"match[id]": {strings.Join(ids, ",")}, "match[version]": {"all"}, "limit": {"1000"}}
	next := ""
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxPages {
			return fmt.Errorf("%s: more than %d pages for %d objects", peer.Party, maxPages, len(ids))
		}
		if next != "" {
			q.Set("next", next)
		}
		u := peer.URL + "taxii2/api/collections/" + url.PathEscape(group) + "/objects/?" + q.Encode()
		env, _, err := getEnvelope(ctx, c, u)
		if err != nil {
			if errors.Is(err, errNotFound) {
				return nil // the group is gone for us: every object unavailable
			}
			return err
		}
		for _, r := range env.Objects {
			o, err := stix.Parse(r)
			if err != nil {
				continue // matches no entry
			}
			for _, w := range chunk {
				w.match(o, r)
			}
		}
		if !env.More || env.Next == "" {
			return nil
		}
		if seen[env.Next] {
			return fmt.Errorf("%s: a next token came back twice", peer.Party)
		}
		seen[env.Next] = true
		next = env.Next
	}
}

// fetchVersion reads, as our party, the version of w's object that w's
// entry names, for an object without modified or created whose served
// copies did not match: served with other content, it is altered.
func (f *Federation) fetchVersion(ctx context.Context, c *http.Client, peer store.Peer, group string, w *want) error {
	q := url.Values{"match[version]": {w.entry.Version}}
	u := peer.URL + "taxii2/api/collections/" + url.PathEscape(group) + "/objects/" + url.PathEscape(w.entry.ObjectID) + "/?" + q.Encode()
	env, _, err := getEnvelope(ctx, c, u)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return nil // not served: withdrawn since, or expired
		}
		return err
	}
	for _, r := range env.Objects {
		o, err := stix.Parse(r)
		if err != nil || o.ID != w.entry.ObjectID {
			continue
		}
		if o.Hash == w.entry.SHA256 {
			w.raw, w.obj = o.Raw, o
			return nil
		}
		w.bad = append([]byte(nil), r...)
	}
	return nil
}

func (f *Federation) collectionTitle(ctx context.Context, c *http.Client, peer store.Peer, group string) (string, error) {
	var col struct {
		Title string `json:"title"`
	}
	err := getJSON(ctx, c, peer.URL+"taxii2/api/collections/"+url.PathEscape(group)+"/", &col)
	return col.Title, err
}

var errNotFound = errors.New("not found")

// maxResponse bounds a TAXII response read by federation: the server's
// page limit (16 MiB) and some slack.
const maxResponse = 17 << 20

func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	body, _, err := get(ctx, c, u)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// getEnvelope reads a TAXII envelope and its X-TAXII-Date-Added-Last
// (zero when absent).
func getEnvelope(ctx context.Context, c *http.Client, u string) (envelope, time.Time, error) {
	body, last, err := get(ctx, c, u)
	if err != nil {
		return envelope{}, last, err
	}
	env, err := parseEnvelope(body)
	if err != nil {
		return envelope{}, last, fmt.Errorf("GET %s: %w", u, err)
	}
	return env, last, nil
}

// get reads u, as TAXII, and returns the body of a 200 answer and its
// X-TAXII-Date-Added-Last.
func get(ctx context.Context, c *http.Client, u string) ([]byte, time.Time, error) {
	var last time.Time
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, last, err
	}
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := c.Do(req)
	if err != nil {
		return nil, last, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, last, fmt.Errorf("GET %s: %w", u, errNotFound)
	default:
		return nil, last, fmt.Errorf("GET %s: HTTP %s", u, resp.Status)
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(max(resp.ContentLength, 0), maxResponse)+512))
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxResponse+1)); err != nil {
		return nil, last, err
	}
	if buf.Len() > maxResponse {
		// Not cut and then called malformed: a partner's page is never
		// this large.
		return nil, last, fmt.Errorf("GET %s: the response is larger than %d bytes", u, maxResponse)
	}
	if h := resp.Header.Get("X-TAXII-Date-Added-Last"); h != "" {
		last, _ = time.Parse(time.RFC3339Nano, h)
	}
	return buf.Bytes(), last, nil
}

// postReceipt co-signs the last verified checkpoint and posts it.
func (f *Federation) postReceipt(ctx context.Context, c *http.Client, peer store.Peer, prefix string, verifier note.Verifier, in store.Inbound) error {
	n, err := note.Open(in.Checkpoint, note.VerifierList(verifier))
	if err != nil {
		return err
	}
	receipt, err := note.Sign(n, f.o.Cosigner) // the log's signature, then ours
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, prefix+"receipt", bytes.NewReader(receipt))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return f.o.Store.SetReceiptPosted(ctx, peer.Party, in.Size)
}

// client returns the HTTPS client for peer: mutual TLS 1.3, trusting the
// peer's pinned CA only. A client is kept per partner while its CA stays
// the same.
func (f *Federation) client(peer store.Peer) (*http.Client, error) {
	f.mu.Lock()
	pc, ok := f.clients[peer.Party]
	f.mu.Unlock()
	if ok && bytes.Equal(pc.ca, peer.CA) {
		return pc.c, nil
	}
	c, err := f.newClient(peer)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.clients[peer.Party] = peerClient{ca: peer.CA, c: c}
	f.mu.Unlock()
	return c, nil
}

func (f *Federation) newClient(peer store.Peer) (*http.Client, error) {
	ca, err := parseCA(peer.CA)
	if err != nil {
		return nil, fmt.Errorf("pinned CA of %s: %w", peer.Party, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{
				MinVersion:   tls.VersionTLS13,
				RootCAs:      pool,
				Certificates: []tls.Certificate{f.o.Certificate},
			},
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		},
	}, nil
}

// ReplicaID is the id, on this node, of the collection that holds the
// replicas of one of party's working groups: derived from both, so that
// a partner cannot choose it to land in one of our own collections.
func ReplicaID(party, group string) string {
	h := sha256.Sum256([]byte("puente replica\x00" + party + "\x00" + group))
	h[6] = h[6]&0x0f | 0x80 // version 8: custom (RFC 9562)
	h[8] = h[8]&0x3f | 0x80 // variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
