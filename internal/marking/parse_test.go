package marking

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/stix"
)

// Ids of test definitions.
const (
	relUSA      = "marking-definition--0d1b9a3e-6a55-4c3f-9d3e-7c1f2b9e4a01"
	relUSACAN   = "marking-definition--0d1b9a3e-6a55-4c3f-9d3e-7c1f2b9e4a02"
	relGTM      = "marking-definition--0d1b9a3e-6a55-4c3f-9d3e-7c1f2b9e4a03"
	relExpired  = "marking-definition--0d1b9a3e-6a55-4c3f-9d3e-7c1f2b9e4a04"
	relFurther  = "marking-definition--0d1b9a3e-6a55-4c3f-9d3e-7c1f2b9e4a05"
	acsUSAMEX   = "marking-definition--20864905-06a0-47be-a04c-2164af17d635"
	acsNoNat    = "marking-definition--20864905-06a0-47be-a04c-2164af17d636"
	statement   = "marking-definition--4a7c3b52-9e1f-4d8a-b6c2-0f3e5d7a9b11"
	unknownRef  = "marking-definition--7f9d2c4e-1b3a-4e5f-8a6b-9c0d1e2f3a4b"
	tlp1White   = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	testCreated = "2026-01-10T12:00:00.000Z"
)

// relJSON returns a marking-definition with Puente's releasability
// extension whose content is ext (a JSON object's members, without braces).
func relJSON(id, ext string) string {
	return `{"type":"marking-definition","spec_version":"2.1","id":"` + id + `","created":"` + testCreated +
		`","name":"REL TO","extensions":{"` + ExtensionID + `":{"extension_type":"property-extension",` + ext + `}}}`
}

// relDef returns a releasability definition releasing to relTo.
func relDef(id string, relTo []string, further bool, expires string) string {
	ext := fmt.Sprintf(`"rel_to":["%s"],"originator":"MEX","further_sharing":%t`, strings.Join(relTo, `","`), further)
	if expires != "" {
		ext += `,"expires":"` + expires + `"`
	}
	return relJSON(id, ext)
}

// acsJSON returns an ACS 3.0 marking-definition whose control_set is cs.
func acsJSON(id, cs string) string {
	return `{"type":"marking-definition","spec_version":"2.1","id":"` + id + `","created":"2020-06-18T00:00:00Z",` +
		`"extensions":{"` + ACSExtensionID + `":{"extension_type":"property-extension",` +
		`"identifier":"isa:guide.19001.ACS3-3bda2f6e-cedc-4c0f-a756-c03d6b586917","create_date_time":"2018-05-27T14:10:26.723Z",` +
		`"responsible_entity_custodian":"USA.DHS","policy_reference":"urn:isa:policy:acs:ns:v3.0?privdefault=deny&sharedefault=deny",` +
		`"control_set":` + cs + `}}}`
}

// tlpJSON returns the official TLP 2.0 definition of level l, as OASIS
// publishes it, with name and tlp_2_0 overridable.
func tlpJSON(id, name, tlp string) string {
	return `{"type":"marking-definition","spec_version":"2.1","id":"` + id + `","created":"2022-10-01T00:00:00.000Z",` +
		`"name":"` + name + `","extensions":{"` + TLPExtensionID + `":{"extension_type":"property-extension","tlp_2_0":"` + tlp + `"}}}`
}

func statementJSON(id string) string {
	return `{"type":"marking-definition","spec_version":"2.1","id":"` + id + `","created":"2017-01-20T00:00:00.000Z",` +
		`"definition_type":"statement","definition":{"statement":"Copyright 2026, Example Corp"}}`
}

var validDefinitionTests = []struct {
	name string
	in   string
	want Definition
}{
	{"TLP:CLEAR", tlpJSON(TLPClear, "TLP:CLEAR", "clear"), Definition{ID: TLPClear, Kind: KindTLP, TLP: LevelClear}},
	{"TLP:GREEN", tlpJSON(TLPGreen, "TLP:GREEN", "green"), Definition{ID: TLPGreen, Kind: KindTLP, TLP: LevelGreen}},
	{"TLP:AMBER", tlpJSON(TLPAmber, "TLP:AMBER", "amber"), Definition{ID: TLPAmber, Kind: KindTLP, TLP: LevelAmber}},
	{"TLP:AMBER+STRICT", tlpJSON(TLPAmberStrict, "TLP:AMBER+STRICT", "amber+strict"), Definition{ID: TLPAmberStrict, Kind: KindTLP, TLP: LevelAmberStrict}},
	{"TLP:RED", tlpJSON(TLPRed, "TLP:RED", "red"), Definition{ID: TLPRed, Kind: KindTLP, TLP: LevelRed}},
	{
		"TLP id without extension content",
		`{"type":"marking-definition","spec_version":"2.1","id":"` + TLPRed + `","created":"2022-10-01T00:00:00.000Z"}`,
		Definition{ID: TLPRed, Kind: KindTLP, TLP: LevelRed},
	},
	{
		"TLP id with a 1.0-style definition_type, as some tools write it",
		`{"type":"marking-definition","spec_version":"2.1","id":"` + TLPAmber + `","created":"2022-10-01T00:00:00.000Z","definition_type":"TLP:AMBER","name":"TLP:AMBER"}`,
		Definition{ID: TLPAmber, Kind: KindTLP, TLP: LevelAmber},
	},
	{
		"releasability",
		relDef(relUSACAN, []string{"USA", "CAN"}, true, "2026-02-01T00:00:00.5Z"),
		Definition{ID: relUSACAN, Kind: KindReleasability, Rel: &Releasability{
			RelTo: []string{"CAN", "USA"}, FurtherSharing: true, Originator: "MEX",
			Expires: time.Date(2026, 2, 1, 0, 0, 0, 5e8, time.UTC),
		}},
	},
	{
		"releasability, minimal: further_sharing defaults to false",
		relJSON(relUSA, `"rel_to":["USA"],"originator":"MEX"`),
		Definition{ID: relUSA, Kind: KindReleasability, Rel: &Releasability{RelTo: []string{"USA"}, Originator: "MEX"}},
	},
	{
		"ACS 3.0 with permitted_nationalities",
		acsJSON(acsUSAMEX, `{"classification":"U","permitted_nationalities":["USA","MEX"]}`),
		Definition{ID: acsUSAMEX, Kind: KindACS, Rel: &Releasability{RelTo: []string{"MEX", "USA"}}},
	},
	{
		"ACS 3.0 without permitted_nationalities",
		acsJSON(acsNoNat, `{"classification":"U"}`),
		Definition{ID: acsNoNat, Kind: KindACS, Rel: &Releasability{}},
	},
	{"statement marking", statementJSON(statement), Definition{ID: statement}},
	{
		"TLP 1.0 WHITE",
		`{"type":"marking-definition","spec_version":"2.1","id":"` + tlp1White + `","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:WHITE","definition":{"tlp":"white"}}`,
		Definition{ID: tlp1White},
	},
	{
		"TLP 2.0 extension on an unofficial id",
		tlpJSON(unknownRef, "TLP:CLEAR", "clear"),
		Definition{ID: unknownRef},
	},
	{
		"other extension",
		`{"type":"marking-definition","spec_version":"2.1","id":"` + unknownRef + `","created":"2026-01-01T00:00:00Z","extensions":{"extension-definition--762e2e97-ee51-43e5-a9ea-165fbb862c4a":{"extension_type":"property-extension","tlp":"amber"}}}`,
		Definition{ID: unknownRef},
	},
}

var invalidDefinitionTests = []struct {
	name, in, err string
}{
	{"not JSON", `{`, "invalid STIX object"},
	// ACS controls Puente does not interpret fail closed.
	{"ACS with an entity control", acsJSON(acsNoNat, `{"classification":"U","entity":["GOV"]}`), `control_set."entity" is not interpreted`},
	{"ACS with permitted organisations", acsJSON(acsNoNat, `{"classification":"U","permitted_organizations":["MEX-SSPC"]}`), `control_set."permitted_organizations"`},
	{"ACS classified above U", acsJSON(acsNoNat, `{"classification":"S","permitted_nationalities":["USA"]}`), `control_set."classification"`},
	{"not STIX", `{"type":"marking-definition"}`, "invalid STIX object"},
	{"duplicate member", strings.Replace(relDef(relUSA, []string{"USA"}, false, ""), `"rel_to"`, `"originator":"MEX","rel_to"`, 1), "duplicate member"},
	{
		"not a marking-definition",
		`{"type":"identity","spec_version":"2.1","id":"identity--22b4e3ee-e72a-40e9-b4b8-d9251781cad3","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","name":"x"}`,
		"want marking-definition",
	},
	{"TLP id with another level's tlp_2_0", tlpJSON(TLPRed, "TLP:RED", "clear"), `tlp_2_0 is "clear"`},
	{"TLP id with another level's name", tlpJSON(TLPRed, "TLP:CLEAR", "red"), `name is "TLP:CLEAR"`},
	{"TLP id with a null tlp_2_0", strings.Replace(tlpJSON(TLPRed, "TLP:RED", "red"), `"red"}`, `null}`, 1), "null"},
	{
		"TLP id with a releasability extension",
		strings.Replace(relDef(relUSA, []string{"USA"}, false, ""), relUSA, TLPRed, 1),
		"cannot carry a releasability extension",
	},
	{"rel_to missing", relJSON(relUSA, `"originator":"MEX"`), "rel_to is required"},
	{"rel_to empty", relJSON(relUSA, `"rel_to":[],"originator":"MEX"`), "empty list"},
	{"rel_to null", relJSON(relUSA, `"rel_to":null,"originator":"MEX"`), "null"},
	{"rel_to lower case", relJSON(relUSA, `"rel_to":["usa"],"originator":"MEX"`), "not a party code"},
	{"rel_to alpha-2", relJSON(relUSA, `"rel_to":["US"],"originator":"MEX"`), "not a party code"},
	{"rel_to duplicate", relJSON(relUSA, `"rel_to":["USA","CAN","USA"],"originator":"MEX"`), "listed twice"},
	{"rel_to not strings", relJSON(relUSA, `"rel_to":[1],"originator":"MEX"`), "rel_to"},
	{"originator missing", relJSON(relUSA, `"rel_to":["USA"]`), "originator is required"},
	{"originator not a party", relJSON(relUSA, `"rel_to":["USA"],"originator":"Mexico"`), "not a party code"},
	{"further_sharing not boolean", relJSON(relUSA, `"rel_to":["USA"],"originator":"MEX","further_sharing":"yes"`), "further_sharing"},
	{"further_sharing null", relJSON(relUSA, `"rel_to":["USA"],"originator":"MEX","further_sharing":null`), "null"},
	{"expires not a timestamp", relJSON(relUSA, `"rel_to":["USA"],"originator":"MEX","expires":"2026-02-01"`), "expires"},
	{"expires with an offset", relJSON(relUSA, `"rel_to":["USA"],"originator":"MEX","expires":"2026-02-01T00:00:00+01:00"`), "expires"},
	{"expires at the zero time", relJSON(relUSA, `"rel_to":["USA"],"originator":"MEX","expires":"0001-01-01T00:00:00.000Z"`), "never expiring"},
	{"unknown property", relJSON(relUSA, `"rel_to":["USA"],"originator":"MEX","rel_to_orgs":["SEMAR"]`), "unknown property"},
	{
		"wrong extension_type",
		strings.Replace(relDef(relUSA, []string{"USA"}, false, ""), `"property-extension"`, `"toplevel-property-extension"`, 1),
		"want \"property-extension\"",
	},
	{
		"releasability with definition_type",
		strings.Replace(relDef(relUSA, []string{"USA"}, false, ""), `"name":"REL TO"`, `"definition_type":"statement","definition":{"statement":"x"}`, 1),
		"definition_type",
	},
	{
		"releasability with another extension",
		strings.Replace(relDef(relUSA, []string{"USA"}, false, ""), `"extensions":{`, `"extensions":{"extension-definition--762e2e97-ee51-43e5-a9ea-165fbb862c4a":{"extension_type":"property-extension"},`, 1),
		"not understood alongside",
	},
	{
		"releasability and ACS",
		strings.Replace(relDef(relUSA, []string{"USA"}, false, ""), `"extensions":{`, `"extensions":{"`+ACSExtensionID+`":{"extension_type":"property-extension","control_set":{}},`, 1),
		"both",
	},
	{"ACS without control_set", strings.Replace(acsJSON(acsUSAMEX, `{}`), `,"control_set":{}`, ``, 1), "control_set is required"},
	{"ACS nationalities lower case", acsJSON(acsUSAMEX, `{"permitted_nationalities":["usa"]}`), "not a party code"},
	{"ACS nationalities empty", acsJSON(acsUSAMEX, `{"permitted_nationalities":[]}`), "empty list"},
	{"ACS control_set not an object", acsJSON(acsUSAMEX, `["USA"]`), "control_set"},
}

func TestParseDefinition(t *testing.T) {
	for _, tc := range validDefinitionTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDefinition([]byte(tc.in))
			if err != nil {
				t.Fatalf("ParseDefinition(%s) error: %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseDefinition(%s) = %+v, want %+v", tc.in, show(got), show(tc.want))
			}
		})
	}
}

func TestParseDefinitionInvalid(t *testing.T) {
	for _, tc := range invalidDefinitionTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDefinition([]byte(tc.in))
			if err == nil {
				t.Fatalf("ParseDefinition(%s) = %+v, want error", tc.in, show(got))
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseDefinition(%s) error %v does not wrap ErrInvalid", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseDefinition(%s) error %q, want it to contain %q", tc.in, err, tc.err)
			}
			if !reflect.DeepEqual(got, Definition{}) {
				t.Errorf("ParseDefinition(%s) = %+v with the error, want the zero Definition", tc.in, show(got))
			}
		})
	}
}

// show formats a Definition with its Releasability for messages.
func show(d Definition) string {
	if d.Rel == nil {
		return fmt.Sprintf("%+v", d)
	}
	return fmt.Sprintf("{ID:%s Kind:%v TLP:%v Rel:%+v}", d.ID, d.Kind, d.TLP, *d.Rel)
}

func TestExtensionDefinition(t *testing.T) {
	raw := ExtensionDefinition()
	o, err := stix.Parse(raw)
	if err != nil {
		t.Fatalf("stix.Parse(ExtensionDefinition()) error: %v", err)
	}
	if o.Type != "extension-definition" || o.ID != ExtensionID {
		t.Errorf("ExtensionDefinition() is %s %s, want extension-definition %s", o.Type, o.ID, ExtensionID)
	}
	canon, err := stix.Canonicalize(raw)
	if err != nil || string(canon) != string(raw) {
		t.Errorf("ExtensionDefinition() is not canonical:\n%s\nwant\n%s", raw, canon)
	}
	raw[0] = 'x'
	if ExtensionDefinition()[0] != '{' {
		t.Errorf("ExtensionDefinition() returns a shared slice")
	}
	for _, want := range []string{`"created_by_ref":"` + creatorID + `"`, `"version":"1.0.0"`, `"extension_types":["property-extension"]`, `"schema":"`} {
		if !strings.Contains(string(ExtensionDefinition()), want) {
			t.Errorf("ExtensionDefinition() lacks %s", want)
		}
	}
	// A marking-definition using the extension passes both parsers.
	def := relDef(relUSA, []string{"USA"}, false, "")
	if _, err := stix.Parse([]byte(def)); err != nil {
		t.Errorf("stix.Parse(%s) error: %v", def, err)
	}
	if _, err := ParseDefinition([]byte(def)); err != nil {
		t.Errorf("ParseDefinition(%s) error: %v", def, err)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	for _, l := range []Level{LevelClear, LevelGreen, LevelAmber, LevelAmberStrict, LevelRed} {
		id := levels[l-1].id
		for _, reg := range []*Registry{r, nil} {
			got, ok := reg.Definition(id)
			if want := (Definition{ID: id, Kind: KindTLP, TLP: l}); !ok || got != want {
				t.Errorf("Definition(%s) = %+v, %v, want %+v, true", id, got, ok, want)
			}
		}
	}
	if _, ok := r.Definition(relUSA); ok {
		t.Errorf("Definition(%s) known before Add", relUSA)
	}
	d, err := r.Add([]byte(relDef(relUSA, []string{"USA"}, false, "")))
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if got, ok := r.Definition(relUSA); !ok || !reflect.DeepEqual(got, d) {
		t.Errorf("Definition(%s) = %v, %v, want %v, true", relUSA, show(got), ok, show(d))
	}
	// The same definition again, byte for byte or not, is a no-op.
	if _, err := r.Add([]byte(relJSON(relUSA, `"originator":"MEX","further_sharing":false,"rel_to":["USA"]`))); err != nil {
		t.Errorf("Add of an equal definition: %v", err)
	}
	// Other content under the same id is refused, and the first stays.
	if _, err := r.Add([]byte(relDef(relUSA, []string{"USA", "GTM"}, false, ""))); !errors.Is(err, ErrConflict) {
		t.Errorf("Add of a conflicting definition: error %v, want ErrConflict", err)
	}
	if got, _ := r.Definition(relUSA); !reflect.DeepEqual(got, d) {
		t.Errorf("Definition(%s) = %v after a conflicting Add, want %v", relUSA, show(got), show(d))
	}
	// The TLP definitions cannot be redefined.
	if _, err := r.Add([]byte(tlpJSON(TLPRed, "TLP:RED", "clear"))); !errors.Is(err, ErrInvalid) {
		t.Errorf("Add of a contradicting TLP:RED: error %v, want ErrInvalid", err)
	}
	if got, err := r.Add([]byte(tlpJSON(TLPRed, "TLP:RED", "red"))); err != nil || got.TLP != LevelRed {
		t.Errorf("Add of TLP:RED = %v, %v, want the built-in", got, err)
	}
	// An unknown kind of definition is kept as unknown.
	if got, err := r.Add([]byte(statementJSON(statement))); err != nil || got.Kind != KindUnknown {
		t.Errorf("Add of a statement = %v, %v, want KindUnknown", got, err)
	}
	if _, err := r.Add([]byte(`{}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("Add({}): error %v, want ErrInvalid", err)
	}
}

func TestLevelString(t *testing.T) {
	for l, want := range map[Level]string{0: "none", LevelClear: "TLP:CLEAR", LevelAmberStrict: "TLP:AMBER+STRICT", LevelRed: "TLP:RED", 9: "none"} {
		if got := l.String(); got != want {
			t.Errorf("Level(%d).String() = %q, want %q", l, got, want)
		}
	}
}

func TestObjectOf(t *testing.T) {
	const head = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
		`"created":"2026-01-10T00:00:00.000Z","modified":"2026-01-10T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']",` +
		`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"`
	tests := []struct {
		name, in, originator string
		want                 Object
	}{
		{"no markings", head + `}`, "MEX", Object{Originator: "MEX"}},
		{
			"object and granular markings",
			head + `,"object_marking_refs":["` + TLPGreen + `","` + relUSA + `"],"granular_markings":[` +
				`{"selectors":["description"],"marking_ref":"` + TLPRed + `"},{"selectors":["name"],"lang":"es"},` +
				`{"selectors":["pattern","valid_from"],"marking_ref":"` + unknownRef + `"}]}`,
			"USA",
			Object{Originator: "USA", MarkingRefs: []string{TLPGreen, relUSA}, GranularRefs: []string{TLPRed, unknownRef}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ObjectOf([]byte(tc.in), tc.originator)
			if err != nil {
				t.Fatalf("ObjectOf(%s, %s) error: %v", tc.in, tc.originator, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ObjectOf(%s, %s) = %+v, want %+v", tc.in, tc.originator, got, tc.want)
			}
		})
	}
	invalid := []struct{ name, in, originator string }{
		{"not STIX", `{"type":"indicator"}`, "MEX"},
		{"bad marking ref", head + `,"object_marking_refs":["identity--22b4e3ee-e72a-40e9-b4b8-d9251781cad3"]}`, "MEX"},
		{"bad granular marking", head + `,"granular_markings":[{"selectors":["name"]}]}`, "MEX"},
		{"originator lower case", head + `}`, "mex"},
		{"no originator", head + `}`, ""},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ObjectOf([]byte(tc.in), tc.originator)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ObjectOf(%s, %q) = %+v, %v, want an error wrapping ErrInvalid", tc.in, tc.originator, got, err)
			}
		})
	}
}
