// Package redis keeps the state that several Signet replicas must share in
// Redis: single-use signatures (ReplayStore), rate limits (RateLimiter) and
// usage counters (Usage), through github.com/redis/go-redis.
//
// It needs Redis 6.2 or later (SET PXAT) on a single node or a primary
// with replicas; Redis Cluster is not supported.
//
// Entry points: Open returns a *Client (Ping for /readyz, Close); the stores
// are structs whose zero fields are defaults:
//
//	c, err := redis.Open("redis://127.0.0.1:6379/0")
//	replay := &redis.ReplayStore{Client: c}  // signet.ReplayStore
//	limits := &redis.RateLimiter{Client: c}  // signet.RateLimiter
//	meter := &redis.Usage{Client: c}         // signet.UsageRecorder, usage.Reader
//
// Keys (Prefix defaults to "signet:"; the key id or replay id always comes
// last, so no id can collide with another record):
//
//	signet:replay:<replay id>               string, PXAT the signature's expiry
//	signet:rate:req:<key id>                GCRA theoretical arrival time (unix µs)
//	signet:rate:bytes:<minute>:<key id>     bytes of one UTC minute (unix minutes)
//	signet:usage:<YYYY-MM-DD>:key:<key id>  hash: requests, bytes_in, bytes_out
//	signet:usage:<YYYY-MM-DD>:keys          set of the key ids of that day
//
// Outages: every error that means Redis cannot be reached or cannot serve
// (refused or timed-out connections, LOADING, READONLY, OOM, NOAUTH, ...)
// wraps signet.ErrStoreUnavailable (503 store_unavailable), so the gateway
// can fail closed, or open for keys that ask for it. Commands are not
// retried: they are not idempotent (a retried SET NX would refuse the
// request that made it). go-redis redials by itself: a dead pool is probed
// every second, so service resumes within about a second of Redis's return.
package redis
