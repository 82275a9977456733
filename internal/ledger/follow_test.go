package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// mapFetcher serves a memLog as of a size, with optional tampering.
type mapFetcher struct {
	l      *memLog
	size   int64
	tamper func(path string, b []byte) []byte
}

func (m mapFetcher) Fetch(ctx context.Context, path string) ([]byte, error) {
	b, err := ReadPath(ctx, m.l, m.size, path)
	if err != nil {
		return nil, err
	}
	b = append([]byte(nil), b...)
	if m.tamper != nil {
		b = m.tamper(path, b)
	}
	return b, nil
}

// TestReadNew follows a growing log in steps, then checks that a fork,
// a shrink, a tampered tile and a tampered entry are refused.
func TestReadNew(t *testing.T) {
	ctx := context.Background()
	l := newMemLog()
	var last *Checkpoint
	var got [][]byte
	for _, n := range []int{1, 255, 1, 300, 1000, 0, 70} {
		for range n {
			l.append(t, testEntry(t, len(l.entries)))
		}
		root, err := TreeHash(ctx, l, l.size())
		if err != nil {
			t.Fatal(err)
		}
		cp := Checkpoint{Origin: "o", Size: l.size(), Root: root}
		es, err := ReadNew(ctx, mapFetcher{l: l, size: cp.Size}, last, cp, nil)
		if err != nil {
			t.Fatalf("step to %d: %v", cp.Size, err)
		}
		got = append(got, es...)
		last = &cp
	}
	if len(got) != len(l.entries) {
		t.Fatalf("followed %d entries, the log has %d", len(got), len(l.entries))
	}
	for i := range got {
		if string(got[i]) != string(l.entries[i]) {
			t.Fatalf("entry %d differs", i)
		}
	}

	// A fork: another log with the same first 1000 entries but one
	// changed after, signed at a larger size.
	old := *last
	fork := newMemLog()
	for i := range int(old.Size) + 10 {
		e := testEntry(t, i)
		if i == 500 {
			e = testEntry(t, 1_000_000)
		}
		fork.append(t, e)
	}
	froot, _ := TreeHash(ctx, fork, fork.size())
	fcp := Checkpoint{Origin: "o", Size: fork.size(), Root: froot}
	if _, err := ReadNew(ctx, mapFetcher{l: fork, size: fcp.Size}, &old, fcp, nil); !errors.Is(err, ErrFork) {
		t.Errorf("forked log: %v, want ErrFork", err)
	}
	smaller := Checkpoint{Origin: "o", Size: old.Size - 1}
	if _, err := ReadNew(ctx, mapFetcher{l: l, size: old.Size}, &old, smaller, nil); !errors.Is(err, ErrFork) {
		t.Errorf("smaller checkpoint: %v, want ErrFork", err)
	}
	same := old
	same.Root[0] ^= 1
	if _, err := ReadNew(ctx, mapFetcher{l: l, size: old.Size}, &old, same, nil); !errors.Is(err, ErrFork) {
		t.Errorf("same size, other root: %v, want ErrFork", err)
	}

	// Grow once more, then serve tampered data.
	for range 40 {
		l.append(t, testEntry(t, len(l.entries)))
	}
	root, _ := TreeHash(ctx, l, l.size())
	cp := Checkpoint{Origin: "o", Size: l.size(), Root: root}
	flip := func(prefix string) func(string, []byte) []byte {
		return func(path string, b []byte) []byte {
			if strings.HasPrefix(path, prefix) && len(b) > 0 {
				b[len(b)-3] ^= 1
			}
			return b
		}
	}
	for _, prefix := range []string{"tile/0/", "tile/1/", "tile/entries/"} {
		_, err := ReadNew(ctx, mapFetcher{l: l, size: cp.Size, tamper: flip(prefix)}, &old, cp, nil)
		if !errors.Is(err, ErrBadProof) && !errors.Is(err, ErrFork) {
			t.Errorf("tampered %s: %v, want ErrBadProof", prefix, err)
		}
	}
	if es, err := ReadNew(ctx, mapFetcher{l: l, size: cp.Size}, &old, cp, nil); err != nil || len(es) != 40 {
		t.Errorf("untampered: %d entries, %v", len(es), err)
	}
}

// failingFetcher fails to read hash tiles, as a cut network does.
type failingFetcher struct{ mapFetcher }

func (f failingFetcher) Fetch(ctx context.Context, path string) ([]byte, error) {
	if strings.HasPrefix(path, "tile/0/") {
		return nil, errors.New("connection reset")
	}
	return f.mapFetcher.Fetch(ctx, path)
}

// TestReadNewFetchFailure: a tile that cannot be read is an error to
// retry, not evidence against the log.
func TestReadNewFetchFailure(t *testing.T) {
	ctx := context.Background()
	l := newMemLog()
	for i := range 300 {
		l.append(t, testEntry(t, i))
	}
	old := Checkpoint{Origin: "o", Size: 100}
	old.Root, _ = TreeHash(ctx, l, 100)
	root, _ := TreeHash(ctx, l, l.size())
	cp := Checkpoint{Origin: "o", Size: l.size(), Root: root}
	_, err := ReadNew(ctx, failingFetcher{mapFetcher{l: l, size: cp.Size}}, &old, cp, nil)
	if err == nil || errors.Is(err, ErrBadProof) || errors.Is(err, ErrFork) || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("ReadNew with unreadable tiles = %v, want the read error, not a proof failure", err)
	}
}
