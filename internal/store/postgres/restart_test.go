package postgres

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/postgres/pgtest"
)

// privateServer is a PostgreSQL server of the test's own, started from
// the installed binaries, that the test may crash and restart without
// disturbing the shared test server.
type privateServer struct {
	t    *testing.T
	bin  string // directory of initdb, pg_ctl
	data string
	port int
	asPG bool // running as root: run the server as the postgres user
}

// startPrivateServer starts one, or skips t when the binaries are not
// installed.
func startPrivateServer(t *testing.T) *privateServer {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	var bin string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			bin = d
		}
	}
	if bin == "" {
		skipOrFail(t, "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: the restart test needs a server of its own")
	}
	s := &privateServer{t: t, bin: bin, asPG: os.Geteuid() == 0}
	root, err := os.MkdirTemp("", "puente-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if s.asPG {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			skipOrFail(t, fmt.Sprintf("running as root and no postgres user: %v", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	s.data = filepath.Join(root, "data")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.run("initdb", "-D", s.data, "-A", "trust", "-U", "postgres", "--no-sync")
	s.run("pg_ctl", "-D", s.data, "-l", filepath.Join(root, "log"), "-w", "-o", s.options(root), "start")
	t.Cleanup(func() { s.runQuiet("pg_ctl", "-D", s.data, "-m", "immediate", "stop") })
	return s
}

func (s *privateServer) options(root string) string {
	return fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s", s.port, root)
}

func (s *privateServer) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	if s.asPG {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (s *privateServer) run(name string, args ...string) {
	s.t.Helper()
	if out, err := s.command(name, args...).CombinedOutput(); err != nil {
		s.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func (s *privateServer) runQuiet(name string, args ...string) { s.command(name, args...).Run() }

func (s *privateServer) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// crashRestart stops the server the way a power cut or a kill -9 would
// (immediate mode: no shutdown checkpoint; recovery replays the WAL) and
// starts it again.
func (s *privateServer) crashRestart() {
	s.t.Helper()
	// -l: a server started without a log file would write to pg_ctl's
	// output, which would then never end.
	s.run("pg_ctl", "-D", s.data, "-m", "immediate", "-w", "-l", filepath.Join(filepath.Dir(s.data), "log"),
		"-o", s.options(filepath.Dir(s.data)), "restart")
}

// TestServerRestart crashes and restarts a PostgreSQL server of its own
// three times while writers add objects through one store. Calls may
// fail while the server is down; nothing acknowledged may be lost, the
// logs must verify, and the same store (not reopened) must work again.
func TestServerRestart(t *testing.T) {
	pgtest.ServerURL(t) // one gate for every PostgreSQL test
	if testing.Short() {
		t.Skip("starts a PostgreSQL server; skipped with -short")
	}
	srv := startPrivateServer(t)
	db := openDSN(t, srv.url(), Options{MaxConns: 4})
	coll := "00000000-0000-4000-8000-000000000004"
	if err := db.CreateCollection(t.Context(), store.Collection{ID: coll, Title: "restarts", Created: time.Now(), Members: []string{"MEX", "USA"}}); err != nil {
		t.Fatal(err)
	}
	ack := &acked{m: map[string]time.Time{}}
	var failures atomic.Int64
	var failed atomic.Value
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	var wg sync.WaitGroup
	t.Cleanup(func() { halt(); wg.Wait() }) // also when a restart fails
	for w := range 3 {
		wg.Go(func() {
			for b := 0; ; b++ {
				select {
				case <-stop:
					return
				default:
				}
				objs := make([]store.NewObject, 50)
				for k := range objs {
					objs[k] = indicator((w*100000+b)*50 + k)
				}
				res, err := db.AddObjects(context.Background(), coll, objs)
				if err != nil {
					failures.Add(1)
					time.Sleep(50 * time.Millisecond) // the server is down
					continue
				}
				if err := ack.add(res); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	started := func() time.Time {
		var at time.Time
		if err := db.queryRow(t.Context(), "SELECT pg_postmaster_start_time()").Scan(&at); err != nil {
			t.Fatalf("server start time: %v", err)
		}
		return at
	}
	for range 3 {
		time.Sleep(700 * time.Millisecond) // load before each crash
		before := started()
		srv.crashRestart()
		if after := started(); !after.After(before) {
			t.Fatalf("the server did not restart: started at %v, then %v", before, after)
		}
	}
	time.Sleep(700 * time.Millisecond) // and after the last one
	halt()
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	t.Logf("3 crash-restarts under load: %d objects acknowledged, %d calls failed, %d transactions and reads retried",
		len(ack.m), failures.Load(), db.Retries())
	res, err := db.AddObjects(t.Context(), coll, []store.NewObject{indicator(1 << 24)})
	if err != nil {
		t.Fatalf("after the restarts, AddObjects = %v", err)
	}
	if err := ack.add(res); err != nil {
		t.Fatal(err)
	}
	checkStored(t, db, coll, ack.m)
}

// skipOrFail skips t for why, or fails it when PostgreSQL tests are
// required (pgtest.EnvRequired): then the server binaries must be there.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(pgtest.EnvRequired) == "1" {
		t.Fatalf("%s, and %s=1", why, pgtest.EnvRequired)
	}
	t.Skip(why)
}
