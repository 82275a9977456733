package scenario

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/stix"
)

// decoded is one scenario object with its JSON decoded.
type decoded struct {
	Object
	m map[string]any
}

func decodeAll(t *testing.T) []decoded {
	t.Helper()
	objs := Objects()
	out := make([]decoded, len(objs))
	for i, o := range objs {
		out[i].Object = o
		if err := json.Unmarshal(o.JSON, &out[i].m); err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
	}
	return out
}

func (d decoded) str(name string) string {
	s, _ := d.m[name].(string)
	return s
}

var tlpIDs = map[string]string{
	tlpClear:       "CLEAR",
	tlpGreen:       "GREEN",
	tlpAmber:       "AMBER",
	tlpAmberStrict: "AMBER+STRICT",
	tlpRed:         "RED",
}

func TestParse(t *testing.T) {
	for _, d := range decodeAll(t) {
		got, err := stix.Parse(d.JSON)
		if err != nil {
			t.Errorf("stix.Parse(%s) = %v", d.str("id"), err)
			continue
		}
		if got.ID != d.str("id") || got.Type != d.str("type") {
			t.Errorf("stix.Parse(%s): id, type = %q, %q, want %q, %q", d.str("id"), got.ID, got.Type, d.str("id"), d.str("type"))
		}
	}
}

func TestCanonical(t *testing.T) {
	for _, o := range Objects() {
		c, err := stix.Canonicalize(o.JSON)
		if err != nil {
			t.Errorf("stix.Canonicalize(%s) = %v", o.JSON, err)
			continue
		}
		if !bytes.Equal(c, o.JSON) {
			t.Errorf("object is not canonical:\n got %s\nwant %s", o.JSON, c)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := Objects(), Objects()
	if len(a) != len(b) {
		t.Fatalf("two calls returned %d and %d objects", len(a), len(b))
	}
	for i := range a {
		if a[i].Group != b[i].Group || a[i].Party != b[i].Party || !bytes.Equal(a[i].JSON, b[i].JSON) {
			t.Errorf("object %d differs between calls:\n%s\n%s", i, a[i].JSON, b[i].JSON)
		}
	}
	// The caller owns the result: changing it changes no later call.
	a[0].JSON[0] = 'X'
	if c := Objects(); c[0].JSON[0] != '{' {
		t.Errorf("Objects shares its bytes between calls")
	}
	g := Groups()
	g[0].Members[0] = "XXX"
	if Groups()[0].Members[0] == "XXX" {
		t.Errorf("Groups shares its Members between calls")
	}
}

func TestCount(t *testing.T) {
	if n := len(Objects()); n < 40 || n > 80 {
		t.Errorf("len(Objects()) = %d, want 40 to 80", n)
	}
}

func TestUniqueIDs(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range decodeAll(t) {
		id := d.str("id")
		if seen[id] {
			t.Errorf("duplicate id %s", id)
		}
		seen[id] = true
		if !strings.HasPrefix(id, d.str("type")+"--") || id[len(id)-36+14] != '5' {
			t.Errorf("id %s: want %s--<UUID version 5>", id, d.str("type"))
		}
	}
}

// refs calls f for every identifier the JSON value v refers to: the values
// of properties named *_ref or *_refs, and extension-definition keys of
// "extensions", at any depth.
func refs(name string, v any, f func(prop, ref string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if name == "extensions" && strings.HasPrefix(k, extDefPrefix) {
				f("extensions", k)
			}
			refs(k, e, f)
		}
	case []any:
		for _, e := range v {
			refs(name, e, f)
		}
	case string:
		if strings.HasSuffix(name, "_ref") || strings.HasSuffix(name, "_refs") {
			f(name, v)
		}
	}
}

func TestReferences(t *testing.T) {
	objs := decodeAll(t)
	index := map[string]decoded{}
	for _, d := range objs {
		index[d.str("id")] = d
	}
	earlier := map[string]bool{}
	for _, d := range objs {
		id := d.str("id")
		refs("", d.m, func(prop, ref string) {
			if _, ok := tlpIDs[ref]; ok {
				if prop != "object_marking_refs" {
					t.Errorf("%s: %s refers to a TLP marking %s", id, prop, ref)
				}
				return
			}
			target, ok := index[ref]
			switch {
			case !ok:
				t.Errorf("%s: %s refers to %s, which is not in the scenario", id, prop, ref)
				return
			case !earlier[ref]:
				t.Errorf("%s: %s refers to %s, which comes later", id, prop, ref)
			}
			if target.Group == gInternal && d.Group != gInternal {
				t.Errorf("%s, shared in %q, refers to the party-internal %s", id, d.Group, ref)
			}
			if target.Group == gInternal && target.Party != d.Party {
				t.Errorf("%s of %s refers to %s, internal to %s", id, d.Party, ref, target.Party)
			}
		})
		earlier[id] = true
	}
}

func TestGroups(t *testing.T) {
	name := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	groups := map[string]Group{}
	for _, g := range Groups() {
		if !name.MatchString(g.Name) {
			t.Errorf("group name %q does not match %s", g.Name, name)
		}
		if _, dup := groups[g.Name]; dup {
			t.Errorf("duplicate group %q", g.Name)
		}
		groups[g.Name] = g
		if g.Title == "" || !strings.Contains(strings.ToLower(g.Description), "demo") {
			t.Errorf("group %q: want a title and a description that says it is demo data", g.Name)
		}
		if len(g.Members) == 0 {
			t.Errorf("group %q has no members", g.Name)
		}
	}
	for _, want := range []string{"fentanyl", "precursors", "money-laundering", "security-coordination"} {
		if _, ok := groups[want]; !ok {
			t.Errorf("Groups() has no group %q", want)
		}
	}
	for _, d := range decodeAll(t) {
		if d.Party != mex && d.Party != usa {
			t.Errorf("%s: party %q, want MEX or USA", d.str("id"), d.Party)
		}
		if d.Group == gInternal {
			continue
		}
		g, ok := groups[d.Group]
		if !ok {
			t.Errorf("%s: group %q does not exist", d.str("id"), d.Group)
			continue
		}
		if !slices.Contains(g.Members, d.Party) {
			t.Errorf("%s: party %s is not a member of group %q", d.str("id"), d.Party, d.Group)
		}
	}
}

func TestCommonProperties(t *testing.T) {
	identityParty := map[string]string{}
	msTimestamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	first := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range decodeAll(t) {
		id := d.str("id")
		if d.str("type") == "identity" {
			identityParty[id] = d.Party
		}
		labels, _ := d.m["labels"].([]any)
		if !slices.Contains(labels, any(Label)) {
			t.Errorf("%s: labels %v, want %q", id, labels, Label)
		}
		markings, _ := d.m["object_marking_refs"].([]any)
		if len(markings) != 1 {
			t.Errorf("%s: object_marking_refs %v, want one TLP marking", id, markings)
		}
		for _, mk := range markings {
			if _, ok := tlpIDs[mk.(string)]; !ok {
				t.Errorf("%s: marking %v is not a TLP 2.0 marking", id, mk)
			}
		}
		if d.str("type") != "identity" || d.str("identity_class") == "individual" {
			by := d.str("created_by_ref")
			if by == "" {
				t.Errorf("%s: no created_by_ref", id)
			} else if p := identityParty[by]; p != d.Party {
				t.Errorf("%s of %s: created_by_ref %s is an identity of %q", id, d.Party, by, p)
			}
		}
		for _, prop := range []string{"created", "modified", "published"} {
			s := d.str(prop)
			if s == "" && prop == "published" {
				continue
			}
			ts, err := time.Parse(time.RFC3339, s)
			if !msTimestamp.MatchString(s) || err != nil || ts.Before(first) || !ts.Before(last) {
				t.Errorf("%s: %s %q, want a millisecond timestamp in December 2025 or January 2026", id, prop, s)
			}
		}
	}
}

func TestText(t *testing.T) {
	for _, d := range decodeAll(t) {
		found := false
		for _, prop := range []string{"description", "content", "explanation"} {
			s, ok := d.m[prop].(string)
			if !ok {
				continue
			}
			found = true
			if !strings.Contains(strings.ToLower(s), "demo") {
				t.Errorf("%s: %s does not say it is demo data: %q", d.str("id"), prop, s)
			}
		}
		if !found {
			t.Errorf("%s: no description, content or explanation", d.str("id"))
		}
		// The scenario quotes nobody.
		for _, prop := range []string{"name", "description", "content", "explanation", "abstract"} {
			if s := d.str(prop); strings.ContainsAny(s, "\"“”«»") {
				t.Errorf("%s: %s contains a quotation mark: %q", d.str("id"), prop, s)
			}
		}
	}
}

func TestMarkingVariety(t *testing.T) {
	count := map[string]int{}
	for _, d := range decodeAll(t) {
		for _, mk := range d.m["object_marking_refs"].([]any) {
			count[tlpIDs[mk.(string)]]++
		}
		if d.Group == gInternal && d.m["object_marking_refs"].([]any)[0] != tlpAmberStrict {
			t.Errorf("%s: party-internal but not TLP:AMBER+STRICT", d.str("id"))
		}
	}
	for _, level := range []string{"GREEN", "AMBER", "AMBER+STRICT", "RED"} {
		if count[level] == 0 {
			t.Errorf("no object is marked TLP:%s", level)
		}
	}
	// At least one AMBER+STRICT object sits in a working group, where
	// group membership alone would release it.
	shared := false
	for _, d := range decodeAll(t) {
		if d.Group != gInternal && d.m["object_marking_refs"].([]any)[0] == tlpAmberStrict {
			shared = true
		}
	}
	if !shared {
		t.Errorf("no TLP:AMBER+STRICT object in a working group")
	}
}

func TestNewTypes(t *testing.T) {
	defs := map[string]string{} // extension-definition id -> name
	for _, d := range decodeAll(t) {
		if d.str("type") == "extension-definition" {
			defs[d.str("id")] = d.str("name")
		}
	}
	for _, d := range decodeAll(t) {
		ext, _ := d.m["extensions"].(map[string]any)
		if _, custom := newTypes[d.str("type")]; !custom {
			if ext != nil {
				t.Errorf("%s: standard type with extensions %v", d.str("id"), ext)
			}
			continue
		}
		if len(ext) != 1 {
			t.Errorf("%s: extensions %v, want exactly one", d.str("id"), ext)
		}
		for k, v := range ext {
			if defs[k] != d.str("type") {
				t.Errorf("%s: extension %s declares %q, want %q", d.str("id"), k, defs[k], d.str("type"))
			}
			if got := v.(map[string]any)["extension_type"]; got != newSDO {
				t.Errorf("%s: extension_type %v, want %q", d.str("id"), got, newSDO)
			}
		}
	}
}

func TestUUID5(t *testing.T) {
	// RFC 9562 appendix A.4.
	dns := nameSpaceURL
	dns[3] = 0x10 // 6ba7b810-…, the DNS namespace
	if got, want := formatUUID(uuid5(dns, "www.example.com")), "2ed6657d-e927-568b-95e1-2665a8aea6a2"; got != want {
		t.Errorf("uuid5(DNS, www.example.com) = %s, want %s", got, want)
	}
}
