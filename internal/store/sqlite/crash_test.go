package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// crashChildEnv, when set, makes TestCrash the child: it writes to the
// database at that path until it is killed.
const crashChildEnv = "PUENTE_SQLITE_CRASH_CHILD"

// TestCrash kills, with SIGKILL, a process that is adding objects, at a
// random moment, 50 times, and checks after each restart that every batch
// it acknowledged is in the database with its ledger entries, that the
// logs verify in full, and that nothing is half-written: the logs hold
// exactly the stored objects (G7: nothing acknowledged is lost; G3). The
// child prints a batch's ids only after AddObjects returned.
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	rounds := 50
	if testing.Short() {
		rounds = 5
	}
	path := filepath.Join(t.TempDir(), "puente.db")
	// The parent makes the collection: a child may die before it could.
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	createCollection(t, db, "crash", "MEX", "USA")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for round := range rounds {
		acked := runCrashChild(t, path, time.Duration(30+rand.IntN(150))*time.Millisecond)
		total += len(acked)

		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		var check string
		if err := db.write.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&check); err != nil {
			t.Fatalf("round %d: integrity_check: %v", round, err)
		}
		if check != "ok" {
			t.Errorf("round %d: integrity_check = %q", round, check)
		}
		stored := make(map[string]bool)
		q := store.Query{CollectionID: "crash", Versions: store.VersionMatch{All: true}, Limit: 5000, NoContent: true}
		for {
			p, err := db.Objects(t.Context(), q)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for _, o := range p.Objects {
				stored[o.ID] = true
			}
			if !p.More {
				break
			}
			q.AddedAfter = p.Objects[len(p.Objects)-1].DateAdded
		}
		missing := 0
		for _, id := range acked {
			if !stored[id] {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("round %d: %d of %d acknowledged objects missing after SIGKILL", round, missing, len(acked))
		}
		// The logs: each verifies in full, and records exactly the stored
		// objects, each once (the channel: those the child sent to USA).
		for _, log := range []string{store.InternalLog, "USA"} {
			seen := make(map[string]bool)
			for _, e := range verifyStoredLog(t, db, log) {
				if seen[e.ObjectID] || !stored[e.ObjectID] {
					t.Fatalf("round %d: log %s: entry for %s, stored %v, seen before %v", round, log, e.ObjectID, stored[e.ObjectID], seen[e.ObjectID])
				}
				seen[e.ObjectID] = true
			}
			for id := range stored {
				if want := log == store.InternalLog || toUSA(id); want != seen[id] {
					t.Fatalf("round %d: object %s stored, in log %s: %v, want %v", round, id, log, seen[id], want)
				}
			}
		}
		t.Logf("round %d: %d acknowledged, %d stored in all rounds", round, len(acked), len(stored))
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if total == 0 {
		t.Errorf("the child acknowledged nothing in %d rounds; the test proved nothing", rounds)
	}
}

// runCrashChild runs the child on path, kills it d after it has opened
// the database and started writing (so that a slow start, under the race
// detector or a loaded machine, does not eat the time), and returns the
// ids it acknowledged on complete output lines.
func runCrashChild(t *testing.T, path string, d time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var out lockedBuffer
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.HasPrefix(out.String(), "ready\n") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(d)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child ended before it was killed: %v\nstderr: %s", err, errOut.String())
	}
	var ids []string
	lines := strings.Split(strings.TrimPrefix(out.String(), "ready\n"), "\n")
	for _, l := range lines[:len(lines)-1] { // the last one is empty or cut short
		if id, ok := strings.CutPrefix(l, "ack "); ok {
			ids = append(ids, strings.Fields(id)...)
		}
	}
	return ids
}

// crashChild adds batches from four goroutines, so that commits are shared,
// until it is killed.
func crashChild(path string) {
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	prefix := rand.Uint32()
	os.Stdout.WriteString("ready\n")
	var mu sync.Mutex // serialises stdout lines
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for b := 0; ; b++ {
				var objs []store.NewObject
				for i := range 20 + rand.IntN(100) {
					o := newObj(int(prefix)<<20|g<<18|b<<7|i, "", strings.Repeat("x", 512))
					o.Release = store.Release{Originator: "MEX"}
					if toUSA(o.ID) {
						o.Release.Parties = []string{"USA"}
					}
					objs = append(objs, o)
				}
				if _, err := db.AddObjects(ctx, "crash", objs); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				var line strings.Builder
				line.WriteString("ack")
				for _, o := range objs {
					line.WriteString(" " + o.ID)
				}
				line.WriteString("\n")
				mu.Lock()
				os.Stdout.WriteString(line.String())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// toUSA says whether the crash child releases an object to USA: about half.
func toUSA(id string) bool { return id[len(id)-1]%2 == 0 }

// verifyStoredLog verifies log in full from the database's tiles and
// entries and returns its entries.
func verifyStoredLog(t *testing.T, db *DB, log string) []ledger.Entry {
	t.Helper()
	ctx := t.Context()
	size, err := db.LogSize(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM ledger_entries WHERE log = ?", log).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != size {
		t.Fatalf("log %s: size %d, %d entry rows", log, size, rows)
	}
	src := store.LogSource(db, log)
	root, err := ledger.TreeHash(ctx, src, size)
	if err != nil {
		t.Fatalf("log %s: %v", log, err)
	}
	var out []ledger.Entry
	err = ledger.VerifyLog(ctx, ledger.LogCheck{Fetch: ledger.SourceFetcher{Source: src, Size: size},
		Checkpoint: ledger.Checkpoint{Origin: log, Size: size, Root: root},
		Entry:      func(_ int64, e ledger.Entry) error { out = append(out, e); return nil }})
	if err != nil {
		t.Fatalf("log %s does not verify after SIGKILL: %v", log, err)
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe to read while a child writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
