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

	"github.com/puente-project/puente/internal/store"
)

// crashChildEnv, when set, makes TestCrash the child: it writes to the
// database at that path until it is killed.
const crashChildEnv = "PUENTE_SQLITE_CRASH_CHILD"

// TestCrash kills, with SIGKILL, a process that is adding objects, at a
// random moment, and checks that every batch it acknowledged is in the
// database and that the database is sound (G7: nothing acknowledged is
// lost). The child prints a batch's ids only after AddObjects returned.
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	rounds := 10
	if testing.Short() {
		rounds = 3
	}
	path := filepath.Join(t.TempDir(), "puente.db")
	// The parent makes the collection: a child may die before it could.
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	createCollection(t, db, "crash")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for round := range rounds {
		acked := runCrashChild(t, path, time.Duration(50+rand.IntN(250))*time.Millisecond)
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
		t.Logf("round %d: %d acknowledged, %d stored in all rounds", round, len(acked), len(stored))
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if total == 0 {
		t.Errorf("the child acknowledged nothing in %d rounds; the test proved nothing", rounds)
	}
}

// runCrashChild runs the child on path, kills it after d, and returns the
// ids it acknowledged on complete output lines.
func runCrashChild(t *testing.T, path string, d time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
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
	lines := strings.Split(out.String(), "\n")
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
	var mu sync.Mutex // serialises stdout lines
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for b := 0; ; b++ {
				var objs []store.NewObject
				for i := range 20 + rand.IntN(100) {
					objs = append(objs, newObj(int(prefix)<<20|g<<18|b<<7|i, "", strings.Repeat("x", 512)))
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
