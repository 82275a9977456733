package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
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
	for b := int64(0); b*TileWidth < size; b++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := TileID{EntriesLevel, b}
		w := TileWidthAt(id, size)
		path := TilePath(EntriesLevel, b, w)
		data, err := c.Fetch.Fetch(ctx, path)
		if err != nil {
			return fmt.Errorf("entry bundle %s: %w", path, err)
		}
		raw, err := ParseBundle(data, w)
		if err != nil {
			return fmt.Errorf("entry bundle %s: %w", path, err)
		}
		leaves := make([]Hash, len(raw))
		for i, r := range raw {
			e, err := ParseEntry(r)
			if err != nil {
				return fmt.Errorf("entry %d (bundle %s): %w", b*TileWidth+int64(i), path, err)
			}
			if c.Entry != nil {
				if err := c.Entry(b*TileWidth+int64(i), e); err != nil {
					return err
				}
			}
			leaves[i] = LeafHash(r)
		}
		changed, err := AppendTiles(ctx, mem, b*TileWidth, leaves)
		if err != nil {
			return err
		}
		maps.Copy(mem, changed)
		if err := checkServedTile(ctx, c.Fetch, TileID{0, b}, w, mem[TileID{0, b}]); err != nil {
			return err
		}
		if w == TileWidth && b != keep {
			delete(mem, TileID{0, b}) // not needed again: its root is in level 1
		}
		if c.Progress != nil {
			c.Progress(b*TileWidth+int64(w), size)
		}
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
