package ratelimit

import (
	"math"

	"github.com/signet-dev/signet"
)

// Bounds on the GCRA parameters. They keep every time value the algorithm
// handles below 2^53 microseconds from now, so that the Redis twin, whose
// Lua numbers are doubles, computes exactly what Memory computes.
const (
	MaxInterval = 3_600_000_000 // microseconds: one request per hour at least
	MaxBurst    = 1_000_000
)

// Params returns l's GCRA emission interval (the time one request costs)
// and tolerance (burst × interval), both in microseconds. interval is 0
// when l does not limit requests. Burst defaults to max(1, ⌊rps⌋).
// Exported so that other limiters (package redis) compute exactly the same
// budget.
func Params(l signet.RateLimit) (interval, tolerance int64) {
	rps := l.RequestsPerSecond
	if !(rps > 0) { // also NaN
		return 0, 0
	}
	iv := math.Round(1e6 / rps)
	iv = math.Min(math.Max(iv, 1), MaxInterval)
	burst := float64(l.Burst)
	if l.Burst <= 0 {
		burst = math.Max(1, math.Floor(rps))
	}
	burst = math.Min(burst, MaxBurst)
	return int64(iv), int64(iv) * int64(burst)
}

// Minute returns the UTC minute that holds the instant us (unix
// microseconds) and the microseconds left until the next one.
func Minute(us int64) (minute, untilNext int64) {
	const perMinute = 60_000_000
	minute = us / perMinute
	if us%perMinute < 0 {
		minute-- // floor, for instants before 1970
	}
	return minute, (minute+1)*perMinute - us
}
