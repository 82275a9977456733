package taxii_test

// Probes from the adversarial review of release enforcement: each one was a
// leak or a wrong answer before the fix named in its comment, and stays as
// a regression test.

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/marking"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/postgres"
	"github.com/puente-project/puente/internal/store/postgres/pgtest"
	"github.com/puente-project/puente/internal/taxii"
)

func probeEnv(t *testing.T) *env {
	e := newEnv(t, taxii.Config{})
	if err := e.st.CreateCollection(t.Context(), store.Collection{ID: armsColl, Alias: "arms", Title: "arms",
		Created: time.Now(), Members: armsMembers, DefaultMarking: marking.TLPAmber}); err != nil {
		t.Fatal(err)
	}
	return e
}

func defID(n int) string {
	var m map[string]any
	json.Unmarshal(relDefinition(n, []string{"CAN"}, false, time.Time{}), &m)
	return m["id"].(string)
}

// relDefinitionCreated is relDefinition with another created timestamp.
func relDefinitionCreated(n int, relTo []string, created string) []byte {
	b := relDefinition(n, relTo, false, time.Time{})
	return []byte(strings.Replace(string(b), `"created":"2026-01-01T00:00:00.000Z"`, `"created":"`+created+`"`, 1))
}

// P1: an envelope's own copy of a definition wins over the stored one,
// even though it conflicts and is refused.
func TestProbeRedefinitionInEnvelope(t *testing.T) {
	e := probeEnv(t)
	d := relDefinition(7, []string{"CAN"}, false, time.Time{})
	e.add(armsColl, d, markedObject(1, v1, []string{marking.TLPAmber, defID(7)}, nil))
	evil := relDefinition(7, []string{"USA"}, false, time.Time{}) // same id, same created, other rel_to
	st := e.add(armsColl, evil, markedObject(2, v1, []string{marking.TLPAmber, defID(7)}, nil))
	t.Logf("status: %v", st)
	// The stored definition (what USA can read) says REL TO CAN.
	r := e.get(objectsPath(armsColl, "match[type]=marking-definition"), "USA")
	t.Logf("definition as USA sees it: %s", r.body)
	if r := e.get(objectsPath(armsColl, "")+indicatorID(2)+"/", "USA"); r.status == http.StatusOK {
		t.Errorf("LEAK: object marked %s (stored: REL TO CAN) served to USA: %s", defID(7), r.body)
	}
}

// P2: a second "version" of a definition (another created) is stored and
// then governs new objects.
func TestProbeRedefinitionNewCreated(t *testing.T) {
	e := probeEnv(t)
	e.add(armsColl, relDefinition(7, []string{"CAN"}, false, time.Time{}))
	st := e.add(armsColl, relDefinitionCreated(7, []string{"USA"}, "2026-01-05T00:00:00.000Z"))
	t.Logf("status of redefinition: %v", st)
	e.add(armsColl, markedObject(3, v1, []string{marking.TLPAmber, defID(7)}, nil))
	r := e.get(objectsPath(armsColl, "")+defID(7)+"/versions/", "alice")
	t.Logf("versions of the definition: %s", r.body)
	if r := e.get(objectsPath(armsColl, "")+indicatorID(3)+"/", "USA"); r.status == http.StatusOK {
		t.Errorf("LEAK: object marked %s (first defined REL TO CAN) served to USA", defID(7))
	}
	if r := e.get(objectsPath(armsColl, "")+indicatorID(3)+"/", "CAN"); r.status != http.StatusOK {
		t.Errorf("CAN, the REL TO of the first definition, denied: %d", r.status)
	}
}

// P3: a conflicting definition in another collection (created earlier:
// the internal one) overrides the group's definition for later objects.
func TestProbeRedefinitionOtherCollection(t *testing.T) {
	e := probeEnv(t)
	e.add(armsColl, relDefinition(7, []string{"CAN"}, false, time.Time{}))
	st := e.add(e.internal, relDefinition(7, []string{"USA"}, false, time.Time{}))
	t.Logf("status in internal: %v", st)
	e.add(armsColl, markedObject(4, v1, []string{marking.TLPAmber, defID(7)}, nil))
	if r := e.get(objectsPath(armsColl, "")+indicatorID(4)+"/", "USA"); r.status == http.StatusOK {
		t.Errorf("LEAK: object marked %s (arms copy: REL TO CAN) served to USA via the internal collection's copy", defID(7))
	}
}

// P4: a granular marking whose definition is stored (not in the envelope)
// is treated as unknown.
func TestProbeGranularStoredDefinition(t *testing.T) {
	e := probeEnv(t)
	e.add(armsColl, relDefinition(8, []string{"CAN", "USA"}, false, time.Time{}))
	e.add(armsColl, markedObject(5, v1, []string{marking.TLPGreen}, []string{defID(8)}))
	if r := e.get(objectsPath(armsColl, "")+indicatorID(5)+"/", "USA"); r.status != http.StatusOK {
		t.Errorf("over-deny: granular REL TO CAN,USA (stored definition) withheld from USA: %d", r.status)
	}
}

// P5: partially released object: every read path, every parameter.
func TestProbePartialVersions(t *testing.T) {
	e := probeEnv(t)
	v3 := "2026-01-03T00:00:00.000Z"
	e.add(armsColl,
		markedObject(1, v1, []string{marking.TLPRed}, nil),
		markedObject(1, v2, []string{marking.TLPGreen}, nil),
		markedObject(1, v3, []string{marking.TLPRed}, nil),
		markedObject(2, v1, []string{marking.TLPRed}, nil),
		[]byte(`{"type":"malware","spec_version":"2.1","id":"malware--00000001-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"x","is_family":false,"object_marking_refs":["`+marking.TLPRed+`"]}`),
	)
	id := indicatorID(1)
	base := objectsPath(armsColl, "")
	cases := []string{
		objectsPath(armsColl, ""),
		objectsPath(armsColl, "match[version]=all"),
		objectsPath(armsColl, "match[version]=first"),
		objectsPath(armsColl, "match[version]=last"),
		objectsPath(armsColl, "match[version]=first,last"),
		objectsPath(armsColl, "match[version]="+v1+","+v3),
		objectsPath(armsColl, "match[type]=indicator,malware"),
		objectsPath(armsColl, "match[type]=indicator,malware&match[version]=all"),
		objectsPath(armsColl, "match[type]=indicator,malware&match[version]=first"),
		objectsPath(armsColl, "match[type]=malware"),
		objectsPath(armsColl, "match[spec_version]=2.1&match[version]=first"),
		objectsPath(armsColl, "match[spec_version]=2.1,2.0&match[version]=last"),
		objectsPath(armsColl, "match[id]="+id+","+indicatorID(2)+"&match[version]=all"),
		objectsPath(armsColl, "limit=1"),
		objectsPath(armsColl, "added_after=2000-01-01T00:00:00Z&match[version]=all"),
		root + "collections/" + armsColl + "/manifest/?match[version]=all",
		root + "collections/" + armsColl + "/manifest/?match[type]=indicator,malware&match[version]=all",
		base + id + "/",
		base + id + "/?match[version]=all",
		base + id + "/?match[version]=first",
		base + id + "/?match[version]=" + v3,
		base + id + "/?match[version]=" + v1,
		base + id + "/?match[spec_version]=2.1&match[version]=first",
		base + id + "/versions/",
		base + id + "/versions/?limit=1",
		base + id + "/versions/?match[spec_version]=2.1",
	}
	for _, c := range cases {
		r := e.get(c, "USA")
		if strings.Contains(string(r.body), v1) || strings.Contains(string(r.body), v3) || strings.Contains(string(r.body), "malware--") || strings.Contains(string(r.body), indicatorID(2)) {
			t.Errorf("LEAK %s: %s", c, r.body)
		}
		if r.header.Get("X-TAXII-Date-Added-Last") != "" {
			// the one released version's date_added only
		}
		t.Logf("%d %s -> %s more=%v", r.status, c, r.body[:min(len(r.body), 120)], r.header.Get("X-TAXII-Date-Added-Last"))
	}
	// hidden vs absent: object 2 (all hidden) vs never-added
	for _, suffix := range []string{"/", "/versions/", "/?match[version]=all", "/?match[version]=" + v1, "/?added_after=2000-01-01T00:00:00Z", "/?match[spec_version]=2.0"} {
		h := e.get(base+indicatorID(2)+suffix, "USA")
		a := e.get(base+indicatorID(99)+suffix, "USA")
		if h.status != a.status || string(h.body) != string(a.body) || !sameHeaders(h.header, a.header) {
			t.Errorf("hidden differs from absent at %s: %d %s vs %d %s", suffix, h.status, h.body, a.status, a.body)
		}
	}
}

// P7: a definition that arrives after the objects using it.
func TestProbeLateDefinition(t *testing.T) {
	e := probeEnv(t)
	e.add(armsColl, markedObject(1, v1, []string{marking.TLPAmber, defID(9)}, nil))
	e.add(armsColl, relDefinition(9, []string{"USA"}, false, time.Time{}))
	// Deny by default: the object was judged when it was shared, against a
	// definition the node did not know, and is not judged again.
	checkCommon(t, e.get(objectsPath(armsColl, "")+indicatorID(1)+"/", "USA"), http.StatusNotFound)
}

// P8: a restrictive marking on the marking-definition object itself.
func TestProbeRedDefinition(t *testing.T) {
	e := probeEnv(t)
	d := relDefinition(10, []string{"USA"}, false, time.Time{})
	d = []byte(strings.Replace(string(d), `"id":`, `"object_marking_refs":["`+marking.TLPRed+`"],"id":`, 1))
	e.add(armsColl, d, markedObject(1, v1, []string{marking.TLPAmber, defID(10)}, nil))
	t.Logf("definition to USA: %d; object to USA: %d",
		e.get(objectsPath(armsColl, "")+defID(10)+"/", "USA").status,
		e.get(objectsPath(armsColl, "")+indicatorID(1)+"/", "USA").status)
}

// P9: an ACS 3.0 marking whose only restriction is not permitted_nationalities.
func TestProbeACSOtherControls(t *testing.T) {
	e := probeEnv(t)
	d := []byte(`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--0000000a-2222-4000-8000-00000000000a","created":"2026-01-01T00:00:00.000Z","extensions":{"` + marking.ACSExtensionID + `":{"extension_type":"property-extension","control_set":{"classification":"U","permitted_organizations":["MEX-SSPC"],"formal_determination":["FOUO"]}}}}`)
	st := e.add(armsColl, d, markedObject(1, v1, []string{"marking-definition--0000000a-2222-4000-8000-00000000000a"}, nil))
	t.Logf("%v", st["success_count"])
	if r := e.get(objectsPath(armsColl, "")+indicatorID(1)+"/", "USA"); r.status == http.StatusOK {
		t.Errorf("ACS marking restricted to organization MEX-SSPC released to USA (all members)")
	}
}

// manifestDates returns the ids and date_added values of a manifest page.
func manifestDates(t *testing.T, r response) (ids []string, dates []time.Time) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("manifest: status %d: %s", r.status, r.body)
	}
	var m struct {
		Objects []struct {
			ID        string `json:"id"`
			DateAdded string `json:"date_added"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("manifest: %v: %s", err, r.body)
	}
	for _, o := range m.Objects {
		d, err := time.Parse(time.RFC3339Nano, o.DateAdded)
		if err != nil {
			t.Fatalf("manifest: date_added %q: %v", o.DateAdded, err)
		}
		ids, dates = append(ids, o.ID), append(dates, d)
	}
	return ids, dates
}

// P10: the gaps between the date_added values a partner sees counted the
// versions withheld from it. Each partner now has its own sequence: one
// envelope of versions, every other one TLP:RED, reaches USA a
// microsecond apart, and the headers agree with the manifest.
func TestProbeDateAddedGaps(t *testing.T) {
	e := probeEnv(t)
	var objs [][]byte
	for i := range 20 {
		m := marking.TLPGreen
		if i%2 == 1 {
			m = marking.TLPRed
		}
		objs = append(objs, markedObject(i, v1, []string{m}, nil))
	}
	e.add(armsColl, objs...)
	manifest := root + "collections/" + armsColl + "/manifest/"
	if ids, _ := manifestDates(t, e.get(manifest, "alice")); len(ids) != 20 {
		t.Fatalf("MEX's own user sees %d versions, want 20", len(ids))
	}
	r := e.get(manifest, "USA")
	ids, dates := manifestDates(t, r)
	if len(ids) != 10 {
		t.Fatalf("USA sees %d versions, want the 10 TLP:GREEN ones", len(ids))
	}
	for i := 1; i < len(dates); i++ {
		if d := dates[i].Sub(dates[i-1]); d != time.Microsecond {
			t.Errorf("USA: %s added %v after %s: the gap tells what was withheld between them", ids[i], d, ids[i-1])
		}
	}
	first, last := r.header.Get("X-TAXII-Date-Added-First"), r.header.Get("X-TAXII-Date-Added-Last")
	if f, _ := time.Parse(time.RFC3339Nano, first); !f.Equal(dates[0]) {
		t.Errorf("X-TAXII-Date-Added-First %s, the manifest's first is %v", first, dates[0])
	}
	if l, _ := time.Parse(time.RFC3339Nano, last); !l.Equal(dates[len(dates)-1]) {
		t.Errorf("X-TAXII-Date-Added-Last %s, the manifest's last is %v", last, dates[len(dates)-1])
	}
}

// P11: a party that joined a group got its history with the old
// date_added values, so its TAXII client, polling with added_after, never
// saw them. They are now new to it.
func TestProbeNewMemberPolling(t *testing.T) {
	e := probeEnv(t)
	if err := e.st.SetMembers(t.Context(), armsColl, []string{"MEX", "USA"}); err != nil {
		t.Fatal(err)
	}
	e.add(armsColl, markedObject(1, v1, []string{marking.TLPGreen}, nil), markedObject(2, v1, []string{marking.TLPGreen}, nil))
	polled := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	time.Sleep(2 * time.Millisecond)
	if err := e.st.SetMembers(t.Context(), armsColl, armsMembers); err != nil {
		t.Fatal(err)
	}
	ids, _ := manifestDates(t, e.get(root+"collections/"+armsColl+"/manifest/?added_after="+polled, "CAN"))
	if len(ids) != 2 {
		t.Errorf("CAN, polling after it joined, finds %v, want both versions", ids)
	}
	if ids, _ := manifestDates(t, e.get(root+"collections/"+armsColl+"/manifest/?added_after="+polled, "USA")); len(ids) != 0 {
		t.Errorf("USA finds %v again after CAN joined", ids)
	}
}

// P12: two requests defining one marking id with different contents (and
// created times) at once each judged their objects against their own
// copy, and both copies were stored. Now the store keeps one content per
// id and refuses the other request whole; it is judged again against the
// stored content. Each round races two envelopes, each a definition of
// the same id and an object marked with it.
func TestProbeConcurrentRedefinition(t *testing.T) {
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) {
			var e *env
			if driver == "sqlite" {
				e = newEnv(t, taxii.Config{})
			} else {
				st, err := postgres.Open(t.Context(), pgtest.Database(t), postgres.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				e = newEnvStore(t, st, taxii.Config{}, true)
				e.t = t
			}
			if err := e.st.CreateCollection(t.Context(), store.Collection{ID: armsColl, Alias: "arms", Title: "arms",
				Created: time.Now(), Members: armsMembers, DefaultMarking: marking.TLPAmber}); err != nil {
				t.Fatal(err)
			}
			const rounds = 25
			for n := 1; n <= rounds; n++ {
				envs := [2][]byte{
					envelope(relDefinition(n, []string{"CAN"}, false, time.Time{}), markedObject(1000+2*n, v1, []string{marking.TLPAmber, defID(n)}, nil)),
					envelope(relDefinitionCreated(n, []string{"USA"}, "2026-01-05T00:00:00.000Z"), markedObject(1001+2*n, v1, []string{marking.TLPAmber, defID(n)}, nil)),
				}
				var statuses [2]int
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range envs {
					wg.Go(func() {
						<-start
						statuses[i] = e.do(req{method: http.MethodPost, path: objectsPath(armsColl, ""), body: envs[i]}).status
					})
				}
				close(start)
				wg.Wait()
				if statuses != [2]int{http.StatusAccepted, http.StatusAccepted} {
					t.Fatalf("round %d: statuses %v, want both 202", n, statuses)
				}
			}
			for n := 1; n <= rounds; n++ {
				var defs struct {
					Objects []struct {
						Extensions map[string]struct {
							RelTo []string `json:"rel_to"`
						} `json:"extensions"`
					} `json:"objects"`
				}
				r := e.get(objectsPath(armsColl, "match[version]=all&match[id]=")+defID(n), "alice")
				if err := json.Unmarshal(r.body, &defs); err != nil || len(defs.Objects) != 1 {
					t.Errorf("round %d: the node holds %d contents of %s, want 1: %s", n, len(defs.Objects), defID(n), r.body)
					continue
				}
				winner := defs.Objects[0].Extensions[marking.ExtensionID].RelTo
				if len(winner) != 1 {
					t.Fatalf("round %d: definition rel_to %v", n, winner)
				}
				loser := map[string]string{"CAN": "USA", "USA": "CAN"}[winner[0]]
				for _, id := range []string{indicatorID(1000 + 2*n), indicatorID(1001 + 2*n)} {
					if r := e.get(objectsPath(armsColl, "")+id+"/", loser); r.status != http.StatusNotFound {
						t.Errorf("round %d: %s, marked %s (stored: REL TO %s), served to %s", n, id, defID(n), winner[0], loser)
					}
					if r := e.get(objectsPath(armsColl, "")+id+"/", winner[0]); r.status != http.StatusOK {
						t.Errorf("round %d: %s, marked %s (stored: REL TO %s), not served to %s: %d", n, id, defID(n), winner[0], winner[0], r.status)
					}
				}
			}
		})
	}
}
