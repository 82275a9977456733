package stix

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is the deepest nesting of arrays and objects a JSON text may
// have; the top-level object or array is at depth 1. STIX objects need
// far less, and the bound keeps the recursive parser's stack small.
const maxDepth = 64

// kind is the type of a JSON value.
type kind uint8

const (
	kindNull kind = iota
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindArray
	kindObject
)

// node is one JSON value of a parsed tree.
type node struct {
	// txt is the decoded content of a string, or the literal text of a
	// number.
	txt text
	// num is the value of a number whose literal is not canonical.
	num float64
	// first and n select the node's members in tree.mems: for an object
	// sorted by name (RFC 8785 order), for an array in order.
	first, n int32
	kind     kind
	// canonical is set for a number whose literal is already its RFC 8785
	// form (a short integer), so it needs no conversion.
	canonical bool
}

// member is an object member, or an array element with an empty name.
type member struct {
	// prefix is the first 8 bytes of name, big-endian, zero-padded: names
	// whose prefixes differ compare bytewise like them.
	prefix uint64
	name   text  // decoded
	val    int32 // index in tree.nodes
	// wide is set when name has characters from U+E000 up, where UTF-8
	// and UTF-16 order differ; names without are compared bytewise.
	wide bool
}

// text locates bytes in tree.data, or in tree.arena when off has the
// inArena bit. Trees hold no pointers, so that filling them needs no write
// barriers and the garbage collector need not scan them.
type text struct{ off, n uint32 }

const inArena = 1 << 31

// maxInput is the largest input a tree can index.
const maxInput = inArena - 1

// bytes returns the bytes x locates.
func (t *tree) bytes(x text) []byte {
	if x.off&inArena != 0 {
		o := x.off &^ inArena
		return t.arena[o : o+x.n : o+x.n]
	}
	return t.data[x.off : x.off+x.n : x.off+x.n]
}

// tree is a parsed JSON text, and the parser that builds it. The root
// value is nodes[0]. Trees are pooled: nothing in one may be retained after
// putTree.
type tree struct {
	data  []byte
	pos   int
	nodes []node
	mems  []member
	stack []member // members of the containers being parsed
	arena []byte   // decoded strings that had escapes
	out   []byte   // scratch for canonical bytes
	// wide is set by parseString when the string has characters from
	// U+E000 up.
	wide bool
}

var treePool = sync.Pool{New: func() any { return new(tree) }}

// getTree returns an empty tree from the pool.
func getTree() *tree { return treePool.Get().(*tree) }

// putTree empties t, so that it references no caller memory, and returns
// it to the pool unless it grew unusually large.
func putTree(t *tree) {
	const maxKeep = 1 << 20 // bytes of buffers worth keeping for reuse
	t.data = nil
	t.nodes, t.mems, t.stack = t.nodes[:0], t.mems[:0], t.stack[:0]
	t.arena, t.out = t.arena[:0], t.out[:0]
	size := cap(t.nodes)*int(unsafe.Sizeof(node{})) + (cap(t.mems)+cap(t.stack))*int(unsafe.Sizeof(member{})) +
		cap(t.arena) + cap(t.out)
	if size > maxKeep {
		return
	}
	treePool.Put(t)
}

// syntaxError reports a violation of RFC 8259, or of the I-JSON (RFC 7493)
// limits RFC 8785 imposes, at byte offset off of the input.
func syntaxError(off int, format string, args ...any) error {
	return fmt.Errorf("stix: json: offset %d: %s: %w", off, fmt.Sprintf(format, args...), ErrInvalid)
}

// parse parses data, one JSON text, into t, which must be empty.
//
// It accepts exactly RFC 8259 JSON texts that are also I-JSON (RFC 7493):
// valid UTF-8 without byte order mark, no lone surrogate escapes, no
// Unicode noncharacters, no duplicate member names at any depth, and only
// numbers that round to a finite IEEE 754 double. Nesting is limited to
// maxDepth.
func (t *tree) parse(data []byte) error {
	if len(data) > maxInput {
		return syntaxError(0, "input larger than %d bytes", maxInput)
	}
	t.data = data
	t.pos = 0
	t.skipSpace()
	if _, err := t.value(0); err != nil {
		return err
	}
	t.skipSpace()
	if t.pos != len(t.data) {
		return syntaxError(t.pos, "data after the top-level value")
	}
	return nil
}

func (t *tree) skipSpace() {
	for t.pos < len(t.data) {
		switch t.data[t.pos] {
		case ' ', '\t', '\n', '\r':
			t.pos++
		default:
			return
		}
	}
}

// value parses the value at t.pos, inside depth containers, appends it
// to t.nodes and returns its index.
func (t *tree) value(depth int) (int32, error) {
	if t.pos >= len(t.data) {
		return 0, syntaxError(t.pos, "unexpected end of input")
	}
	switch c := t.data[t.pos]; c {
	case '{':
		return t.object(depth + 1)
	case '[':
		return t.array(depth + 1)
	case '"':
		s, err := t.parseString()
		if err != nil {
			return 0, err
		}
		t.nodes = append(t.nodes, node{kind: kindString, txt: s})
	case 't':
		if err := t.literal("true"); err != nil {
			return 0, err
		}
		t.nodes = append(t.nodes, node{kind: kindTrue})
	case 'f':
		if err := t.literal("false"); err != nil {
			return 0, err
		}
		t.nodes = append(t.nodes, node{kind: kindFalse})
	case 'n':
		if err := t.literal("null"); err != nil {
			return 0, err
		}
		t.nodes = append(t.nodes, node{kind: kindNull})
	default:
		if c == '-' || isDigit(c) {
			if err := t.number(); err != nil {
				return 0, err
			}
			break
		}
		if c == 0xEF && bytes.HasPrefix(t.data[t.pos:], []byte("\uFEFF")) {
			return 0, syntaxError(t.pos, "byte order mark")
		}
		return 0, syntaxError(t.pos, "unexpected %s, want a value", quoteChar(t.data[t.pos:]))
	}
	return int32(len(t.nodes) - 1), nil
}

func (t *tree) literal(lit string) error {
	if !bytes.HasPrefix(t.data[t.pos:], []byte(lit)) {
		return syntaxError(t.pos, "invalid literal, want %s", lit)
	}
	t.pos += len(lit)
	return nil
}

// object parses an object at depth, validates its member names and
// stores its members sorted by name.
func (t *tree) object(depth int) (int32, error) {
	start := t.pos
	if depth > maxDepth {
		return 0, syntaxError(t.pos, "nesting deeper than %d", maxDepth)
	}
	idx := int32(len(t.nodes))
	t.nodes = append(t.nodes, node{kind: kindObject})
	t.pos++ // '{'
	t.skipSpace()
	base := len(t.stack)
	if t.pos < len(t.data) && t.data[t.pos] == '}' {
		t.pos++
		t.nodes[idx].first = int32(len(t.mems))
		return idx, nil
	}
	for {
		if t.pos >= len(t.data) || t.data[t.pos] != '"' {
			return 0, t.unexpected("a member name")
		}
		name, err := t.parseString()
		if err != nil {
			return 0, err
		}
		wide := t.wide
		t.skipSpace()
		if t.pos >= len(t.data) || t.data[t.pos] != ':' {
			return 0, t.unexpected("':'")
		}
		t.pos++
		t.skipSpace()
		v, err := t.value(depth)
		if err != nil {
			return 0, err
		}
		t.stack = append(t.stack, member{prefix: prefix(t.bytes(name)), name: name, val: v, wide: wide})
		t.skipSpace()
		if t.pos < len(t.data) {
			c := t.data[t.pos]
			t.pos++
			if c == ',' {
				t.skipSpace()
				continue
			}
			if c == '}' {
				break
			}
			t.pos--
		}
		return 0, t.unexpected("',' or '}'")
	}
	ms := t.stack[base:]
	t.sortMembers(ms)
	for i := 1; i < len(ms); i++ {
		if name := t.bytes(ms[i].name); bytes.Equal(t.bytes(ms[i-1].name), name) {
			return 0, syntaxError(start, "object has duplicate member name %s", quote(name))
		}
	}
	t.nodes[idx].first = int32(len(t.mems))
	t.nodes[idx].n = int32(len(ms))
	t.mems = append(t.mems, ms...)
	t.stack = t.stack[:base]
	return idx, nil
}

// sortMembers sorts ms by name in UTF-16 order.
func (t *tree) sortMembers(ms []member) {
	if len(ms) > 24 {
		slices.SortFunc(ms, t.compareMembers)
		return
	}
	// Insertion sort: objects are small, and often sorted already.
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && t.compareMembers(ms[j-1], ms[j]) > 0; j-- {
			ms[j-1], ms[j] = ms[j], ms[j-1]
		}
	}
}

// compareMembers compares the names of a and b in UTF-16 order.
func (t *tree) compareMembers(a, b member) int {
	if !a.wide && !b.wide {
		if a.prefix != b.prefix {
			return cmp.Compare(a.prefix, b.prefix)
		}
		return bytes.Compare(t.bytes(a.name), t.bytes(b.name))
	}
	return compareUTF16(t.bytes(a.name), t.bytes(b.name))
}

// prefix returns the first 8 bytes of name as a big-endian number,
// padded with zeros.
func prefix(name []byte) uint64 {
	if len(name) >= 8 {
		return binary.BigEndian.Uint64(name)
	}
	var p uint64
	for i, c := range name {
		p |= uint64(c) << (56 - 8*i)
	}
	return p
}

// array parses an array at depth.
func (t *tree) array(depth int) (int32, error) {
	if depth > maxDepth {
		return 0, syntaxError(t.pos, "nesting deeper than %d", maxDepth)
	}
	idx := int32(len(t.nodes))
	t.nodes = append(t.nodes, node{kind: kindArray})
	t.pos++ // '['
	t.skipSpace()
	base := len(t.stack)
	if t.pos < len(t.data) && t.data[t.pos] == ']' {
		t.pos++
		t.nodes[idx].first = int32(len(t.mems))
		return idx, nil
	}
	for {
		v, err := t.value(depth)
		if err != nil {
			return 0, err
		}
		t.stack = append(t.stack, member{val: v})
		t.skipSpace()
		if t.pos < len(t.data) {
			c := t.data[t.pos]
			t.pos++
			if c == ',' {
				t.skipSpace()
				continue
			}
			if c == ']' {
				break
			}
			t.pos--
		}
		return 0, t.unexpected("',' or ']'")
	}
	ms := t.stack[base:]
	t.nodes[idx].first = int32(len(t.mems))
	t.nodes[idx].n = int32(len(ms))
	t.mems = append(t.mems, ms...)
	t.stack = t.stack[:base]
	return idx, nil
}

// unexpected reports the byte at t.pos, or the end of input, where want
// was expected.
func (t *tree) unexpected(want string) error {
	if t.pos >= len(t.data) {
		return syntaxError(t.pos, "unexpected end of input, want %s", want)
	}
	return syntaxError(t.pos, "unexpected %s, want %s", quoteChar(t.data[t.pos:]), want)
}

// number parses a number and appends it to t.nodes.
func (t *tree) number() error {
	d := t.data
	start := t.pos
	i := t.pos
	if d[i] == '-' {
		i++
	}
	if i >= len(d) || !isDigit(d[i]) {
		return syntaxError(i, "number has no digits")
	}
	intStart := i
	if d[i] == '0' {
		i++
		if i < len(d) && isDigit(d[i]) {
			return syntaxError(start, "number has a leading zero")
		}
	} else {
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	intDigits := i - intStart
	isInt := true
	if i < len(d) && d[i] == '.' {
		isInt = false
		i++
		j := i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		if i == j {
			return syntaxError(i, "number has no digits after the decimal point")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		isInt = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		if i == j {
			return syntaxError(i, "number has no digits in the exponent")
		}
	}
	lit := d[start:i]
	txt := text{uint32(start), uint32(i - start)}
	t.pos = i
	// An integer of at most 15 digits is exact in a double and below 1e21,
	// so ECMAScript writes it back unchanged: only -0 differs.
	if isInt && intDigits <= 15 && !(len(lit) == 2 && lit[0] == '-' && lit[1] == '0') {
		t.nodes = append(t.nodes, node{kind: kindNumber, txt: txt, canonical: true})
		return nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		// The syntax was checked above, so this is overflow to ±Inf.
		return syntaxError(start, "number %s is out of the range of IEEE 754 doubles", quote(lit))
	}
	t.nodes = append(t.nodes, node{kind: kindNumber, txt: txt, num: f})
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// plain marks the bytes a string may contain unescaped and that need no
// further check: ASCII other than controls, '"' and '\\'.
var plain = func() (a [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		a[c] = c != '"' && c != '\\'
	}
	return a
}()

const (
	lsb = 0x0101010101010101 // the low bit of each byte of a word
	msb = 0x8080808080808080 // the high bit of each byte
)

// escapable reports whether one of the 8 bytes of v is a control
// character, '"' or '\\': the bytes a JSON string escapes. It is exact:
// the usual SWAR zero-byte test only errs in bytes above a true hit.
func escapable(v uint64) bool {
	return ((v-0x20*lsb)|((v^0x22*lsb)-lsb)|((v^0x5c*lsb)-lsb))&^v&msb != 0
}

// loadWord returns the 8 bytes at b[i:] as a little-endian word.
func loadWord(b []byte, i int) uint64 {
	return binary.LittleEndian.Uint64(b[i : i+8])
}

// skipPlain returns the offset of the first byte from d[i:] that is not
// plain, or len(d).
func skipPlain(d []byte, i int) int {
	for i+8 <= len(d) {
		v := loadWord(d, i)
		if v&msb != 0 || escapable(v) {
			break
		}
		i += 8
	}
	for i < len(d) && plain[d[i]] {
		i++
	}
	return i
}

// parseString parses the string at t.pos and returns its decoded
// content, which is in the input when the string has no escapes. It sets
// t.wide.
func (t *tree) parseString() (text, error) {
	d := t.data
	start := t.pos + 1
	t.wide = false
	i := start
	for {
		i = skipPlain(d, i)
		if i >= len(d) {
			return text{}, syntaxError(len(d), "unterminated string")
		}
		switch c := d[i]; {
		case c == '"':
			t.pos = i + 1
			return text{uint32(start), uint32(i - start)}, nil
		case c == '\\':
			return t.parseEscaped(start, i)
		case c < 0x20:
			return text{}, syntaxError(i, "control character 0x%02x in string", c)
		}
		n, err := t.checkRune(i)
		if err != nil {
			return text{}, err
		}
		i += n
	}
}

// checkRune checks the multi-byte UTF-8 sequence at t.data[i:], notes in
// t.wide whether it is U+E000 or above, and returns its length.
func (t *tree) checkRune(i int) (int, error) {
	d := t.data
	t.wide = t.wide || d[i] >= 0xEE
	r, n := utf8.DecodeRune(d[i:])
	if r == utf8.RuneError && n == 1 {
		return 0, syntaxError(i, "invalid UTF-8")
	}
	if isNoncharacter(r) {
		return 0, syntaxError(i, "Unicode noncharacter U+%04X in string", r)
	}
	return n, nil
}

// isNoncharacter reports whether r is one of the 66 Unicode
// noncharacters, which I-JSON (RFC 7493 section 2.1) forbids.
func isNoncharacter(r rune) bool {
	return (0xFDD0 <= r && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}

// parseEscaped continues parsing the string whose content starts at
// d[start:] at its first escape, d[i], decoding it into t.arena.
func (t *tree) parseEscaped(start, i int) (text, error) {
	d := t.data
	a0 := len(t.arena)
	t.arena = append(t.arena, d[start:i]...)
	for {
		j := skipPlain(d, i)
		t.arena = append(t.arena, d[i:j]...)
		i = j
		if i >= len(d) {
			return text{}, syntaxError(len(d), "unterminated string")
		}
		switch c := d[i]; {
		case c == '"':
			t.pos = i + 1
			return text{inArena | uint32(a0), uint32(len(t.arena) - a0)}, nil
		case c == '\\':
			n, err := t.escape(i)
			if err != nil {
				return text{}, err
			}
			i += n
			continue
		case c < 0x20:
			return text{}, syntaxError(i, "control character 0x%02x in string", c)
		}
		n, err := t.checkRune(i)
		if err != nil {
			return text{}, err
		}
		t.arena = append(t.arena, d[i:i+n]...)
		i += n
	}
}

// escape decodes the escape sequence at d[i] into t.arena and returns its
// length.
func (t *tree) escape(i int) (int, error) {
	d := t.data
	if i+1 >= len(d) {
		return 0, syntaxError(len(d), "unterminated string")
	}
	var c byte
	switch d[i+1] {
	case '"':
		c = '"'
	case '\\':
		c = '\\'
	case '/':
		c = '/'
	case 'b':
		c = '\b'
	case 'f':
		c = '\f'
	case 'n':
		c = '\n'
	case 'r':
		c = '\r'
	case 't':
		c = '\t'
	case 'u':
		r, ok := hex4(d, i+2)
		if !ok {
			return 0, syntaxError(i, "invalid \\u escape")
		}
		n := 6
		switch {
		case 0xDC00 <= r && r <= 0xDFFF:
			return 0, syntaxError(i, "lone low surrogate \\u%04x", r)
		case 0xD800 <= r && r <= 0xDBFF:
			lo, ok := rune(0), false
			if i+7 < len(d) && d[i+6] == '\\' && d[i+7] == 'u' {
				lo, ok = hex4(d, i+8)
			}
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return 0, syntaxError(i, "lone high surrogate \\u%04x", r)
			}
			r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			n = 12
		}
		if isNoncharacter(r) {
			return 0, syntaxError(i, "Unicode noncharacter U+%04X in string", r)
		}
		t.wide = t.wide || r >= 0xE000
		t.arena = utf8.AppendRune(t.arena, r)
		return n, nil
	default:
		return 0, syntaxError(i, "invalid escape %s", quoteChar(d[i:]))
	}
	t.arena = append(t.arena, c)
	return 2, nil
}

// hex4 decodes the four hex digits at d[i:].
func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// quote returns b quoted for an error message, shortened if long: error
// messages may carry untrusted input back to its sender.
func quote(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}

// quoteChar returns the character starting b quoted for an error message.
func quoteChar(b []byte) string {
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n <= 1 {
		return fmt.Sprintf("byte 0x%02x", b[0])
	}
	return strconv.QuoteRune(r)
}
