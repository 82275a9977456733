// Package taxii serves the [TAXII 2.1] API of a node at /taxii2/: discovery,
// the api root, collections, manifests, objects, versions and status
// resources.
//
// Every response, errors included, is application/taxii+json;version=2.1.
// Every request is authenticated first; what a principal may read or write
// is decided by [Rights], and hidden things look exactly like absent ones.
//
// [TAXII 2.1]: https://docs.oasis-open.org/cti/taxii/v2.1/os/taxii-v2.1-os.html
package taxii

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/store"
)

// AuthenticateFunc returns the principal a request acts for, or an error
// wrapping auth.ErrUnauthenticated.
type AuthenticateFunc func(r *http.Request) (auth.Principal, error)

// Config configures a Server. Party is required; the other fields have
// defaults. Set TokenKey so that pagination tokens survive a restart.
type Config struct {
	Title       string // discovery and api-root title; default "Puente"
	Description string
	Contact     string
	// Party is the node's own party. Principals of other parties may never
	// write (guarantee G2).
	Party string
	// MaxContentLength is the largest request body accepted, in bytes;
	// default 10 MiB.
	MaxContentLength int64
	// MaxPageSize caps the limit parameter and is the default page; default
	// 1000.
	MaxPageSize int
	// MaxPageBytes ends a page of objects early once their bytes reach it;
	// default 16 MiB. (limit still bounds the count.)
	MaxPageBytes int
	// MaxObjects caps the objects of one envelope; default 10,000.
	MaxObjects int
	// RequestTimeout bounds the work of one request; default 60 s.
	RequestTimeout time.Duration
	// TokenKey authenticates `next` pagination tokens (32 random bytes).
	TokenKey []byte
	Logger   *slog.Logger
	// Denied, when set, is told of every refused attempt, for the
	// auditors' record. It must not block: the refusal is answered
	// exactly as an absent resource would be, at the same speed.
	Denied func(store.Denial)
}

// The one api root of a node, relative to the server (TAXII-NOTES trap 13:
// no host name is hard-coded).
const (
	discoveryPath = "/taxii2/"
	apiRootPath   = "/taxii2/api/"
)

// Server is the TAXII 2.1 HTTP handler. Mount it at "/taxii2/".
type Server struct {
	st    store.Store
	authn AuthenticateFunc
	cfg   Config
	key   cursorKey
	log   *slog.Logger
	mux   *http.ServeMux
	// notFound answers paths that are no endpoint, with a TAXII 404.
	notFound http.HandlerFunc
}

// New returns a Server that reads and writes st and authenticates every
// request with authn.
func New(st store.Store, authn AuthenticateFunc, cfg Config) *Server {
	if cfg.Party == "" {
		panic("taxii: Config.Party is required")
	}
	if cfg.MaxPageBytes <= 0 {
		cfg.MaxPageBytes = 16 << 20
	}
	if cfg.MaxObjects <= 0 {
		cfg.MaxObjects = 10000
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 60 * time.Second
	}
	if cfg.Title == "" {
		cfg.Title = "Puente"
	}
	if cfg.MaxContentLength <= 0 {
		cfg.MaxContentLength = 10 << 20
	}
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = 1000
	}
	key := cfg.TokenKey
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{st: st, authn: authn, cfg: cfg, key: cursorKey(key),
		log: log.With(slog.String("subsystem", "taxii")), mux: http.NewServeMux()}
	s.routes()
	return s
}

// handlerFunc is a TAXII handler: it acts for p and returns an error for
// fail to map, or nil once it has written its response.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// routes mounts every endpoint. Paths end in "/" (TAXII 2.1 section 3.1);
// a path without it, or any other unknown path, gets a TAXII 404.
func (s *Server) routes() {
	route := func(path string, methods map[string]handlerFunc) {
		s.mux.HandleFunc(path+"{$}", s.endpoint(methods))
	}
	route(discoveryPath, map[string]handlerFunc{http.MethodGet: s.discovery})
	route(apiRootPath, map[string]handlerFunc{http.MethodGet: s.apiRoot})
	route(apiRootPath+"status/{status}/", map[string]handlerFunc{http.MethodGet: s.status})
	route(apiRootPath+"collections/", map[string]handlerFunc{http.MethodGet: s.collections})
	route(apiRootPath+"collections/{collection}/", map[string]handlerFunc{http.MethodGet: s.collection})
	route(apiRootPath+"collections/{collection}/manifest/", map[string]handlerFunc{http.MethodGet: s.manifest})
	route(apiRootPath+"collections/{collection}/objects/", map[string]handlerFunc{
		http.MethodGet: s.getObjects, http.MethodPost: s.addObjects})
	route(apiRootPath+"collections/{collection}/objects/{object}/", map[string]handlerFunc{
		http.MethodGet: s.getObject, http.MethodDelete: s.deleteObject})
	route(apiRootPath+"collections/{collection}/objects/{object}/versions/", map[string]handlerFunc{
		http.MethodGet: s.versions})
	s.notFound = s.endpoint(nil)
	s.mux.HandleFunc("/", s.notFound)
}

// endpoint wraps the handlers of one path: it authenticates, negotiates
// the media type, checks the method, and maps any error to a TAXII error.
func (s *Server) endpoint(methods map[string]handlerFunc) http.HandlerFunc {
	allow := make([]string, 0, len(methods))
	for m := range methods {
		allow = append(allow, m)
	}
	slices.Sort(allow)
	return func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(w, r)
		w.Header().Set("Content-Type", mediaTAXII)
		p, err := s.authn(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if methods == nil {
			s.fail(w, r, &Error{Status: http.StatusNotFound, Title: "Not found",
				Description: "No TAXII 2.1 endpoint has this path. TAXII paths end with a slash; discovery is at /taxii2/."})
			return
		}
		if !acceptable(r.Header.Values("Accept")) {
			s.fail(w, r, &Error{Status: http.StatusNotAcceptable, Title: "Not acceptable",
				Description: "This server answers with " + mediaTAXII + "; send it (or application/taxii+json) in Accept."})
			return
		}
		h, ok := methods[r.Method]
		if !ok {
			for _, m := range allow {
				w.Header().Add("Allow", m)
			}
			s.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Title: "Method not allowed",
				Description: "This endpoint accepts " + joinAnd(allow) + "."})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		if err := h(w, r, p); err != nil {
			s.fail(w, r, err)
		}
	}
}

// recoverPanic turns a panic in a handler into a logged TAXII 500, so that
// a programming error costs one request, not the connection and a silent
// client. It re-panics http.ErrAbortHandler, which is not an error.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.fail(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
}

func joinAnd(list []string) string {
	switch len(list) {
	case 0:
		return "nothing"
	case 1:
		return list[0]
	}
	out := ""
	for i, s := range list {
		switch {
		case i == 0:
		case i == len(list)-1:
			out += " and "
		default:
			out += ", "
		}
		out += s
	}
	return out
}

// writeJSON writes v with status code. Content-Type is already set.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every resource here marshals; this is a programming error.
		s.log.ErrorContext(r.Context(), "marshal response", slog.Any("error", err))
		code = http.StatusInternalServerError
		b = []byte(`{"title":"Internal error","http_status":"500"}`)
	}
	w.WriteHeader(code)
	w.Write(b)
}

// ServeHTTP implements http.Handler.
// Paths that do not end in "/" or are not clean get a TAXII 404 rather than
// the mux's redirect, whose body is HTML.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if !strings.HasSuffix(p, "/") || path.Clean(p)+"/" != p {
		s.notFound(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}
