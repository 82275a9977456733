package ledger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/stix"
)

// memLog is a log held in memory, built with the same AppendTiles the
// stores use. It implements Source.
type memLog struct {
	entries [][]byte
	tiles   memTiles
}

func newMemLog() *memLog { return &memLog{tiles: memTiles{}} }

func (l *memLog) size() int64 { return int64(len(l.entries)) }

func (l *memLog) append(t testing.TB, entries ...[]byte) {
	t.Helper()
	leaves := make([]Hash, len(entries))
	for i, e := range entries {
		leaves[i] = LeafHash(e)
	}
	changed, err := AppendTiles(context.Background(), l.tiles, l.size(), leaves)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(l.tiles, changed)
	l.entries = append(l.entries, entries...)
}

func (l *memLog) ReadTile(ctx context.Context, id TileID) ([]byte, error) {
	return l.tiles.ReadTile(ctx, id)
}

func (l *memLog) Entries(_ context.Context, start int64, n int) ([][]byte, error) {
	if start < 0 || start+int64(n) > l.size() {
		return nil, fmt.Errorf("entries %d+%d: %w", start, n, ErrMissing)
	}
	return l.entries[start : start+int64(n)], nil
}

// testEntry returns the canonical bytes of a distinct object entry.
func testEntry(t testing.TB, i int) []byte {
	t.Helper()
	e := Entry{
		Kind:     KindObject,
		ObjectID: fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", i),
		Version:  "2026-01-02T03:04:05.000Z",
		SHA256:   sha256.Sum256(fmt.Appendf(nil, "object %d", i)),
		Group:    "8d9c5f0e-0b1a-4c55-9a43-5d4d3f1e2a10",
		Time:     time.Date(2026, 1, 2, 3, 4, 5, i*1000, time.UTC),
	}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testKeys returns a log signer and its verifier.
func testKeys(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// signedCheckpoint returns l's checkpoint under origin, signed.
func (l *memLog) signedCheckpoint(t testing.TB, origin string, s note.Signer) (Checkpoint, []byte) {
	t.Helper()
	root, err := TreeHash(context.Background(), l, l.size())
	if err != nil {
		t.Fatal(err)
	}
	cp := Checkpoint{Origin: origin, Size: l.size(), Root: root}
	msg, err := Sign(cp, s)
	if err != nil {
		t.Fatal(err)
	}
	return cp, msg
}

func mustParseObject(t testing.TB, b []byte) *stix.Object {
	t.Helper()
	o, err := stix.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func o2time() time.Time { return time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
