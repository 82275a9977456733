package marking

import "testing"

// Benchmarks of the hot paths: Compute runs once per stored object
// version, Allows once per object and reader where the store cannot
// filter in SQL.

func BenchmarkCompute(b *testing.B) {
	r := testRegistry(b)
	for _, bc := range []struct {
		name string
		obj  Object
	}{
		{"GREEN", Object{Originator: "MEX", MarkingRefs: []string{TLPGreen}}},
		{"AMBER+rel_to", Object{Originator: "MEX", MarkingRefs: []string{TLPAmber, relUSACAN}}},
		{"RED+rel_to+granular", Object{Originator: "MEX", MarkingRefs: []string{TLPRed, relUSACAN, relLater}, GranularRefs: []string{TLPAmber, relUSA}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compute(bc.obj, mexUSACAN, r)
			}
		})
	}
}

func BenchmarkAllows(b *testing.B) {
	r := testRegistry(b)
	members := []string{"MEX", "USA", "CAN", "GTM", "COL"}
	for _, bc := range []struct {
		name  string
		obj   Object
		party string
	}{
		{"all members", Object{Originator: "MEX", MarkingRefs: []string{TLPGreen}}, "COL"},
		{"parties", Object{Originator: "MEX", MarkingRefs: []string{TLPAmber, relUSACAN, relLater}}, "USA"},
		{"originator", Object{Originator: "MEX", MarkingRefs: []string{TLPRed}}, "MEX"},
	} {
		rs := Compute(bc.obj, Group{Members: members}, r)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs.Allows(bc.party, members, testNow)
			}
		})
	}
}

func BenchmarkRelease(b *testing.B) {
	r := testRegistry(b)
	obj := Object{Originator: "MEX", MarkingRefs: []string{TLPAmber, relUSACAN}}
	b.ReportAllocs()
	for b.Loop() {
		Release("CAN", obj, mexUSACAN, r, testNow)
	}
}
