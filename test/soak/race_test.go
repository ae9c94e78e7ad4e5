//go:build race

package soak_test

// raceEnabled: under the race detector RSS is mostly its shadow memory,
// which follows the peak heap and is never given back, so the soak's RSS
// check means nothing there (make test runs the soak again without -race).
const raceEnabled = true
