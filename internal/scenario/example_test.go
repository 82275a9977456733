package scenario_test

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/puente-project/puente/internal/scenario"
)

// A loader posts each object to the collection of its group on the node of
// its party, in order. This example counts the objects per collection and
// type.
func ExampleObjects() {
	count := map[string]int{}
	for _, o := range scenario.Objects() {
		var head struct{ Type string }
		if err := json.Unmarshal(o.JSON, &head); err != nil {
			panic(err)
		}
		group := o.Group
		if group == "" {
			group = "(internal)"
		}
		count[fmt.Sprintf("%-22s %-4s %s", group, o.Party, head.Type)]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s %d\n", k, count[k])
	}
	fmt.Println("total", len(scenario.Objects()))
	// Output:
	// (internal)             MEX  note 2
	// (internal)             MEX  report 1
	// fentanyl               MEX  location 1
	// fentanyl               MEX  report 2
	// fentanyl               MEX  seizure 2
	// fentanyl               USA  location 1
	// fentanyl               USA  relationship 1
	// fentanyl               USA  report 1
	// fentanyl               USA  seizure 1
	// money-laundering       MEX  note 1
	// money-laundering       MEX  report 1
	// money-laundering       USA  report 1
	// precursors             MEX  location 1
	// precursors             MEX  relationship 1
	// precursors             MEX  report 1
	// precursors             MEX  seizure 2
	// security-coordination  MEX  extension-definition 1
	// security-coordination  MEX  identity 6
	// security-coordination  MEX  location 1
	// security-coordination  MEX  note 1
	// security-coordination  MEX  opinion 4
	// security-coordination  MEX  report 3
	// security-coordination  MEX  seizure 1
	// security-coordination  USA  coordination-request 1
	// security-coordination  USA  extension-definition 1
	// security-coordination  USA  identity 5
	// security-coordination  USA  note 4
	// security-coordination  USA  opinion 4
	// security-coordination  USA  relationship 1
	// security-coordination  USA  report 1
	// total 54
}
