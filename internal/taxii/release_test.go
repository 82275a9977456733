package taxii_test

// Adversarial tests of guarantee G1 (nothing leaves without release) on
// every TAXII read path: randomized objects and markings, read by partner
// principals of several parties through objects, manifest, object and
// versions with several page sizes; the result must be exactly what
// marking.Release allows — no more, no fewer, no duplicates.

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/marking"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/taxii"
)

var releaseObjects = flag.Int("release.objects", 120, "objects in the randomized release test (CI uses the default, with a fixed seed)")
var releaseSeed = flag.Uint64("release.seed", 1, "seed of the randomized release test")

const armsColl = "5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e"

var armsMembers = []string{"CAN", "MEX", "USA"}

// markedObject returns an indicator with the given markings.
func markedObject(n int, modified string, refs, granular []string) []byte {
	o := map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": indicatorID(n),
		"created": "2025-12-28T10:00:00.000Z", "modified": modified,
		"name": fmt.Sprintf("arms shipment %d", n), "pattern": "[ipv4-addr:value = '198.51.100.1']",
		"pattern_type": "stix", "valid_from": "2025-12-28T10:00:00Z", "labels": []string{"demo-data"},
	}
	if len(refs) > 0 {
		o["object_marking_refs"] = refs
	}
	if len(granular) > 0 {
		var gm []map[string]any
		for _, g := range granular {
			gm = append(gm, map[string]any{"selectors": []string{"name"}, "marking_ref": g})
		}
		o["granular_markings"] = gm
	}
	b, _ := json.Marshal(o)
	return b
}

// relDefinition returns a releasability marking definition.
func relDefinition(n int, relTo []string, further bool, expires time.Time) []byte {
	ext := map[string]any{"extension_type": "property-extension", "rel_to": relTo, "originator": "MEX", "further_sharing": further}
	if !expires.IsZero() {
		ext["expires"] = expires.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	o := map[string]any{
		"type": "marking-definition", "spec_version": "2.1",
		"id":      fmt.Sprintf("marking-definition--%08x-1111-4000-8000-%012x", n, n),
		"created": "2026-01-01T00:00:00.000Z", "name": fmt.Sprintf("REL TO %s", strings.Join(relTo, ", ")),
		"extensions": map[string]any{marking.ExtensionID: ext},
	}
	b, _ := json.Marshal(o)
	return b
}

func TestReleaseProperty(t *testing.T) {
	e := newEnv(t, taxii.Config{})
	if err := e.st.CreateCollection(t.Context(), store.Collection{ID: armsColl, Alias: "arms", Title: "arms",
		Created: time.Now(), Members: armsMembers, DefaultMarking: marking.TLPAmber}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(*releaseSeed, 2))
	now := time.Now()
	tlp := []string{marking.TLPClear, marking.TLPGreen, marking.TLPAmber, marking.TLPAmberStrict, marking.TLPRed}
	reg := marking.NewRegistry()
	var defs [][]byte
	var defIDs []string
	parties := []string{"USA", "CAN", "GTM"}
	for i := range 8 {
		var relTo []string
		for _, p := range parties {
			if rng.IntN(2) == 0 {
				relTo = append(relTo, p)
			}
		}
		if len(relTo) == 0 {
			relTo = []string{"USA"}
		}
		var exp time.Time
		switch rng.IntN(3) {
		case 0:
			exp = now.Add(-time.Hour)
		case 1:
			exp = now.Add(time.Hour)
		}
		d := relDefinition(i, relTo, rng.IntN(2) == 0, exp)
		if _, err := reg.Add(d); err != nil {
			t.Fatalf("definition %d: %v", i, err)
		}
		defs = append(defs, d)
		var m map[string]any
		json.Unmarshal(d, &m)
		defIDs = append(defIDs, m["id"].(string))
	}
	pick := func() []string {
		var refs []string
		for range rng.IntN(3) {
			switch rng.IntN(10) {
			case 0:
				refs = append(refs, "marking-definition--00000000-dead-4000-8000-000000000000") // unknown
			case 1, 2, 3:
				refs = append(refs, defIDs[rng.IntN(len(defIDs))])
			default:
				refs = append(refs, tlp[rng.IntN(len(tlp))])
			}
		}
		slices.Sort(refs)
		return slices.Compact(refs)
	}
	// The definitions go first, in their own envelope; then the objects,
	// some with a second version of other markings.
	checkCommon(t, e.do(req{method: http.MethodPost, path: objectsPath(armsColl, ""), body: envelope(defs...)}), http.StatusAccepted)
	var posted [][]byte
	var raws [][]byte
	for n := range *releaseObjects {
		raw := markedObject(n, v1, pick(), granularPick(rng, pick))
		raws = append(raws, raw)
		if rng.IntN(4) == 0 {
			raws = append(raws, markedObject(n, v2, pick(), nil))
		}
	}
	for i := 0; i < len(raws); i += 50 {
		chunk := raws[i:min(i+50, len(raws))]
		st := e.add(armsColl, chunk...)
		if count(st, "success_count") != len(chunk) {
			t.Fatalf("POST: %v", st)
		}
		posted = append(posted, chunk...)
	}

	// The expected view of each party: the objects with a version released
	// to it (the newest such version is the one served). Checked with the
	// members the group was created with, then again once GTM has joined:
	// what it is given then must be exactly what the rule releases to it.
	check := func(t *testing.T, members []string) {
		group := marking.Group{Members: members, DefaultMarking: marking.TLPAmber}
		all := append(slices.Clone(defs), posted...)
		ids := map[string]bool{}
		for _, raw := range all {
			var m struct{ ID string }
			json.Unmarshal(raw, &m)
			ids[m.ID] = true
		}
		for _, party := range []string{"USA", "CAN", "GTM"} {
			var want []string
			released := map[string]bool{}
			newestReleased := map[string]string{} // id -> modified, for indicators
			for _, raw := range all {
				obj, err := marking.ObjectOf(raw, "MEX")
				if err != nil {
					t.Fatal(err)
				}
				var m struct{ ID string }
				json.Unmarshal(raw, &m)
				if !marking.Release(party, obj, group, reg, time.Now()).Allow {
					continue
				}
				var v struct{ Modified string }
				json.Unmarshal(raw, &v)
				if v.Modified > newestReleased[m.ID] {
					newestReleased[m.ID] = v.Modified
				}
				if !released[m.ID] {
					released[m.ID] = true
					want = append(want, m.ID)
				}
			}
			slices.Sort(want)
			t.Run(party, func(t *testing.T) {
				if !slices.Contains(members, party) {
					// Not a member: the collection itself is absent.
					checkCommon(t, e.get(root+"collections/arms/", "GTM"), http.StatusNotFound)
					checkCommon(t, e.get(objectsPath(armsColl, ""), "GTM"), http.StatusNotFound)
					if len(want) != 0 {
						t.Errorf("the rule releases %d objects to a non-member", len(want))
					}
					return
				}
				if len(want) == 0 || len(want) == len(ids) {
					t.Fatalf("degenerate fixture: %d of %d released to %s", len(want), len(ids), party)
				}
				for _, endpoint := range []string{"objects/", "manifest/"} {
					for _, limit := range []int{1, 7, 1000} {
						got := pageIDs(t, e, party, endpoint, limit)
						if !slices.Equal(got, want) {
							t.Errorf("%s limit %d as %s: %d objects, want %d\nextra %v\nmissing %v", endpoint, limit, party,
								len(got), len(want), minus(got, want), minus(want, got))
						}
					}
				}
				// Object and versions endpoints: released objects are there,
				// the others are not found, exactly like absent ones.
				absent := e.get(objectsPath(armsColl, "")+indicatorID(999999)+"/", party)
				for id := range ids {
					r := e.get(objectsPath(armsColl, "")+id+"/", party)
					if slices.Contains(want, id) {
						checkCommon(t, r, http.StatusOK)
						if v := newestReleased[id]; v != "" {
							if got := versionsOf(t, r); !slices.Equal(got, []string{v}) {
								t.Errorf("%s as %s: served %v, want the newest released version %s", id, party, got, v)
							}
						}
					} else {
						checkCommon(t, r, http.StatusNotFound)
						if string(r.body) != string(absent.body) || !sameHeaders(r.header, absent.header) {
							t.Errorf("hidden %s differs from an absent object: %s %v vs %s %v", id, r.body, r.header, absent.body, absent.header)
						}
						checkCommon(t, e.get(objectsPath(armsColl, "")+id+"/versions/", party), http.StatusNotFound)
					}
				}
			})
		}
	}
	t.Run("members", func(t *testing.T) { check(t, armsMembers) })
	joined := append(slices.Clone(armsMembers), "GTM")
	if err := e.st.SetMembers(t.Context(), armsColl, joined); err != nil {
		t.Fatal(err)
	}
	t.Run("GTM joined", func(t *testing.T) { check(t, joined) })
}

func granularPick(rng *rand.Rand, pick func() []string) []string {
	if rng.IntN(4) != 0 {
		return nil
	}
	return pick()
}

// pageIDs pages through an endpoint as user with limit and returns the
// sorted ids, failing on duplicates.
func pageIDs(t *testing.T, e *env, user, endpoint string, limit int) []string {
	t.Helper()
	q := fmt.Sprintf("limit=%d", limit)
	var ids []string
	for range 10000 {
		r := e.get(root+"collections/"+armsColl+"/"+endpoint+"?"+q, user)
		checkCommon(t, r, http.StatusOK)
		m := r.json(t)
		recs := details(t, m, "objects")
		if m["more"] == true && len(recs) != limit {
			t.Fatalf("%s: page of %d with more, limit %d: filtered after the limit", endpoint, len(recs), limit)
		}
		for _, rec := range recs {
			ids = append(ids, rec["id"].(string))
		}
		if m["more"] != true {
			break
		}
		q = fmt.Sprintf("limit=%d&next=%s", limit, url.QueryEscape(m["next"].(string)))
	}
	slices.Sort(ids)
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("%s as %s: duplicates in %v", endpoint, user, ids)
	}
	return ids
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// sameHeaders compares responses' headers but for Date.
func sameHeaders(a, b http.Header) bool {
	a, b = a.Clone(), b.Clone()
	a.Del("Date")
	b.Del("Date")
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !slices.Equal(a.Values(k), b.Values(k)) {
			return false
		}
	}
	return true
}

// A next token of one partner is refused for another, even when both may
// read the collection.
func TestReleaseNextTokenOtherParty(t *testing.T) {
	e := newEnv(t, taxii.Config{})
	if err := e.st.CreateCollection(t.Context(), store.Collection{ID: armsColl, Alias: "arms", Title: "arms",
		Created: time.Now(), Members: armsMembers}); err != nil {
		t.Fatal(err)
	}
	e.add(armsColl, markedObject(1, v1, []string{marking.TLPGreen}, nil), markedObject(2, v1, []string{marking.TLPGreen}, nil))
	r := e.get(objectsPath(armsColl, "limit=1"), "USA")
	checkCommon(t, r, http.StatusOK)
	next := r.json(t)["next"].(string)
	checkCommon(t, e.get(objectsPath(armsColl, "limit=1&next="+url.QueryEscape(next)), "USA"), http.StatusOK)
	checkCommon(t, e.get(objectsPath(armsColl, "limit=1&next="+url.QueryEscape(next)), "CAN"), http.StatusBadRequest)
}

// Refused attempts reach Config.Denied, with who, what and why; absent
// things do not (they are not denials), and the answers stay identical.
func TestDeniedAttemptsRecorded(t *testing.T) {
	var mu sync.Mutex
	var got []store.Denial
	e := newEnv(t, taxii.Config{Denied: func(d store.Denial) {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
	}})
	if err := e.st.CreateCollection(t.Context(), store.Collection{ID: armsColl, Alias: "arms", Title: "arms",
		Created: time.Now(), Members: armsMembers}); err != nil {
		t.Fatal(err)
	}
	e.add(armsColl, markedObject(1, v1, []string{marking.TLPRed}, nil), markedObject(2, v1, []string{marking.TLPGreen}, nil))
	steps := []struct {
		req    req
		status int
		action string // "" when no denial is expected
	}{
		{req{method: http.MethodPost, path: objectsPath(armsColl, ""), body: envelope(indicator(3, v1, 200)), user: "USA"}, 403, "add objects"},
		{req{path: root + "collections/internal/", user: "USA"}, 404, "GET collection"},
		{req{path: objectsPath(armsColl, "") + indicatorID(1) + "/", user: "USA"}, 404, "read object"},
		{req{path: objectsPath(armsColl, "") + indicatorID(9) + "/", user: "USA"}, 404, ""},
		{req{path: objectsPath(armsColl, "") + indicatorID(2) + "/", user: "USA"}, 200, ""},
		{req{path: objectsPath(armsColl, ""), user: "GTM"}, 404, "GET collection"},
		{req{method: http.MethodDelete, path: objectsPath(armsColl, "") + indicatorID(2) + "/", user: "alice"}, 403, "delete object"},
	}
	for _, st := range steps {
		mu.Lock()
		before := len(got)
		mu.Unlock()
		checkCommon(t, e.do(st.req), st.status)
		mu.Lock()
		added := got[before:]
		mu.Unlock()
		switch {
		case st.action == "" && len(added) != 0:
			t.Errorf("%s %s as %s: recorded %+v, want nothing", st.req.method, st.req.path, st.req.user, added)
		case st.action != "" && (len(added) != 1 || added[0].Action != st.action || added[0].Principal == "" || added[0].Reason == ""):
			t.Errorf("%s %s as %s: recorded %+v, want one %q", st.req.method, st.req.path, st.req.user, added, st.action)
		}
	}
}

// Removing a party from a group cuts it off at the next request; adding it
// back restores what is released to members.
func TestMembershipChange(t *testing.T) {
	e := newEnv(t, taxii.Config{})
	if err := e.st.CreateCollection(t.Context(), store.Collection{ID: armsColl, Alias: "arms", Title: "arms",
		Created: time.Now(), Members: armsMembers}); err != nil {
		t.Fatal(err)
	}
	e.add(armsColl, markedObject(1, v1, []string{marking.TLPGreen}, nil))
	checkCommon(t, e.get(objectsPath(armsColl, "")+indicatorID(1)+"/", "CAN"), http.StatusOK)
	if err := e.st.SetMembers(t.Context(), armsColl, []string{"MEX", "USA"}); err != nil {
		t.Fatal(err)
	}
	checkCommon(t, e.get(objectsPath(armsColl, "")+indicatorID(1)+"/", "CAN"), http.StatusNotFound)
	checkCommon(t, e.get(root+"collections/arms/", "CAN"), http.StatusNotFound)
	if err := e.st.SetMembers(t.Context(), armsColl, armsMembers); err != nil {
		t.Fatal(err)
	}
	checkCommon(t, e.get(objectsPath(armsColl, "")+indicatorID(1)+"/", "CAN"), http.StatusOK)
}

// An archived group keeps its content for readers and takes no writes.
func TestArchivedGroup(t *testing.T) {
	e := newEnv(t, taxii.Config{})
	e.add(e.coll, indicator(1, v1, 200))
	if err := e.st.SetArchived(t.Context(), e.coll, true); err != nil {
		t.Fatal(err)
	}
	r := e.get(root+"collections/fentanyl/", "lena")
	checkCommon(t, r, http.StatusOK)
	if m := r.json(t); m["can_read"] != true || m["can_write"] != false {
		t.Errorf("archived group: can_read %v, can_write %v; want true, false", m["can_read"], m["can_write"])
	}
	checkCommon(t, e.get(objectsPath(e.coll, "")+indicatorID(1)+"/", "USA"), http.StatusOK)
	checkCommon(t, e.do(req{method: http.MethodPost, path: objectsPath(e.coll, ""), body: envelope(indicator(2, v1, 200)), user: "lena"}), http.StatusForbidden)
	checkCommon(t, e.do(req{method: http.MethodDelete, path: objectsPath(e.coll, "") + indicatorID(1) + "/", user: "lena"}), http.StatusForbidden)
}

// A released report that refers to a withheld object does not bring it
// along (the leak class of related-object expansion): the partner gets the
// report and a 404 for what it refers to.
func TestRelatedObjectsNotExpanded(t *testing.T) {
	e := probeEnv(t)
	hidden := markedObject(1, v1, []string{marking.TLPRed}, nil)
	report := fmt.Sprintf(`{"type":"report","spec_version":"2.1","id":"report--6f1f5a6e-3c1d-4b8e-9d2a-0c4b5e6f7a82","created":%q,"modified":%q,"name":"weekly","published":%q,"object_refs":[%q],"object_marking_refs":[%q]}`,
		v1, v1, v1, indicatorID(1), marking.TLPGreen)
	e.add(armsColl, hidden, []byte(report))
	got := pageIDs(t, e, "USA", "objects/", 1000)
	if !slices.Equal(got, []string{"report--6f1f5a6e-3c1d-4b8e-9d2a-0c4b5e6f7a82"}) {
		t.Errorf("USA reads %v, want only the report", got)
	}
	checkCommon(t, e.get(objectsPath(armsColl, "")+indicatorID(1)+"/", "USA"), http.StatusNotFound)
}

// A REL TO marking past its expiry releases to nobody else; one still
// valid releases as written.
func TestExpiredReleasability(t *testing.T) {
	e := probeEnv(t)
	past := relDefinition(1, []string{"USA"}, false, time.Now().Add(-time.Hour))
	future := relDefinition(2, []string{"USA"}, false, time.Now().Add(time.Hour))
	e.add(armsColl, past, future,
		markedObject(1, v1, []string{marking.TLPAmber, defID(1)}, nil),
		markedObject(2, v1, []string{marking.TLPAmber, defID(2)}, nil))
	checkCommon(t, e.get(objectsPath(armsColl, "")+indicatorID(1)+"/", "USA"), http.StatusNotFound)
	checkCommon(t, e.get(objectsPath(armsColl, "")+indicatorID(2)+"/", "USA"), http.StatusOK)
}

// A group that names its agencies takes writes only from their users.
func TestGroupAgencies(t *testing.T) {
	e := newEnv(t, taxii.Config{})
	if err := e.st.CreateCollection(t.Context(), store.Collection{ID: armsColl, Alias: "arms", Title: "arms",
		Created: time.Now(), Members: armsMembers, Agencies: []string{"SEMAR"}}); err != nil {
		t.Fatal(err)
	}
	post := func(user string, n int) int {
		return e.do(req{method: http.MethodPost, path: objectsPath(armsColl, ""), body: envelope(indicator(n, v1, 200)), user: user}).status
	}
	if got := post("sara", 1); got != http.StatusAccepted {
		t.Errorf("POST by a SEMAR analyst: %d, want 202", got)
	}
	if got := post("alice", 2); got != http.StatusForbidden {
		t.Errorf("POST by an analyst of no listed agency: %d, want 403", got)
	}
	r := e.get(root+"collections/arms/", "alice")
	if m := r.json(t); m["can_read"] != true || m["can_write"] != false {
		t.Errorf("alice: can_read %v, can_write %v; want true, false", m["can_read"], m["can_write"])
	}
}
