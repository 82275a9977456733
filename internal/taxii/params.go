package taxii

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
)

// filter is the parsed query of a paginated TAXII request.
type filter struct {
	addedAfter time.Time
	ids        []string
	types      []string
	versions   store.VersionMatch
	limit      int
	next       string
	// impossible is set when a filter value can match nothing (for example
	// a version timestamp more precise than any stored version).
	impossible bool
}

// Query parameters each endpoint accepts (TAXII 2.1 sections 5.3–5.8).
var (
	listParams     = []string{"added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"}
	objectParams   = []string{"added_after", "limit", "next", "match[version]", "match[spec_version]"}
	deleteParams   = []string{"match[version]", "match[spec_version]"}
	versionsParams = []string{"added_after", "limit", "next", "match[spec_version]"}
)

var (
	typeRE        = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$`)
	specVersionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
)

// parseFilter parses a raw query string strictly: only the parameters in
// allowed, each at most once, each well formed. Every problem is a 400 that
// names the parameter.
func parseFilter(rawQuery string, allowed []string, maxPage int) (filter, error) {
	f := filter{limit: maxPage}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return filter{}, badRequest("The query string is malformed: %v.", err)
	}
	for k, vs := range q {
		if !slices.Contains(allowed, k) {
			return filter{}, badRequest("Unknown query parameter %q; this endpoint accepts %s.", k, strings.Join(allowed, ", "))
		}
		if len(vs) != 1 {
			return filter{}, badRequest("Query parameter %q appears more than once.", k)
		}
		v := vs[0]
		if v == "" {
			return filter{}, badRequest("Query parameter %q is empty.", k)
		}
		switch k {
		case "added_after":
			t, err := stix.ParseTimestamp(v)
			if err != nil {
				return filter{}, badRequest("Query parameter added_after must be an RFC 3339 UTC timestamp such as 2026-01-02T15:04:05.000000Z.")
			}
			f.addedAfter = t
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return filter{}, badRequest("Query parameter limit must be a positive whole number.")
			}
			f.limit = min(n, maxPage)
		case "next":
			f.next = v
		case "match[id]":
			f.ids, err = splitList(k, v, validID)
		case "match[type]":
			f.types, err = splitList(k, v, func(s string) bool { return typeRE.MatchString(s) })
		case "match[spec_version]":
			var svs []string
			svs, err = splitList(k, v, specVersionRE.MatchString)
			// Only 2.1 is held: a list with it selects everything, a list
			// without it selects nothing; neither needs the store.
			if err == nil && !slices.Contains(svs, heldSpecVersion) {
				f.impossible = true
			}
		case "match[version]":
			var none bool
			f.versions, none, err = parseVersions(v)
			f.impossible = f.impossible || none
		}
		if err != nil {
			return filter{}, err
		}
	}
	return f, nil
}

// maxValues bounds the values of one match[...] parameter, so that one
// request cannot build an unbounded query.
const maxValues = 100

// splitList splits a comma-separated filter value; values may not repeat
// and each must pass ok.
func splitList(name, v string, ok func(string) bool) ([]string, error) {
	parts := strings.Split(v, ",")
	if len(parts) > maxValues {
		return nil, badRequest("Query parameter %s has %d values; at most %d are allowed.", name, len(parts), maxValues)
	}
	seen := make(map[string]bool, len(parts))
	for _, p := range parts {
		if !ok(p) {
			return nil, badRequest("Query parameter %s has an invalid value %q.", name, truncate(p))
		}
		if seen[p] {
			return nil, badRequest("Query parameter %s repeats the value %q.", name, truncate(p))
		}
		seen[p] = true
	}
	return parts, nil
}

// truncate shortens a value echoed in an error message.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// heldSpecVersion is the only STIX spec version a node stores: the parser
// accepts only 2.1.
const heldSpecVersion = "2.1"

// validID reports whether s looks like a STIX identifier: type--UUID.
func validID(s string) bool {
	typ, uuid, ok := strings.Cut(s, "--")
	return ok && typeRE.MatchString(typ) && len(uuid) == 36 && strings.Count(uuid, "-") == 4
}

// parseVersions parses match[version]: first, last, all or timestamps,
// comma-separated; "all" stands alone and no value repeats.
func parseVersions(v string) (m store.VersionMatch, impossible bool, err error) {
	parts := strings.Split(v, ",")
	if len(parts) > maxValues {
		return m, false, badRequest("Query parameter match[version] has %d values; at most %d are allowed.", len(parts), maxValues)
	}
	seen := map[string]bool{}
	for _, p := range parts {
		switch p {
		case "first", "last", "all":
			if seen[p] {
				return m, false, badRequest("Query parameter match[version] repeats %q.", p)
			}
			seen[p] = true
		default:
			t, err := stix.ParseTimestamp(p)
			if errors.Is(err, stix.ErrPrecision) {
				// Valid, but finer than any stored version: matches nothing.
				impossible = true
				continue
			}
			if err != nil {
				return m, false, badRequest("Query parameter match[version] has an invalid value %q: use first, last, all or a timestamp.", truncate(p))
			}
			key := stix.VersionKey(t)
			if seen[key] {
				return m, false, badRequest("Query parameter match[version] repeats %q.", p)
			}
			seen[key] = true
			m.Keys = append(m.Keys, key)
		}
	}
	if seen["all"] && len(parts) > 1 {
		return m, false, badRequest("Query parameter match[version] cannot combine all with other values.")
	}
	m.First, m.Last, m.All = seen["first"], seen["last"], seen["all"]
	if impossible && m.IsZero() {
		return m, true, nil
	}
	return m, false, nil
}
