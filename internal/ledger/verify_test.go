package ledger

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// exported builds a log of n entries, exports it and returns the
// directory, the checkpoint and the log.
func exported(t *testing.T, n int) (string, Checkpoint, *memLog) {
	t.Helper()
	signer, _ := testKeys(t, "puente-MEX")
	l := newMemLog()
	for i := range n {
		l.append(t, testEntry(t, i))
	}
	cp, msg := l.signedCheckpoint(t, "puente/MEX-USA", signer)
	dir := t.TempDir()
	if err := Export(context.Background(), l, msg, cp.Size, dir, nil); err != nil {
		t.Fatal(err)
	}
	return dir, cp, l
}

// TestVerifyLogTamper alters an exported log in each way an attacker or
// a fault could, and checks VerifyLog names what is wrong.
func TestVerifyLogTamper(t *testing.T) {
	ctx := context.Background()
	const n = 700 // two full bundles and a partial one
	rewrite := func(path string, f func([]byte) []byte) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, filepath.FromSlash(path))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f(b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	swapEntries := func(b []byte) []byte {
		es, err := ParseBundle(b, TileWidth)
		if err != nil {
			panic(err)
		}
		es[3], es[4] = es[4], es[3]
		out, _ := MarshalBundle(es)
		return out
	}
	alterEntry := func(b []byte) []byte {
		es, _ := ParseBundle(b, TileWidth)
		es[7] = []byte(strings.Replace(string(es[7]), `"kind":"object"`, `"kind":"withdrawal"`, 1))
		out, _ := MarshalBundle(es)
		return out
	}
	insertEntry := func(b []byte) []byte {
		es, _ := ParseBundle(b, TileWidth)
		es = append(es[:10], append([][]byte{es[9]}, es[10:255]...)...)
		out, _ := MarshalBundle(es)
		return out
	}
	flip := func(b []byte) []byte { b[len(b)/2] ^= 1; return b }
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   string
		is     error
	}{
		{"entry altered", rewrite("tile/entries/001", alterEntry), "tile/0/001 does not match", ErrBadProof},
		{"entry bytes flipped", rewrite("tile/entries/000", flip), "entry", nil},
		{"entries reordered", rewrite("tile/entries/000", swapEntries), "tile/0/000 does not match", ErrBadProof},
		{"entry inserted", rewrite("tile/entries/000", insertEntry), "tile/0/000 does not match", ErrBadProof},
		{"entry deleted", rewrite("tile/entries/002.p/188", func(b []byte) []byte {
			es, _ := ParseBundle(b, 188)
			out, _ := MarshalBundle(es[1:])
			return out
		}), "holds 187 entries, want 188", ErrMalformed},
		{"bundle removed", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "tile/entries/001")) }, "tile/entries/001", ErrMissing},
		{"hash tile altered", rewrite("tile/0/002.p/188", flip), "tile/0/002.p/188 does not match", ErrBadProof},
		{"level-1 tile altered", rewrite("tile/1/000.p/2", flip), "tile/1/000.p/2 does not match", ErrBadProof},
		{"hash tile removed", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "tile/0/000")) }, "tile/0/000", ErrMissing},
		{"whole log rewritten consistently", func(t *testing.T, dir string) {
			// A log rebuilt with one entry changed: every tile matches its
			// entries, only the signed root does not.
			l := newMemLog()
			for i := range n {
				e := testEntry(t, i)
				if i == 42 {
					e = testEntry(t, 100_000)
				}
				l.append(t, e)
			}
			if err := Export(ctx, l, []byte("x"), int64(n), dir, nil); err != nil {
				t.Fatal(err)
			}
		}, "do not hash to the checkpoint's root", ErrBadProof},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, cp, _ := exported(t, n)
			if err := VerifyLog(ctx, LogCheck{Fetch: DirFetcher(dir), Checkpoint: cp}); err != nil {
				t.Fatalf("untouched log: %v", err)
			}
			c.tamper(t, dir)
			err := VerifyLog(ctx, LogCheck{Fetch: DirFetcher(dir), Checkpoint: cp})
			if err == nil || !strings.Contains(err.Error(), c.want) || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("VerifyLog = %v, want an error containing %q (%v)", err, c.want, c.is)
			}
		})
	}
}

// TestVerifyLogFork checks forks against an older checkpoint: same size
// and another root, a smaller size after a larger one, and an older
// checkpoint the new log does not extend.
func TestVerifyLogFork(t *testing.T) {
	ctx := context.Background()
	dir, cp, l := exported(t, 600)
	older, err := TreeHash(ctx, l, 300)
	if err != nil {
		t.Fatal(err)
	}
	good := Checkpoint{Origin: cp.Origin, Size: 300, Root: older}
	if err := VerifyLog(ctx, LogCheck{Fetch: DirFetcher(dir), Checkpoint: cp, Older: &good}); err != nil {
		t.Fatalf("consistent older checkpoint: %v", err)
	}
	other := cp
	other.Root[5] ^= 1
	otherOld := good
	otherOld.Root[0] ^= 1
	bigger := cp
	bigger.Size = 601
	for name, older := range map[string]Checkpoint{"same size, other root": other, "older root differs": otherOld, "smaller after larger": bigger} {
		err := VerifyLog(ctx, LogCheck{Fetch: DirFetcher(dir), Checkpoint: cp, Older: &older})
		if !errors.Is(err, ErrFork) {
			t.Errorf("%s: %v, want ErrFork", name, err)
		}
	}
}

// TestProofBundle proves one entry and checks the bundle, then alters
// each part of it.
func TestProofBundle(t *testing.T) {
	ctx := context.Background()
	const origin = "puente/MEX-USA"
	signer, verifier := testKeys(t, "puente-MEX")
	_, otherVerifier := testKeys(t, "puente-MEX")
	l := newMemLog()
	object := []byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z"}`)
	for i := range 300 {
		l.append(t, testEntry(t, i))
	}
	o := mustParseObject(t, object)
	e := Entry{Kind: KindObject, ObjectID: o.ID, Version: o.Version, SHA256: o.Hash, Group: "g", Time: o2time()}
	eb, _ := e.Marshal()
	l.append(t, eb)
	for i := 301; i < 400; i++ {
		l.append(t, testEntry(t, i))
	}
	_, msg := l.signedCheckpoint(t, origin, signer)
	p, err := InclusionProof(ctx, l, 300, l.size())
	if err != nil {
		t.Fatal(err)
	}
	b := NewProofBundle(msg, 300, eb, p)
	if _, _, err := b.Verify(origin, verifier, object); err != nil {
		t.Fatalf("good bundle: %v", err)
	}
	altered := strings.Replace(string(object), "198.51.100.1", "198.51.100.2", 1)
	for name, c := range map[string]struct {
		b      ProofBundle
		object []byte
		v      note.Verifier
		is     error
	}{
		"object altered":      {b, []byte(altered), verifier, ErrBadProof},
		"other signer":        {b, object, otherVerifier, ErrBadSignature},
		"index moved":         {func() ProofBundle { c := b; c.Index = 301; return c }(), nil, verifier, ErrBadProof},
		"proof hash replaced": {func() ProofBundle { c := b; c.Proof = append([]string{b.Proof[1]}, b.Proof[1:]...); return c }(), nil, verifier, ErrBadProof},
		"entry altered": {func() ProofBundle {
			c := b
			c.Entry = strings.Replace(c.Entry, `"group":"g"`, `"group":"h"`, 1)
			return c
		}(), nil, verifier, ErrBadProof},
	} {
		_, _, err := c.b.Verify(origin, c.v, c.object)
		if !errors.Is(err, c.is) {
			t.Errorf("%s: %v, want %v", name, err, c.is)
		}
	}
}

// TestVerifyLogStopsEarly checks that a failure in the first bundle of a
// long log ends the verification at once, with the workers that read
// ahead stopped.
func TestVerifyLogStopsEarly(t *testing.T) {
	dir, cp, _ := exported(t, 40*TileWidth)
	if err := os.WriteFile(filepath.Join(dir, "tile/entries/000"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- VerifyLog(context.Background(), LogCheck{Fetch: DirFetcher(dir), Checkpoint: cp}) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("VerifyLog = %v, want ErrMalformed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("VerifyLog did not return after a failure in the first bundle")
	}
}
