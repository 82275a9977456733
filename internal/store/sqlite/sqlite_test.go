package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/storetest"
)

// openTest opens a new database in a temporary directory, closed when t ends.
func openTest(t *testing.T) *DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "puente.db"))
}

func openPath(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) })
}
