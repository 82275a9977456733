package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/store"
)

// queryPlan returns the EXPLAIN QUERY PLAN lines of the query Objects runs
// for q.
func queryPlan(t *testing.T, db *DB, q store.Query) []string {
	t.Helper()
	query, args := objectsQuery(1, q)
	rows, err := db.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestQueryPlans pins the index each query shape uses. Without statistics
// SQLite's choice could walk a whole collection for a page; each shape here
// must read an index in date_added order (and stop after a page) or seek
// the versions of the ids asked for.
func TestQueryPlans(t *testing.T) {
	db := openTest(t)
	after := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		q    store.Query
		want []string // substrings of the plan, in order
		sort bool     // a sort of the (bounded) candidates is expected
	}{
		{"default", store.Query{}, []string{"USING INDEX objects_last (collection=?)"}, false},
		{"default, added after", store.Query{AddedAfter: after}, []string{"USING INDEX objects_last (collection=? AND date_added_us>?)"}, false},
		{"all", store.Query{Versions: store.VersionMatch{All: true}, AddedAfter: after}, []string{"USING INDEX objects_added (collection=? AND date_added_us>?)"}, false},
		{"first", store.Query{Versions: store.VersionMatch{First: true}, AddedAfter: after}, []string{"USING INDEX objects_added (collection=? AND date_added_us>?)"}, false},
		{"first and last", store.Query{Versions: store.VersionMatch{First: true, Last: true}, AddedAfter: after}, []string{"USING INDEX objects_added (collection=? AND date_added_us>?)"}, false},
		{"spec version", store.Query{SpecVersions: []string{"2.1"}, AddedAfter: after}, []string{
			"USING INDEX objects_added (collection=? AND date_added_us>?)",
			"CORRELATED SCALAR SUBQUERY", "USING INDEX objects_version (collection=? AND object_id=? AND version_key>?)"}, false},
		{"one type", store.Query{Types: []string{"indicator"}, AddedAfter: after}, []string{"USING INDEX objects_type (collection=? AND type=? AND date_added_us>?)"}, false},
		{"two types", store.Query{Types: []string{"indicator", "malware"}, AddedAfter: after}, []string{
			"MERGE (UNION ALL)",
			"USING INDEX objects_type (collection=? AND type=? AND date_added_us>?)",
			"USING INDEX objects_type (collection=? AND type=? AND date_added_us>?)",
			"SCAN k | SEARCH o USING INTEGER PRIMARY KEY (rowid=?)"}, true},
		{"ids", store.Query{IDs: []string{"indicator--1", "indicator--2"}, Types: []string{"indicator", "malware"}, AddedAfter: after}, []string{"USING INDEX objects_version (collection=? AND object_id=?)"}, true},
		{"ids, all", store.Query{IDs: []string{"indicator--1"}, Versions: store.VersionMatch{All: true}}, []string{"USING INDEX objects_version (collection=? AND object_id=?)"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 1000
			plan := strings.Join(queryPlan(t, db, tc.q), " | ")
			rest := plan
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("plan %q lacks %q", plan, w)
				}
				rest = rest[i+len(w):]
			}
			if strings.Contains(plan, "SCAN o") {
				t.Errorf("plan %q scans the table", plan)
			}
			if got := strings.Contains(plan, "TEMP B-TREE"); got != tc.sort {
				t.Errorf("plan %q: sorts = %v, want %v", plan, got, tc.sort)
			}
		})
	}
}
