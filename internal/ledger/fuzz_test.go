package ledger

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

func entrySeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for i := range 3 {
		seeds = append(seeds, testEntry(t, i))
	}
	e := Entry{Kind: KindWithdrawal, ObjectID: "x\"\\\n\t\u0001é", Version: "v", Group: "g", Time: time.Unix(1, 1000).UTC()}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(seeds, b)
}

func TestParseEntry(t *testing.T) {
	for _, s := range entrySeeds(t) {
		e, err := ParseEntry(s)
		if err != nil {
			t.Fatalf("ParseEntry(%s) = %v", s, err)
		}
		again, _ := e.Marshal()
		if !bytes.Equal(again, s) {
			t.Errorf("round trip: %s became %s", s, again)
		}
	}
	good := string(testEntry(t, 1))
	for name, bad := range map[string]string{
		"space":             strings.Replace(good, `"group":`, `"group": `, 1),
		"member order":      strings.Replace(strings.Replace(good, `"group"`, `"grou0"`, 1), `"id"`, `"group"`, 1),
		"upper-case hex":    strings.Replace(good, `"sha256":"`, `"sha256":"A`, 1)[:len(good)],
		"version 2":         strings.Replace(good, `"v":1`, `"v":2`, 1),
		"unknown kind":      strings.Replace(good, `"kind":"object"`, `"kind":"other"`, 1),
		"escaped slash":     strings.Replace(good, `"group":"`, `"group":"\/`, 1),
		"escaped letter":    strings.Replace(good, `"group":"`, `"group":"\u0041`, 1),
		"time not µs":       strings.Replace(good, `.000001Z`, `.000001+00:00`, 1),
		"trailing newline":  good + "\n",
		"extra member":      strings.Replace(good, `}`, `,"x":1}`, 1),
		"truncated":         good[:len(good)-1],
		"invalid utf-8":     strings.Replace(good, `"group":"`, "\"group\":\"\xff", 1),
		"raw control":       strings.Replace(good, `"group":"`, "\"group\":\"\x01", 1),
		"escape short form": strings.Replace(good, `"group":"`, `"group":"\u000a`, 1),
	} {
		if _, err := ParseEntry([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseEntry(%s) = %v, want ErrMalformed", name, bad, err)
		}
	}
}

// FuzzParseEntry: an entry that parses is canonical (it marshals back to
// exactly the input); one that does not gives the zero Entry.
func FuzzParseEntry(f *testing.F) {
	for _, s := range entrySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			if e != (Entry{}) {
				t.Fatalf("error %v with a non-zero entry %+v", err, e)
			}
			return
		}
		again, err := e.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("ParseEntry accepted %q, which marshals to %q (%v)", b, again, err)
		}
	})
}

// FuzzParseCheckpoint: a checkpoint that parses marshals back to exactly
// the input.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("puente/MEX-USA\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"))
	f.Add([]byte("example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next one\n"))
	f.Add([]byte("o\n-1\nAAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCheckpoint(b)
		if err != nil {
			if c.Origin != "" || c.Size != 0 || c.Extensions != nil {
				t.Fatalf("error %v with a non-zero checkpoint", err)
			}
			return
		}
		if got := c.Marshal(); !bytes.Equal(got, b) {
			t.Fatalf("ParseCheckpoint accepted %q, which marshals to %q", b, got)
		}
	})
}

// FuzzOpenCheckpoint feeds signed notes (a real one and mutations) to the
// verifier: no panic, and anything accepted carries the log's signature
// over exactly the body it returns.
func FuzzOpenCheckpoint(f *testing.F) {
	signer, verifier := testKeys(f, "puente-MEX")
	l := newMemLog()
	l.append(f, testEntry(f, 1))
	_, msg := l.signedCheckpoint(f, "puente/MEX-USA", signer)
	f.Add(msg)
	f.Add([]byte("puente/MEX-USA\n1\nAAAA\n\n— puente-MEX AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, n, err := OpenCheckpoint(b, "puente/MEX-USA", verifier)
		if err != nil {
			return
		}
		if n == nil || !bytes.Equal(c.Marshal(), []byte(n.Text)) || c.Origin != "puente/MEX-USA" {
			t.Fatalf("accepted %q as %+v", b, c)
		}
	})
}

// FuzzReceipt feeds co-signed notes to the receipt verifier.
func FuzzReceipt(f *testing.F) {
	signer, verifier := testKeys(f, "puente-MEX")
	l := newMemLog()
	l.append(f, testEntry(f, 1))
	_, msg := l.signedCheckpoint(f, "puente/MEX-USA", signer)
	skey, vkey, _ := GenerateCosigner(rand.Reader, "puente-USA-receipts")
	_ = skey
	cv, err := NewCosignatureVerifier(vkey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := OpenReceipt(b, "puente/MEX-USA", verifier, cv)
		if err == nil && r.Checkpoint.Origin != "puente/MEX-USA" {
			t.Fatalf("accepted %q", b)
		}
	})
}

// FuzzProofBundle: parsing and verifying arbitrary bundles never panics,
// and a bundle that verifies proves an entry of the signed tree.
func FuzzProofBundle(f *testing.F) {
	signer, verifier := testKeys(f, "puente-MEX")
	l := newMemLog()
	for i := range 10 {
		l.append(f, testEntry(f, i))
	}
	_, msg := l.signedCheckpoint(f, "puente/MEX-USA", signer)
	p, err := InclusionProof(f.Context(), l, 3, l.size())
	if err != nil {
		f.Fatal(err)
	}
	good, _ := jsonMarshal(NewProofBundle(msg, 3, l.entries[3], p))
	f.Add(good)
	f.Add([]byte(`{"format":"puente-inclusion-proof/v1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pb, err := ParseProofBundle(b)
		if err != nil {
			return
		}
		e, cp, err := pb.Verify("puente/MEX-USA", verifier, nil)
		if err != nil {
			return
		}
		if cp.Size != l.size() || e.ObjectID == "" {
			t.Fatalf("verified a proof of a tree we did not sign: %+v", cp)
		}
	})
}

// FuzzParseTilePath: a path that parses is the one TilePath writes.
func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/0/x001/x234/067", "tile/entries/x001/000.p/1", "tile/1/005.p/17", "tile/0/x/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, w, err := ParseTilePath(s)
		if err != nil {
			return
		}
		if TilePath(id.Level, id.Index, w) != s || id.Index < 0 {
			t.Fatalf("ParseTilePath(%q) = %v %d", s, id, w)
		}
	})
}

// FuzzParseBundle: a bundle that parses re-encodes to itself.
func FuzzParseBundle(f *testing.F) {
	b, _ := MarshalBundle([][]byte{[]byte("a"), {}, []byte("bcd")})
	f.Add(b, 3)
	f.Add([]byte{0, 5, 1}, 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 256 {
			return
		}
		es, err := ParseBundle(b, n)
		if err != nil {
			return
		}
		again, err := MarshalBundle(es)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("bundle %x re-encodes to %x", b, again)
		}
	})
}
