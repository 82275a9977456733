// Package pgtest gives tests a fresh PostgreSQL database of their own.
//
// Tests that need PostgreSQL call [Database]. It reads the server's
// address from PUENTE_TEST_POSTGRES_URL (for example
// postgres://postgres@127.0.0.1:5432/postgres) and skips the test, with
// one clear message, when it is unset, unless PUENTE_TEST_POSTGRES_REQUIRED=1,
// which makes the missing server a failure (CI sets both).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables read by Database.
const (
	EnvURL      = "PUENTE_TEST_POSTGRES_URL"
	EnvRequired = "PUENTE_TEST_POSTGRES_REQUIRED"
)

// ServerURL returns the test server's URL, or skips t (fails it when
// PostgreSQL tests are required).
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv(EnvRequired) == "1" {
			t.Fatalf("%s is not set, and %s=1: PostgreSQL tests must run", EnvURL, EnvRequired)
		}
		t.Skipf("PostgreSQL tests skipped: set %s (for example postgres://postgres@127.0.0.1:5432/postgres) to run them", EnvURL)
	}
	return u
}

// Database creates a new, empty database on the test server, drops it
// when t ends, and returns its URL.
func Database(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to the test server %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "puente_test_" + strings.ToLower(sanitize(t.Name())) + "_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return WithDatabase(t, server, name)
}

// WithDatabase returns the server URL u with its database replaced by name.
func WithDatabase(t testing.TB, u, name string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvURL)
	}
	p.Path = "/" + name
	return p.String()
}

// sanitize keeps the letters and digits of a test name, at most 24 of
// them: database names are at most 63 bytes.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() == 24 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
