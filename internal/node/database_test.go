package node

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/store/postgres"
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
	if err := os.WriteFile(file, []byte("puente.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseFile = "url"
	if _, err := cfg.databaseURL(); err == nil {
		t.Error("a database_file without a postgres:// URL was accepted")
	}
}
