package node

import (
	"log/slog"

	"golang.org/x/mod/sumdb/note"
	"net/http"
	"strings"

	"github.com/puente-project/puente/internal/taxii"
)

// routes returns the node's HTTP handler. Every route the node serves is
// mounted here.
func (n *Node) routes(logger *slog.Logger) http.Handler {
	tx := taxii.New(n.st, n.authenticate, taxii.Config{
		Title:    n.cfg.Title,
		Party:    n.cfg.Party,
		TokenKey: n.tokenKey,
		Logger:   logger, // the taxii server adds its own subsystem attribute
		Denied:   n.denials.record,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("POST /federation/notify", n.notified)
	mux.HandleFunc("GET /metrics", n.metrics)
	mux.Handle("/ledger/", &ledgerHandler{st: n.st, party: n.cfg.Party, authn: n.authenticate,
		verifiers: append([]note.Verifier{n.verifier}, n.retired...), logger: logger.With(slog.String(logKeySubsystem, "ledger")), now: n.now})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Everything under /taxii2 goes to the TAXII server as it came, so
		// that unclean paths and a missing slash get an authenticated TAXII
		// error rather than the mux's HTML redirect.
		if r.URL.Path == "/taxii2" || strings.HasPrefix(r.URL.Path, "/taxii2/") {
			tx.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// healthz answers 200 while the process serves requests.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// notified is a partner saying its channel to us has a new checkpoint:
// pull from it now. Only a pinned partner, by its client certificate,
// may say so; the answer is the same whether a pull was started or not.
func (n *Node) notified(w http.ResponseWriter, r *http.Request) {
	p, err := n.authenticate(r)
	if err != nil || p.Party == n.cfg.Party {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	n.fed.Notify(p.Party)
	w.WriteHeader(http.StatusNoContent)
}
