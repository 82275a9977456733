package ledger

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// TestRFC6962Vectors checks roots against the RFC 6962 test vectors that
// transparency-dev/merkle publishes, appending one leaf at a time.
func TestRFC6962Vectors(t *testing.T) {
	ctx := context.Background()
	l := newMemLog()
	root, err := TreeHash(ctx, l, 0)
	if err != nil || !bytes.Equal(root[:], testonly.EmptyRootHash()) {
		t.Fatalf("empty root = %x, %v; want %x", root[:], err, testonly.EmptyRootHash())
	}
	for i, leaf := range testonly.LeafInputs() {
		l.append(t, leaf)
		root, err := TreeHash(ctx, l, l.size())
		if err != nil {
			t.Fatal(err)
		}
		if want := testonly.RootHashes()[i+1]; !bytes.Equal(root[:], want) {
			t.Errorf("root at size %d = %x, want %x", i+1, root[:], want)
		}
	}
}

// TestAppendMatchesReference appends random batches and checks, at every
// size, the root against an independent implementation
// (transparency-dev/merkle's reference tree), and proofs we build
// against its verifier.
func TestAppendMatchesReference(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	l := newMemLog()
	ref := testonly.New(rfc6962.DefaultHasher)
	for l.size() < 70_000 {
		n := 1 + rng.IntN(700)
		if rng.IntN(10) == 0 {
			n = 1
		}
		batch := make([][]byte, n)
		for i := range batch {
			batch[i] = testEntry(t, int(l.size())+i)
		}
		l.append(t, batch...)
		ref.AppendData(batch...)
		size := l.size()
		root, err := TreeHash(ctx, l, size)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(root[:], ref.Hash()) {
			t.Fatalf("root at size %d = %x, reference %x", size, root[:], ref.Hash())
		}
		idx := rng.Int64N(size)
		p, err := InclusionProof(ctx, l, idx, size)
		if err != nil {
			t.Fatal(err)
		}
		leaf := LeafHash(l.entries[idx])
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(idx), uint64(size), leaf[:], hashes(p), root[:]); err != nil {
			t.Fatalf("inclusion proof of %d at size %d rejected by the reference: %v", idx, size, err)
		}
		if err := VerifyInclusion(p, idx, size, leaf, root); err != nil {
			t.Fatal(err)
		}
		old := 1 + rng.Int64N(size)
		cp, err := ConsistencyProof(ctx, l, old, size)
		if err != nil {
			t.Fatal(err)
		}
		oldRoot, err := TreeHash(ctx, l, old)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(old), uint64(size), hashes(cp), oldRoot[:], root[:]); err != nil {
			t.Fatalf("consistency %d→%d rejected by the reference: %v", old, size, err)
		}
		if err := VerifyConsistency(cp, old, size, oldRoot, root); err != nil {
			t.Fatal(err)
		}
		// A wrong old root is a fork.
		bad := oldRoot
		bad[0] ^= 1
		if err := VerifyConsistency(cp, old, size, bad, root); !errors.Is(err, ErrFork) {
			t.Fatalf("consistency with an altered old root: %v, want ErrFork", err)
		}
	}
	// The spec's example: size 70,000 has 273 full level-0 tiles, a
	// level-0 partial of 112, one full level-1 tile, a level-1 partial of
	// 17 and a level-2 partial of 1.
	l2 := newMemLog()
	batch := make([][]byte, 70_000)
	for i := range batch {
		batch[i] = testEntry(t, i)
	}
	l2.append(t, batch...)
	for _, c := range []struct {
		id TileID
		w  int
	}{{TileID{0, 272}, 256}, {TileID{0, 273}, 112}, {TileID{1, 0}, 256}, {TileID{1, 1}, 17}, {TileID{2, 0}, 1}, {TileID{3, 0}, 0}} {
		if got := TileWidthAt(c.id, 70_000); got != c.w {
			t.Errorf("TileWidthAt(%v, 70000) = %d, want %d", c.id, got, c.w)
		}
		if c.w > 0 && len(l2.tiles[c.id]) != c.w*HashSize {
			t.Errorf("tile %v holds %d hashes, want %d", c.id, len(l2.tiles[c.id])/HashSize, c.w)
		}
	}
}

func hashes(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

func TestTilePath(t *testing.T) {
	for _, c := range []struct {
		level int
		index int64
		width int
		path  string
	}{
		{0, 0, 256, "tile/0/000"},
		{0, 1234067, 256, "tile/0/x001/x234/067"},
		{1, 5, 17, "tile/1/005.p/17"},
		{EntriesLevel, 1000, 1, "tile/entries/x001/000.p/1"},
	} {
		if got := TilePath(c.level, c.index, c.width); got != c.path {
			t.Errorf("TilePath(%d, %d, %d) = %q, want %q", c.level, c.index, c.width, got, c.path)
		}
		id, w, err := ParseTilePath(c.path)
		if err != nil || id != (TileID{c.level, c.index}) || w != c.width {
			t.Errorf("ParseTilePath(%q) = %v, %d, %v", c.path, id, w, err)
		}
	}
	for _, bad := range []string{"", "tile/0/", "tile/0/1", "tile/0/0001", "tile/00/000", "tile/64/000", "tile/0/001/002",
		"tile/0/x001", "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/01", "tile/x/000", "tile/0/x000/001", "tile/-1/000",
		"tile/0/x999/x999/x999/x999/x999/x999/x999/999"} {
		if _, _, err := ParseTilePath(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTilePath(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}
