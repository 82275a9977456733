package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/postgres/pgtest"
	"github.com/puente-project/puente/internal/store/storetest"
)

// openTest opens a new, empty database, closed when t ends.
func openTest(t testing.TB) *DB {
	t.Helper()
	return openDSN(t, pgtest.Database(t), Options{})
}

func openDSN(t testing.TB, dsn string, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) })
}

func TestSchemaTooNew(t *testing.T) {
	dsn := pgtest.Database(t)
	db := openDSN(t, dsn, Options{})
	if _, err := db.pool.Exec(t.Context(), "UPDATE schema_version SET version = $1", len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(t.Context(), dsn, Options{})
	if !errors.Is(err, store.ErrSchemaTooNew) {
		if db2 != nil {
			db2.Close()
		}
		t.Fatalf("Open on a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

// TestMigrateTogether opens four stores on one new database at once, as
// processes started together do: the schema is made once.
func TestMigrateTogether(t *testing.T) {
	dsn := pgtest.Database(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := Open(context.Background(), dsn, Options{MaxConns: 1})
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	db := openDSN(t, dsn, Options{})
	var v int
	if err := db.pool.QueryRow(t.Context(), "SELECT version FROM schema_version").Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d (%v), want %d", v, err, len(migrations))
	}
}

func TestOpenUnreachable(t *testing.T) {
	tests := []struct {
		dsn         string
		unreachable bool
	}{
		// Nothing listens on port 1 of loopback.
		{"postgres://puente@127.0.0.1:1/puente?connect_timeout=2", true},
		{"postgres://puente@127.0.0.1:notaport/puente", false},
		{"mysql://x", false},
	}
	for _, tc := range tests {
		db, err := Open(t.Context(), tc.dsn, Options{})
		if err == nil {
			db.Close()
			t.Errorf("Open(%s) succeeded", tc.dsn)
			continue
		}
		if got := errors.Is(err, ErrUnreachable); got != tc.unreachable {
			t.Errorf("Open(%s) = %v; unreachable %v, want %v", tc.dsn, err, got, tc.unreachable)
		}
	}
}

// TestPasswordNotInErrors checks that a refused connection's error does
// not repeat the password of the URL.
func TestPasswordNotInErrors(t *testing.T) {
	server := pgtest.ServerURL(t)
	u, err := url.Parse(pgtest.WithDatabase(t, server, "no_such_database_puente"))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "s3cret-pw")
	for _, dsn := range []string{u.String(), "postgres://puente:s3cret-pw@127.0.0.1:1/x?connect_timeout=2",
		"postgres://puente:s3cret-pw@127.0.0.1:notaport/x", "postgres://puente:s3cret-pw@127.0.0.1/x?sslmode=bogus",
		// An '@' not percent-encoded: pgx would read "pw@127.0.0.1" as the host.
		"postgres://puente:s3cret@pw@127.0.0.1:1/x?connect_timeout=2",
		// pgx fails on these itself, and its mask let parts through.
		"postgres://puente:s3cret@pw:x0rd@127.0.0.1:5432/x", "postgres://puente:ab/s3cret@pw@127.0.0.1:5432/x",
		"postgres://puente:s3cret%zz@127.0.0.1:5432/x"} {
		_, err := Open(t.Context(), dsn, Options{})
		if err == nil {
			t.Fatalf("Open(%s) succeeded", dsn)
		}
		for _, part := range []string{"s3cret", "pw@", "x0rd", "ab/"} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("the error shows part of the password (%q): %v", part, err)
			}
		}
	}
}

// TestReleaseBackfill runs the backfill of schema step 2 on a database
// whose releases were forgotten.
func TestReleaseBackfill(t *testing.T) {
	db := openTest(t)
	storetest.CheckReleaseBackfill(t, db, func(t *testing.T) {
		if _, err := db.pool.Exec(t.Context(), "DELETE FROM releases; DELETE FROM release_clocks;"+backfillReleases); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSessionSettings opens stores on a database whose defaults would
// break the locking (REPEATABLE READ: a statement after a lock would not
// see what the lock waited for) and durability (synchronous_commit off):
// the store's sessions use their own, and stores started together still
// migrate once.
func TestSessionSettings(t *testing.T) {
	dsn := pgtest.Database(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	for _, q := range []string{
		"ALTER DATABASE " + pgx.Identifier{name}.Sanitize() + " SET default_transaction_isolation = 'repeatable read'",
		"ALTER DATABASE " + pgx.Identifier{name}.Sanitize() + " SET synchronous_commit = off",
	} {
		if _, err := admin.Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	admin.Close(t.Context())
	var wg sync.WaitGroup
	dbs := make([]*DB, 4)
	errs := make([]error, 4)
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), dsn, Options{MaxConns: 2}) })
	}
	wg.Wait()
	for i, db := range dbs {
		if errs[i] != nil {
			t.Fatalf("Open %d of 4 at once: %v", i, errs[i])
		}
		t.Cleanup(func() { db.Close() })
	}
	for setting, want := range map[string]string{"transaction_isolation": "read committed", "synchronous_commit": "on"} {
		var got string
		if err := dbs[0].pool.QueryRow(t.Context(), "SHOW "+setting).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", setting, got, err, want)
		}
	}
}
