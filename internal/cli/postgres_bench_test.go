package cli_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/puente-project/puente/internal/store/postgres/pgtest"
)

// BenchmarkServeProcessesPostgres measures TAXII ingest into one node
// served by one or two real 'puente serve' processes on one PostgreSQL
// database: envelopes of 1,000 new objects of 1 KiB over TLS, posted by
// exactly `clients` goroutines, post i going to process i mod processes.
// Each object is also recorded in the internal log.
//
//	PUENTE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//	  go test -run '^$' -bench ServeProcessesPostgres -benchtime 20x ./internal/cli
func BenchmarkServeProcessesPostgres(b *testing.B) {
	bin := buildPuente(b)
	for _, bc := range []struct{ processes, clients int }{{1, 1}, {1, 2}, {2, 2}, {2, 4}} {
		b.Run(fmt.Sprintf("processes=%d/clients=%d", bc.processes, bc.clients), func(b *testing.B) {
			dsn := pgtest.Database(b)
			tmp := b.TempDir()
			urlFile := filepath.Join(tmp, "database-url")
			if err := os.WriteFile(urlFile, []byte(dsn), 0o600); err != nil {
				b.Fatal(err)
			}
			dir := filepath.Join(tmp, "mex")
			if out, err := exec.Command(bin, "init", "--dir", dir, "--party", "MEX", "--listen", "127.0.0.1:0", "--database-file", urlFile).CombinedOutput(); err != nil {
				b.Fatalf("puente init: %v\n%s", err, out)
			}
			out, err := exec.Command(bin, "token", "create", "--dir", dir, "--user", "admin").Output()
			if err != nil {
				b.Fatalf("puente token create: %v", err)
			}
			token := strings.TrimSpace(string(out))
			var procs []*serveProcess
			for range bc.processes {
				procs = append(procs, startServe(b, bin, dir))
			}
			c := newAdminClient(b, dir, "")
			c.token = token
			coll := c.internalCollection(b, procs[0].discovery)

			// Every post holds 1,000 new objects, built up front.
			const per = 1000
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = envelope(i*per, per, 1024)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.SetBytes(int64(len(bodies[0])))
			b.ResetTimer()
			for range bc.clients {
				wg.Go(func() {
					for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
						url := strings.TrimSuffix(procs[i%len(procs)].discovery, "/") + "/api/collections/" + coll + "/objects/"
						var st struct{}
						c.do(b, http.MethodPost, url, bodies[i], http.StatusAccepted, &st)
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)*per/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// envelope returns a TAXII envelope of n indicators of about size bytes,
// numbered from first.
func envelope(first, n, size int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"objects":[`)
	for i := first; i < first+n; i++ {
		if i > first {
			buf.WriteByte(',')
		}
		o := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000","created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z","description":"`, i, i%250)
		buf.WriteString(o)
		buf.WriteString(strings.Repeat("x", max(0, size-len(o)-2)))
		buf.WriteString(`"}`)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}
