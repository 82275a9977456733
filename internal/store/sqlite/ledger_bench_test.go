package sqlite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// BenchmarkLedgerAppend measures ledger appends alone: writers queue
// batches of entries, and the writer commits what is queued together, one
// transaction (one fsync) per group. It reports entries/s.
//
//	go test -run='^$' -bench=LedgerAppend -benchtime=50x -count=6 ./internal/store/sqlite
func BenchmarkLedgerAppend(b *testing.B) {
	for _, bc := range []struct{ batch, writers int }{{1000, 1}, {1000, 4}, {100, 16}} {
		b.Run(fmt.Sprintf("batch=%d/writers=%d", bc.batch, bc.writers), func(b *testing.B) {
			db := openTest(b)
			n := 0
			for b.Loop() {
				var wg sync.WaitGroup
				for range bc.writers {
					start := n
					n += bc.batch
					wg.Go(func() {
						err := db.w.do(context.Background(), func(ctx context.Context, t *wtx) error {
							for i := range bc.batch {
								e := ledger.Entry{Kind: ledger.KindObject, ObjectID: fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", start+i),
									Version: "2026-01-15T10:00:00.000Z", SHA256: sha256.Sum256([]byte{byte(i)}), Group: "c1", Time: time.Unix(0, 0)}
								if err := t.appendEntry(ctx, e, "USA"); err != nil {
									return err
								}
							}
							return nil
						})
						if err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkAddObjectsLedger is BenchmarkAddObjects with each object
// released to two partners: three ledger entries per object (internal log
// and two channels), in the same transaction.
//
//	go test -run='^$' -bench=AddObjectsLedger -benchtime=50x -count=6 ./internal/store/sqlite
func BenchmarkAddObjectsLedger(b *testing.B) {
	for _, channels := range [][]string{nil, {"USA", "CAN"}} {
		b.Run(fmt.Sprintf("channels=%d", len(channels)), func(b *testing.B) {
			db := openTest(b)
			createCollection(b, db, "c1", append([]string{"MEX"}, channels...)...)
			seed, objects := 0, 0
			for b.Loop() {
				b.StopTimer()
				seed++
				batch := benchBatch(seed, 1000)
				for i := range batch {
					batch[i].Release = store.Release{Originator: "MEX", AllMembers: true}
				}
				b.StartTimer()
				if _, err := db.AddObjects(context.Background(), "c1", batch); err != nil {
					b.Fatal(err)
				}
				objects += len(batch)
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(objects*(1+len(channels)))/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkInclusionProofStored builds an inclusion proof of a random entry
// of a log of 1,000,000 entries (PUENTE_BENCH_ENTRIES) from the tiles in
// the database, as the node's proof endpoint does, and verifies it.
//
//	go test -run='^$' -bench=InclusionProofStored -benchtime=2000x -count=6 ./internal/store/sqlite
func BenchmarkInclusionProofStored(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("PUENTE_BENCH_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	db := openTest(b)
	ctx := context.Background()
	const batch = 10_000
	for start := 0; start < n; start += batch {
		err := db.w.do(ctx, func(ctx context.Context, t *wtx) error {
			for i := start; i < min(start+batch, n); i++ {
				e := ledger.Entry{Kind: ledger.KindObject, ObjectID: fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", i),
					Version: "2026-01-15T10:00:00.000Z", SHA256: sha256.Sum256([]byte(strconv.Itoa(i))), Group: "c1", Time: time.Unix(0, 0)}
				if err := t.appendEntry(ctx, e, "USA"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	src := store.LogSource(db, "USA")
	size := int64(n)
	root, err := ledger.TreeHash(ctx, src, size)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		idx := rng.Int64N(size)
		p, err := ledger.InclusionProof(ctx, src, idx, size)
		if err != nil {
			b.Fatal(err)
		}
		es, err := src.Entries(ctx, idx, 1)
		if err != nil {
			b.Fatal(err)
		}
		if err := ledger.VerifyInclusion(p, idx, size, ledger.LeafHash(es[0]), root); err != nil {
			b.Fatal(err)
		}
	}
}
