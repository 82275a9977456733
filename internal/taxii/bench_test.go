package taxii_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/postgres"
	"github.com/puente-project/puente/internal/store/postgres/pgtest"
	"github.com/puente-project/puente/internal/taxii"
)

// benchEnv builds the test server for a benchmark, on the store driver
// named: "sqlite" (a file in a temporary directory) or "postgres" (a new
// database on the server of PUENTE_TEST_POSTGRES_URL; skipped without).
func benchEnv(b *testing.B, cfg taxii.Config, driver string) *env {
	b.Helper()
	if driver == "sqlite" {
		return newEnvTB(b, cfg, true)
	}
	return newEnvStore(b, openPostgres(b, pgtest.Database(b)), cfg, true)
}

func openPostgres(b *testing.B, dsn string) store.Store {
	b.Helper()
	st, err := postgres.Open(b.Context(), dsn, postgres.Options{})
	if err != nil {
		b.Fatalf("open store: %v", err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// drivers are the store drivers the benchmarks compare, side by side.
var drivers = []string{"sqlite", "postgres"}

func envelopeOf(start, n, size int) []byte {
	objs := make([][]byte, n)
	for i := range objs {
		objs[i] = indicator(start+i, v1, size)
	}
	return envelope(objs...)
}

func (e *env) rawPost(tb testing.TB, path string, body []byte) {
	r, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	r.SetBasicAuth("alice", "pw")
	r.Header.Set("Accept", mediaTAXII)
	r.Header.Set("Content-Type", mediaTAXII)
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		tb.Fatalf("status %d", resp.StatusCode)
	}
}

func BenchmarkTAXIIIngest(b *testing.B) {
	for _, driver := range drivers {
		for _, clients := range []int{1, 4} {
			b.Run(fmt.Sprintf("store=%s/clients=%d", driver, clients), func(b *testing.B) {
				benchIngest(b, []*env{benchEnv(b, taxii.Config{}, driver)}, clients)
			})
		}
	}
	// Two stores, each with its own pool and TAXII server, on one
	// PostgreSQL database, as two processes serving one node would be;
	// clients alternate between them.
	for _, clients := range []int{2, 4} {
		b.Run(fmt.Sprintf("store=postgres-2-servers/clients=%d", clients), func(b *testing.B) {
			dsn := pgtest.Database(b)
			first := newEnvStore(b, openPostgres(b, dsn), taxii.Config{}, true)
			second := &env{st: openPostgres(b, dsn), coll: first.coll, internal: first.internal}
			second.srv = httptest.NewTLSServer(taxii.New(second.st, authenticate, taxii.Config{Party: "MEX"}))
			b.Cleanup(second.srv.Close)
			benchIngest(b, []*env{first, second}, clients)
		})
	}
}

// benchIngest posts envelopes of 1,000 objects of 1 KiB to the servers of
// envs, from exactly clients goroutines, post i going to server i mod
// len(envs).
func benchIngest(b *testing.B, envs []*env, clients int) {
	const perEnvelope, size = 1000, 1024
	// Prepare distinct envelopes up front; the loop only posts.
	const pool = 64
	bodies := make([][]byte, pool)
	for i := range bodies {
		bodies[i] = envelopeOf(i*perEnvelope, perEnvelope, size)
	}
	path := objectsPath(envs[0].coll, "")
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	concurrently(b, clients, func(i int) {
		body := bodies[i%pool]
		if i >= pool {
			// Later rounds re-post: make them new versions.
			body = bytes.ReplaceAll(body, []byte(v1), []byte(fmt.Sprintf("2026-02-01T00:00:00.%06dZ", i)))
		}
		envs[i%len(envs)].rawPost(b, path, body)
	})
	b.ReportMetric(float64(b.N)*perEnvelope/b.Elapsed().Seconds(), "objects/s")
}

// concurrently runs fn(0), …, fn(b.N-1) on exactly n goroutines.
func concurrently(b *testing.B, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}

func (e *env) getRawAs(tb testing.TB, path, user string) *http.Response {
	r, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	r.SetBasicAuth(user, "pw")
	r.Header.Set("Accept", mediaTAXII)
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// BenchmarkTAXIIRead reads pages of 1,000 objects of 1 KiB over TLS from a
// collection of 20,000 (PUENTE_BENCH_OBJECTS to change it), paging with
// added_after, with exactly 1, 4 and 16 concurrent readers. It reports objects/s
// and the 50th and 99th percentile time of one page.
func BenchmarkTAXIIRead(b *testing.B) {
	for _, driver := range drivers {
		b.Run("store="+driver, func(b *testing.B) { benchRead(b, driver) })
	}
}

func benchRead(b *testing.B, driver string) {
	total := 20000
	if v := os.Getenv("PUENTE_BENCH_OBJECTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("PUENTE_BENCH_OBJECTS=%q: want a number of at least 1000", v)
		}
		total = n
	}
	const size, page = 1024, 1000
	e := benchEnv(b, taxii.Config{}, driver)
	for i := 0; i < total; i += 1000 {
		e.rawPost(b, objectsPath(e.coll, ""), envelopeOf(i, 1000, size))
	}
	// marks[user][k] is the X-TAXII-Date-Added-Last of page k as user
	// reads it (a partner has its own date_added): request i reads page i
	// mod the number of pages.
	marks := make(map[string][]string)
	for _, user := range []string{"alice", "USA"} {
		for q := fmt.Sprintf("limit=%d", page); len(marks[user]) < total/page; {
			resp := e.getRawAs(b, objectsPath(e.coll, q), user)
			marks[user] = append(marks[user], resp.Header.Get("X-TAXII-Date-Added-Last"))
			q = fmt.Sprintf("limit=%d&added_after=%s", page, url.QueryEscape(marks[user][len(marks[user])-1]))
		}
	}
	type run struct {
		name, user string
		readers    int
	}
	runs := []run{{"readers=1", "alice", 1}, {"readers=4", "alice", 4}, {"readers=16", "alice", 16},
		// A partner's read: release is evaluated in the query (G1).
		{"partner-readers=1", "USA", 1}}
	for _, rn := range runs {
		readers := rn.readers
		b.Run(rn.name, func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			concurrently(b, readers, func(i int) {
				// Each reader pages through the collection from its own
				// starting point, so readers do not read the same pages.
				start := time.Now()
				q := fmt.Sprintf("limit=%d", page)
				if k := i % (total / page); k > 0 {
					q = fmt.Sprintf("limit=%d&added_after=%s", page, url.QueryEscape(marks[rn.user][k-1]))
				}
				r, _ := http.NewRequest(http.MethodGet, e.srv.URL+objectsPath(e.coll, q), nil)
				r.SetBasicAuth(rn.user, "pw")
				r.Header.Set("Accept", mediaTAXII)
				resp, err := e.srv.Client().Do(r)
				if err != nil {
					b.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || len(body) < page*size {
					b.Errorf("status %d, %d bytes", resp.StatusCode, len(body))
					return
				}
				d := time.Since(start)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
			b.ReportMetric(float64(b.N)*page/b.Elapsed().Seconds(), "objects/s")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
