package taxii_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/taxii"
)

// benchEnv builds the test server for a benchmark.
func benchEnv(b *testing.B, cfg taxii.Config) *env {
	b.Helper()
	return newEnvTB(b, cfg, true)
}

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
	for _, clients := range []int{1, 4} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			const perEnvelope, size = 1000, 1024
			e := benchEnv(b, taxii.Config{})
			// Prepare distinct envelopes up front; the loop only posts.
			const pool = 64
			bodies := make([][]byte, pool)
			for i := range bodies {
				bodies[i] = envelopeOf(i*perEnvelope, perEnvelope, size)
			}
			path := objectsPath(e.coll, "")
			b.SetBytes(int64(len(bodies[0])))
			b.SetParallelism(clients)
			b.ResetTimer()
			var n int64
			next := make(chan int, 1)
			next <- 0
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := <-next
					next <- i + 1
					body := bodies[i%pool]
					if i >= pool {
						// Later rounds re-post: make them new versions.
						body = bytes.ReplaceAll(body, []byte(v1), []byte(fmt.Sprintf("2026-02-01T00:00:00.%06dZ", i)))
					}
					e.rawPost(b, path, body)
				}
			})
			n = int64(b.N) * perEnvelope
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkTAXIIRead reads pages of 1,000 objects of 1 KiB over TLS from a
// collection of 20,000 (PUENTE_BENCH_OBJECTS to change it), paging with
// added_after, with 1, 4 and 16 concurrent readers. It reports objects/s
// and the 50th and 99th percentile time of one page.
func BenchmarkTAXIIRead(b *testing.B) {
	total := 20000
	if v := os.Getenv("PUENTE_BENCH_OBJECTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("PUENTE_BENCH_OBJECTS=%q: want a number of at least 1000", v)
		}
		total = n
	}
	const size, page = 1024, 1000
	e := benchEnv(b, taxii.Config{})
	for i := 0; i < total; i += 1000 {
		e.rawPost(b, objectsPath(e.coll, ""), envelopeOf(i, 1000, size))
	}
	for _, readers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(readers)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				q := fmt.Sprintf("limit=%d", page)
				for pb.Next() {
					start := time.Now()
					r, _ := http.NewRequest(http.MethodGet, e.srv.URL+objectsPath(e.coll, q), nil)
					r.SetBasicAuth("alice", "pw")
					r.Header.Set("Accept", mediaTAXII)
					resp, err := e.srv.Client().Do(r)
					if err != nil {
						b.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("status %d", resp.StatusCode)
					}
					d := time.Since(start)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
					last := resp.Header.Get("X-TAXII-Date-Added-Last")
					if !bytes.Contains(body[:20], []byte(`"more":true`)) {
						q = fmt.Sprintf("limit=%d", page)
						continue
					}
					q = fmt.Sprintf("limit=%d&added_after=%s", page, url.QueryEscape(last))
				}
			})
			b.ReportMetric(float64(b.N)*page/b.Elapsed().Seconds(), "objects/s")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
