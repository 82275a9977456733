package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// A Fetcher reads the resources of one log in the [tlog-tiles] layout:
// "checkpoint", "tile/0/000", "tile/entries/000.p/5", …. It returns an
// error wrapping [ErrMissing] for a resource that does not exist.
//
// [tlog-tiles]: https://c2sp.org/tlog-tiles
type Fetcher interface {
	Fetch(ctx context.Context, path string) ([]byte, error)
}

// maxResource bounds what a fetcher reads for one resource: a full entry
// bundle of 256 entries of at most 64 KiB each, plus slack.
const maxResource = TileWidth*(2+1<<16) + 1<<10

// DirFetcher reads a log exported to a directory.
type DirFetcher string

// Fetch implements [Fetcher].
func (d DirFetcher) Fetch(_ context.Context, path string) ([]byte, error) {
	if !fs.ValidPath(path) {
		return nil, fmt.Errorf("ledger: invalid path %q", path)
	}
	f, err := os.Open(filepath.Join(string(d), filepath.FromSlash(path)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("ledger: %s: %w", path, ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer f.Close()
	return readBounded(f, path)
}

// HTTPFetcher reads a log served over HTTP(S) under Prefix, a URL ending
// in "/". Authorize, when set, adds credentials to each request.
type HTTPFetcher struct {
	Client    *http.Client
	Prefix    string
	Authorize func(*http.Request)
}

// Fetch implements [Fetcher].
func (h HTTPFetcher) Fetch(ctx context.Context, path string) ([]byte, error) {
	u := strings.TrimSuffix(h.Prefix, "/") + "/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if h.Authorize != nil {
		h.Authorize(req)
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ledger: fetch %s: %w", path, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return readBounded(resp.Body, path)
	case http.StatusNotFound:
		return nil, fmt.Errorf("ledger: %s: %w", path, ErrMissing)
	default:
		return nil, fmt.Errorf("ledger: fetch %s: HTTP %s", path, resp.Status)
	}
}

func readBounded(r io.Reader, path string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxResource+1))
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", path, err)
	}
	if len(b) > maxResource {
		return nil, fmt.Errorf("ledger: %s is larger than %d bytes: %w", path, maxResource, ErrMalformed)
	}
	return b, nil
}

// MarshalBundle encodes entries as an entry bundle: each entry preceded
// by its length as a big-endian uint16.
func MarshalBundle(entries [][]byte) ([]byte, error) {
	n := 0
	for _, e := range entries {
		n += 2 + len(e)
	}
	b := make([]byte, 0, n)
	for i, e := range entries {
		if len(e) > 1<<16-1 {
			return nil, fmt.Errorf("ledger: entry %d is %d bytes, more than a bundle can hold", i, len(e))
		}
		b = append(b, byte(len(e)>>8), byte(len(e)))
		b = append(b, e...)
	}
	return b, nil
}

// ParseBundle splits an entry bundle that must hold exactly want entries.
func ParseBundle(b []byte, want int) ([][]byte, error) {
	entries := make([][]byte, 0, want)
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("ledger: entry bundle: truncated length: %w", ErrMalformed)
		}
		n := int(b[0])<<8 | int(b[1])
		if len(b)-2 < n {
			return nil, fmt.Errorf("ledger: entry bundle: entry %d truncated: %w", len(entries), ErrMalformed)
		}
		entries = append(entries, b[2:2+n])
		b = b[2+n:]
	}
	if len(entries) != want {
		return nil, fmt.Errorf("ledger: entry bundle holds %d entries, want %d: %w", len(entries), want, ErrMalformed)
	}
	return entries, nil
}
