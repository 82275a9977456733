package stix

import (
	"cmp"
	"strconv"
	"unicode/utf8"
)

// compareUTF16 compares two valid UTF-8 strings by their UTF-16 code
// units, the member order of RFC 8785 section 3.2.3.
//
// UTF-8 byte order is code point order, which agrees with UTF-16 order
// except that UTF-16 puts supplementary characters (surrogate pairs,
// D800–DFFF) before U+E000–U+FFFF. So the strings compare bytewise up to
// their first differing character, and only that character needs care.
func compareUTF16(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return cmp.Compare(len(a), len(b))
	}
	if a[i] < 0xEE || b[i] < 0xEE {
		// One character is below U+E000, or both share a lead byte and
		// differ in a continuation byte: bytewise order is right.
		return cmp.Compare(a[i], b[i])
	}
	// Both are lead bytes of characters from U+E000 up.
	ra, _ := utf8.DecodeRune(a[i:])
	rb, _ := utf8.DecodeRune(b[i:])
	return cmp.Compare(utf16Rank(ra), utf16Rank(rb))
}

// utf16Rank maps r to a number that orders like r's UTF-16 encoding.
func utf16Rank(r rune) rune {
	if 0xE000 <= r && r <= 0xFFFF {
		return r + 0x110000 // after every surrogate pair
	}
	return r
}

// appendCanonical appends the RFC 8785 form of the value t.nodes[i].
func (t *tree) appendCanonical(dst []byte, i int32) []byte {
	n := &t.nodes[i]
	switch n.kind {
	case kindNull:
		return append(dst, "null"...)
	case kindFalse:
		return append(dst, "false"...)
	case kindTrue:
		return append(dst, "true"...)
	case kindNumber:
		if n.canonical {
			return append(dst, t.bytes(n.txt)...)
		}
		return appendNumber(dst, n.num)
	case kindString:
		return appendString(dst, t.bytes(n.txt))
	case kindArray:
		dst = append(dst, '[')
		for k, m := range t.mems[n.first : n.first+n.n] {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = t.appendCanonical(dst, m.val)
		}
		return append(dst, ']')
	default: // kindObject; members are sorted already
		dst = append(dst, '{')
		for k, m := range t.mems[n.first : n.first+n.n] {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, t.bytes(m.name))
			dst = append(dst, ':')
			dst = t.appendCanonical(dst, m.val)
		}
		return append(dst, '}')
	}
}

// escapes holds the RFC 8785 escape of each byte that needs one, and "" for
// the others: '"', '\\' and controls are escaped, with the short forms
// where JSON has them and lower-case \u00xx otherwise. Everything else,
// including DEL, U+2028 and non-ASCII, is written as is.
var escapes = func() (e [256]string) {
	const hex = "0123456789abcdef"
	for c := range 0x20 {
		e[c] = `\u00` + string(hex[c>>4]) + string(hex[c&0xF])
	}
	e['\b'], e['\t'], e['\n'], e['\f'], e['\r'] = `\b`, `\t`, `\n`, `\f`, `\r`
	e['"'], e['\\'] = `\"`, `\\`
	return e
}()

// appendString appends s, valid UTF-8, as an RFC 8785 string.
func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start, i := 0, 0
	for {
		for i+8 <= len(s) && !escapable(loadWord(s, i)) {
			i += 8
		}
		for i < len(s) && escapes[s[i]] == "" {
			i++
		}
		if i >= len(s) {
			break
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, escapes[s[i]]...)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendNumber appends f, finite, as ECMAScript's Number.prototype.toString
// writes it (ECMA-262 Number::toString, RFC 8785 section 3.2.2.3).
//
// strconv's shortest representation gives the digits s and exponent such
// that f = 0.s × 10^n with the fewest digits k, picking the closest when
// several have k digits, as ECMAScript requires. The layout then depends
// on n: plain integers up to 21 digits, plain fractions down to 1e-6, and
// exponent notation with an explicit sign (1e+21, 1e-7) otherwise.
func appendNumber(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0') // and -0 too
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // -d.ddde±dd
	if b[0] == '-' {
		dst = append(dst, '-')
		b = b[1:]
	}
	e := len(b) - 1
	for b[e] != 'e' {
		e--
	}
	exp := 0
	for _, c := range b[e+2:] { // after the sign strconv always writes
		exp = exp*10 + int(c-'0')
	}
	if b[e+1] == '-' {
		exp = -exp
	}
	var digs [24]byte
	ds := append(digs[:0], b[0])
	if e > 1 {
		ds = append(ds, b[2:e]...) // skip the '.'
	}
	k, n := len(ds), exp+1
	switch {
	case k <= n && n <= 21:
		dst = append(dst, ds...)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, ds[:n]...)
		dst = append(dst, '.')
		dst = append(dst, ds[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, ds...)
	default:
		dst = append(dst, ds[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, ds[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}
