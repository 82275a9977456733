package stix_test

import (
	"errors"
	"fmt"

	"github.com/puente-project/puente/internal/stix"
)

func ExampleParse() {
	o, err := stix.Parse([]byte(`{
  "type": "indicator",
  "spec_version": "2.1",
  "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created": "2016-04-06T20:03:48.000Z",
  "modified": "2016-04-06T20:03:48.000Z",
  "pattern": "[ipv4-addr:value = '198.51.100.1']",
  "pattern_type": "stix",
  "valid_from": "2016-01-01T00:00:00Z",
  "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(o.ID)
	fmt.Println(o.Version, o.VersionKey)
	fmt.Println(o.MarkingRefs)

	_, err = stix.Parse([]byte(`{"type": "indicator", "type": "malware"}`))
	fmt.Println(err)
	// Output:
	// indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
	// 2016-04-06T20:03:48.000Z 20160406T200348.000000000
	// [marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421]
	// stix: json: offset 0: object has duplicate member name "type": invalid STIX object
}

func ExampleCanonicalize() {
	c, err := stix.Canonicalize([]byte(`{"b": 1.50, "a": [1E3, "\u00e9\u000a"]}`))
	fmt.Printf("%s %v\n", c, err)
	// Output:
	// {"a":[1000,"é\n"],"b":1.5} <nil>
}

func ExampleParseTimestamp() {
	t, err := stix.ParseTimestamp("2016-04-06T20:03:48.123456789000Z")
	fmt.Println(t, err)
	fmt.Println(stix.VersionKey(t))

	_, err = stix.ParseTimestamp("2016-04-06T20:03:48.1234567891Z")
	fmt.Println(errors.Is(err, stix.ErrPrecision))
	// Output:
	// 2016-04-06 20:03:48.123456789 +0000 UTC <nil>
	// 20160406T200348.123456789
	// true
}
