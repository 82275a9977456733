package ledger

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Tile geometry of [tlog-tiles]: a tile holds up to 256 hashes, the
// bottom row of a subtree of height 8.
const (
	TileHeight = 8
	TileWidth  = 1 << TileHeight
	HashSize   = sha256.Size
)

// A Hash is a SHA-256 Merkle tree hash (RFC 6962).
type Hash = tlog.Hash

// LeafHash returns the RFC 6962 leaf hash of an entry's bytes:
// SHA-256(0x00 || data).
func LeafHash(data []byte) Hash { return tlog.RecordHash(data) }

// A TileID names a tile: its level and its index within the level. Entry
// bundles use Level -1.
type TileID struct {
	Level int
	Index int64
}

// EntriesLevel is the Level of a [TileID] that names an entry bundle.
const EntriesLevel = -1

// TilePath returns the path of a tile, or of an entry bundle when level
// is [EntriesLevel], relative to a log's prefix: "tile/0/x001/234.p/5".
// width is the number of hashes (or entries); TileWidth means a full tile.
func TilePath(level int, index int64, width int) string {
	var b strings.Builder
	b.WriteString("tile/")
	if level == EntriesLevel {
		b.WriteString("entries")
	} else {
		b.WriteString(strconv.Itoa(level))
	}
	s := fmt.Sprintf("%03d", index%1000)
	for n := index / 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	b.WriteByte('/')
	b.WriteString(s)
	if width < TileWidth {
		b.WriteString(".p/")
		b.WriteString(strconv.Itoa(width))
	}
	return b.String()
}

// ParseTilePath parses a path made by [TilePath]. It accepts exactly the
// encoding TilePath writes: no extra leading zeros, levels 0 to 63,
// widths 1 to 255 after ".p/".
func ParseTilePath(path string) (id TileID, width int, err error) {
	bad := func() (TileID, int, error) {
		return TileID{}, 0, fmt.Errorf("ledger: tile path %q: %w", path, ErrMalformed)
	}
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return bad()
	}
	lvl, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return bad()
	}
	if lvl == "entries" {
		id.Level = EntriesLevel
	} else {
		n, err := strconv.Atoi(lvl)
		if err != nil || n < 0 || n > 63 || strconv.Itoa(n) != lvl {
			return bad()
		}
		id.Level = n
	}
	width = TileWidth
	if p, w, ok := strings.Cut(rest, ".p/"); ok {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 || n >= TileWidth || strconv.Itoa(n) != w {
			return bad()
		}
		rest, width = p, n
	}
	elems := strings.Split(rest, "/")
	if len(elems) > 7 { // 1000^7 > 2^63
		return bad()
	}
	for i, e := range elems {
		if i < len(elems)-1 {
			if e, ok = strings.CutPrefix(e, "x"); !ok {
				return bad()
			}
		}
		if len(e) != 3 || e[0] < '0' || e[0] > '9' || e[1] < '0' || e[1] > '9' || e[2] < '0' || e[2] > '9' {
			return bad()
		}
		d, _ := strconv.Atoi(e)
		if id.Index > (1<<63-1-int64(d))/1000 {
			return bad()
		}
		id.Index = id.Index*1000 + int64(d)
	}
	if TilePath(id.Level, id.Index, width) != path {
		return bad()
	}
	return id, width, nil
}

// A TileReader reads the stored hash tiles of one log. ReadTile returns
// the hashes of tile id concatenated, as many as stored: a full tile, or
// the latest partial one, which may hold more hashes than an older tree
// size needs (hashes are only ever appended). It returns an error wrapping
// [ErrMissing] when the tile does not exist.
type TileReader interface {
	ReadTile(ctx context.Context, id TileID) ([]byte, error)
}

// ErrMissing means a tile, entry or checkpoint that should exist does not.
var ErrMissing = fmt.Errorf("missing")

// AppendTiles returns the hash tiles that change when leaves are appended
// to a log of size size: each changed tile with its new contents. Partial
// tiles of the log as it is are read from r. It is the whole of appending
// as far as hashes go; the caller stores the result in the same
// transaction as the entries.
func AppendTiles(ctx context.Context, r TileReader, size int64, leaves []Hash) (map[TileID][]byte, error) {
	changed := make(map[TileID][]byte)
	hashes := leaves
	count := size // hashes at this level before the append
	for level := 0; len(hashes) > 0; level++ {
		idx := count / TileWidth
		var cur []byte
		if off := count % TileWidth; off > 0 {
			old, err := r.ReadTile(ctx, TileID{level, idx})
			if err != nil {
				return nil, fmt.Errorf("ledger: read tile %d/%d: %w", level, idx, err)
			}
			if int64(len(old)) < off*HashSize {
				return nil, fmt.Errorf("ledger: tile %d/%d holds %d bytes, want at least %d: %w", level, idx, len(old), off*HashSize, ErrMalformed)
			}
			cur = append(make([]byte, 0, TileWidth*HashSize), old[:off*HashSize]...)
		}
		var up []Hash
		for _, h := range hashes {
			if cur == nil {
				cur = make([]byte, 0, TileWidth*HashSize)
			}
			cur = append(cur, h[:]...)
			if len(cur) == TileWidth*HashSize {
				changed[TileID{level, idx}] = cur
				up = append(up, subtreeHash(cur))
				idx++
				cur = nil
			}
		}
		if len(cur) > 0 {
			changed[TileID{level, idx}] = cur
		}
		hashes = up
		count /= TileWidth
	}
	return changed, nil
}

// subtreeHash returns the Merkle tree hash of the hashes in data, whose
// count is a power of two.
func subtreeHash(data []byte) Hash {
	n := len(data) / HashSize
	row := make([]Hash, n)
	for i := range row {
		copy(row[i][:], data[i*HashSize:])
	}
	for len(row) > 1 {
		for i := 0; i < len(row)/2; i++ {
			row[i] = tlog.NodeHash(row[2*i], row[2*i+1])
		}
		row = row[:len(row)/2]
	}
	return row[0]
}

// hashReader gives tlog's proof functions the hashes of a log of size
// size, read from r's tiles (a few per call, cached for the call).
type hashReader struct {
	ctx   context.Context
	r     TileReader
	size  int64
	cache map[TileID][]byte
}

func newHashReader(ctx context.Context, r TileReader, size int64) *hashReader {
	return &hashReader{ctx: ctx, r: r, size: size, cache: make(map[TileID][]byte)}
}

func (h *hashReader) ReadHashes(indexes []int64) ([]Hash, error) {
	out := make([]Hash, len(indexes))
	for i, x := range indexes {
		t := tlog.TileForIndex(TileHeight, x)
		id := TileID{t.L, t.N}
		data, ok := h.cache[id]
		if !ok {
			var err error
			if data, err = h.r.ReadTile(h.ctx, id); err != nil {
				return nil, fmt.Errorf("ledger: read tile %d/%d: %w", t.L, t.N, err)
			}
			h.cache[id] = data
		}
		if len(data) < t.W*HashSize {
			return nil, fmt.Errorf("ledger: tile %d/%d holds %d hashes, want %d: %w", t.L, t.N, len(data)/HashSize, t.W, ErrMissing)
		}
		hash, err := tlog.HashFromTile(t, data[:t.W*HashSize], x)
		if err != nil {
			return nil, fmt.Errorf("ledger: hash %d from tile %d/%d: %w", x, t.L, t.N, err)
		}
		out[i] = hash
	}
	return out, nil
}

// TreeHash returns the root hash of the first size leaves of the log whose
// tiles r reads.
func TreeHash(ctx context.Context, r TileReader, size int64) (Hash, error) {
	if size == 0 {
		return emptyRoot, nil
	}
	return tlog.TreeHash(size, newHashReader(ctx, r, size))
}

// emptyRoot is the RFC 6962 hash of an empty tree: SHA-256 of nothing.
var emptyRoot = Hash(sha256.Sum256(nil))

// InclusionProof returns the RFC 6962 audit path of leaf index in the tree
// of size size.
func InclusionProof(ctx context.Context, r TileReader, index, size int64) ([]Hash, error) {
	if index < 0 || index >= size {
		return nil, fmt.Errorf("ledger: leaf %d is not in a tree of size %d", index, size)
	}
	return tlog.ProveRecord(size, index, newHashReader(ctx, r, size))
}

// ConsistencyProof returns the RFC 6962 consistency proof from the tree of
// size old to the tree of size size.
func ConsistencyProof(ctx context.Context, r TileReader, old, size int64) ([]Hash, error) {
	if old < 1 || old > size {
		return nil, fmt.Errorf("ledger: no consistency proof from size %d to size %d", old, size)
	}
	return tlog.ProveTree(size, old, newHashReader(ctx, r, size))
}

// VerifyInclusion checks that leaf (a leaf hash) is at index in the tree
// of size size whose root is root.
func VerifyInclusion(proof []Hash, index, size int64, leaf, root Hash) error {
	if index < 0 || index >= size {
		return fmt.Errorf("ledger: leaf %d is not in a tree of size %d: %w", index, size, ErrBadProof)
	}
	if err := tlog.CheckRecord(proof, size, root, index, leaf); err != nil {
		return fmt.Errorf("ledger: leaf %d in tree of size %d: %w", index, size, ErrBadProof)
	}
	return nil
}

// VerifyConsistency checks that the tree of size old with root oldRoot is
// a prefix of the tree of size size with root root.
func VerifyConsistency(proof []Hash, old, size int64, oldRoot, root Hash) error {
	if old == size {
		if len(proof) == 0 && oldRoot == root {
			return nil
		}
		return fmt.Errorf("ledger: two different roots for size %d: %w", size, ErrFork)
	}
	if old < 1 || old > size {
		return fmt.Errorf("ledger: size %d after size %d: %w", size, old, ErrFork)
	}
	if err := tlog.CheckTree(proof, size, root, old, oldRoot); err != nil {
		return fmt.Errorf("ledger: tree of size %d is not an extension of tree of size %d: %w", size, old, ErrFork)
	}
	return nil
}

// ErrBadProof means an inclusion proof does not hold.
var ErrBadProof = fmt.Errorf("proof does not verify")

// ErrFork means two checkpoints of one log cannot both be true: the log
// was rewritten or shows different histories to different readers.
var ErrFork = fmt.Errorf("log fork")
