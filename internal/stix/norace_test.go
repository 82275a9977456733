//go:build !race

package stix

// raceEnabled is set when the race detector, which defeats sync.Pool, is on.
const raceEnabled = false
