package postgres

import (
	"context"
	"testing"

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
