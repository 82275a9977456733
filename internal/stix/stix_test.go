package stix

import (
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
)

// Examples from the STIX 2.1 specification, and the TLP 2.0 marking
// definition OASIS publishes.
const (
	indicatorExample = `{
  "type": "indicator",
  "spec_version": "2.1",
  "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
  "created": "2016-04-06T20:03:48.000Z",
  "modified": "2016-04-06T20:03:48.000Z",
  "indicator_types": ["malicious-activity"],
  "name": "Poison Ivy Malware",
  "description": "This file is part of Poison Ivy",
  "pattern": "[ file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877' ]",
  "pattern_type": "stix",
  "valid_from": "2016-01-01T00:00:00Z"
}`
	reportExample = `{
  "type": "report",
  "spec_version": "2.1",
  "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
  "created_by_ref": "identity--a463ffb3-1bd9-4d94-b02d-74e4f1658283",
  "created": "2015-12-21T19:59:11.000Z",
  "modified": "2016-05-21T19:59:11.000Z",
  "name": "The Black Vine Cyberespionage Group",
  "description": "A simple report with an indicator and campaign",
  "published": "2016-01-20T17:00:00.000Z",
  "report_types": ["campaign"],
  "object_refs": [
    "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2",
    "campaign--83422c77-904c-4dc1-aff5-5c38f3a2c55c",
    "relationship--f82356ae-fe6c-437c-9c24-6b64314ae68a"
  ],
  "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
}`
	relationshipExample = `{
  "type": "relationship",
  "spec_version": "2.1",
  "id": "relationship--57b56a43-b8b0-4cba-9deb-34e3e1faed9e",
  "created": "2016-04-06T20:06:37.000Z",
  "modified": "2016-04-06T20:06:37.000Z",
  "relationship_type": "indicates",
  "source_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "target_ref": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
}`
	tlpAmber = `{
  "type": "marking-definition",
  "spec_version": "2.1",
  "id": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
  "created": "2022-10-01T00:00:00.000Z",
  "name": "TLP:AMBER",
  "extensions": {
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
      "extension_type": "property-extension",
      "tlp_2_0": "amber"
    }
  }
}`
	extensionDefinitionExample = `{
  "id": "extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62",
  "type": "extension-definition",
  "spec_version": "2.1",
  "name": "New SDO 1",
  "description": "This schema creates a new object type called my-favorite-sdo-1",
  "created": "2014-02-20T09:16:08.989000Z",
  "modified": "2014-02-20T09:16:08.989000Z",
  "created_by_ref": "identity--11b76a96-5d2b-45e0-8a5a-f6994f370731",
  "schema": "https://www.example.com/schema-my-favorite-sdo-1/v1/",
  "version": "1.2.1",
  "extension_types": ["new-sdo"]
}`
	newSDOExample = `{
  "type": "my-favorite-sdo",
  "spec_version": "2.1",
  "id": "my-favorite-sdo--ac97aae4-83f1-46ca-a351-7aeb76678189",
  "created": "2014-02-20T09:16:08.989000Z",
  "modified": "2014-02-20T09:16:08.989000Z",
  "name": "This is the name of my favorite",
  "some_property_name1": "value1",
  "some_property_name2": "value2",
  "extensions": {
    "extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62": {
      "extension_type": "new-sdo"
    }
  }
}`
	ipv4Example = `{
  "type": "ipv4-addr",
  "spec_version": "2.1",
  "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
  "value": "198.51.100.3"
}`
)

// obj is a JSON object under construction, its members in order.
type obj [][2]string

// base is a valid indicator to derive test objects from.
var base = obj{
	{"type", `"indicator"`},
	{"spec_version", `"2.1"`},
	{"id", `"indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"`},
	{"created", `"2020-01-01T00:00:00.000Z"`},
	{"modified", `"2020-01-02T00:00:00.000Z"`},
	{"pattern", `"[ipv4-addr:value = '198.51.100.1']"`},
	{"pattern_type", `"stix"`},
	{"valid_from", `"2020-01-01T00:00:00Z"`},
}

// with returns o with the member name set to the JSON text v, replaced in
// place or added at the end.
func (o obj) with(name, v string) obj {
	o = slices.Clone(o)
	for i := range o {
		if o[i][0] == name {
			o[i][1] = v
			return o
		}
	}
	return append(o, [2]string{name, v})
}

// without returns o without the member name.
func (o obj) without(name string) obj {
	return slices.DeleteFunc(slices.Clone(o), func(m [2]string) bool { return m[0] == name })
}

func (o obj) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + m[0] + `":` + m[1])
	}
	b.WriteByte('}')
	return b.String()
}

var (
	sco = obj{
		{"type", `"ipv4-addr"`},
		{"spec_version", `"2.1"`},
		{"id", `"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"`},
		{"value", `"198.51.100.3"`},
	}
	marking = obj{
		{"type", `"marking-definition"`},
		{"spec_version", `"2.1"`},
		{"id", `"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"`},
		{"created", `"2022-10-01T00:00:00.000Z"`},
	}
	newSCO = obj{
		{"type", `"x-thing"`},
		{"spec_version", `"2.1"`},
		{"id", `"x-thing--ac97aae4-83f1-46ca-a351-7aeb76678189"`},
		{"extensions", `{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"new-sco"}}`},
	}
	extDef = obj{
		{"type", `"extension-definition"`},
		{"spec_version", `"2.1"`},
		{"id", `"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62"`},
		{"created", `"2020-01-01T00:00:00.000Z"`},
		{"modified", `"2020-01-01T00:00:00.000Z"`},
		{"created_by_ref", `"identity--11b76a96-5d2b-45e0-8a5a-f6994f370731"`},
		{"name", `"x"`},
		{"schema", `"https://example.com/s"`},
		{"version", `"1.0.0"`},
		{"extension_types", `["new-sdo","property-extension"]`},
	}
)

const (
	amberRef = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	greenRef = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
)

// validObjectTests are objects Parse accepts, with the fields it fills
// (Raw and Hash are checked for all).
var validObjectTests = []struct {
	name string
	in   string
	want Object
}{
	{
		name: "indicator example",
		in:   indicatorExample,
		want: Object{Type: "indicator", ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", SpecVersion: "2.1",
			Created: "2016-04-06T20:03:48.000Z", Modified: "2016-04-06T20:03:48.000Z", Version: "2016-04-06T20:03:48.000Z",
			VersionKey: "20160406T200348.000000000"},
	},
	{
		name: "report example",
		in:   reportExample,
		want: Object{Type: "report", ID: "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3", SpecVersion: "2.1",
			Created: "2015-12-21T19:59:11.000Z", Modified: "2016-05-21T19:59:11.000Z", Version: "2016-05-21T19:59:11.000Z",
			VersionKey: "20160521T195911.000000000", MarkingRefs: []string{amberRef}},
	},
	{
		name: "relationship example",
		in:   relationshipExample,
		want: Object{Type: "relationship", ID: "relationship--57b56a43-b8b0-4cba-9deb-34e3e1faed9e", SpecVersion: "2.1",
			Created: "2016-04-06T20:06:37.000Z", Modified: "2016-04-06T20:06:37.000Z", Version: "2016-04-06T20:06:37.000Z",
			VersionKey: "20160406T200637.000000000"},
	},
	{
		name: "TLP 2.0 AMBER",
		in:   tlpAmber,
		want: Object{Type: "marking-definition", ID: amberRef, SpecVersion: "2.1",
			Created: "2022-10-01T00:00:00.000Z", Version: "2022-10-01T00:00:00.000Z", VersionKey: "20221001T000000.000000000"},
	},
	{
		name: "extension-definition example",
		in:   extensionDefinitionExample,
		want: Object{Type: "extension-definition", ID: "extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62", SpecVersion: "2.1",
			Created: "2014-02-20T09:16:08.989000Z", Modified: "2014-02-20T09:16:08.989000Z", Version: "2014-02-20T09:16:08.989000Z",
			VersionKey: "20140220T091608.989000000"},
	},
	{
		name: "new-sdo example",
		in:   newSDOExample,
		want: Object{Type: "my-favorite-sdo", ID: "my-favorite-sdo--ac97aae4-83f1-46ca-a351-7aeb76678189", SpecVersion: "2.1",
			Created: "2014-02-20T09:16:08.989000Z", Modified: "2014-02-20T09:16:08.989000Z", Version: "2014-02-20T09:16:08.989000Z",
			VersionKey: "20140220T091608.989000000"},
	},
	{
		name: "ipv4-addr example",
		in:   ipv4Example,
		want: Object{Type: "ipv4-addr", ID: "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", SpecVersion: "2.1"},
	},
	{
		name: "revoked, markings and common properties",
		in: base.with("revoked", "true").with("labels", `["a","b"]`).with("confidence", "100").with("lang", `"en"`).
			with("created_by_ref", `"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"`).
			with("object_marking_refs", `["`+amberRef+`","`+greenRef+`"]`).
			with("granular_markings", `[{"selectors":["description"],"marking_ref":"`+amberRef+`"},{"selectors":["name","labels.[0]"],"lang":"fr"}]`).
			with("external_references", `[{"source_name":"capec","external_id":"CAPEC-163"},{"source_name":"x","url":"https://example.com/","hashes":{"SHA-256":"00"}},{"source_name":"y","description":"z"}]`).
			String(),
		want: Object{Type: "indicator", ID: "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", SpecVersion: "2.1",
			Created: "2020-01-01T00:00:00.000Z", Modified: "2020-01-02T00:00:00.000Z", Version: "2020-01-02T00:00:00.000Z",
			VersionKey: "20200102T000000.000000000", Revoked: true, MarkingRefs: []string{amberRef, greenRef}},
	},
	{
		name: "revoked false, confidence 0",
		in:   base.with("revoked", "false").with("confidence", "0").String(),
		want: Object{Type: "indicator", ID: "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", SpecVersion: "2.1",
			Created: "2020-01-01T00:00:00.000Z", Modified: "2020-01-02T00:00:00.000Z", Version: "2020-01-02T00:00:00.000Z",
			VersionKey: "20200102T000000.000000000"},
	},
	{
		name: "modified equals created, nanoseconds, no fraction",
		in:   base.with("created", `"2020-01-01T00:00:00Z"`).with("modified", `"2020-01-01T00:00:00.000000000Z"`).String(),
		want: Object{Type: "indicator", ID: "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", SpecVersion: "2.1",
			Created: "2020-01-01T00:00:00Z", Modified: "2020-01-01T00:00:00.000000000Z", Version: "2020-01-01T00:00:00.000000000Z",
			VersionKey: "20200101T000000.000000000"},
	},
	{
		name: "modified one nanosecond after created",
		in:   base.with("created", `"2020-01-01T00:00:00.123456789Z"`).with("modified", `"2020-01-01T00:00:00.12345679Z"`).String(),
		want: Object{Type: "indicator", ID: "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", SpecVersion: "2.1",
			Created: "2020-01-01T00:00:00.123456789Z", Modified: "2020-01-01T00:00:00.12345679Z", Version: "2020-01-01T00:00:00.12345679Z",
			VersionKey: "20200101T000000.123456790"},
	},
	{
		name: "custom properties and toplevel-property-extension",
		in: base.with("x_acme_score", "7.50").with("acme_tags", `{"b":[1,2],"a":null}`).
			with("extensions", `{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"toplevel-property-extension"},"extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce":{}}`).String(),
		want: Object{Type: "indicator", ID: "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", SpecVersion: "2.1",
			Created: "2020-01-01T00:00:00.000Z", Modified: "2020-01-02T00:00:00.000Z", Version: "2020-01-02T00:00:00.000Z",
			VersionKey: "20200102T000000.000000000"},
	},
	{
		name: "predefined extension",
		in: `{"type":"file","spec_version":"2.1","id":"file--e277603e-1060-5ad4-9937-c26c97f1ca68","name":"a.pdf",` +
			`"extensions":{"pdf-ext":{"version":"1.7"},"ntfs-ext":{"sid":"1"}}}`,
		want: Object{Type: "file", ID: "file--e277603e-1060-5ad4-9937-c26c97f1ca68", SpecVersion: "2.1"},
	},
	{
		// STIX 2.1 section 6.1: spec_version is optional on SCOs, "2.1" implied.
		name: "SCO without spec_version",
		in:   `{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`,
		want: Object{Type: "ipv4-addr", ID: "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", SpecVersion: "2.1"},
	},
	{
		name: "new-sco without created",
		in:   newSCO.String(),
		want: Object{Type: "x-thing", ID: "x-thing--ac97aae4-83f1-46ca-a351-7aeb76678189", SpecVersion: "2.1"},
	},
	{
		name: "new-sro",
		in: base.with("type", `"x-link"`).with("id", `"x-link--ac97aae4-83f1-46ca-a351-7aeb76678189"`).
			with("extensions", `{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"new-sro"}}`).String(),
		want: Object{Type: "x-link", ID: "x-link--ac97aae4-83f1-46ca-a351-7aeb76678189", SpecVersion: "2.1",
			Created: "2020-01-01T00:00:00.000Z", Modified: "2020-01-02T00:00:00.000Z", Version: "2020-01-02T00:00:00.000Z",
			VersionKey: "20200102T000000.000000000"},
	},
	{
		name: "SCO with created only",
		in:   sco.with("created", `"2020-01-01T00:00:00Z"`).String(),
		want: Object{Type: "ipv4-addr", ID: "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", SpecVersion: "2.1",
			Created: "2020-01-01T00:00:00Z", Version: "2020-01-01T00:00:00Z", VersionKey: "20200101T000000.000000000"},
	},
	{
		name: "UUID variant 8, version 0, year 0000 and 9999",
		in: base.with("id", `"indicator--00000000-0000-0000-8000-000000000000"`).
			with("created", `"0000-01-01T00:00:00Z"`).with("modified", `"9999-12-31T23:59:59.999999999Z"`).String(),
		want: Object{Type: "indicator", ID: "indicator--00000000-0000-0000-8000-000000000000", SpecVersion: "2.1",
			Created: "0000-01-01T00:00:00Z", Modified: "9999-12-31T23:59:59.999999999Z", Version: "9999-12-31T23:59:59.999999999Z",
			VersionKey: "99991231T235959.999999999"},
	},
	{
		name: "whitespace and escapes",
		in:   " \n{\"type\" : \"indicator\" ,\"spec_version\":\"2\\u002e1\",\"id\":\"indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2\",\"created\":\"2020-01-01T00:00:00Z\",\"modified\":\"2020-01-01T00:00:00Z\"}\r\n\t",
		want: Object{Type: "indicator", ID: "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", SpecVersion: "2.1",
			Created: "2020-01-01T00:00:00Z", Modified: "2020-01-01T00:00:00Z", Version: "2020-01-01T00:00:00Z",
			VersionKey: "20200101T000000.000000000"},
	},
	{
		name: "three-character type",
		in:   base.with("type", `"abc"`).with("id", `"abc--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"`).with("extensions", `{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"new-sdo"}}`).String(),
		want: Object{Type: "abc", ID: "abc--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", SpecVersion: "2.1",
			Created: "2020-01-01T00:00:00.000Z", Modified: "2020-01-02T00:00:00.000Z", Version: "2020-01-02T00:00:00.000Z",
			VersionKey: "20200102T000000.000000000"},
	},
}

// invalidObjectTests are objects Parse refuses, with part of the error.
var invalidObjectTests = []struct {
	name, in, want string
}{
	{"not JSON", `{"type":`, "stix: json: offset 8: unexpected end of input"},
	{"array", `[` + indicatorExample + `]`, "top-level value is not a JSON object"},
	{"string", `"indicator"`, "top-level value is not a JSON object"},
	{"duplicate property", base.with("zzz", "1").String()[:len(base.String())-1] + `,"type":"indicator"}`, `duplicate member name "type"`},
	{"duplicate nested", base.with("x_data", `{"a":{"k":1,"k":2}}`).String(), `duplicate member name "k"`},
	{"invalid UTF-8 value", base.with("name", "\"\xff\"").String(), "invalid UTF-8"},
	{"lone surrogate", base.with("name", `"\udead"`).String(), "lone low surrogate"},
	{"trailing garbage", base.String() + "}", "data after the top-level value"},

	{"type missing", base.without("type").String(), `property "type": required`},
	{"type not string", base.with("type", "1").String(), `property "type": must be a string`},
	{"type too short", base.with("type", `"ab"`).String(), `property "type": "ab" must be 3 to 250 characters long`},
	{"type too long", base.with("type", `"`+strings.Repeat("a", 251)+`"`).String(), "must be 3 to 250 characters long"},
	{"type upper case", base.with("type", `"Indicator"`).String(), "may contain only a-z, 0-9 and hyphens"},
	{"type underscore", base.with("type", `"x_thing"`).String(), "may contain only a-z, 0-9 and hyphens"},
	{"type leading hyphen", base.with("type", `"-xyz"`).String(), "must not start or end with a hyphen"},
	{"type trailing hyphen", base.with("type", `"xyz-"`).String(), "must not start or end with a hyphen"},
	{"type double hyphen", base.with("type", `"x--yz"`).String(), "must not contain consecutive hyphens"},
	{"bundle", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.1","objects":[]}`, `"bundle" is not a STIX object`},

	{"id missing", base.without("id").String(), `property "id": required`},
	{"id not string", base.with("id", `null`).String(), `property "id": must be a string`},
	{"id other type", base.with("id", `"malware--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"`).String(), `does not start with the object's type "indicator"`},
	{"id no separator", base.with("id", `"indicator-26ffb872-1dd9-446e-b6f5-d58527e5b5d2"`).String(), "not an identifier of the form type--UUID"},
	{"id upper-case UUID", base.with("id", `"indicator--26FFB872-1DD9-446E-B6F5-D58527E5B5D2"`).String(), "lower-case hexadecimal"},
	{"id short UUID", base.with("id", `"indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d"`).String(), "36 characters"},
	{"id UUID hyphens", base.with("id", `"indicator--26ffb8721-dd9-446e-b6f5-d58527e5b5d2"`).String(), "of the form xxxxxxxx-xxxx"},
	{"id UUID braces", base.with("id", `"indicator--{6ffb872-1dd9-446e-b6f5-d58527e5b5d}"`).String(), "lower-case hexadecimal"},
	{"id UUID NCS variant", base.with("id", `"indicator--26ffb872-1dd9-446e-76f5-d58527e5b5d2"`).String(), "not of the RFC 4122 variant"},
	{"id UUID Microsoft variant", base.with("id", `"indicator--26ffb872-1dd9-446e-c6f5-d58527e5b5d2"`).String(), "not of the RFC 4122 variant"},
	{"id nil UUID", base.with("id", `"indicator--00000000-0000-0000-0000-000000000000"`).String(), "not of the RFC 4122 variant"},
	{"id trailing", base.with("id", `"indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2 "`).String(), "36 characters"},

	{"spec_version missing", base.without("spec_version").String(), `property "spec_version": required; only STIX 2.1 objects are accepted`},
	{"spec_version 2.0", base.with("spec_version", `"2.0"`).String(), `spec_version must be "2.1"`},
	{"spec_version number", base.with("spec_version", `2.1`).String(), `spec_version must be "2.1"`},
	{"spec_version 2.10", base.with("spec_version", `"2.10"`).String(), `spec_version must be "2.1"`},

	{"created missing", base.without("created").String(), `property "created": required for "indicator"`},
	{"modified missing", base.without("modified").String(), `property "modified": required for "indicator"`},
	{"created not string", base.with("created", `1577836800`).String(), `property "created": must be a timestamp string`},
	{"created no seconds", base.with("created", `"2020-01-01T00:00Z"`).String(), `property "created": "2020-01-01T00:00Z" is not a STIX timestamp: missing seconds`},
	{"created offset", base.with("created", `"2020-01-01T00:00:00+00:00"`).String(), "not an offset"},
	{"created lower z", base.with("created", `"2020-01-01T00:00:00z"`).String(), "upper-case 'Z'"},
	{"created lower t", base.with("created", `"2020-01-01t00:00:00Z"`).String(), "upper-case 'T'"},
	{"created ten digits", base.with("created", `"2020-01-01T00:00:00.0000000000Z"`).String(), "more than 9 fractional digits"},
	{"modified before created", base.with("modified", `"2019-12-31T23:59:59.999Z"`).String(), `stix: property "modified": before "created": invalid STIX object`},
	{"modified a nanosecond before created", base.with("created", `"2020-01-01T00:00:00.000000001Z"`).with("modified", `"2020-01-01T00:00:00Z"`).String(), `before "created"`},
	{"marking without created", marking.without("created").String(), `property "created": required for "marking-definition"`},
	{"marking with modified", marking.with("modified", `"2022-10-01T00:00:00.000Z"`).String(), "marking definitions are not versioned"},
	{"SCO bad created", sco.with("created", `"yesterday"`).String(), "is not a STIX timestamp"},

	{"revoked string", base.with("revoked", `"true"`).String(), `property "revoked": must be a boolean`},
	{"labels string", base.with("labels", `"a"`).String(), `property "labels": must be a list`},
	{"labels empty", base.with("labels", `[]`).String(), `property "labels": must not be empty`},
	{"labels number", base.with("labels", `["a",1]`).String(), `property "labels[1]": must be a string`},
	{"confidence 101", base.with("confidence", `101`).String(), `property "confidence": must be an integer from 0 to 100`},
	{"confidence 999", base.with("confidence", `999`).String(), "must be an integer from 0 to 100"},
	{"confidence negative", base.with("confidence", `-1`).String(), "must be an integer from 0 to 100"},
	{"confidence minus zero", base.with("confidence", `-0`).String(), "must be an integer from 0 to 100"},
	{"confidence fraction", base.with("confidence", `50.5`).String(), "must be an integer from 0 to 100"},
	{"confidence exponent", base.with("confidence", `5e1`).String(), "must be an integer from 0 to 100"},
	{"confidence string", base.with("confidence", `"50"`).String(), "must be an integer from 0 to 100"},
	{"lang number", base.with("lang", `1`).String(), `property "lang": must be a string`},
	{"created_by_ref not identity", base.with("created_by_ref", `"indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"`).String(), `property "created_by_ref": "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2" is not the id of a identity object`},
	{"created_by_ref bad", base.with("created_by_ref", `"identity--1"`).String(), `property "created_by_ref": "identity--1" is not an identifier`},
	{"object_marking_refs string", base.with("object_marking_refs", `"`+amberRef+`"`).String(), `property "object_marking_refs": must be a list`},
	{"object_marking_refs empty", base.with("object_marking_refs", `[]`).String(), "must not be empty"},
	{"object_marking_refs other type", base.with("object_marking_refs", `["`+amberRef+`","identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"]`).String(), `property "object_marking_refs[1]": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff" is not the id of a marking-definition object`},
	{"granular_markings object", base.with("granular_markings", `{}`).String(), `property "granular_markings": must be a list`},
	{"granular_markings element", base.with("granular_markings", `[1]`).String(), `property "granular_markings[0]": must be an object`},
	{"granular_markings no selectors", base.with("granular_markings", `[{"marking_ref":"`+amberRef+`"}]`).String(), `property "granular_markings[0].selectors": required`},
	{"granular_markings empty selectors", base.with("granular_markings", `[{"selectors":[],"marking_ref":"`+amberRef+`"}]`).String(), `property "granular_markings[0].selectors": must not be empty`},
	{"granular_markings selector number", base.with("granular_markings", `[{"selectors":[1],"marking_ref":"`+amberRef+`"}]`).String(), `property "granular_markings[0].selectors[0]": must be a string`},
	{"granular_markings neither", base.with("granular_markings", `[{"selectors":["name"]}]`).String(), "has neither marking_ref nor lang"},
	{"granular_markings both", base.with("granular_markings", `[{"selectors":["name"],"lang":"en","marking_ref":"`+amberRef+`"}]`).String(), "has both marking_ref and lang"},
	{"granular_markings bad ref", base.with("granular_markings", `[{"selectors":["name"],"marking_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"}]`).String(), `property "granular_markings[0].marking_ref"`},
	{"granular_markings lang number", base.with("granular_markings", `[{"selectors":["name"],"lang":1}]`).String(), `property "granular_markings[0].lang": must be a string`},
	{"external_references empty", base.with("external_references", `[]`).String(), `property "external_references": must not be empty`},
	{"external_references no source_name", base.with("external_references", `[{"url":"https://example.com/"}]`).String(), `property "external_references[0].source_name": required`},
	{"external_references source_name number", base.with("external_references", `[{"source_name":1,"url":"u"}]`).String(), `property "external_references[0].source_name": must be a string`},
	{"external_references only source_name", base.with("external_references", `[{"source_name":"x"}]`).String(), "needs at least one of description, url and external_id"},
	{"external_references url number", base.with("external_references", `[{"source_name":"x","url":1}]`).String(), `property "external_references[0].url": must be a string`},

	{"extensions list", base.with("extensions", `[]`).String(), `property "extensions": must be an object`},
	{"extensions unknown key", base.with("extensions", `{"x-acme":{}}`).String(), `key "x-acme" is neither an extension-definition id nor an extension STIX 2.1 predefines for "indicator"`},
	{"extensions predefined on wrong type", base.with("extensions", `{"ntfs-ext":{}}`).String(), `key "ntfs-ext" is neither`},
	{"extensions predefined not object", `{"type":"file","spec_version":"2.1","id":"file--e277603e-1060-5ad4-9937-c26c97f1ca68","extensions":{"pdf-ext":1}}`, `value of "pdf-ext" must be an object`},
	{"extensions bad id", base.with("extensions", `{"extension-definition--1":{}}`).String(), `key "extension-definition--1" is not an identifier`},
	{"extensions value not object", base.with("extensions", `{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":"new-sdo"}`).String(), "must be an object"},
	{"extensions bad extension_type", base.with("extensions", `{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"new-thing"}}`).String(), "extension_type of"},
	{"extensions new-sdo on standard type", base.with("extensions", `{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"new-sdo"}}`).String(), `extension_type "new-sdo" is for objects of a new type, and "indicator" is a STIX 2.1 type`},
	{"custom type without extension", base.with("type", `"x-thing"`).with("id", `"x-thing--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"`).String(), `property "extensions": "x-thing" is not a STIX 2.1 type, so an extension with extension_type new-sdo, new-sco or new-sro is required`},
	{"custom type with property extension only", base.with("type", `"x-thing"`).with("id", `"x-thing--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"`).with("extensions", `{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"property-extension"}}`).String(), `"x-thing" is not a STIX 2.1 type`},
	{"custom type two new types", newSCO.with("extensions", `{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"new-sco"},"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"new-sdo"}}`).String(), "more than one extension"},
	{"new-sdo without modified", newSCO.with("extensions", `{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"new-sdo"}}`).with("created", `"2020-01-01T00:00:00Z"`).String(), `property "modified": required for "x-thing"`},

	{"extension-definition without created_by_ref", extDef.without("created_by_ref").String(), `property "created_by_ref": required for "extension-definition"`},
	{"extension-definition without name", extDef.without("name").String(), `property "name": required for "extension-definition"`},
	{"extension-definition without schema", extDef.without("schema").String(), `property "schema": required`},
	{"extension-definition without version", extDef.without("version").String(), `property "version": required`},
	{"extension-definition version number", extDef.with("version", "1").String(), `property "version": must be a string`},
	{"extension-definition without extension_types", extDef.without("extension_types").String(), `property "extension_types": required`},
	{"extension-definition empty extension_types", extDef.with("extension_types", `[]`).String(), `property "extension_types": must not be empty`},
	{"extension-definition bad extension_types", extDef.with("extension_types", `["new-sdo","x"]`).String(), `property "extension_types[1]": must be new-sdo`},

	{"property name short", base.with("ab", "1").String(), `property "ab": invalid name`},
	{"property name upper case", base.with("Name", "1").String(), `property "Name": invalid name`},
	{"property name hyphen", base.with("x-name", "1").String(), `property "x-name": invalid name`},
	{"property name too long", base.with(strings.Repeat("a", 251), "1").String(), "invalid name"},
	{"property name empty", base.with("", "1").String(), `property "": invalid name`},
}

func TestParse(t *testing.T) {
	for _, tc := range validObjectTests {
		t.Run(tc.name, func(t *testing.T) {
			raw := []byte(tc.in)
			got, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse(%s) error: %v", tc.in, err)
			}
			canon, err := Canonicalize(raw)
			if err != nil {
				t.Fatalf("Canonicalize(%s) error: %v", tc.in, err)
			}
			want := tc.want
			want.Raw = raw
			want.Hash = sha256.Sum256(canon)
			if !equalObjects(got, &want) {
				t.Errorf("Parse(%s) =\n%+v, want\n%+v", tc.in, *got, want)
			}
			if &got.Raw[0] != &raw[0] {
				t.Errorf("Parse(%s).Raw is a copy, want the input slice", tc.in)
			}
		})
	}
}

func equalObjects(a, b *Object) bool {
	return a.Type == b.Type && a.ID == b.ID && a.SpecVersion == b.SpecVersion &&
		a.Created == b.Created && a.Modified == b.Modified && a.Version == b.Version &&
		a.VersionKey == b.VersionKey && a.Revoked == b.Revoked && slices.Equal(a.MarkingRefs, b.MarkingRefs) &&
		string(a.Raw) == string(b.Raw) && a.Hash == b.Hash
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range invalidObjectTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want error", tc.in, got)
			}
			if got != nil {
				t.Errorf("Parse(%s) = %+v with error, want nil", tc.in, got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%s) error %v does not wrap ErrInvalid", tc.in, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("Parse(%s) error %q, want it to contain %q", tc.in, msg, tc.want)
			}
			if !strings.HasPrefix(msg, "stix: ") || !strings.HasSuffix(msg, ": invalid STIX object") {
				t.Errorf("Parse(%s) error %q, want the form \"stix: ...: invalid STIX object\"", tc.in, msg)
			}
		})
	}
}

// TestParseHash checks that the hash depends on content only, not on the
// JSON encoding.
func TestParseHash(t *testing.T) {
	a, err := Parse([]byte(indicatorExample))
	if err != nil {
		t.Fatal(err)
	}
	canon, err := Canonicalize([]byte(indicatorExample))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(canon)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash != b.Hash {
		t.Errorf("Parse(example).Hash = %x, Parse(canonical example).Hash = %x, want equal", a.Hash, b.Hash)
	}
	c, err := Parse([]byte(strings.Replace(indicatorExample, "Poison Ivy Malware", "Poison Ivy", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash == c.Hash {
		t.Errorf("objects with different names have the same hash %x", a.Hash)
	}
}

func TestParseAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation count")
	}
	raw := []byte(benchObject)
	if _, err := Parse(raw); err != nil {
		t.Fatal(err)
	}
	// The Object, one string for all its strings, and MarkingRefs; the
	// parse tree is pooled.
	const max = 3
	if got := testing.AllocsPerRun(100, func() { _, _ = Parse(raw) }); got > max {
		t.Errorf("Parse allocates %v times per object, want at most %d", got, max)
	}
}

func TestGranularRefs(t *testing.T) {
	in := base.with("granular_markings", `[{"selectors":["description"],"marking_ref":"`+amberRef+`"},{"selectors":["name"],"lang":"fr"},{"selectors":["labels"],"marking_ref":"`+greenRef+`"}]`).String()
	o, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{amberRef, greenRef}; !slices.Equal(o.GranularRefs, want) {
		t.Errorf("GranularRefs = %v, want %v", o.GranularRefs, want)
	}
	if o, _ := Parse([]byte(base.String())); o.GranularRefs != nil {
		t.Errorf("GranularRefs without granular_markings = %v, want nil", o.GranularRefs)
	}
}
