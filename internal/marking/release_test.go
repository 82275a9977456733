package marking

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Times of the rule tests: relExpired lapsed before testNow; relLater
// lapses after it.
var (
	testNow     = time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC)
	testExpired = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	testLater   = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
)

const relLater = "marking-definition--0d1b9a3e-6a55-4c3f-9d3e-7c1f2b9e4a06"

// allParties are the parties the tests ask about.
var allParties = []string{"CAN", "COL", "GTM", "MEX", "USA"}

// testRegistry returns a registry with the test definitions.
func testRegistry(t testing.TB) *Registry {
	t.Helper()
	r := NewRegistry()
	for _, raw := range []string{
		relDef(relUSA, []string{"USA"}, false, ""),
		relDef(relUSACAN, []string{"USA", "CAN"}, false, ""),
		relDef(relGTM, []string{"GTM"}, false, ""),
		relDef(relExpired, []string{"USA", "CAN"}, false, testExpired.Format(time.RFC3339)),
		relDef(relLater, []string{"USA", "CAN"}, true, testLater.Format(time.RFC3339)),
		relDef(relFurther, []string{"USA", "CAN", "MEX"}, true, ""),
		acsJSON(acsUSAMEX, `{"classification":"U","permitted_nationalities":["USA","MEX"]}`),
		acsJSON(acsNoNat, `{"classification":"U"}`),
		statementJSON(statement),
	} {
		if _, err := r.Add([]byte(raw)); err != nil {
			t.Fatalf("Add(%s): %v", raw, err)
		}
	}
	return r
}

var (
	mexUSA    = Group{Members: []string{"MEX", "USA"}}
	mexUSACAN = Group{Members: []string{"MEX", "USA", "CAN"}}
)

func withDefault(g Group, def string) Group { g.DefaultMarking = def; return g }

// ruleTests has one case per rule of Compute, and combinations. The
// originator is MEX unless the case says otherwise. want lists the parties
// released to; party and reason check the reason given to one party.
var ruleTests = []struct {
	name       string
	originator string
	refs       []string
	granular   []string
	group      Group
	at         time.Time // testNow if zero
	want       string
	party      string
	reason     string
}{
	// One TLP marking.
	{name: "CLEAR: all members", refs: []string{TLPClear}, group: mexUSACAN, want: "CAN MEX USA", party: "USA", reason: "released: TLP:CLEAR to all members"},
	{name: "GREEN: all members", refs: []string{TLPGreen}, group: mexUSACAN, want: "CAN MEX USA"},
	{name: "AMBER without rel_to: all members", refs: []string{TLPAmber}, group: mexUSACAN, want: "CAN MEX USA", party: "CAN", reason: "released: TLP:AMBER to all members"},
	{name: "AMBER+STRICT in a three-party group: originator only", refs: []string{TLPAmberStrict}, group: mexUSACAN, want: "MEX", party: "USA", reason: "TLP:AMBER+STRICT: originator only"},
	{name: "RED without recipients: originator only", refs: []string{TLPRed}, group: mexUSACAN, want: "MEX", party: "USA", reason: "TLP:RED: no named recipients"},

	// Releasability.
	{name: "AMBER with rel_to", refs: []string{TLPAmber, relUSA}, group: mexUSACAN, want: "MEX USA", party: "CAN", reason: "TLP:AMBER: not in rel_to"},
	{name: "GREEN+AMBER with rel_to", refs: []string{TLPGreen, TLPAmber, relUSA}, group: mexUSACAN, want: "MEX USA", party: "USA", reason: "released: TLP:AMBER to USA"},
	{name: "GREEN with rel_to", refs: []string{TLPGreen, relUSA}, group: mexUSACAN, want: "MEX USA", party: "CAN", reason: "not in rel_to of releasability marking " + relUSA},
	{name: "rel_to alone", refs: []string{relUSACAN}, group: mexUSACAN, want: "CAN MEX USA", party: "CAN", reason: "released: releasability to CAN, USA"},
	{name: "AMBER with rel_to naming a non-member", refs: []string{TLPAmber, relGTM}, group: mexUSACAN, want: "MEX", party: "GTM", reason: "not a member of the group"},
	{name: "AMBER with rel_to naming a member and a non-member", refs: []string{TLPAmber, relUSACAN}, group: mexUSA, want: "MEX USA", party: "CAN", reason: "not a member of the group"},
	{name: "two rel_to lists: their intersection", refs: []string{TLPAmber, relUSACAN, relUSA}, group: mexUSACAN, want: "MEX USA"},
	{name: "RED with a named recipient", refs: []string{TLPRed, relUSA}, group: mexUSACAN, want: "MEX USA", party: "CAN", reason: "TLP:RED: not a named recipient"},
	{name: "RED with two named recipients", refs: []string{TLPRed, relUSACAN}, group: mexUSACAN, want: "CAN MEX USA", party: "USA", reason: "released: TLP:RED to CAN, USA"},
	{name: "RED with a non-member named", refs: []string{TLPRed, relGTM}, group: mexUSACAN, want: "MEX", party: "GTM", reason: "not a member of the group"},
	{name: "RED with AMBER and GREEN and a named recipient", refs: []string{TLPGreen, TLPAmber, TLPRed, relUSA}, group: mexUSACAN, want: "MEX USA"},
	{name: "RED+STRICT: strict wins over named recipients", refs: []string{TLPRed, TLPAmberStrict, relUSA}, group: mexUSACAN, want: "MEX", party: "USA", reason: "TLP:AMBER+STRICT"},

	// ACS 3.0.
	{name: "ACS permitted_nationalities with AMBER", refs: []string{TLPAmber, acsUSAMEX}, group: mexUSACAN, want: "MEX USA", party: "CAN", reason: "TLP:AMBER: not in rel_to"},
	{name: "ACS permitted_nationalities names RED recipients", originator: "USA", refs: []string{TLPRed, acsUSAMEX}, group: mexUSACAN, want: "MEX USA"},
	{name: "ACS without nationalities restricts no one", refs: []string{TLPGreen, acsNoNat}, group: mexUSACAN, want: "CAN MEX USA"},
	{name: "ACS without nationalities names no RED recipient", refs: []string{TLPRed, acsNoNat}, group: mexUSACAN, want: "MEX"},

	// Granular markings.
	{name: "granular RED on a GREEN object withholds it", refs: []string{TLPGreen}, granular: []string{TLPRed}, group: mexUSACAN, want: "MEX", party: "USA", reason: "TLP:RED: no named recipients"},
	{name: "granular RED with object-level recipients", refs: []string{TLPGreen, relUSA}, granular: []string{TLPRed}, group: mexUSACAN, want: "MEX USA", party: "CAN", reason: "TLP:RED: not a named recipient"},
	{name: "granular rel_to does not name RED recipients", refs: []string{TLPRed}, granular: []string{relUSA}, group: mexUSACAN, want: "MEX"},
	{name: "granular RED and granular rel_to: withheld", refs: []string{TLPGreen}, granular: []string{TLPRed, relUSA}, group: mexUSACAN, want: "MEX"},
	{name: "granular rel_to restricts a GREEN object", refs: []string{TLPGreen}, granular: []string{relUSA}, group: mexUSACAN, want: "MEX USA"},
	{name: "granular AMBER+STRICT", refs: []string{TLPGreen}, granular: []string{TLPAmberStrict}, group: mexUSACAN, want: "MEX"},
	{name: "granular GREEN on a GREEN object", refs: []string{TLPGreen}, granular: []string{TLPGreen}, group: mexUSACAN, want: "CAN MEX USA"},
	{name: "granular markings only: the default applies at object level", granular: []string{TLPGreen}, group: withDefault(mexUSACAN, TLPAmberStrict), want: "MEX"},

	// Unknown markings.
	{name: "unknown marking ref", refs: []string{TLPGreen, unknownRef}, group: mexUSACAN, want: "MEX", party: "USA", reason: "marking " + unknownRef + " is not known"},
	{name: "unknown granular marking ref", refs: []string{TLPGreen}, granular: []string{unknownRef}, group: mexUSACAN, want: "MEX"},
	{name: "statement marking: not understood", refs: []string{TLPClear, statement}, group: mexUSACAN, want: "MEX", party: "USA", reason: "marking " + statement + " is not known"},
	{name: "TLP 1.0 id: not understood", refs: []string{tlp1White}, group: mexUSACAN, want: "MEX"},

	// Expiry.
	{name: "expired releasability", refs: []string{TLPGreen, relExpired}, group: mexUSACAN, want: "MEX", party: "USA", reason: "releasability expired at 2026-01-15T00:00:00Z"},
	{name: "releasability before it expires", refs: []string{TLPGreen, relExpired}, group: mexUSACAN, at: testExpired.Add(-time.Nanosecond), want: "CAN MEX USA"},
	{name: "releasability at the instant it expires", refs: []string{TLPGreen, relExpired}, group: mexUSACAN, at: testExpired, want: "MEX"},
	{name: "releasability expiring later", refs: []string{TLPAmber, relLater}, group: mexUSACAN, want: "CAN MEX USA"},
	{name: "the earliest expiry wins", refs: []string{TLPAmber, relLater}, granular: []string{relExpired}, group: mexUSACAN, want: "MEX"},

	// Group.
	{name: "internal group", refs: []string{TLPClear}, group: Group{Members: []string{"MEX"}, Internal: true}, want: "MEX", party: "USA", reason: "not a member of the group"},
	{name: "internal group listing other members", refs: []string{TLPClear}, group: Group{Members: []string{"MEX", "USA"}, Internal: true}, want: "MEX", party: "USA", reason: "internal collection: originator only"},
	{name: "no markings, no group default: AMBER to all members", group: mexUSACAN, want: "CAN MEX USA", party: "USA", reason: "released: TLP:AMBER (group default) to all members"},
	{name: "no markings, GREEN default", group: withDefault(mexUSACAN, TLPGreen), want: "CAN MEX USA"},
	{name: "no markings, AMBER default", group: withDefault(mexUSACAN, TLPAmber), want: "CAN MEX USA"},
	{name: "no markings, RED default", group: withDefault(mexUSACAN, TLPRed), want: "MEX"},
	{name: "no markings, releasability default", group: withDefault(mexUSACAN, relUSA), want: "MEX USA"},
	{name: "no markings, unknown default", group: withDefault(mexUSACAN, unknownRef), want: "MEX"},
	{name: "markings override the default", refs: []string{TLPGreen}, group: withDefault(mexUSACAN, TLPRed), want: "CAN MEX USA"},

	// Parties.
	{name: "non-member denied even for CLEAR", refs: []string{TLPClear}, group: mexUSA, want: "MEX USA", party: "GTM", reason: "not a member of the group"},
	{name: "originator always allowed, even not a member", refs: []string{TLPRed}, group: Group{Members: []string{"USA", "CAN"}}, want: "MEX", party: "MEX", reason: "released: originator"},
	{name: "originator allowed when not named", refs: []string{TLPRed, relUSA}, group: mexUSACAN, want: "MEX USA", party: "MEX", reason: "released: originator"},
	{name: "replica from USA", originator: "USA", refs: []string{TLPAmber, relUSACAN}, group: mexUSACAN, want: "CAN USA", party: "MEX", reason: "TLP:AMBER: not in rel_to"},
	{name: "party codes compare exactly", refs: []string{TLPClear}, group: Group{Members: []string{"MEX", "usa", "CAN "}}, want: "MEX"},
}

func TestRelease(t *testing.T) {
	r := testRegistry(t)
	for _, tc := range ruleTests {
		t.Run(tc.name, func(t *testing.T) {
			obj := Object{Originator: cmpOr(tc.originator, "MEX"), MarkingRefs: tc.refs, GranularRefs: tc.granular}
			now := testNow
			if !tc.at.IsZero() {
				now = tc.at
			}
			rs := Compute(obj, tc.group, r)
			var got []string
			for _, p := range allParties {
				d := Release(p, obj, tc.group, r, now)
				if allow := rs.Allows(p, tc.group.Members, now); d.Allow != allow {
					t.Errorf("Release(%s) = %+v, but Compute().Allows(%s) = %v", p, d, p, allow)
				}
				if d.Allow {
					got = append(got, p)
				}
				if p == tc.party && !strings.Contains(d.Reason, tc.reason) {
					t.Errorf("Release(%s).Reason = %q, want it to contain %q", p, d.Reason, tc.reason)
				}
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("released to %q, want %q (release set %+v)", strings.Join(got, " "), tc.want, rs)
			}
			checkCanonical(t, rs)
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkCanonical checks the form Compute documents for its results.
func checkCanonical(t *testing.T, rs ReleaseSet) {
	t.Helper()
	if rs.AllMembers && rs.Parties != nil {
		t.Errorf("%+v: AllMembers with Parties", rs)
	}
	if !slices.IsSorted(rs.Parties) || len(slices.Compact(slices.Clone(rs.Parties))) != len(rs.Parties) {
		t.Errorf("%+v: Parties not sorted and unique", rs)
	}
	if slices.Contains(rs.Parties, rs.Originator) {
		t.Errorf("%+v: Parties holds the originator", rs)
	}
	if !rs.AllMembers && rs.Parties == nil && (!rs.Expires.IsZero() || rs.FurtherSharing) {
		t.Errorf("%+v: originator-only set with Expires or FurtherSharing", rs)
	}
}

func TestCompute(t *testing.T) {
	r := testRegistry(t)
	tests := []struct {
		name string
		obj  Object
		g    Group
		want ReleaseSet
	}{
		{"GREEN", Object{"MEX", []string{TLPGreen}, nil}, mexUSA, ReleaseSet{Originator: "MEX", AllMembers: true}},
		{"RED", Object{"MEX", []string{TLPRed}, nil}, mexUSA, ReleaseSet{Originator: "MEX"}},
		{
			"membership is not part of the set",
			Object{"MEX", []string{TLPAmber, relUSACAN}, nil}, mexUSA,
			ReleaseSet{Originator: "MEX", Parties: []string{"CAN", "USA"}},
		},
		{
			"originator left out of Parties",
			Object{"MEX", []string{TLPAmber, relFurther}, nil}, mexUSA,
			ReleaseSet{Originator: "MEX", Parties: []string{"CAN", "USA"}, FurtherSharing: true},
		},
		{
			"further sharing and expiry",
			Object{"MEX", []string{TLPAmber, relLater}, nil}, mexUSA,
			ReleaseSet{Originator: "MEX", Parties: []string{"CAN", "USA"}, Expires: testLater, FurtherSharing: true},
		},
		{
			"further sharing needs every releasability marking to allow it",
			Object{"MEX", []string{TLPAmber, relLater, relUSACAN}, nil}, mexUSA,
			ReleaseSet{Originator: "MEX", Parties: []string{"CAN", "USA"}, Expires: testLater},
		},
		{
			"granular releasability counts for further sharing",
			Object{"MEX", []string{TLPAmber, relFurther}, []string{relUSA}}, mexUSA,
			ReleaseSet{Originator: "MEX", Parties: []string{"USA"}},
		},
		{
			"no releasability marking: no further sharing",
			Object{"MEX", []string{TLPClear}, nil}, mexUSA,
			ReleaseSet{Originator: "MEX", AllMembers: true},
		},
		{
			"originator only drops expiry and further sharing",
			Object{"MEX", []string{TLPAmberStrict, relLater}, nil}, mexUSA,
			ReleaseSet{Originator: "MEX"},
		},
		{"internal", Object{"MEX", []string{TLPClear}, nil}, Group{Members: []string{"MEX"}, Internal: true}, ReleaseSet{Originator: "MEX"}},
		{"nil registry knows TLP", Object{"MEX", []string{TLPGreen}, nil}, mexUSA, ReleaseSet{Originator: "MEX", AllMembers: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := r
			if strings.HasPrefix(tc.name, "nil registry") {
				reg = nil
			}
			got := Compute(tc.obj, tc.g, reg)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Compute(%+v, %+v) = %+v, want %+v", tc.obj, tc.g, got, tc.want)
			}
		})
	}
	// A nil registry knows no releasability definition.
	if got := Compute(Object{"MEX", []string{TLPGreen, relUSA}, nil}, mexUSA, nil); !reflect.DeepEqual(got, ReleaseSet{Originator: "MEX"}) {
		t.Errorf("Compute with a nil registry and a releasability marking = %+v, want originator only", got)
	}
}

func TestAllows(t *testing.T) {
	members := []string{"MEX", "USA", "CAN"}
	tests := []struct {
		name  string
		rs    ReleaseSet
		party string
		now   time.Time
		want  bool
	}{
		{"originator", ReleaseSet{Originator: "MEX"}, "MEX", testNow, true},
		{"originator after expiry", ReleaseSet{Originator: "MEX", AllMembers: true, Expires: testExpired}, "MEX", testNow, true},
		{"originator not a member", ReleaseSet{Originator: "GTM"}, "GTM", testNow, true},
		{"all members", ReleaseSet{Originator: "MEX", AllMembers: true}, "CAN", testNow, true},
		{"all members, not a member", ReleaseSet{Originator: "MEX", AllMembers: true}, "GTM", testNow, false},
		{"in parties", ReleaseSet{Originator: "MEX", Parties: []string{"USA"}}, "USA", testNow, true},
		{"not in parties", ReleaseSet{Originator: "MEX", Parties: []string{"USA"}}, "CAN", testNow, false},
		{"in parties, not a member", ReleaseSet{Originator: "MEX", Parties: []string{"GTM"}}, "GTM", testNow, false},
		{"before expiry", ReleaseSet{Originator: "MEX", AllMembers: true, Expires: testLater}, "USA", testNow, true},
		{"at expiry", ReleaseSet{Originator: "MEX", AllMembers: true, Expires: testNow}, "USA", testNow, false},
		{"after expiry", ReleaseSet{Originator: "MEX", AllMembers: true, Expires: testExpired}, "USA", testNow, false},
		{"empty party", ReleaseSet{AllMembers: true}, "", testNow, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := members
			if tc.party == "" {
				m = append(m, "")
			}
			if got := tc.rs.Allows(tc.party, m, tc.now); got != tc.want {
				t.Errorf("%+v.Allows(%q, %v, %v) = %v, want %v", tc.rs, tc.party, m, tc.now, got, tc.want)
			}
		})
	}
}

func TestOnward(t *testing.T) {
	members := []string{"MEX", "USA", "CAN"}
	tests := []struct {
		name      string
		original  ReleaseSet
		recipient string
		want      ReleaseSet
	}{
		{
			"no further sharing: the recipient only",
			ReleaseSet{Originator: "MEX", AllMembers: true}, "USA",
			ReleaseSet{Originator: "MEX", Parties: []string{"USA"}},
		},
		{
			"further sharing: the members released to",
			ReleaseSet{Originator: "MEX", AllMembers: true, FurtherSharing: true, Expires: testLater}, "USA",
			ReleaseSet{Originator: "MEX", Parties: []string{"CAN", "USA"}, FurtherSharing: true, Expires: testLater},
		},
		{
			"further sharing: the parties released to, if members",
			ReleaseSet{Originator: "MEX", Parties: []string{"GTM", "USA"}, FurtherSharing: true}, "USA",
			ReleaseSet{Originator: "MEX", Parties: []string{"USA"}, FurtherSharing: true},
		},
		{
			"recipient that was not released to gets nothing",
			ReleaseSet{Originator: "MEX", Parties: []string{"USA"}}, "CAN",
			ReleaseSet{Originator: "MEX"},
		},
		{
			"originator only stays so",
			ReleaseSet{Originator: "MEX"}, "USA",
			ReleaseSet{Originator: "MEX"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Onward(tc.original, members, tc.recipient)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Onward(%+v, %v, %s) = %+v, want %+v", tc.original, members, tc.recipient, got, tc.want)
			}
		})
	}
}
