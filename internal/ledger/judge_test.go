package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// TestOutsideJudge exports a log the way a node serves it and has an
// independent client, Tessera's, read it: the checkpoint, inclusion and
// consistency proofs built from our tiles, and the entry bundles.
func TestOutsideJudge(t *testing.T) {
	ctx := context.Background()
	const origin = "puente/MEX-USA"
	signer, verifier := testKeys(t, "puente-MEX")
	l := newMemLog()
	for i := range 1000 {
		l.append(t, testEntry(t, i))
	}
	oldCP, _ := l.signedCheckpoint(t, origin, signer)
	for i := 1000; i < 2345; i++ {
		l.append(t, testEntry(t, i))
	}
	cp, msg := l.signedCheckpoint(t, origin, signer)
	dir := t.TempDir()
	if err := Export(ctx, l, msg, cp.Size, dir, nil); err != nil {
		t.Fatal(err)
	}
	f := client.FileFetcher{Root: dir}

	got, _, _, err := client.FetchCheckpoint(ctx, f.ReadCheckpoint, verifier, origin)
	if err != nil {
		t.Fatalf("Tessera client refuses our checkpoint: %v", err)
	}
	if got.Size != uint64(cp.Size) || !bytes.Equal(got.Hash, cp.Root[:]) {
		t.Fatalf("Tessera reads size %d root %x, we wrote %d %x", got.Size, got.Hash, cp.Size, cp.Root[:])
	}
	pb, err := client.NewProofBuilder(ctx, got.Size, f.ReadTile)
	if err != nil {
		t.Fatal(err)
	}
	for _, idx := range []uint64{0, 255, 256, 999, 1000, 2047, 2048, 2344} {
		p, err := pb.InclusionProof(ctx, idx)
		if err != nil {
			t.Fatalf("Tessera builds no inclusion proof for %d from our tiles: %v", idx, err)
		}
		leaf := LeafHash(l.entries[idx])
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, idx, got.Size, leaf[:], p, got.Hash); err != nil {
			t.Fatalf("inclusion of %d: %v", idx, err)
		}
		ours, err := InclusionProof(ctx, l, int64(idx), cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		if !equalProofs(p, ours) {
			t.Errorf("inclusion proof of %d: ours differs from Tessera's", idx)
		}
	}
	cons, err := pb.ConsistencyProof(ctx, uint64(oldCP.Size), got.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(oldCP.Size), got.Size, cons, oldCP.Root[:], got.Hash); err != nil {
		t.Fatalf("consistency: %v", err)
	}
	for i := uint64(0); i*TileWidth < got.Size; i++ {
		b, err := client.GetEntryBundle(ctx, f.ReadEntryBundle, i, got.Size)
		if err != nil {
			t.Fatalf("Tessera cannot read entry bundle %d: %v", i, err)
		}
		for j, e := range b.Entries {
			if !bytes.Equal(e, l.entries[i*TileWidth+uint64(j)]) {
				t.Fatalf("entry %d differs", i*TileWidth+uint64(j))
			}
		}
	}
}

// TestReceiptJudge checks our co-signatures (receipts) against
// transparency-dev/formats' verifier of tlog-cosignature v1, and theirs
// against ours.
func TestReceiptJudge(t *testing.T) {
	const origin = "puente/MEX-USA"
	signer, verifier := testKeys(t, "puente-MEX")
	l := newMemLog()
	l.append(t, testEntry(t, 1), testEntry(t, 2), testEntry(t, 3))
	_, msg := l.signedCheckpoint(t, origin, signer)

	skey, vkey, err := GenerateCosigner(rand.Reader, "puente-USA-receipts")
	if err != nil {
		t.Fatal(err)
	}
	cosigner, err := ParseCosigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := note.Sign(n, cosigner)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatalf("formats cannot read our cosigner key: %v", err)
	}
	if _, err := note.Open(receipt, note.VerifierList(theirs)); err != nil {
		t.Fatalf("formats rejects our receipt: %v", err)
	}
	ours, err := NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReceipt(receipt, origin, verifier, ours); err != nil {
		t.Fatal(err)
	}

	// The other way: a receipt made by formats' signer.
	fskey, fvkey, err := note.GenerateKey(rand.Reader, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := fnote.NewSignerForCosignatureV1(fskey)
	if err != nil {
		t.Fatal(err)
	}
	cvkey, err := fnote.VKeyToCosignatureV1(fvkey)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := note.Sign(n, fs)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := NewCosignatureVerifier(cvkey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReceipt(r2, origin, verifier, v2); err != nil {
		t.Fatalf("we reject formats' receipt: %v", err)
	}
}

func equalProofs(a [][]byte, b []Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i][:]) {
			return false
		}
	}
	return true
}
