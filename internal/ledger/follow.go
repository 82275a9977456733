package ledger

import (
	"context"
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
	var start int64
	if old != nil {
		if old.Origin != cp.Origin {
			return nil, fmt.Errorf("ledger: checkpoint of log %q after one of %q", cp.Origin, old.Origin)
		}
		start = old.Size
		if old.Size > cp.Size {
			return nil, fmt.Errorf("ledger: log %s shrank from %d to %d entries: %w", cp.Origin, old.Size, cp.Size, ErrFork)
		}
	}
	tr := &fetchedTiles{ctx: ctx, f: f, cache: map[string][]byte{}}
	thr := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Root}, tr)
	if old != nil && old.Size > 0 {
		if old.Size == cp.Size {
			if old.Root != cp.Root {
				return nil, fmt.Errorf("ledger: log %s has two roots at size %d: %w", cp.Origin, cp.Size, ErrFork)
			}
			return nil, nil
		}
		p, err := tlog.ProveTree(cp.Size, old.Size, thr)
		if err != nil {
			return nil, fmt.Errorf("ledger: log %s: consistency proof from %d to %d: %w (%w)", cp.Origin, old.Size, cp.Size, err, ErrBadProof)
		}
		if err := tlog.CheckTree(p, cp.Size, cp.Root, old.Size, old.Root); err != nil {
			return nil, fmt.Errorf("ledger: log %s at size %d does not extend its checkpoint at size %d: %w", cp.Origin, cp.Size, old.Size, ErrFork)
		}
	}
	out := make([][]byte, 0, cp.Size-start)
	for b := start / TileWidth; b*TileWidth < cp.Size; b++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w := TileWidthAt(TileID{EntriesLevel, b}, cp.Size)
		path := TilePath(EntriesLevel, b, w)
		data, err := f.Fetch(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("entry bundle %s: %w", path, err)
		}
		raw, err := ParseBundle(data, w)
		if err != nil {
			return nil, fmt.Errorf("entry bundle %s: %w", path, err)
		}
		first := max(start, b*TileWidth)
		idx := make([]int64, 0, w)
		for i := first; i < b*TileWidth+int64(w); i++ {
			idx = append(idx, tlog.StoredHashIndex(0, i))
		}
		hashes, err := thr.ReadHashes(idx)
		if err != nil {
			return nil, fmt.Errorf("ledger: log %s: leaf hashes %d to %d: %w (%w)", cp.Origin, first, b*TileWidth+int64(w), err, ErrBadProof)
		}
		for j, h := range hashes {
			i := first + int64(j)
			e := raw[i-b*TileWidth]
			if LeafHash(e) != h {
				return nil, fmt.Errorf("ledger: log %s: entry %d does not match the signed tree: %w", cp.Origin, i, ErrBadProof)
			}
			out = append(out, e)
		}
		if progress != nil {
			progress(int64(len(out)), cp.Size-start)
		}
	}
	return out, nil
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
				return nil, fmt.Errorf("hash tile %s: %w", path, err)
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
