package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
// member order, duplicate or unknown members, other escapes, invalid
// UTF-8) is refused, so that one entry has exactly one encoding and one
// leaf hash. It reads the fixed layout [Entry.Marshal] writes, without
// reflection: verifying a log parses every entry.
func ParseEntry(b []byte) (Entry, error) {
	p := entryParser{b: b}
	var e Entry
	p.lit(`{"group":`)
	e.Group = p.str()
	p.lit(`,"id":`)
	e.ObjectID = p.str()
	p.lit(`,"kind":`)
	e.Kind = Kind(p.str())
	p.lit(`,"sha256":"`)
	if h := p.take(2 * sha256.Size); h != nil {
		for _, c := range h {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				p.fail("sha256 is not lower-case hex")
			}
		}
		if p.err == nil {
			hex.Decode(e.SHA256[:], h)
		}
	}
	p.lit(`","time":"`)
	t := p.take(len(timeLayout))
	if t != nil {
		var err error
		if e.Time, err = time.Parse(timeLayout, string(t)); err != nil {
			p.fail("time")
		}
	}
	p.lit(`","v":`)
	if p.err == nil && !bytes.HasPrefix(p.b[p.i:], []byte(`1,`)) {
		return Entry{}, fmt.Errorf("ledger: entry format version is not %d: %w", FormatVersion, ErrMalformed)
	}
	p.lit(`1,"version":`)
	e.Version = p.str()
	p.lit(`}`)
	if p.err == nil && p.i != len(b) {
		p.fail("data after the entry")
	}
	if p.err == nil && !e.Kind.valid() {
		p.fail("unknown kind")
	}
	if p.err != nil {
		return Entry{}, p.err
	}
	if e.Time.UTC().Format(timeLayout) != string(t) {
		return Entry{}, fmt.Errorf("ledger: entry time is not canonical: %w", ErrMalformed)
	}
	return e, nil
}

// entryParser reads the canonical entry layout; the first error sticks.
type entryParser struct {
	b   []byte
	i   int
	err error
}

func (p *entryParser) fail(what string) {
	if p.err == nil {
		p.err = fmt.Errorf("ledger: entry is not canonical at byte %d (%s): %w", p.i, what, ErrMalformed)
	}
}

func (p *entryParser) lit(s string) {
	if p.err != nil {
		return
	}
	if !bytes.HasPrefix(p.b[p.i:], []byte(s)) {
		p.fail("want " + s)
		return
	}
	p.i += len(s)
}

func (p *entryParser) take(n int) []byte {
	if p.err != nil {
		return nil
	}
	if len(p.b)-p.i < n {
		p.fail("truncated")
		return nil
	}
	p.i += n
	return p.b[p.i-n : p.i]
}

// str reads a JSON string written as appendString writes it.
func (p *entryParser) str() string {
	if p.err != nil {
		return ""
	}
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		p.fail("want a string")
		return ""
	}
	p.i++
	start := p.i
	var out []byte // nil while the string has no escape
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if out == nil {
				out = raw
			}
			if !utf8.Valid(out) {
				p.fail("invalid UTF-8")
				return ""
			}
			return string(out)
		case c < 0x20:
			p.fail("control character")
			return ""
		case c == '\\':
			if out == nil {
				out = append([]byte{}, p.b[start:p.i]...)
			}
			if p.i+1 >= len(p.b) {
				p.fail("truncated escape")
				return ""
			}
			var r byte
			n := 2
			switch p.b[p.i+1] {
			case '"', '\\':
				r = p.b[p.i+1]
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				// Only \u00xx, lower-case, for a control character
				// without a short form.
				h := p.b[p.i+2:]
				if len(h) < 4 || h[0] != '0' || h[1] != '0' || !lowerHex(h[2]) || !lowerHex(h[3]) {
					p.fail("escape")
					return ""
				}
				v, _ := strconv.ParseUint(string(h[2:4]), 16, 8)
				r, n = byte(v), 6
				if r >= 0x20 || r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t' {
					p.fail("escape")
					return ""
				}
			default:
				p.fail("escape")
				return ""
			}
			out = append(out, r)
			p.i += n
			continue
		default:
			if out != nil {
				out = append(out, c)
			}
		}
		p.i++
	}
	p.fail("unterminated string")
	return ""
}

func lowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

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
