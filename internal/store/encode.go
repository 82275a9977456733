package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/ledger"
)

// This file holds the encodings that the SQL drivers share, so that a
// database written by one reads the same through the other's code.

// VersionLayout formats the version a store gives an object that has
// neither modified nor created, RFC 3339 UTC with microseconds.
const VersionLayout = "2006-01-02T15:04:05.000000Z"

// VersionlessVersion returns the version a store gives a new version of
// an object that has neither modified nor created, written at now, when
// the newest version it holds of that object is newest ("" for none): now,
// or one microsecond after newest. It is not the collection's date_added,
// whose gaps would tell a partner how many versions were withheld from it
// between two it sees.
func VersionlessVersion(now time.Time, newest string) time.Time {
	v := now.UTC().Truncate(time.Microsecond)
	if newest == "" {
		return v
	}
	n, err := time.Parse(time.RFC3339Nano, newest)
	if err != nil {
		return v // a version the store wrote always parses
	}
	return maxTime(v, n.Truncate(time.Microsecond).Add(time.Microsecond))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Check reports a NewObject that no store may accept.
func (o *NewObject) Check() error {
	switch {
	case o.ID == "":
		return errors.New("empty id")
	case o.Version == "" && o.VersionKey != "":
		return fmt.Errorf("object %s: version key %q without a version", o.ID, o.VersionKey)
	case o.Version != "" && o.VersionKey == "":
		return fmt.Errorf("object %s: version %q without a version key", o.ID, o.Version)
	}
	return nil
}

// EncodeSet encodes party codes (or agency names) as ",MEX,USA," (sorted,
// unique), so that membership of p is a substring test for ",p,". Party
// codes and agency names never hold commas.
func EncodeSet(ps []string) string {
	if len(ps) == 0 {
		return ""
	}
	s := slices.Clone(ps)
	slices.Sort(s)
	s = slices.Compact(s)
	return "," + strings.Join(s, ",") + ","
}

// DecodeSet decodes an EncodeSet string.
func DecodeSet(set string) []string {
	set = strings.Trim(set, ",")
	if set == "" {
		return nil
	}
	return strings.Split(set, ",")
}

// AppendPlacement adds "log:idx," to placements, the list of the logs a
// ledger record was appended to and its index in each: ",internal:5,USA:3,".
// A new list starts as ",".
func AppendPlacement(placements []byte, log string, idx int64) []byte {
	return fmt.Appendf(placements, "%s:%d,", log, idx)
}

// PlacementIn returns the index of a record in log from its placements.
func PlacementIn(placements, log string) (int64, bool) {
	_, rest, ok := strings.Cut(placements, ","+log+":")
	if !ok {
		return 0, false
	}
	n, _, _ := strings.Cut(rest, ",")
	idx, err := strconv.ParseInt(n, 10, 64)
	return idx, err == nil
}

// PlacementLogs returns the logs named in placements, in order.
func PlacementLogs(placements string) []string {
	var logs []string
	for _, pl := range strings.Split(strings.Trim(placements, ","), ",") {
		if log, _, ok := strings.Cut(pl, ":"); ok {
			logs = append(logs, log)
		}
	}
	return logs
}

// ExpiresMicros is the stored form of a release expiry: 0 for never, else
// microseconds since the Unix epoch, rounded down so that a version never
// stays released past its expiry.
func ExpiresMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.Truncate(time.Microsecond).UnixMicro(), 1)
}

// Recipients returns the members, other than the originator, that r
// releases a version to at time now: the parties a store releases it to
// when it is added. members are party codes.
func (r Release) Recipients(members []string, now time.Time) []string {
	if e := ExpiresMicros(r.Expires); e != 0 && e <= now.UnixMicro() {
		return nil // as the drivers' queries compare it
	}
	var out []string
	for _, p := range members {
		if p != r.Originator && (r.AllMembers || slices.Contains(r.Parties, p)) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// WithdrawalLogs returns the logs the withdrawal of a version from
// collectionID is appended to: the internal log, the parties it was
// released to, and each log in which one of its stored records (the
// placements and data of ledger records of that object and version)
// records it from that collection.
func WithdrawalLogs(collectionID string, released, placements []string, data [][]byte) []string {
	logs := []string{InternalLog}
	add := func(log string) {
		if !slices.Contains(logs, log) {
			logs = append(logs, log)
		}
	}
	for _, p := range released {
		add(p)
	}
	for i, d := range data {
		e, err := ledger.ParseEntry(d)
		if err != nil || e.Kind != ledger.KindObject || e.Group != collectionID {
			continue
		}
		for _, log := range PlacementLogs(placements[i]) {
			add(log)
		}
	}
	return logs
}
