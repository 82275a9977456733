// Package taxii serves the [TAXII 2.1] API of a node at /taxii2/: discovery,
// the api root, collections, manifests, objects, versions and status
// resources.
//
// [TAXII 2.1]: https://docs.oasis-open.org/cti/taxii/v2.1/os/taxii-v2.1-os.html
package taxii

import (
	"log/slog"
	"net/http"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/store"
)

// AuthenticateFunc returns the principal a request acts for, or an error
// wrapping auth.ErrUnauthenticated.
type AuthenticateFunc func(r *http.Request) (auth.Principal, error)

// Config configures a Server. The zero value works, except that TokenKey
// must be set for pagination tokens to survive a restart.
type Config struct {
	Title       string // discovery and api-root title; default "Puente"
	Description string
	Contact     string
	// MaxContentLength is the largest request body accepted, in bytes;
	// default 10 MiB.
	MaxContentLength int64
	// MaxPageSize caps the limit parameter; default 1000.
	MaxPageSize int
	// TokenKey authenticates `next` pagination tokens (32 random bytes).
	TokenKey []byte
	Logger   *slog.Logger
}

// Server is the TAXII 2.1 HTTP handler. Mount it at "/taxii2/".
type Server struct {
	st    store.Store
	authn AuthenticateFunc
	cfg   Config
	mux   *http.ServeMux
}

// New returns a Server that reads and writes st and authenticates every
// request with authn.
func New(st store.Store, authn AuthenticateFunc, cfg Config) *Server {
	s := &Server{st: st, authn: authn, cfg: cfg, mux: http.NewServeMux()}
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}
