package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// ReadNew is what a follower of a log (a partner pulling its channel)
// does with a new checkpoint cp, already verified as signed by the log:
// it checks that cp extends old, the last checkpoint it verified (nil for
// none), by a consistency proof computed from the log's tiles, which are
// themselves checked against cp; then it returns the entries from
// old.Size to cp.Size, each checked against the authenticated leaf
// hashes. Nothing it returns is unverified. A log that does not extend
// old is ErrFork; entries or tiles that do not match cp are ErrBadProof.
func ReadNew(ctx context.Context, f Fetcher, old *Checkpoint, cp Checkpoint, progress func(done, total int64)) ([][]byte, error) {
	var out [][]byte
	var start int64
	if old != nil {
		start = old.Size
	}
	err := Follow(ctx, f, old, cp, 0, func(first int64, entries [][]byte, _ Hash) error {
		out = append(out, entries...)
		if progress != nil {
			progress(first+int64(len(entries))-start, cp.Size-start)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Follow is ReadNew in batches, for logs too large to hold at once: it
// calls batch, in order, with at least min entries at a time (but the
// last), their index, and the root of the tree they end, computed from
// tiles authenticated against cp, so that a follower can record its
// progress as a verified (size, root) and resume there after a crash.
// An error from batch stops Follow and is returned.
func Follow(ctx context.Context, f Fetcher, old *Checkpoint, cp Checkpoint, min int, batch func(first int64, entries [][]byte, root Hash) error) error {
	var start int64
	if old != nil {
		if old.Origin != cp.Origin {
			return fmt.Errorf("ledger: checkpoint of log %q after one of %q", cp.Origin, old.Origin)
		}
		start = old.Size
		if old.Size > cp.Size {
			return fmt.Errorf("ledger: log %s shrank from %d to %d entries: %w", cp.Origin, old.Size, cp.Size, ErrFork)
		}
	}
	tr := &fetchedTiles{ctx: ctx, f: f, cache: map[string][]byte{}}
	thr := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Root}, tr)
	if old != nil && old.Size > 0 {
		if old.Size == cp.Size {
			if old.Root != cp.Root {
				return fmt.Errorf("ledger: log %s has two roots at size %d: %w", cp.Origin, cp.Size, ErrFork)
			}
			return nil
		}
		p, err := tlog.ProveTree(cp.Size, old.Size, thr)
		if err != nil {
			return proofError(err, "ledger: log %s: consistency proof from %d to %d", cp.Origin, old.Size, cp.Size)
		}
		if err := tlog.CheckTree(p, cp.Size, cp.Root, old.Size, old.Root); err != nil {
			return fmt.Errorf("ledger: log %s at size %d does not extend its checkpoint at size %d: %w", cp.Origin, cp.Size, old.Size, ErrFork)
		}
	}
	// Entries are read a bundle at a time and checked a batch at a time:
	// one authenticated read of the batch's leaf hashes (tlog checks each
	// tile it reads against cp, so fewer, larger reads cost less).
	var pending [][]byte
	pendingFirst := start
	flush := func(end int64) error {
		if len(pending) == 0 {
			return nil
		}
		idx := make([]int64, len(pending))
		for i := range pending {
			idx[i] = tlog.StoredHashIndex(0, pendingFirst+int64(i))
		}
		hashes, err := thr.ReadHashes(idx)
		if err != nil {
			return proofError(err, "ledger: log %s: leaf hashes %d to %d", cp.Origin, pendingFirst, end)
		}
		for i, h := range hashes {
			if LeafHash(pending[i]) != h {
				return fmt.Errorf("ledger: log %s: entry %d does not match the signed tree: %w", cp.Origin, pendingFirst+int64(i), ErrBadProof)
			}
		}
		root, err := tlog.TreeHash(end, thr)
		if err != nil {
			return proofError(err, "ledger: log %s: root at size %d", cp.Origin, end)
		}
		if err := batch(pendingFirst, pending, root); err != nil {
			return err
		}
		pending, pendingFirst = nil, end
		return nil
	}
	for b := start / TileWidth; b*TileWidth < cp.Size; b++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		w := TileWidthAt(TileID{EntriesLevel, b}, cp.Size)
		path := TilePath(EntriesLevel, b, w)
		data, err := f.Fetch(ctx, path)
		if err != nil {
			return fmt.Errorf("entry bundle %s: %w", path, err)
		}
		raw, err := ParseBundle(data, w)
		if err != nil {
			return fmt.Errorf("entry bundle %s: %w", path, err)
		}
		first := max(start, b*TileWidth)
		pending = append(pending, raw[first-b*TileWidth:]...)
		if len(pending) >= min {
			if err := flush(b*TileWidth + int64(w)); err != nil {
				return err
			}
		}
	}
	return flush(cp.Size)
}

// fetchedTiles is a tlog.TileReader over a Fetcher, caching what it read
// for one ReadNew.
type fetchedTiles struct {
	ctx   context.Context
	f     Fetcher
	mu    sync.Mutex
	cache map[string][]byte
}

func (t *fetchedTiles) Height() int { return TileHeight }

func (t *fetchedTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tl := range tiles {
		path := TilePath(tl.L, tl.N, tl.W)
		t.mu.Lock()
		data, ok := t.cache[path]
		t.mu.Unlock()
		if !ok {
			var err error
			if data, err = t.f.Fetch(t.ctx, path); err != nil {
				return nil, &fetchError{fmt.Errorf("hash tile %s: %w", path, err)}
			}
			if len(data) != tl.W*HashSize {
				return nil, fmt.Errorf("hash tile %s holds %d bytes, want %d: %w", path, len(data), tl.W*HashSize, ErrMalformed)
			}
			t.mu.Lock()
			t.cache[path] = data
			t.mu.Unlock()
		}
		out[i] = data
	}
	return out, nil
}

func (t *fetchedTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// fetchError marks a tile that could not be read (network, server
// error, not served): unlike a tile that does not verify, it proves
// nothing against the log and is retried, not refused.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// proofError returns err marked ErrBadProof, unless it is a failure to
// read a tile, which it returns as it is.
func proofError(err error, format string, args ...any) error {
	var fe *fetchError
	if errors.As(err, &fe) {
		return fe.err
	}
	return fmt.Errorf(format+": %w (%w)", append(args, err, ErrBadProof)...)
}
