package ledger

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/stix"
)

// ProofFormat names the format of a [ProofBundle].
const ProofFormat = "puente-inclusion-proof/v1"

// A ProofBundle proves, offline, that one entry is in a log: the log's
// signed checkpoint, the entry's bytes and index, and the RFC 6962 audit
// path. Anyone with the log's public key can check it, and with the
// object's bytes, that the entry is about exactly that object.
type ProofBundle struct {
	Format     string   `json:"format"`
	Checkpoint string   `json:"checkpoint"` // signed note
	Index      int64    `json:"index"`
	Entry      string   `json:"entry"` // the entry's canonical JSON
	Proof      []string `json:"proof"` // base64 hashes, leaf to root
}

// NewProofBundle assembles a bundle.
func NewProofBundle(signedCheckpoint []byte, index int64, entry []byte, proof []Hash) ProofBundle {
	p := ProofBundle{Format: ProofFormat, Checkpoint: string(signedCheckpoint), Index: index, Entry: string(entry), Proof: []string{}}
	for _, h := range proof {
		p.Proof = append(p.Proof, base64.StdEncoding.EncodeToString(h[:]))
	}
	return p
}

// ParseProofBundle parses a bundle's JSON.
func ParseProofBundle(b []byte) (ProofBundle, error) {
	var p ProofBundle
	if err := json.Unmarshal(b, &p); err != nil {
		return ProofBundle{}, fmt.Errorf("ledger: proof bundle: %w: %w", ErrMalformed, err)
	}
	if p.Format != ProofFormat {
		return ProofBundle{}, fmt.Errorf("ledger: proof bundle format %q, want %q: %w", p.Format, ProofFormat, ErrMalformed)
	}
	if len(p.Proof) > 64 {
		return ProofBundle{}, fmt.Errorf("ledger: proof of %d hashes: %w", len(p.Proof), ErrMalformed)
	}
	return p, nil
}

// Verify checks the bundle: the checkpoint is signed by log and has the
// origin given, the entry is well-formed and, by the audit path, in the
// tree of the checkpoint at Index. When object is not nil it must be the
// STIX object the entry names: same id and version, and its canonical
// bytes must hash to the entry's SHA-256.
func (p ProofBundle) Verify(origin string, log note.Verifier, object []byte) (Entry, Checkpoint, error) {
	cp, _, err := OpenCheckpoint([]byte(p.Checkpoint), origin, log)
	if err != nil {
		return Entry{}, Checkpoint{}, err
	}
	e, err := ParseEntry([]byte(p.Entry))
	if err != nil {
		return Entry{}, Checkpoint{}, err
	}
	proof := make([]Hash, len(p.Proof))
	for i, s := range p.Proof {
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || len(b) != HashSize {
			return Entry{}, Checkpoint{}, fmt.Errorf("ledger: proof hash %d: %w", i, ErrMalformed)
		}
		copy(proof[i][:], b)
	}
	if err := VerifyInclusion(proof, p.Index, cp.Size, LeafHash([]byte(p.Entry)), cp.Root); err != nil {
		return Entry{}, Checkpoint{}, err
	}
	if object != nil {
		o, err := stix.Parse(object)
		if err != nil {
			return Entry{}, Checkpoint{}, fmt.Errorf("ledger: the object: %w", err)
		}
		if o.ID != e.ObjectID {
			return Entry{}, Checkpoint{}, fmt.Errorf("ledger: the object is %s, the entry is about %s: %w", o.ID, e.ObjectID, ErrBadProof)
		}
		if o.Version != "" && o.Version != e.Version {
			return Entry{}, Checkpoint{}, fmt.Errorf("ledger: the object is version %s, the entry is about version %s: %w", o.Version, e.Version, ErrBadProof)
		}
		if o.Hash != e.SHA256 {
			return Entry{}, Checkpoint{}, fmt.Errorf("ledger: the object's content does not match the entry's SHA-256: object altered (%w)", ErrBadProof)
		}
	}
	return e, cp, nil
}

// A Receipt is a partner's co-signature of one of our checkpoints: proof
// that the partner held and verified every entry up to Checkpoint.Size.
type Receipt struct {
	Checkpoint Checkpoint
	Time       time.Time // when the partner signed
	Note       []byte    // the checkpoint note with the log's and the partner's signatures
}

// OpenReceipt verifies a receipt: msg must be a checkpoint of origin
// signed by log and co-signed by partner.
func OpenReceipt(msg []byte, origin string, log note.Verifier, partner *CosignatureVerifier) (Receipt, error) {
	cp, n, err := OpenCheckpoint(msg, origin, log, partner)
	if err != nil {
		return Receipt{}, err
	}
	for _, s := range n.Sigs {
		if t, ok := partner.SignatureTime([]byte(n.Text), s); ok {
			return Receipt{Checkpoint: cp, Time: t, Note: msg}, nil
		}
	}
	return Receipt{}, fmt.Errorf("ledger: checkpoint has no co-signature by %s: %w", partner.Name(), ErrBadSignature)
}
