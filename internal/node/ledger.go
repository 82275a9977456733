package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// defaultCheckpointEvery is how often a serving node signs a checkpoint
// of each log that has grown.
const defaultCheckpointEvery = 250 * time.Millisecond

// PublishCheckpoints signs and records a checkpoint of every log of st
// that has grown since its last checkpoint. It returns the checkpoints
// made. Several processes may run it at once: a checkpoint is a pure
// function of the log and the key, so two signers write the same bytes.
func PublishCheckpoints(ctx context.Context, st store.Store, party string, signer note.Signer, now time.Time) ([]store.StoredCheckpoint, error) {
	due, err := dueCheckpoints(ctx, st)
	if err != nil {
		return nil, err
	}
	return signCheckpoints(ctx, st, party, signer, now, due)
}

// dueCheckpoints returns the logs of st that have grown since their last
// checkpoint.
func dueCheckpoints(ctx context.Context, st store.Store) ([]store.Log, error) {
	logs, err := st.Logs(ctx)
	if err != nil {
		return nil, err
	}
	var due []store.Log
	for _, l := range logs {
		last, err := st.LatestCheckpoint(ctx, l.Name)
		switch {
		case err == nil && last.Size >= l.Size:
			continue
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		due = append(due, l)
	}
	return due, nil
}

// signCheckpoints signs and records a checkpoint of each of logs at its
// size.
func signCheckpoints(ctx context.Context, st store.Store, party string, signer note.Signer, now time.Time, logs []store.Log) ([]store.StoredCheckpoint, error) {
	var made []store.StoredCheckpoint
	for _, l := range logs {
		root, err := ledger.TreeHash(ctx, store.LogSource(st, l.Name), l.Size)
		if err != nil {
			return made, fmt.Errorf("log %s: %w", l.Name, err)
		}
		msg, err := ledger.Sign(ledger.Checkpoint{Origin: ledger.Origin(party, l.Name), Size: l.Size, Root: root}, signer)
		if err != nil {
			return made, err
		}
		c := store.StoredCheckpoint{Log: l.Name, Size: l.Size, Note: msg, Time: now}
		if err := st.PutCheckpoint(ctx, c); err != nil {
			return made, err
		}
		made = append(made, c)
	}
	return made, nil
}

// publishLoop signs checkpoints every n.checkpointEvery until ctx ends,
// and tells each partner whose channel has a new one: one notifier per
// partner, which folds the checkpoints made while it was busy into one
// notification, so that a partner that is down costs one call at a time.
func (n *Node) publishLoop(ctx context.Context) {
	t := time.NewTicker(n.checkpointEvery)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	notifiers := map[string]chan struct{}{}
	for {
		made, err := n.publishRound(ctx)
		if err != nil && ctx.Err() == nil {
			n.logger.ErrorContext(ctx, "sign checkpoints", slog.Any("error", err))
		}
		for _, c := range made {
			if c.Log == store.InternalLog {
				continue
			}
			ch, ok := notifiers[c.Log]
			if !ok {
				ch = make(chan struct{}, 1)
				notifiers[c.Log] = ch
				wg.Go(func() { n.notifier(ctx, c.Log, ch) })
			}
			select {
			case ch <- struct{}{}:
			default: // one is pending already
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// signerLease is the lease (store.Store.Lease) that the processes
// serving one node from a shared database take to sign checkpoints, so
// that one of them signs each interval and notifies partners.
const signerLease = "checkpoint-signer"

// publishRound signs the checkpoints of the logs that grew, when this
// process holds the signer lease; it returns none otherwise. The lease
// lasts a few intervals: another process takes over when this one stops.
// An idle node writes nothing: the lease is taken only when a log grew.
func (n *Node) publishRound(ctx context.Context) ([]store.StoredCheckpoint, error) {
	due, err := dueCheckpoints(ctx, n.st)
	if err != nil || len(due) == 0 {
		return nil, err
	}
	held, err := n.st.Lease(ctx, signerLease, n.instance, 4*n.checkpointEvery)
	if err != nil || !held {
		return nil, err
	}
	return signCheckpoints(ctx, n.st, n.cfg.Party, n.signer, n.now(), due)
}

// notifier tells partner of new checkpoints, one call at a time, until
// ctx ends.
func (n *Node) notifier(ctx context.Context, partner string, pending <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-pending:
		}
		if err := n.fed.NotifyPartner(ctx, partner); err != nil && !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			n.logger.DebugContext(ctx, "notify partner", slog.String("partner", partner), slog.Any("error", err))
		}
	}
}

// ChannelStatus is the delivery state of one log.
type ChannelStatus struct {
	Channel        string    `json:"channel"` // "MEX-USA", or "MEX-internal"
	Partner        string    `json:"partner,omitempty"`
	Size           int64     `json:"size"`
	CheckpointSize int64     `json:"checkpoint_size"`
	CheckpointTime time.Time `json:"checkpoint_time,omitzero"`
	ReceiptSize    int64     `json:"receipt_size"`
	ReceiptTime    time.Time `json:"receipt_time,omitzero"`
	// Unacknowledged counts entries no receipt covers (channels only).
	Unacknowledged int64 `json:"unacknowledged"`
	// OldestUnacknowledged is the time of the first entry no receipt
	// covers.
	OldestUnacknowledged time.Time `json:"oldest_unacknowledged,omitzero"`
}

// LedgerStatus returns the state of every log of st.
func LedgerStatus(ctx context.Context, st store.Store, party string) ([]ChannelStatus, error) {
	logs, err := st.Logs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ChannelStatus, 0, len(logs))
	for _, l := range logs {
		s := ChannelStatus{Channel: ledger.ChannelName(party, l.Name), Size: l.Size}
		if c, err := st.LatestCheckpoint(ctx, l.Name); err == nil {
			s.CheckpointSize, s.CheckpointTime = c.Size, c.Time
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if l.Name != store.InternalLog {
			s.Partner = l.Name
			if r, err := st.LatestReceipt(ctx, l.Name); err == nil {
				s.ReceiptSize, s.ReceiptTime = r.Size, r.Received
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			s.Unacknowledged = l.Size - s.ReceiptSize
			if s.Unacknowledged > 0 {
				es, err := st.LogEntries(ctx, l.Name, s.ReceiptSize, 1)
				if err != nil {
					return nil, err
				}
				if len(es) == 1 {
					if e, err := ledger.ParseEntry(es[0]); err == nil {
						s.OldestUnacknowledged = e.Time
					}
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// InboundStatus is what this node verified of one partner's channel to
// it.
type InboundStatus struct {
	Channel     string    `json:"channel"` // "USA-MEX": from the partner to us
	Partner     string    `json:"partner"`
	Verified    int64     `json:"verified_size"`
	VerifiedAt  time.Time `json:"verified_time,omitzero"`
	ReceiptSize int64     `json:"receipt_sent_size"`
	Unavailable int64     `json:"unavailable"`
	// Lag is how far the last verified checkpoint is behind now.
	Lag    string `json:"lag,omitempty"`
	Alerts int    `json:"alerts"`
}

// FederationStatus returns, for each pinned partner, what this node
// verified of its channel to it, and the alerts recorded (newest first,
// at most 100).
func FederationStatus(ctx context.Context, st store.Store, party string, now time.Time) ([]InboundStatus, []store.Alert, error) {
	peers, err := st.Peers(ctx)
	if err != nil {
		return nil, nil, err
	}
	alerts, err := st.Alerts(ctx, 100)
	if err != nil {
		return nil, nil, err
	}
	out := make([]InboundStatus, 0, len(peers))
	for _, p := range peers {
		in, err := st.Inbound(ctx, p.Party)
		if err != nil {
			return nil, nil, err
		}
		s := InboundStatus{Channel: ledger.ChannelName(p.Party, party), Partner: p.Party, Verified: in.Size,
			VerifiedAt: in.Verified, ReceiptSize: in.ReceiptSize, Unavailable: in.Unavailable}
		if !in.Verified.IsZero() {
			s.Lag = now.Sub(in.Verified).Round(time.Second).String()
		}
		for _, a := range alerts {
			if a.Party == p.Party {
				s.Alerts++
			}
		}
		out = append(out, s)
	}
	return out, alerts, nil
}

// ledgerHandler serves the logs under /ledger/{channel}/ in the
// tlog-tiles layout, with proofs, and takes partners' receipts.
//
// Who may read a log: the partner of a channel (its own channel only),
// and the node's own auditors (every log). Anyone else gets 404, the
// same answer as for a log that does not exist (G1).
type ledgerHandler struct {
	st    store.Store
	party string
	authn func(*http.Request) (auth.Principal, error)
	// verifiers are the node's signing keys: the current one first, then
	// the retired ones, which still verify the checkpoints they signed.
	verifiers []note.Verifier
	logger    *slog.Logger
	now       func() time.Time
}

// errNoLog is the one answer to a log the caller may not read or that
// does not exist.
var errNoLog = fmt.Errorf("no such log: %w", store.ErrNotFound)

// errBadRequest marks a malformed request.
var errBadRequest = errors.New("bad request")

func (h *ledgerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, err := h.authn(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/ledger/")
	channel, res, _ := strings.Cut(rest, "/")
	if channel == "" && res == "" && r.Method == http.MethodGet {
		h.list(w, r, p)
		return
	}
	log, ok := strings.CutPrefix(channel, h.party+"-")
	if !ok || !h.mayRead(p, log) {
		h.fail(w, r, errNoLog)
		return
	}
	switch {
	case res == "receipt":
		if r.Method != http.MethodPost {
			h.fail(w, r, fmt.Errorf("%w: use POST", errMethod))
			return
		}
		h.receipt(w, r, p, log)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		h.fail(w, r, fmt.Errorf("%w: use GET", errMethod))
		return
	}
	cp, err := h.st.LatestCheckpoint(r.Context(), log)
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, errNoLog)
		return
	}
	if err != nil {
		h.fail(w, r, err) // a database fault is a 500, not a missing log
		return
	}
	switch {
	case res == "checkpoint":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "private, max-age=2")
		w.Write(cp.Note)
	case strings.HasPrefix(res, "tile/"):
		b, err := ledger.ReadPath(r.Context(), store.LogSource(h.st, log), cp.Size, res)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
		w.Write(b)
	case res == "proof/inclusion":
		h.inclusion(w, r, log, cp)
	case res == "proof/consistency":
		h.consistency(w, r, log, cp)
	default:
		h.fail(w, r, errNoLog)
	}
}

var errMethod = errors.New("method not allowed")

// mayRead says whether p may read log.
func (h *ledgerHandler) mayRead(p auth.Principal, log string) bool {
	if p.Party == "" || log == "" {
		return false
	}
	if p.Party == h.party {
		return slices.Contains(p.Roles, "auditor")
	}
	return log == p.Party && log != store.InternalLog
}

// list answers the logs the caller may read.
func (h *ledgerHandler) list(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	all, err := LedgerStatus(r.Context(), h.st, h.party)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []ChannelStatus{}
	for _, s := range all {
		log := strings.TrimPrefix(s.Channel, h.party+"-")
		if h.mayRead(p, log) {
			out = append(out, s)
		}
	}
	writeJSON(w, map[string]any{"channels": out})
}

func (h *ledgerHandler) inclusion(w http.ResponseWriter, r *http.Request, log string, cp store.StoredCheckpoint) {
	q := r.URL.Query()
	id, version := q.Get("object"), q.Get("version")
	if id == "" || version == "" {
		h.fail(w, r, fmt.Errorf("%w: give object=<STIX id> and version=<version>", errBadRequest))
		return
	}
	found, err := h.st.FindEntries(r.Context(), log, id, version)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	e := found[0]
	if e.Index >= cp.Size {
		h.fail(w, r, fmt.Errorf("entry %d is not yet in a checkpoint: %w", e.Index, store.ErrNotFound))
		return
	}
	p, err := ledger.InclusionProof(r.Context(), store.LogSource(h.st, log), e.Index, cp.Size)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, ledger.NewProofBundle(cp.Note, e.Index, e.Data, p))
}

func (h *ledgerHandler) consistency(w http.ResponseWriter, r *http.Request, log string, cp store.StoredCheckpoint) {
	old, err := strconv.ParseInt(r.URL.Query().Get("old"), 10, 64)
	if err != nil || old < 1 || old > cp.Size {
		h.fail(w, r, fmt.Errorf("%w: give old=<size>, from 1 to %d", errBadRequest, cp.Size))
		return
	}
	p, err := ledger.ConsistencyProof(r.Context(), store.LogSource(h.st, log), old, cp.Size)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hs := make([][]byte, len(p))
	for i := range p {
		hs[i] = p[i][:]
	}
	writeJSON(w, map[string]any{"old": old, "size": cp.Size, "checkpoint": string(cp.Note), "proof": hs})
}

// receipt takes a partner's co-signature of one of our checkpoints of its
// channel. It must be our checkpoint exactly as we signed it, co-signed
// by the partner's pinned receipt key.
func (h *ledgerHandler) receipt(w http.ResponseWriter, r *http.Request, p auth.Principal, log string) {
	if p.Party != log {
		h.fail(w, r, errNoLog) // only the channel's partner acknowledges it
		return
	}
	ctx := r.Context()
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		h.fail(w, r, fmt.Errorf("%w: read body: %w", errBadRequest, err))
		return
	}
	peer, err := h.st.Peer(ctx, log)
	if err != nil {
		h.fail(w, r, fmt.Errorf("%w: party %s is not pinned as a peer: no receipt key", errBadRequest, log))
		return
	}
	cv, err := ledger.NewCosignatureVerifier(peer.ReceiptKey)
	if err != nil {
		h.fail(w, r, fmt.Errorf("pinned receipt key of %s: %w", log, err))
		return
	}
	var rc ledger.Receipt
	for _, v := range h.verifiers {
		if rc, err = ledger.OpenReceipt(body, ledger.Origin(h.party, log), v, cv); err == nil {
			break
		}
	}
	if err != nil {
		h.fail(w, r, fmt.Errorf("%w: %w", errBadRequest, err))
		return
	}
	ours, err := h.st.Checkpoint(ctx, log, rc.Checkpoint.Size)
	if err != nil || !sameBody(ours.Note, body) {
		h.fail(w, r, fmt.Errorf("%w: the receipt is not for a checkpoint this node made", errBadRequest))
		return
	}
	if err := h.st.PutReceipt(ctx, store.StoredReceipt{Log: log, Size: rc.Checkpoint.Size, Note: body, Signed: rc.Time, Received: h.now()}); err != nil {
		h.fail(w, r, err)
		return
	}
	h.logger.InfoContext(ctx, "receipt recorded", slog.String("channel", ledger.ChannelName(h.party, log)), slog.Int64("size", rc.Checkpoint.Size))
	writeJSON(w, map[string]any{"channel": ledger.ChannelName(h.party, log), "size": rc.Checkpoint.Size})
}

// sameBody reports whether two signed notes have the same text.
func sameBody(a, b []byte) bool {
	ta, _, okA := strings.Cut(string(a), "\n\n")
	tb, _, okB := strings.Cut(string(b), "\n\n")
	return okA && okB && ta == tb
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// fail is the one place where the ledger's errors become HTTP statuses.
func (h *ledgerHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "internal error; the operator can find the cause in the server log"
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		status, msg = http.StatusUnauthorized, "authentication required"
		w.Header().Set("WWW-Authenticate", `Basic realm="puente", charset="UTF-8"`)
		w.Header().Add("WWW-Authenticate", `Bearer realm="puente"`)
	case errors.Is(err, auth.ErrBusy):
		status, msg = http.StatusServiceUnavailable, "busy; retry shortly or use an API token"
		w.Header().Set("Retry-After", "2")
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ledger.ErrMissing), errors.Is(err, ledger.ErrMalformed) && !errors.Is(err, errBadRequest):
		status, msg = http.StatusNotFound, "not found"
	case errors.Is(err, errMethod):
		status, msg = http.StatusMethodNotAllowed, err.Error()
	case errors.Is(err, errBadRequest):
		status, msg = http.StatusBadRequest, err.Error()
	}
	if status >= 500 {
		h.logger.ErrorContext(r.Context(), "ledger request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}
