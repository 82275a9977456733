package node

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/marking"
)

// pad makes indicators of about 1 KiB.
var pad = strings.Repeat("x", 700)

func kibIndicator(n int) string {
	_, raw := fedIndicator("MEX", n, marking.TLPGreen)
	return strings.Replace(raw, `"name":`, `"description":"`+pad+`","name":`, 1)
}

// shareMany shares n objects of about 1 KiB in envelopes of 1,000.
func (f *fedNode) shareMany(group string, from, n int) {
	f.t.Helper()
	for start := from; start < from+n; start += 1000 {
		objs := make([]string, 0, 1000)
		for i := start; i < min(start+1000, from+n); i++ {
			objs = append(objs, kibIndicator(i))
		}
		f.share(group, objs...)
	}
}

// BenchmarkPull measures one catch-up pull of PUENTE_BENCH_PULL objects
// (default 200,000) of 1 KiB from MEX to USA on loopback: checkpoint,
// consistency, entries, objects over TAXII with mutual TLS, hash checks,
// storing the replicas, and the receipt. It reports objects/s. A pull
// has fixed costs (connections, first tiles, filling the pipeline, the
// receipt): small pulls run slower, about 17,000 objects/s for 20,000.
//
//	go test -run='^$' -bench='Pull$' -benchtime=1x -count=4 ./internal/node
//	PUENTE_BENCH_PULL=1000000 go test -run='^$' -bench='Pull$' -benchtime=1x -timeout=20m ./internal/node
func BenchmarkPull(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("PUENTE_BENCH_PULL")); err == nil && v > 0 {
		n = v
	}
	var total int
	for b.Loop() {
		b.StopTimer()
		mex := newFedNode(b, "MEX", true)
		usa := newFedNode(b, "USA", false)
		mex.pin(usa)
		usa.pin(mex)
		g := mex.group("fentanyl", "USA")
		mex.shareMany(g, 0, n)
		if _, err := PublishCheckpoints(context.Background(), mex.n.Store(), "MEX", mex.n.signer, time.Now()); err != nil {
			b.Fatal(err)
		}
		peer, err := usa.n.Store().Peer(context.Background(), "MEX")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := usa.n.fed.Pull(context.Background(), peer)
		if err != nil || res.Stored != int64(n) || !res.Receipt {
			b.Fatalf("pull: %+v, %v", res, err)
		}
		total += n
		b.StopTimer()
		mex.shutdown()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkShareToReceipt measures, with both nodes serving with their
// default intervals, the time from sharing one object on MEX to MEX
// holding USA's receipt for it (checkpoint, notification, pull, receipt).
//
//	go test -run='^$' -bench=ShareToReceipt -benchtime=20x ./internal/node
func BenchmarkShareToReceipt(b *testing.B) {
	mex := newFedNodeEvery(b, "MEX", true, defaultCheckpointEvery, 2*time.Second)
	usa := newFedNodeEvery(b, "USA", true, defaultCheckpointEvery, 2*time.Second)
	mex.pin(usa)
	usa.pin(mex)
	g := mex.group("fentanyl", "USA")
	// Warm up: the first delivery also waits for the partner's loop to
	// start.
	mex.share(g, kibIndicator(0))
	waitDelivered(b, mex, usa, 20*time.Second)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		mex.share(g, kibIndicator(i))
		for {
			s, err := mex.n.Store().LatestReceipt(context.Background(), "USA")
			if err == nil && s.Size >= int64(i+1) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
