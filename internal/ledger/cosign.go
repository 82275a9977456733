package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// algCosignatureV1 is the signed-note signature type of Ed25519
// [tlog-cosignature] v1.
//
// [tlog-cosignature]: https://c2sp.org/tlog-cosignature
const algCosignatureV1 = 0x04

// A Cosigner makes receipts: [tlog-cosignature] v1 signatures over a
// partner's checkpoint, meaning "as of this time, I hold and verified
// everything up to this size". It is a [note.Signer].
type Cosigner struct {
	name string
	key  ed25519.PrivateKey
	hash uint32
	now  func() time.Time
}

// NewCosigner returns a cosigner named name with key.
func NewCosigner(name string, key ed25519.PrivateKey) (*Cosigner, error) {
	if !validKeyName(name) {
		return nil, fmt.Errorf("ledger: invalid key name %q", name)
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Cosigner{name: name, key: key, hash: cosignKeyHash(name, pub), now: time.Now}, nil
}

// Name implements [note.Signer].
func (c *Cosigner) Name() string { return c.name }

// KeyHash implements [note.Signer].
func (c *Cosigner) KeyHash() uint32 { return c.hash }

// Sign implements [note.Signer]: msg is the checkpoint's note body.
func (c *Cosigner) Sign(msg []byte) ([]byte, error) {
	t := uint64(c.now().Unix())
	sig := make([]byte, 8, 8+ed25519.SignatureSize)
	binary.BigEndian.PutUint64(sig, t)
	return append(sig, ed25519.Sign(c.key, cosignedMessage(t, msg))...), nil
}

// VerifierKey returns the cosigner's public key as a signed-note verifier
// key ("name+hash+base64(0x04 || key)"), to give to the log's operator.
func (c *Cosigner) VerifierKey() string {
	return cosignVKey(c.name, c.key.Public().(ed25519.PublicKey))
}

func cosignVKey(name string, pub ed25519.PublicKey) string {
	return fmt.Sprintf("%s+%08x+%s", name, cosignKeyHash(name, pub), base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...)))
}

// GenerateCosigner returns a new cosigner key: the private key as
// "PRIVATE+COSIGN+name+base64(seed)" and the verifier key.
func GenerateCosigner(rand io.Reader, name string) (skey, vkey string, err error) {
	if !validKeyName(name) {
		return "", "", fmt.Errorf("ledger: invalid key name %q", name)
	}
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return "", "", err
	}
	return "PRIVATE+COSIGN+" + name + "+" + base64.StdEncoding.EncodeToString(priv.Seed()), cosignVKey(name, pub), nil
}

// ParseCosigner parses a private key made by [GenerateCosigner].
func ParseCosigner(skey string) (*Cosigner, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(skey), "PRIVATE+COSIGN+")
	name, b64, ok2 := strings.Cut(rest, "+")
	seed, err := base64.StdEncoding.Strict().DecodeString(b64)
	if !ok || !ok2 || err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("ledger: malformed cosigner key")
	}
	return NewCosigner(name, ed25519.NewKeyFromSeed(seed))
}

// A CosignatureVerifier verifies receipts by one cosigner. It is a
// [note.Verifier].
type CosignatureVerifier struct {
	name string
	pub  ed25519.PublicKey
	hash uint32
}

// NewCosignatureVerifier parses a cosigner's verifier key
// ("name+hash+base64(0x04 || key)").
func NewCosignatureVerifier(vkey string) (*CosignatureVerifier, error) {
	bad := errors.New("ledger: malformed cosigner verifier key")
	name, rest, ok := strings.Cut(strings.TrimSpace(vkey), "+")
	h16, b64, ok2 := strings.Cut(rest, "+")
	if !ok || !ok2 || !validKeyName(name) || len(h16) != 8 {
		return nil, bad
	}
	h, err1 := strconv.ParseUint(h16, 16, 32)
	key, err2 := base64.StdEncoding.Strict().DecodeString(b64)
	if err1 != nil || err2 != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != algCosignatureV1 {
		return nil, bad
	}
	pub := ed25519.PublicKey(key[1:])
	if uint32(h) != cosignKeyHash(name, pub) {
		return nil, bad
	}
	return &CosignatureVerifier{name: name, pub: pub, hash: uint32(h)}, nil
}

// Name implements [note.Verifier].
func (v *CosignatureVerifier) Name() string { return v.name }

// KeyHash implements [note.Verifier].
func (v *CosignatureVerifier) KeyHash() uint32 { return v.hash }

// Verify implements [note.Verifier].
func (v *CosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > 1<<63-1 {
		return false
	}
	if !ed25519.Verify(v.pub, cosignedMessage(t, msg), sig[8:]) {
		return false
	}
	return true
}

// SignatureTime returns the timestamp inside a cosignature made by this
// cosigner, or false when sig is not one of its signatures.
func (v *CosignatureVerifier) SignatureTime(body []byte, sig note.Signature) (time.Time, bool) {
	if sig.Name != v.name || sig.Hash != v.hash {
		return time.Time{}, false
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(raw) != 4+8+ed25519.SignatureSize || !v.Verify(body, raw[4:]) {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(raw[4:])), 0).UTC(), true
}

func cosignedMessage(t uint64, body []byte) []byte {
	m := make([]byte, 0, 40+len(body))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, t, 10)
	m = append(m, '\n')
	return append(m, body...)
}

func cosignKeyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', algCosignatureV1})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validKeyName is the signed-note rule: non-empty, no spaces or plus.
func validKeyName(name string) bool {
	return name != "" && strings.IndexFunc(name, func(r rune) bool { return r == '+' || r <= ' ' || r == '\u007f' }) < 0 && !strings.ContainsRune(name, ' ')
}
