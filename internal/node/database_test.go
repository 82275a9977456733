package node

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/store/postgres"
	"github.com/puente-project/puente/internal/store/postgres/pgtest"
)

// TestOpenStoreWaiting checks that serve keeps trying, and says why, while
// the database server is unreachable, and stops when asked.
func TestOpenStoreWaiting(t *testing.T) {
	cfg := Config{Party: "MEX", Dir: t.TempDir(), Database: "postgres://puente@127.0.0.1:1/puente?connect_timeout=1"}.withDefaults()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	_, err := openStoreWaiting(ctx, cfg, logger)
	if !errors.Is(err, postgres.ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("openStoreWaiting = %v, want unreachable and the deadline", err)
	}
	if n := strings.Count(logs.String(), "database unreachable; trying again"); n < 2 {
		t.Fatalf("%d warnings in 2.5 s, want at least 2:\n%s", n, logs.String())
	}
}

// TestDatabaseFile checks that a URL in a file is used and never shown.
func TestDatabaseFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "url")
	if err := os.WriteFile(file, []byte("postgres://puente:pw-in-file@127.0.0.1:1/puente?connect_timeout=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Party: "MEX", Dir: dir, DatabaseFile: "url"}.withDefaults()
	dsn, err := cfg.databaseURL()
	if err != nil || !strings.Contains(dsn, "pw-in-file") {
		t.Fatalf("databaseURL = %q, %v", dsn, err)
	}
	if name := cfg.DatabaseName(); strings.Contains(name, "pw-in-file") || !strings.Contains(name, file) {
		t.Errorf("DatabaseName = %q", name)
	}
	_, err = openStore(t.Context(), cfg)
	if !errors.Is(err, postgres.ErrUnreachable) || strings.Contains(err.Error(), "pw-in-file") {
		t.Errorf("openStore = %v", err)
	}
	cfg.Database, cfg.DatabaseFile = "postgres://puente:pw@db.example/x", ""
	if name := cfg.DatabaseName(); strings.Contains(name, ":pw@") {
		t.Errorf("DatabaseName = %q shows the password", name)
	}
	// Readable by other users, a file with a password is refused; without
	// one it holds nothing secret.
	cfg.Database, cfg.DatabaseFile = "", "url"
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.databaseURL(); err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), "pw-in-file") {
		t.Errorf("a world-readable database_file with a password: %v", err)
	}
	if err := os.WriteFile(file, []byte("postgres://puente@127.0.0.1/puente\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.databaseURL(); err != nil {
		t.Errorf("a database_file without a password, mode 0644: %v", err)
	}
	if err := os.WriteFile(file, []byte("puente.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseFile = "url"
	if _, err := cfg.databaseURL(); err == nil {
		t.Error("a database_file without a postgres:// URL was accepted")
	}
}

func TestCheckDatabaseURL(t *testing.T) {
	tests := []struct {
		url  string
		want string // "" for none; else part of the error
		name string // DatabaseName, without secrets
	}{
		{"postgres://puente@db.example:5432/puente", "", "postgres://puente@db.example:5432/puente"},
		{"postgresql://db.example/puente?sslmode=verify-full", "", "postgres://db.example/puente"},
		{"postgres:///puente?host=/run/postgresql", "", "postgres:///puente?host=/run/postgresql"},
		{"postgres://puente:pw@db.example/puente", "holds a password", "postgres://puente@db.example/puente"},
		{"postgres://puente@db.example/puente?password=pw", "holds a password", "postgres://puente@db.example/puente"},
		{"postgres://puente@db.example/puente?sslpassword=pw", "holds a password", "postgres://puente@db.example/puente"},
		{"postgres:///puente", "want a URL", "PostgreSQL"},
		{"host=db.example dbname=puente", "want a URL", ""},
	}
	for _, tc := range tests {
		err := CheckDatabaseURL(tc.url)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckDatabaseURL(%q) = %v, want %q", tc.url, err, tc.want)
		}
		if !IsPostgresURL(tc.url) {
			continue
		}
		cfg := Config{Party: "MEX", Dir: t.TempDir(), Database: tc.url}.withDefaults()
		if got := cfg.DatabaseName(); got != tc.name || strings.Contains(got, "pw") {
			t.Errorf("DatabaseName of %q = %q, want %q", tc.url, got, tc.name)
		}
	}
	cfg := Config{Party: "MEX", Database: "host=db.example dbname=puente"}.withDefaults()
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "key=value") {
		t.Errorf("Validate of a key=value database = %v", err)
	}
}

// TestInitPostgres creates a node on PostgreSQL, checks that an init cut
// short while filling the database can be run again, and that a node
// never opens on a database that holds none.
func TestInitPostgres(t *testing.T) {
	dsn := pgtest.Database(t)
	setInitFault(t, "database") // after the internal collection, before the admin user
	dir := filepath.Join(t.TempDir(), "mex")
	if _, err := Init(t.Context(), InitOptions{Dir: dir, Party: "MEX", Database: dsn}); err == nil {
		t.Fatal("Init succeeded despite the fault")
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("failed Init left %s behind (%v)", dir, err)
	}
	setInitFault(t, "")
	res, err := Init(t.Context(), InitOptions{Dir: dir, Party: "MEX", Database: dsn})
	if err != nil {
		t.Fatalf("Init after an init cut short: %v", err)
	}
	n, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := n.Store().User(t.Context(), AdminUser)
	n.Close()
	if err != nil || u.Name != AdminUser {
		t.Fatalf("admin user: %v %v", u, err)
	}
	if res.Internal.ID == "" {
		t.Fatal("no internal collection in the result")
	}

	// A second node on the same database is refused.
	other := filepath.Join(t.TempDir(), "usa")
	if _, err := Init(t.Context(), InitOptions{Dir: other, Party: "USA", Database: dsn}); err == nil || !strings.Contains(err.Error(), "already holds a node") {
		t.Fatalf("Init on a used database = %v", err)
	}
	if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("refused Init left %s behind", other)
	}

	// The node's directory pointed at an empty database does not open.
	empty := pgtest.Database(t)
	_, err = Open(t.Context(), dir, Options{Getenv: func(k string) string {
		if k == EnvDatabase {
			return empty
		}
		return ""
	}})
	if err == nil || !strings.Contains(err.Error(), "holds no node") {
		t.Fatalf("Open on an empty database = %v", err)
	}
}
