// Package usage meters what each key uses per UTC day: requests and bytes
// in and out. Memory is the in-memory signet.UsageRecorder; the Redis one
// (package redis) shares the counters between replicas. Both read back
// through Reader (Get, List), which the `signet usage` command uses.
//
// Entry points: Memory, Reader, Totals, Day, ParseDay.
package usage
