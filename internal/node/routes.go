package node

import (
	"log/slog"
	"net/http"

	"github.com/puente-project/puente/internal/taxii"
)

// routes returns the node's HTTP handler. Every route the node serves is
// mounted here.
func (n *Node) routes(logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/taxii2/", taxii.New(n.st, n.authn.Authenticate, taxii.Config{
		Title:    n.cfg.Title,
		Party:    n.cfg.Party,
		TokenKey: n.tokenKey,
		Logger:   logger, // the taxii server adds its own subsystem attribute
	}))
	mux.HandleFunc("GET /healthz", healthz)
	return mux
}

// healthz answers 200 while the process serves requests.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}
