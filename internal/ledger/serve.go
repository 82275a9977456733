package ledger

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// A Source is one log's stored data, as a node's database holds it.
type Source interface {
	TileReader
	// Entries returns the n entries from index start on, each as stored.
	Entries(ctx context.Context, start int64, n int) ([][]byte, error)
}

// ReadPath returns the resource at path ("tile/…" in the [tlog-tiles]
// layout) of the log src holds, as of tree size size: a hash tile or an
// entry bundle, full or partial. A resource the tree of that size does
// not reach is [ErrMissing].
//
// [tlog-tiles]: https://c2sp.org/tlog-tiles
func ReadPath(ctx context.Context, src Source, size int64, path string) ([]byte, error) {
	id, w, err := ParseTilePath(path)
	if err != nil {
		return nil, err
	}
	if have := TileWidthAt(id, size); have == 0 || w > have {
		return nil, fmt.Errorf("ledger: %s: %w", path, ErrMissing)
	}
	if id.Level == EntriesLevel {
		entries, err := src.Entries(ctx, id.Index*TileWidth, w)
		if err != nil {
			return nil, err
		}
		if len(entries) != w {
			return nil, fmt.Errorf("ledger: %s: %d entries stored, want %d: %w", path, len(entries), w, ErrMissing)
		}
		return MarshalBundle(entries)
	}
	t, err := src.ReadTile(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(t) < w*HashSize {
		return nil, fmt.Errorf("ledger: %s: %w", path, ErrMissing)
	}
	return t[:w*HashSize], nil
}

// Export writes the log src holds, as of the signed checkpoint of size
// size, to dir in the [tlog-tiles] layout, so that it can be verified
// offline: dir/checkpoint, dir/tile/…. progress, when set, is called
// after each entry bundle.
func Export(ctx context.Context, src Source, signedCheckpoint []byte, size int64, dir string, progress func(done, total int64)) error {
	write := func(path string, data []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("ledger: export: %w", err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("ledger: export: %w", err)
		}
		return nil
	}
	for level := 0; level < 64; level++ {
		any := false
		for n := int64(0); ; n++ {
			id := TileID{level, n}
			w := TileWidthAt(id, size)
			if w == 0 {
				break
			}
			any = true
			paths := []string{TilePath(level, n, w)}
			if level == 0 {
				paths = append(paths, TilePath(EntriesLevel, n, w))
			}
			for _, path := range paths {
				data, err := ReadPath(ctx, src, size, path)
				if err != nil {
					return err
				}
				if err := write(path, data); err != nil {
					return err
				}
			}
			if level == 0 && progress != nil {
				progress(n*TileWidth+int64(w), size)
			}
		}
		if !any {
			break
		}
	}
	return write("checkpoint", signedCheckpoint)
}

// SourceFetcher reads a log from its Source directly, as of tree size
// Size, with Checkpoint served at "checkpoint": the [Fetcher] a node uses
// to check its own logs.
type SourceFetcher struct {
	Source     Source
	Size       int64
	Checkpoint []byte
}

// Fetch implements [Fetcher].
func (f SourceFetcher) Fetch(ctx context.Context, path string) ([]byte, error) {
	if path == "checkpoint" {
		if f.Checkpoint == nil {
			return nil, fmt.Errorf("ledger: checkpoint: %w", ErrMissing)
		}
		return f.Checkpoint, nil
	}
	return ReadPath(ctx, f.Source, f.Size, path)
}
