package sqlite_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/sqlite"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "puente")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "puente.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	c := store.Collection{ID: "2e8f6c0a-4f8e-4b8e-9a57-6c1d3f0b9a11", Alias: "fentanyl", Title: "Fentanyl"}
	if err := db.CreateCollection(ctx, c); err != nil {
		log.Fatal(err)
	}
	raw := []byte(`{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`)
	obj := store.NewObject{
		ID: "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", Type: "ipv4-addr", SpecVersion: "2.1",
		Hash: sha256.Sum256(raw), Raw: raw, // no created/modified: the store gives it a version
	}
	for range 2 {
		res, err := db.AddObjects(ctx, c.ID, []store.NewObject{obj})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res[0].Outcome == store.Added, res[0].Outcome == store.Duplicate, res[0].Version == res[0].DateAdded.Format("2006-01-02T15:04:05.000000Z"))
	}
	page, err := db.Objects(ctx, store.Query{CollectionID: c.ID, Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Objects), page.More, string(page.Objects[0].Raw) == string(raw))
	// Output:
	// true false true
	// false true true
	// 1 false true
}
