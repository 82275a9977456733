package marking_test

import (
	"fmt"
	"time"

	"github.com/puente-project/puente/internal/marking"
)

// A Mexican report marked TLP:RED, released by a releasability marking to
// the United States only, in a working group of three parties.
func ExampleRelease() {
	r := marking.NewRegistry()
	_, err := r.Add([]byte(`{
  "type": "marking-definition",
  "spec_version": "2.1",
  "id": "marking-definition--6c1f0b7e-3f0a-4d8e-9a51-2b7e4c1d9f30",
  "created": "2026-01-10T12:00:00.000Z",
  "name": "REL TO USA",
  "extensions": {
    "` + marking.ExtensionID + `": {
      "extension_type": "property-extension",
      "rel_to": ["USA"],
      "originator": "MEX",
      "further_sharing": false
    }
  }
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	obj := marking.Object{
		Originator:  "MEX",
		MarkingRefs: []string{marking.TLPRed, "marking-definition--6c1f0b7e-3f0a-4d8e-9a51-2b7e4c1d9f30"},
	}
	g := marking.Group{Members: []string{"MEX", "USA", "CAN"}}
	now := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	for _, party := range []string{"MEX", "USA", "CAN", "GTM"} {
		d := marking.Release(party, obj, g, r, now)
		fmt.Println(party, d.Allow, d.Reason)
	}
	fmt.Printf("%+v\n", marking.Compute(obj, g, r))
	// Output:
	// MEX true released: originator
	// USA true released: TLP:RED to USA
	// CAN false TLP:RED: not a named recipient
	// GTM false not a member of the group
	// {Originator:MEX AllMembers:false Parties:[USA] Expires:0001-01-01 00:00:00 +0000 UTC FurtherSharing:false}
}

// The United States node received the report above. Without further
// sharing, its replica is for the United States (and Mexico) only.
func ExampleOnward() {
	original := marking.ReleaseSet{Originator: "MEX", AllMembers: true}
	members := []string{"MEX", "USA", "CAN"}
	fmt.Printf("%+v\n", marking.Onward(original, members, "USA"))
	original.FurtherSharing = true
	fmt.Printf("%+v\n", marking.Onward(original, members, "USA"))
	// Output:
	// {Originator:MEX AllMembers:false Parties:[USA] Expires:0001-01-01 00:00:00 +0000 UTC FurtherSharing:false}
	// {Originator:MEX AllMembers:false Parties:[CAN USA] Expires:0001-01-01 00:00:00 +0000 UTC FurtherSharing:true}
}

func ExampleParseDefinition() {
	d, err := marking.ParseDefinition([]byte(`{
  "type": "marking-definition",
  "spec_version": "2.1",
  "id": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
  "created": "2022-10-01T00:00:00.000Z",
  "name": "TLP:RED",
  "extensions": {
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
      "extension_type": "property-extension",
      "tlp_2_0": "red"
    }
  }
}`))
	fmt.Println(d.Kind, d.TLP, err)

	_, err = marking.ParseDefinition([]byte(`{
  "type": "marking-definition",
  "spec_version": "2.1",
  "id": "marking-definition--6c1f0b7e-3f0a-4d8e-9a51-2b7e4c1d9f30",
  "created": "2026-01-10T12:00:00.000Z",
  "extensions": {
    "` + marking.ExtensionID + `": {
      "extension_type": "property-extension",
      "rel_to": ["usa"],
      "originator": "MEX"
    }
  }
}`))
	fmt.Println(err)
	// Output:
	// TLP TLP:RED <nil>
	// marking: releasability extension: "rel_to": "usa" is not a party code (three upper-case letters, ISO 3166-1 alpha-3): invalid marking
}
