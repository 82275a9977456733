package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/postgres"
	"github.com/puente-project/puente/internal/store/sqlite"
)

// IsPostgresURL reports whether a database setting names a PostgreSQL
// database (postgres:// or postgresql://) rather than an SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// CheckDatabaseURL reports a PostgreSQL URL that cannot work, or that
// carries a password: a password given on a command line can be read by
// every user of the machine (ps), so it belongs in a file
// (--database-file), in $PUENTE_DATABASE, or in PGPASSWORD or ~/.pgpass.
func CheckDatabaseURL(s string) error {
	u, err := parseDatabaseURL(s)
	if err != nil {
		return err
	}
	if _, ok := u.User.Password(); ok || u.Query().Has("password") || u.Query().Has("sslpassword") {
		return errors.New("database: the URL holds a password; put the URL in a file and give --database-file, or set PGPASSWORD or ~/.pgpass")
	}
	return nil
}

// parseDatabaseURL parses a PostgreSQL URL: a host in the URL or in its
// host parameter (a Unix socket directory, for peer authentication).
func parseDatabaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || !IsPostgresURL(s) || (u.Host == "" && u.Query().Get("host") == "") {
		return nil, errors.New("database: want a URL like postgres://puente@db.example.gov:5432/puente")
	}
	return u, nil
}

// databaseURL returns the PostgreSQL URL the configuration names, or ""
// for an SQLite database.
func (c Config) databaseURL() (string, error) {
	if c.DatabaseFile != "" {
		b, err := os.ReadFile(c.Path(c.DatabaseFile))
		if err != nil {
			return "", fmt.Errorf("database_file: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if !IsPostgresURL(s) {
			return "", fmt.Errorf("database_file %s: want one postgres:// URL", c.Path(c.DatabaseFile))
		}
		if fi, err := os.Stat(c.Path(c.DatabaseFile)); err == nil && fi.Mode().Perm()&0o044 != 0 && holdsPassword(s) {
			return "", fmt.Errorf("database_file %s holds a password and other users can read it (mode %04o): make it readable by the node's user only (chmod 600)",
				c.Path(c.DatabaseFile), fi.Mode().Perm())
		}
		return s, nil
	}
	if IsPostgresURL(c.Database) {
		return c.Database, nil
	}
	return "", nil
}

// holdsPassword reports whether a PostgreSQL URL holds a password; one
// that does not parse is taken to.
func holdsPassword(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return true
	}
	_, ok := u.User.Password()
	return ok || u.Query().Has("password") || u.Query().Has("sslpassword")
}

// DatabaseName describes the node's database for people: the SQLite
// file's path, or the PostgreSQL URL without its password.
func (c Config) DatabaseName() string {
	if c.DatabaseFile != "" {
		return "PostgreSQL, URL in " + c.Path(c.DatabaseFile)
	}
	if IsPostgresURL(c.Database) {
		return databaseURLName(c.Database)
	}
	return c.Path(c.Database)
}

// databaseURLName names the database of a PostgreSQL URL, without
// anything secret: user, host, port and database only (a password may
// also be a query parameter).
func databaseURLName(s string) string {
	u, err := parseDatabaseURL(s)
	if err != nil {
		return "PostgreSQL"
	}
	user := ""
	if u.User != nil {
		user = u.User.Username() + "@"
	}
	if u.Host == "" { // a Unix socket directory
		return "postgres://" + user + u.Path + "?host=" + u.Query().Get("host")
	}
	return "postgres://" + user + u.Host + u.Path
}

// openStore opens the node's database: SQLite or PostgreSQL.
func openStore(ctx context.Context, cfg Config) (store.Store, error) {
	dsn, err := cfg.databaseURL()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	var st store.Store
	if dsn != "" {
		st, err = postgres.Open(ctx, dsn, postgres.Options{})
	} else {
		st, err = sqlite.Open(ctx, cfg.Path(cfg.Database))
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}

// openStoreWaiting opens the node's database like openStore, but while the
// database server cannot be reached it logs why and tries again, at
// growing intervals up to maxDatabaseWait, until ctx ends: a node started
// with (or before) its database server comes up when the server does.
func openStoreWaiting(ctx context.Context, cfg Config, logger *slog.Logger) (store.Store, error) {
	wait := time.Second
	for {
		st, err := openStore(ctx, cfg)
		if err == nil || !errors.Is(err, postgres.ErrUnreachable) {
			return st, err
		}
		logger.WarnContext(ctx, "database unreachable; trying again (Ctrl-C to stop)",
			slog.String("database", cfg.DatabaseName()), slog.Duration("in", wait), slog.Any("error", err))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, maxDatabaseWait)
	}
}

// maxDatabaseWait is the longest pause between two attempts to reach the
// database server at start.
const maxDatabaseWait = 15 * time.Second
