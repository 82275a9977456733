//go:build race

package node

// raceEnabled: the race detector slows tests about tenfold; large tests
// scale down.
const raceEnabled = true
