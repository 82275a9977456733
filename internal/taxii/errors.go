package taxii

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/store"
)

// Error is a TAXII error resource to send (section 3.6.1). Handlers return
// it for client errors; Err, when set, is logged and never sent.
type Error struct {
	Status      int
	Title       string
	Description string
	Err         error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("taxii: %d %s: %v", e.Status, e.Title, e.Err)
	}
	return fmt.Sprintf("taxii: %d %s", e.Status, e.Title)
}

func (e *Error) Unwrap() error { return e.Err }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Title: "Bad request", Description: fmt.Sprintf(format, args...)}
}

// errNotFound is what every absent or hidden thing looks like.
var errNotFound = &Error{Status: http.StatusNotFound, Title: "Not found",
	Description: "The requested resource does not exist or you may not see it."}

// errorResource is the JSON form of a TAXII error message.
type errorResource struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

// fail writes err as a TAXII error resource. It is the one place where
// errors become HTTP statuses: client errors are logged at Debug, server
// faults at Error with their detail, which the client never sees.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	var te *Error
	switch {
	case errors.As(err, &te):
	case errors.Is(err, auth.ErrUnauthenticated):
		te = errUnauthenticated
	case errors.Is(err, auth.ErrBusy):
		w.Header().Set("Retry-After", "2")
		te = &Error{Status: http.StatusServiceUnavailable, Title: "Busy",
			Description: "Too many password checks are running; retry shortly, or use an API token.", Err: err}
	case errors.Is(err, store.ErrNotFound):
		te = errNotFound
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		s.log.DebugContext(ctx, "request canceled by client", slog.String("path", r.URL.Path))
		return
	default:
		te = &Error{Status: http.StatusInternalServerError, Title: "Internal error",
			Description: "The server could not complete the request. The operator can find the cause in the server log.", Err: err}
	}
	if te.Status >= 500 {
		s.log.ErrorContext(ctx, "request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
	} else {
		s.log.DebugContext(ctx, "request refused", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", te.Status), slog.Any("error", err))
	}
	if te.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="puente", charset="UTF-8"`)
		w.Header().Add("WWW-Authenticate", `Bearer realm="puente"`)
	}
	s.writeJSON(w, r, te.Status, errorResource{Title: te.Title, Description: te.Description,
		HTTPStatus: strconv.Itoa(te.Status)})
}

var errUnauthenticated = &Error{Status: http.StatusUnauthorized, Title: "Authentication required",
	Description: "Send HTTP Basic credentials (user name and password or API token) or an Authorization: Bearer token."}
