package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/postgres/pgtest"
	"github.com/puente-project/puente/internal/store/storetest"
)

// Benchmarks of the driver's hot paths on a fresh database of the server
// of PUENTE_TEST_POSTGRES_URL:
//
//	PUENTE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//	  go test -run='^$' -bench=. -benchtime=50x ./internal/store/postgres
//
// The TAXII-level comparison with SQLite is BenchmarkTAXIIIngest and
// BenchmarkTAXIIRead in internal/taxii.

// benchBatch returns n objects of about 1 KiB with ids unique for seed,
// each released to the channel USA, as a working group's objects are.
func benchBatch(seed, n int) []store.NewObject {
	objs := storetest.Batch(seed, n)
	for i := range objs {
		objs[i].Release = store.Release{Originator: "MEX", AllMembers: true}
	}
	return objs
}

// BenchmarkAddObjects adds batches of 1,000 objects of 1 KiB, each
// recorded in the internal log and one channel, from concurrent writers
// to one collection, and from writers with a store (a pool) each, as
// processes sharing the database would.
func BenchmarkAddObjects(b *testing.B) {
	for _, bc := range []struct{ writers, stores int }{{1, 1}, {2, 1}, {4, 1}, {2, 2}} {
		b.Run(fmt.Sprintf("writers=%d/stores=%d", bc.writers, bc.stores), func(b *testing.B) {
			dsn := pgtest.Database(b)
			var dbs []*DB
			for range bc.stores {
				dbs = append(dbs, openDSN(b, dsn, Options{}))
			}
			if err := dbs[0].CreateCollection(b.Context(), store.Collection{ID: "c1", Title: "c1", Created: time.Now(), Members: []string{"MEX", "USA"}}); err != nil {
				b.Fatal(err)
			}
			seed := 0
			batches := make([][]store.NewObject, bc.writers)
			for b.Loop() {
				b.StopTimer()
				for w := range batches {
					seed++
					batches[w] = benchBatch(seed, 1000)
				}
				b.StartTimer()
				var wg sync.WaitGroup
				for w, batch := range batches {
					wg.Go(func() {
						res, err := dbs[w%len(dbs)].AddObjects(context.Background(), "c1", batch)
						if err != nil || res[len(res)-1].Outcome != store.Added {
							b.Errorf("AddObjects = %v", err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(b.N*bc.writers*1000)/b.Elapsed().Seconds(), "objects/s")
			var retries int64
			for _, db := range dbs {
				retries += db.Retries()
			}
			b.ReportMetric(float64(retries)/float64(b.N), "retries/op")
		})
	}
}
