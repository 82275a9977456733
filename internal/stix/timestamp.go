package stix

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrPrecision is wrapped by the error ParseTimestamp returns for a
// well-formed timestamp with non-zero digits beyond nanoseconds. No STIX
// object Puente accepts has such a version, so a TAXII filter asking for one
// should match nothing rather than fail.
var ErrPrecision = errors.New("timestamp is more precise than nanoseconds")

// maxObjectFraction is the most fractional-second digits a timestamp in a
// STIX object may have. STIX sets no limit, but time.Time and VersionKey
// stop at nanoseconds, and two distinct version strings must not share a
// VersionKey.
const maxObjectFraction = 9

// timestampError reports why s is not a timestamp.
type timestampError struct {
	reason string
	err    error // ErrPrecision or nil
}

// parseTimestamp parses "YYYY-MM-DDTHH:MM:SS[.fraction]Z". With
// maxFraction >= 0, more fractional digits than that are an error;
// otherwise digits beyond nanoseconds are dropped when they are all zero
// and ErrPrecision otherwise.
func parseTimestamp(s string, maxFraction int) (time.Time, *timestampError) {
	const layout = "YYYY-MM-DDTHH:MM:SS"
	bad := func(reason string) (time.Time, *timestampError) {
		return time.Time{}, &timestampError{reason: reason}
	}
	for i := 0; i < len(layout); i++ {
		if i >= len(s) {
			if i == 16 {
				return bad("missing seconds")
			}
			return bad("too short, want the form YYYY-MM-DDTHH:MM:SS[.fraction]Z")
		}
		c := s[i]
		switch layout[i] {
		case '-', ':':
			if c == layout[i] {
				continue
			}
			if i == 16 && (c == 'Z' || c == 'z' || c == '+' || c == '-') {
				return bad("missing seconds")
			}
		case 'T':
			if c == 'T' {
				continue
			}
			if c == 't' || c == ' ' {
				return bad("date and time must be separated by an upper-case 'T'")
			}
		default:
			if isDigit(c) {
				continue
			}
		}
		return bad(fmt.Sprintf("unexpected %s at offset %d, want the form YYYY-MM-DDTHH:MM:SS[.fraction]Z", quoteChar([]byte(s[i:])), i))
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	switch {
	case month < 1 || month > 12:
		return bad("month out of range")
	case day < 1 || day > daysIn(time.Month(month), year):
		return bad("day out of range")
	case hour > 23:
		return bad("hour out of range")
	case minute > 59:
		return bad("minute out of range")
	case sec > 59:
		return bad("second out of range (leap seconds are not supported)")
	}
	i := len(layout)
	nsec := 0
	precise := false // non-zero digits beyond nanoseconds
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		digits := s[j:i]
		switch {
		case len(digits) == 0:
			return bad("no digits after the decimal point")
		case maxFraction >= 0 && len(digits) > maxFraction:
			return bad("more than " + strconv.Itoa(maxFraction) + " fractional digits")
		}
		for k := range 9 {
			nsec *= 10
			if k < len(digits) {
				nsec += int(digits[k] - '0')
			}
		}
		for _, c := range []byte(digits[min(len(digits), 9):]) {
			precise = precise || c != '0'
		}
	}
	switch {
	case i == len(s):
		return bad("missing the time zone, want 'Z'")
	case s[i] == 'z':
		return bad("time zone must be an upper-case 'Z'")
	case s[i] == '+' || s[i] == '-':
		return bad("time zone must be 'Z' (UTC), not an offset")
	case s[i] != 'Z':
		return bad(fmt.Sprintf("unexpected %s at offset %d, want '.' or 'Z'", quoteChar([]byte(s[i:])), i))
	case i+1 != len(s):
		return bad("data after 'Z'")
	case precise:
		return time.Time{}, &timestampError{reason: "non-zero digits beyond nanoseconds", err: ErrPrecision}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), nil
}

// daysIn returns the number of days of month m in year y.
func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// ParseTimestamp parses an RFC 3339 timestamp in UTC of the form
// YYYY-MM-DDTHH:MM:SS[.fraction]Z, as STIX and TAXII use them: the 'T' and
// 'Z' upper-case, no other offset, seconds required, every field in range
// (no leap second 60), years 0000–9999. The result is in UTC.
//
// Any number of fractional digits is accepted, as TAXII clients may send
// more than STIX objects carry. Digits beyond nanoseconds are dropped when
// they are all zero; otherwise the error wraps [ErrPrecision], so that a
// caller can tell a valid but unmatchable timestamp from a malformed one.
// Timestamps inside objects are stricter: [Parse] allows at most 9
// fractional digits.
func ParseTimestamp(s string) (time.Time, error) {
	t, err := parseTimestamp(s, -1)
	if err != nil {
		if err.err != nil {
			return time.Time{}, fmt.Errorf("stix: timestamp %s: %w", quote([]byte(s)), err.err)
		}
		return time.Time{}, fmt.Errorf("stix: timestamp %s: %s", quote([]byte(s)), err.reason)
	}
	return t, nil
}

// VersionKey returns a fixed-width string, "YYYYMMDDTHHMMSS.nnnnnnnnn",
// that sorts bytewise like t, with nanosecond precision, for any year from
// 0000 to 9999 (every time ParseTimestamp returns). Keys of times outside
// those years do not sort correctly.
func VersionKey(t time.Time) string {
	t = t.UTC()
	if year := t.Year(); year < 0 || year > 9999 {
		return fmt.Sprintf("%04d%02d%02dT%02d%02d%02d.%09d", year, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond())
	}
	b := versionKey(t)
	return string(b[:])
}

// versionKey returns the VersionKey of t, a UTC time in years 0000–9999.
func versionKey(t time.Time) (b [25]byte) {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	put := func(i, n, v int) {
		for k := i + n - 1; k >= i; k-- {
			b[k] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, 4, year)
	put(4, 2, int(month))
	put(6, 2, day)
	b[8] = 'T'
	put(9, 2, hour)
	put(11, 2, minute)
	put(13, 2, sec)
	b[15] = '.'
	put(16, 9, t.Nanosecond())
	return b
}
