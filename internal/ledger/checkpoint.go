package ledger

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// A Checkpoint is a log's size and root hash under its origin, in the
// [tlog-checkpoint] format.
//
// [tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
type Checkpoint struct {
	Origin string
	Size   int64
	Root   Hash
	// Extensions are optional extra lines, each without its newline.
	Extensions []string
}

// Marshal returns the checkpoint's note body: origin, size and base64 root,
// each line ended by a newline, then the extension lines.
func (c Checkpoint) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ParseCheckpoint parses a checkpoint note body. It refuses anything
// [Checkpoint.Marshal] would not write: a size with a sign or leading
// zeros, a root that is not 32 bytes of standard padded base64, an empty
// origin or extension line, spaces in the origin.
func ParseCheckpoint(body []byte) (Checkpoint, error) {
	bad := func(what string) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("ledger: checkpoint: %s: %w", what, ErrMalformed)
	}
	if !utf8.Valid(body) {
		return bad("not UTF-8")
	}
	s := string(body)
	if !strings.HasSuffix(s, "\n") {
		return bad("no final newline")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) < 3 {
		return bad("fewer than three lines")
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" || strings.IndexFunc(c.Origin, func(r rune) bool { return unicode.IsSpace(r) || r == '+' }) >= 0 {
		return bad("origin line")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return bad("size line")
	}
	c.Size = n
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != HashSize {
		return bad("root hash line")
	}
	copy(c.Root[:], root)
	for _, e := range lines[3:] {
		if e == "" {
			return bad("empty extension line")
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// Sign returns c as a signed note, signed by signers (the log's key
// first).
func Sign(c Checkpoint, signers ...note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: string(c.Marshal())}, signers...)
	if err != nil {
		return nil, fmt.Errorf("ledger: sign checkpoint: %w", err)
	}
	return msg, nil
}

// ErrBadSignature means a checkpoint or receipt does not carry a valid
// signature by the key expected.
var ErrBadSignature = errors.New("bad signature")

// OpenCheckpoint verifies a signed checkpoint: it must carry a valid
// signature by log and have the origin given. It returns the checkpoint
// and the note, whose other signatures (receipts) are in Sigs or, when
// their keys are unknown, UnverifiedSigs.
func OpenCheckpoint(msg []byte, origin string, log note.Verifier, others ...note.Verifier) (Checkpoint, *note.Note, error) {
	n, err := note.Open(msg, note.VerifierList(append([]note.Verifier{log}, others...)...))
	if err != nil {
		var unknown *note.UnverifiedNoteError
		if errors.As(err, &unknown) {
			return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint has no signature by %s: %w", log.Name(), ErrBadSignature)
		}
		var invalid *note.InvalidSignatureError
		if errors.As(err, &invalid) {
			return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint: invalid signature by %s: %w", invalid.Name, ErrBadSignature)
		}
		return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint note: %w: %w", ErrMalformed, err)
	}
	signed := false
	for _, s := range n.Sigs {
		if s.Name == log.Name() && s.Hash == log.KeyHash() {
			signed = true
		}
	}
	if !signed {
		return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint has no signature by %s: %w", log.Name(), ErrBadSignature)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if c.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("ledger: checkpoint of log %q, want %q: %w", c.Origin, origin, ErrMalformed)
	}
	return c, n, nil
}
