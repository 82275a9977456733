package stix

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var validTimestampTests = []struct {
	in   string
	want time.Time
}{
	{"2016-04-06T20:03:48Z", time.Date(2016, 4, 6, 20, 3, 48, 0, time.UTC)},
	{"2016-04-06T20:03:48.000Z", time.Date(2016, 4, 6, 20, 3, 48, 0, time.UTC)},
	{"2016-04-06T20:03:48.1Z", time.Date(2016, 4, 6, 20, 3, 48, 100000000, time.UTC)},
	{"2016-04-06T20:03:48.123456Z", time.Date(2016, 4, 6, 20, 3, 48, 123456000, time.UTC)},
	{"2016-04-06T20:03:48.123456789Z", time.Date(2016, 4, 6, 20, 3, 48, 123456789, time.UTC)},
	{"2016-04-06T20:03:48.1234567890Z", time.Date(2016, 4, 6, 20, 3, 48, 123456789, time.UTC)},
	{"2016-04-06T20:03:48.123456789000000000000Z", time.Date(2016, 4, 6, 20, 3, 48, 123456789, time.UTC)},
	{"0000-01-01T00:00:00Z", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
	{"9999-12-31T23:59:59.999999999Z", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	{"2000-02-29T00:00:00Z", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)},
	{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	{"2023-04-30T00:00:00Z", time.Date(2023, 4, 30, 0, 0, 0, 0, time.UTC)},
}

var invalidTimestampTests = []struct {
	in, want string
}{
	{"", "too short"},
	{"2016-04-06", "too short"},
	{"2016-04-06T20:03Z", "missing seconds"},
	{"2016-04-06T20:03", "missing seconds"},
	{"2016-04-06T20:03+01:00", "missing seconds"},
	{"2016-04-06t20:03:48Z", "upper-case 'T'"},
	{"2016-04-06 20:03:48Z", "upper-case 'T'"},
	{"2016-04-06T20:03:48z", "upper-case 'Z'"},
	{"2016-04-06T20:03:48", "missing the time zone"},
	{"2016-04-06T20:03:48.123", "missing the time zone"},
	{"2016-04-06T20:03:48+00:00", "not an offset"},
	{"2016-04-06T20:03:48-05:00", "not an offset"},
	{"2016-04-06T20:03:48.Z", "no digits after the decimal point"},
	{"2016-04-06T20:03:48,5Z", "want '.' or 'Z'"},
	{"2016-04-06T20:03:48ZZ", "data after 'Z'"},
	{"2016-04-06T20:03:48Z ", "data after 'Z'"},
	{" 2016-04-06T20:03:48Z", "unexpected ' ' at offset 0"},
	{"16-04-06T20:03:48Z", "unexpected '-' at offset 2"},
	{"+2016-04-06T20:03:48Z", "unexpected '+'"},
	{"2016-4-06T20:03:48Z", "unexpected '-' at offset 6"},
	{"2016-00-06T20:03:48Z", "month out of range"},
	{"2016-13-06T20:03:48Z", "month out of range"},
	{"2016-04-00T20:03:48Z", "day out of range"},
	{"2016-04-31T20:03:48Z", "day out of range"},
	{"2023-02-29T20:03:48Z", "day out of range"},
	{"1900-02-29T20:03:48Z", "day out of range"},
	{"2016-04-06T24:00:00Z", "hour out of range"},
	{"2016-04-06T20:60:48Z", "minute out of range"},
	{"2016-12-31T23:59:60Z", "second out of range"},
	{"2016-04-06T20:03:48.12a3Z", "want '.' or 'Z'"},
	{"2016-04-06T20:03:48.1234567891z", "upper-case 'Z'"},
	{"2016-04-06T20:03:48.1234567891", "missing the time zone"},
	{"２016-04-06T20:03:48Z", "unexpected '２'"},
}

func TestParseTimestamp(t *testing.T) {
	for _, tc := range validTimestampTests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTimestamp(tc.in)
			if err != nil {
				t.Fatalf("ParseTimestamp(%q) error: %v", tc.in, err)
			}
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("ParseTimestamp(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseTimestampInvalid(t *testing.T) {
	for _, tc := range invalidTimestampTests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTimestamp(tc.in)
			if err == nil {
				t.Fatalf("ParseTimestamp(%q) = %v, want error", tc.in, got)
			}
			if !got.IsZero() {
				t.Errorf("ParseTimestamp(%q) = %v with error, want the zero time", tc.in, got)
			}
			if errors.Is(err, ErrPrecision) || errors.Is(err, ErrInvalid) {
				t.Errorf("ParseTimestamp(%q) error %v wraps a sentinel, want none", tc.in, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "stix: timestamp ") || !strings.Contains(msg, tc.want) {
				t.Errorf("ParseTimestamp(%q) error %q, want \"stix: timestamp ...\" containing %q", tc.in, msg, tc.want)
			}
		})
	}
}

func TestParseTimestampPrecision(t *testing.T) {
	for _, in := range []string{
		"2016-04-06T20:03:48.1234567891Z",
		"2016-04-06T20:03:48.0000000001Z",
		"2016-04-06T20:03:48.123456789000000000001Z",
	} {
		got, err := ParseTimestamp(in)
		if !errors.Is(err, ErrPrecision) {
			t.Errorf("ParseTimestamp(%q) = %v, %v, want ErrPrecision", in, got, err)
		}
		// Objects never carry more than 9 digits, even zeros.
		if _, err := Parse([]byte(base.with("modified", `"`+in+`"`).String())); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(object modified %q) error %v, want ErrInvalid", in, err)
		}
	}
	const in = "2016-04-06T20:03:48.1234567890Z"
	if _, err := Parse([]byte(base.with("modified", `"`+in+`"`).String())); err == nil || !strings.Contains(err.Error(), "more than 9 fractional digits") {
		t.Errorf("Parse(object modified %q) error %v, want more than 9 fractional digits", in, err)
	}
	if want := `stix: timestamp "2016-04-06T20:03:48.1234567891Z": timestamp is more precise than nanoseconds`; func() string {
		_, err := ParseTimestamp("2016-04-06T20:03:48.1234567891Z")
		return err.Error()
	}() != want {
		t.Errorf("ParseTimestamp error message, want %s", want)
	}
}

func TestVersionKey(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2016, 4, 6, 20, 3, 48, 123456789, time.UTC), "20160406T200348.123456789"},
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), "00000101T000000.000000000"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "99991231T235959.999999999"},
		{time.Date(2016, 4, 6, 22, 3, 48, 1, time.FixedZone("CEST", 2*3600)), "20160406T200348.000000001"},
		{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), "-0010101T000000.000000000"}, // outside the range, as fmt writes it
	} {
		if got := VersionKey(tc.in); got != tc.want {
			t.Errorf("VersionKey(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	// Keys sort like their times.
	var prev string
	for i, tc := range validTimestampTests {
		tm, _ := ParseTimestamp(tc.in)
		k := VersionKey(tm)
		if len(k) != 25 {
			t.Errorf("VersionKey(%v) = %s, want 25 bytes", tm, k)
		}
		if i > 0 {
			prevT, _ := ParseTimestamp(validTimestampTests[i-1].in)
			if got, want := strings.Compare(prev, k), tm.Compare(prevT)*-1; got != want {
				t.Errorf("compare(VersionKey(%v), VersionKey(%v)) = %d, want %d", prevT, tm, got, want)
			}
		}
		prev = k
	}
}
