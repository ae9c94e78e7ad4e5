// Package ratelimit provides Memory, the in-memory signet.RateLimiter: a
// GCRA budget of requests per second with a burst, and a budget of bytes
// per UTC minute, per key id.
//
// Memory suits a single replica. Replicas that must share one budget use
// the Redis limiter (package redis), which gives the same answers: both are
// checked against the same table of cases (internal/limittest).
//
// Entry points: Memory (its Allow and AddBytes); Params and Minute, the
// arithmetic shared with the Redis limiter.
package ratelimit
