package sqlite

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/storetest"
)

// Benchmarks of the store's hot paths on a real file. Run them with
//
//	go test -run='^$' -bench=. -benchtime=200x ./internal/store/sqlite
//
// and, to see that a page costs the same in a big collection,
//
//	PUENTE_BENCH_OBJECTS=1000000 go test -run='^$' -bench=Objects -benchtime=300x ./internal/store/sqlite
//
// Targets on the 2-core reference machine: AddObjects ≥ 40,000 objects/s
// (batches of 1,000 objects of 1 KiB), Objects ≥ 100,000 objects/s (pages of
// 1,000 from a collection of 100,000). Where the time goes (pprof, steady
// state, ~21 µs of CPU per object added): the SQLite engine (b-tree inserts
// into the table and four indexes, two probes for the version flags), the
// pwrite of each WAL page at commit, the driver's mutexes and allocations;
// checkpoints run on the other core.

// benchBatch returns n objects of about 1 KiB with ids unique for seed.
func benchBatch(seed, n int) []store.NewObject { return storetest.Batch(seed, n) }

// BenchmarkAddObjects adds batches from concurrent writers to a fresh
// file. Small batches from many writers show group commit at work: alone,
// each batch of 10 would pay for its own fsync.
func BenchmarkAddObjects(b *testing.B) {
	for _, bc := range []struct{ batch, writers int }{{1000, 1}, {1000, 4}, {10, 1}, {10, 64}} {
		batch, writers := bc.batch, bc.writers
		b.Run(fmt.Sprintf("batch=%d/writers=%d", batch, writers), func(b *testing.B) {
			db := openTest(b)
			createCollection(b, db, "c1")
			seed := 0
			batches := make([][]store.NewObject, writers)
			for b.Loop() {
				b.StopTimer()
				for w := range batches {
					seed++
					batches[w] = benchBatch(seed, batch)
				}
				b.StartTimer()
				var wg sync.WaitGroup
				for _, batch := range batches {
					wg.Go(func() {
						res, err := db.AddObjects(context.Background(), "c1", batch)
						if err != nil || res[len(res)-1].Outcome != store.Added {
							b.Errorf("AddObjects = %v", err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(b.N*writers*batch)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(db.w.commits.Load())/float64(b.N), "commits/op")
		})
	}
}

// fill adds n objects to collection "c1" of db in batches of 1000.
func fill(b *testing.B, db *DB, n int) {
	b.Helper()
	for seed := 0; seed*1000 < n; seed++ {
		if _, err := db.AddObjects(context.Background(), "c1", benchBatch(1<<20+seed, min(1000, n-seed*1000))); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSize is the number of objects BenchmarkObjects reads from;
// PUENTE_BENCH_OBJECTS overrides it (for example 1000000 to check that the
// cost of a page does not grow with the collection).
func benchSize(b *testing.B) int {
	n := 100_000
	if s := os.Getenv("PUENTE_BENCH_OBJECTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("PUENTE_BENCH_OBJECTS: %v", err)
		}
	}
	return n
}

func BenchmarkObjects(b *testing.B) {
	db := openTest(b)
	createCollection(b, db, "c1")
	n := benchSize(b)
	start := time.Now()
	fill(b, db, n)
	b.Logf("filled %d objects in %v", n, time.Since(start))
	for _, bc := range []struct {
		name string
		q    store.Query
	}{
		{"last", store.Query{}},
		{"all", store.Query{Versions: store.VersionMatch{All: true}}},
		{"last/nocontent", store.Query{NoContent: true}},
		{"last/spec=2.1", store.Query{SpecVersions: []string{"2.1"}}},
		{"last/type", store.Query{Types: []string{"indicator"}}},
		{"last/two-types", store.Query{Types: []string{"indicator", "malware"}}},
	} {
		b.Run(bc.name+"/limit=1000", func(b *testing.B) {
			q := bc.q
			q.CollectionID, q.Limit = "c1", 1000
			objects := 0
			for b.Loop() {
				p, err := db.Objects(context.Background(), q)
				if err != nil {
					b.Fatal(err)
				}
				objects += len(p.Objects)
				if p.More {
					q.AddedAfter = p.Objects[len(p.Objects)-1].DateAdded
				} else {
					q.AddedAfter = time.Time{}
				}
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
