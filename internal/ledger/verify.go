package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"runtime"
	"sync"
	"sync/atomic"
)

// memTiles is a TileReader over tiles held in memory.
type memTiles map[TileID][]byte

func (m memTiles) ReadTile(_ context.Context, id TileID) ([]byte, error) {
	t, ok := m[id]
	if !ok {
		return nil, fmt.Errorf("tile %d/%d: %w", id.Level, id.Index, ErrMissing)
	}
	return t, nil
}

// A LogCheck is what [VerifyLog] checks: the log of Checkpoint, read
// through Fetch, and optionally an older checkpoint of the same log.
type LogCheck struct {
	Fetch      Fetcher
	Checkpoint Checkpoint // already verified as signed by the log
	// Older, when set, is an earlier checkpoint of the same log that the
	// log must extend.
	Older *Checkpoint
	// Entry, when set, is called with each entry in order; an error stops
	// the verification and is returned.
	Entry func(index int64, e Entry) error
	// Progress, when set, is called after each entry bundle with the
	// entries verified so far.
	Progress func(done, total int64)
}

// TileWidthAt returns the width a tile at id has in a tree of size size:
// TileWidth for a full tile, 1 to 255 for a partial one, 0 when the tree
// does not reach the tile.
func TileWidthAt(id TileID, size int64) int {
	level := max(id.Level, 0)
	count := size
	for range level {
		count /= TileWidth
	}
	switch w := count - id.Index*TileWidth; {
	case w <= 0:
		return 0
	case w >= TileWidth:
		return TileWidth
	default:
		return int(w)
	}
}

// VerifyLog verifies a whole log against its checkpoint: every entry is
// read, must be a well-formed entry, and is hashed; every hash tile the
// log serves is rebuilt from the entries and must match; the root of the
// rebuilt tree must be the checkpoint's, and the root at the older
// checkpoint's size must be the older checkpoint's. The error names the
// first thing found wrong.
func VerifyLog(ctx context.Context, c LogCheck) error {
	size := c.Checkpoint.Size
	if c.Older != nil {
		if c.Older.Origin != c.Checkpoint.Origin {
			return fmt.Errorf("ledger: the older checkpoint is of log %q, not %q", c.Older.Origin, c.Checkpoint.Origin)
		}
		if c.Older.Size > size {
			return fmt.Errorf("ledger: log shrank from %d to %d entries: %w", c.Older.Size, size, ErrFork)
		}
	}
	mem := memTiles{}
	keep := int64(-1) // the level-0 tile holding the older checkpoint's edge
	if c.Older != nil && c.Older.Size%TileWidth != 0 {
		keep = c.Older.Size / TileWidth
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for b := range readBundles(ctx, c.Fetch, size) {
		if b.err != nil {
			return b.err
		}
		if c.Entry != nil {
			for i, e := range b.entries {
				if err := c.Entry(b.index*TileWidth+int64(i), e); err != nil {
					return err
				}
			}
		}
		changed, err := AppendTiles(ctx, mem, b.index*TileWidth, b.leaves)
		if err != nil {
			return err
		}
		maps.Copy(mem, changed)
		id := TileID{0, b.index}
		if !bytes.Equal(b.tile, mem[id]) {
			return fmt.Errorf("hash tile %s does not match the entries: tile or entries altered (%w)", TilePath(0, b.index, len(b.leaves)), ErrBadProof)
		}
		if len(b.leaves) == TileWidth && b.index != keep {
			delete(mem, id) // not needed again: its root is in level 1
		}
		if c.Progress != nil {
			c.Progress(b.index*TileWidth+int64(len(b.leaves)), size)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for id, t := range mem {
		if id.Level == 0 {
			continue
		}
		if err := checkServedTile(ctx, c.Fetch, id, TileWidthAt(id, size), t); err != nil {
			return err
		}
	}
	root, err := TreeHash(ctx, mem, size)
	if err != nil {
		return fmt.Errorf("ledger: compute root: %w", err)
	}
	if root != c.Checkpoint.Root {
		return fmt.Errorf("ledger: the entries do not hash to the checkpoint's root at size %d: log altered (%w)", size, ErrBadProof)
	}
	if c.Older != nil {
		old, err := TreeHash(ctx, mem, c.Older.Size)
		if err != nil {
			return fmt.Errorf("ledger: compute root at size %d: %w", c.Older.Size, err)
		}
		if old != c.Older.Root {
			return fmt.Errorf("ledger: the log's first %d entries do not match the older checkpoint: %w", c.Older.Size, ErrFork)
		}
	}
	return nil
}

// bundle is one entry bundle read, parsed and hashed, with the level-0
// hash tile the log serves for it.
type bundle struct {
	index   int64
	entries []Entry
	leaves  []Hash
	tile    []byte
	err     error
}

// readBundles reads the entry bundles of a log of size size, and their
// level-0 tiles, on as many goroutines as there are CPUs, and yields them
// in order. It stops at the first error, which it yields.
func readBundles(ctx context.Context, f Fetcher, size int64) iter.Seq[*bundle] {
	return func(yield func(*bundle) bool) {
		ctx, cancel := context.WithCancel(ctx)
		n := (size + TileWidth - 1) / TileWidth
		workers := int64(runtime.GOMAXPROCS(0))
		results := make([]chan *bundle, n)
		for i := range results {
			results[i] = make(chan *bundle, 1)
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		// A worker never runs more than window bundles ahead of the
		// consumer, so memory stays bounded on huge logs.
		window := make(chan struct{}, 4*workers)
		for range min(workers, n) {
			wg.Go(func() {
				for {
					select {
					case window <- struct{}{}:
					case <-ctx.Done():
						return
					}
					i := next.Add(1) - 1
					if i >= n {
						return
					}
					results[i] <- readBundle(ctx, f, i, size)
				}
			})
		}
		defer wg.Wait()
		defer cancel() // first: it frees the workers wg.Wait waits for
		for i := range n {
			var b *bundle
			select {
			case b = <-results[i]:
			case <-ctx.Done():
				yield(&bundle{err: ctx.Err()})
				return
			}
			<-window
			if !yield(b) || b.err != nil {
				return
			}
		}
	}
}

func readBundle(ctx context.Context, f Fetcher, i, size int64) *bundle {
	w := TileWidthAt(TileID{EntriesLevel, i}, size)
	b := &bundle{index: i}
	path := TilePath(EntriesLevel, i, w)
	data, err := f.Fetch(ctx, path)
	if err != nil {
		b.err = fmt.Errorf("entry bundle %s: %w", path, err)
		return b
	}
	raw, err := ParseBundle(data, w)
	if err != nil {
		b.err = fmt.Errorf("entry bundle %s: %w", path, err)
		return b
	}
	b.entries = make([]Entry, len(raw))
	b.leaves = make([]Hash, len(raw))
	for j, r := range raw {
		if b.entries[j], err = ParseEntry(r); err != nil {
			b.err = fmt.Errorf("entry %d (bundle %s): %w", i*TileWidth+int64(j), path, err)
			return b
		}
		b.leaves[j] = LeafHash(r)
	}
	tpath := TilePath(0, i, w)
	if b.tile, err = f.Fetch(ctx, tpath); err != nil {
		b.err = fmt.Errorf("hash tile %s: %w", tpath, err)
	}
	return b
}

func checkServedTile(ctx context.Context, f Fetcher, id TileID, w int, want []byte) error {
	path := TilePath(id.Level, id.Index, w)
	got, err := f.Fetch(ctx, path)
	if err != nil {
		if errors.Is(err, ErrMissing) {
			return fmt.Errorf("hash tile %s: %w", path, err)
		}
		return err
	}
	if len(want) < w*HashSize || !bytes.Equal(got, want[:w*HashSize]) {
		return fmt.Errorf("hash tile %s does not match the entries: tile or entries altered (%w)", path, ErrBadProof)
	}
	return nil
}
