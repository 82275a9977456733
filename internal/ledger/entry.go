package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// FormatVersion is the version of the entry format written by this
// package. Readers refuse versions they do not know.
const FormatVersion = 1

// Kind says what an entry records.
type Kind string

// The kinds of entries.
const (
	// KindObject: an object version was released on the log.
	KindObject Kind = "object"
	// KindWithdrawal: a released object version was withdrawn (deleted);
	// its content is no longer served, its earlier entry stays.
	KindWithdrawal Kind = "withdrawal"
	// KindRequest and KindDecision: coordination requests and the host
	// party's decisions (DESIGN.md §8).
	KindRequest  Kind = "request"
	KindDecision Kind = "decision"
)

func (k Kind) valid() bool {
	switch k {
	case KindObject, KindWithdrawal, KindRequest, KindDecision:
		return true
	}
	return false
}

// timeLayout is the entry time format: RFC 3339, UTC, microseconds, the
// same precision as TAXII date_added.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// An Entry is one record of a log. Its encoding ([Entry.Marshal]) is RFC
// 8785 canonical JSON, so that anyone can rebuild the exact bytes that
// were hashed:
//
//	{"group":"…","id":"indicator--…","kind":"object","sha256":"…","time":"2026-01-02T03:04:05.000006Z","v":1,"version":"…"}
//
// The content of the object does not travel in the log: SHA256 binds the
// entry to the object's canonical bytes, which travel over TAXII.
type Entry struct {
	Kind     Kind
	ObjectID string    // STIX id
	Version  string    // the version as TAXII reports it (modified, created or date_added)
	SHA256   [32]byte  // of the object's RFC 8785 canonical bytes
	Group    string    // the working group (TAXII collection id)
	Time     time.Time // when the entry was made: the version's date_added for KindObject
}

// Marshal returns e's canonical bytes. It fails only on a field that
// cannot be written as given (an invalid kind, or text that is not valid
// UTF-8).
func (e Entry) Marshal() ([]byte, error) {
	if !e.Kind.valid() {
		return nil, fmt.Errorf("ledger: entry kind %q: %w", e.Kind, ErrMalformed)
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"group":`...)
	b = appendString(b, e.Group)
	b = append(b, `,"id":`...)
	b = appendString(b, e.ObjectID)
	b = append(b, `,"kind":`...)
	b = appendString(b, string(e.Kind))
	b = append(b, `,"sha256":"`...)
	b = hex.AppendEncode(b, e.SHA256[:])
	b = append(b, `","time":"`...)
	b = e.Time.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","v":`...)
	b = strconv.AppendInt(b, FormatVersion, 10)
	b = append(b, `,"version":`...)
	b = appendString(b, e.Version)
	b = append(b, '}')
	// The writer above is canonical by construction for valid UTF-8
	// text; check the one thing it does not.
	if !utf8.ValidString(e.Group) || !utf8.ValidString(e.ObjectID) || !utf8.ValidString(e.Version) {
		return nil, fmt.Errorf("ledger: entry text is not valid UTF-8: %w", ErrMalformed)
	}
	return b, nil
}

// ParseEntry parses b, which must be exactly the canonical encoding of an
// entry of a known format version: anything else (other spacing or
// member order, duplicate or unknown members, invalid UTF-8) is refused,
// so that one entry has exactly one encoding and one leaf hash.
func ParseEntry(b []byte) (Entry, error) {
	var w struct {
		Group   string `json:"group"`
		ID      string `json:"id"`
		Kind    string `json:"kind"`
		SHA256  string `json:"sha256"`
		Time    string `json:"time"`
		V       int    `json:"v"`
		Version string `json:"version"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil {
		return Entry{}, fmt.Errorf("ledger: entry: %w: %w", ErrMalformed, err)
	}
	if w.V != FormatVersion {
		return Entry{}, fmt.Errorf("ledger: entry format version %d, want %d: %w", w.V, FormatVersion, ErrMalformed)
	}
	e := Entry{Kind: Kind(w.Kind), ObjectID: w.ID, Version: w.Version, Group: w.Group}
	h, err := hex.DecodeString(w.SHA256)
	if err != nil || len(h) != sha256.Size {
		return Entry{}, fmt.Errorf("ledger: entry sha256 %q: %w", w.SHA256, ErrMalformed)
	}
	copy(e.SHA256[:], h)
	if e.Time, err = time.Parse(timeLayout, w.Time); err != nil {
		return Entry{}, fmt.Errorf("ledger: entry time: %w: %w", ErrMalformed, err)
	}
	again, err := e.Marshal()
	if err != nil {
		return Entry{}, err
	}
	if !bytes.Equal(again, b) {
		return Entry{}, fmt.Errorf("ledger: entry is not in canonical form: %w", ErrMalformed)
	}
	return e, nil
}

// ErrMalformed means bytes that claim to be a ledger record (entry,
// checkpoint, tile, proof, receipt) are not well-formed.
var ErrMalformed = errors.New("malformed")

// appendString appends s as an RFC 8785 JSON string: only '"', '\\' and
// the control characters are escaped, with the short forms where JSON has
// them and lower-case \u00xx otherwise.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
