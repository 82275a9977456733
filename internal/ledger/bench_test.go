package ledger

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
)

// Benchmarks at the scale of the acceptance targets: a log of 1,000,000
// entries (PUENTE_BENCH_ENTRIES to change it).
//
//	go test -run='^$' -bench=. -benchtime=2000x -count=6 ./internal/ledger
//	go test -run='^$' -bench=VerifyLog -benchtime=3x -count=6 ./internal/ledger

var (
	benchOnce sync.Once
	benchLog  *memLog
)

func benchSize() int {
	if n, err := strconv.Atoi(os.Getenv("PUENTE_BENCH_ENTRIES")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

func bigLog(b *testing.B) *memLog {
	benchOnce.Do(func() {
		l := newMemLog()
		n := benchSize()
		batch := make([][]byte, 0, 1000)
		for i := range n {
			batch = append(batch, testEntry(b, i))
			if len(batch) == cap(batch) || i == n-1 {
				l.append(b, batch...)
				batch = batch[:0]
			}
		}
		benchLog = l
	})
	return benchLog
}

// BenchmarkInclusionProof builds an inclusion proof of a random entry from
// the stored tiles and verifies it.
func BenchmarkInclusionProof(b *testing.B) {
	l := bigLog(b)
	ctx := context.Background()
	size := l.size()
	root, err := TreeHash(ctx, l, size)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		idx := rng.Int64N(size)
		p, err := InclusionProof(ctx, l, idx, size)
		if err != nil {
			b.Fatal(err)
		}
		if err := VerifyInclusion(p, idx, size, LeafHash(l.entries[idx]), root); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendTiles appends batches of 1,000 leaves to a large log.
func BenchmarkAppendTiles(b *testing.B) {
	ctx := context.Background()
	tiles := memTiles{}
	leaves := make([]Hash, 1000)
	for i := range leaves {
		leaves[i] = LeafHash([]byte{byte(i), byte(i >> 8)})
	}
	var size int64
	for b.Loop() {
		changed, err := AppendTiles(ctx, tiles, size, leaves)
		if err != nil {
			b.Fatal(err)
		}
		for id, t := range changed {
			tiles[id] = t
		}
		size += int64(len(leaves))
	}
	b.ReportMetric(float64(size)/b.Elapsed().Seconds(), "leaves/s")
}

// BenchmarkVerifyLog verifies the whole log from an exported directory,
// as puente verify --tiles does.
func BenchmarkVerifyLog(b *testing.B) {
	l := bigLog(b)
	ctx := context.Background()
	signer, _ := testKeys(b, "puente-MEX")
	cp, msg := l.signedCheckpoint(b, "puente/MEX-USA", signer)
	dir := b.TempDir()
	if err := Export(ctx, l, msg, cp.Size, dir, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := VerifyLog(ctx, LogCheck{Fetch: DirFetcher(dir), Checkpoint: cp}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cp.Size)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
