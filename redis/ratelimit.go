package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/ratelimit"
)

// RateLimiter is a signet.RateLimiter in Redis: a key's budget holds in
// total across replicas. It answers exactly as ratelimit.Memory does
// (same GCRA parameters, same microsecond arithmetic), each decision made
// by one Lua script, so concurrent requests on several replicas cannot
// both take the last unit of a budget.
type RateLimiter struct {
	// Client is the connection; it must not be nil.
	Client *Client
	// Prefix starts every key; "" means DefaultPrefix.
	Prefix string
	// Now is the clock; nil means time.Now. Replicas' clocks should agree
	// to within a few milliseconds (NTP): a replica ahead spends budget
	// early, one behind waits longer.
	Now func() time.Time
}

var _ signet.RateLimiter = (*RateLimiter)(nil)

// allowScript is the GCRA decision plus the byte check, atomically. Times
// are unix microseconds; every value stays below 2^53 (see
// ratelimit.MaxInterval), so Lua's doubles compute exactly, and '%d'
// writes the stored time without an exponent.
//
//	KEYS[1] the key's theoretical arrival time (TAT)
//	KEYS[2] the key's bytes in the current minute
//	ARGV    now, interval (0: requests unlimited), tolerance,
//	        byte limit (0: unlimited), time until the next minute,
//	        extra TTL in ms
//
// It returns {wait, why}: wait 0 means allowed (and the TAT advanced);
// otherwise nothing changed and why is 1 (requests) or 2 (bytes).
var allowScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local blimit = tonumber(ARGV[4])
local untilNext = tonumber(ARGV[5])
local wait, why, newtat = 0, 0, 0
if interval > 0 then
  local tat = tonumber(redis.call('GET', KEYS[1])) or now
  if tat < now then tat = now end
  newtat = tat + interval
  local allowAt = newtat - tolerance
  if allowAt > now then wait, why = allowAt - now, 1 end
end
if blimit > 0 then
  local used = tonumber(redis.call('GET', KEYS[2])) or 0
  if used >= blimit and untilNext > wait then wait, why = untilNext, 2 end
end
if wait > 0 then return {wait, why} end
if interval > 0 then
  local ttl = math.ceil((newtat - now) / 1000) + tonumber(ARGV[6])
  redis.call('SET', KEYS[1], string.format('%d', newtat), 'PX', ttl)
end
return {0, 0}
`)

// addScript charges bytes to a minute and keeps the key expiring.
//
//	KEYS[1] the key's bytes in the minute; ARGV n, TTL in ms
var addScript = goredis.NewScript(`
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
`)

// ttlSlack keeps state a little past its use: it absorbs clock differences
// between replicas, and stale state is harmless (an old TAT counts as now;
// another minute's bytes are another key).
const ttlSlack = 60_000 // ms

// Allow takes one request from keyID's budget and checks that the bytes of
// the current minute are under l.BytesPerMinute. Over budget it returns a
// *signet.RateLimitError and takes nothing. A limit of zero never touches
// Redis, so unlimited keys keep working while it is down.
func (r *RateLimiter) Allow(ctx context.Context, keyID string, l signet.RateLimit) error {
	interval, tolerance := ratelimit.Params(l)
	if interval == 0 && l.BytesPerMinute <= 0 {
		return nil
	}
	us := r.now().UnixMicro()
	minute, untilNext := ratelimit.Minute(us)
	p := prefixed(r.Prefix)
	keys := []string{p + "rate:req:" + keyID, p + "rate:bytes:" + strconv.FormatInt(minute, 10) + ":" + keyID}
	res, err := allowScript.Run(ctx, r.Client.rdb, keys,
		us, interval, tolerance, max(l.BytesPerMinute, 0), untilNext, ttlSlack).Int64Slice()
	if err != nil {
		return storeError("rate limit", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("redis: rate limit: unexpected script reply %v", res)
	}
	if wait := res[0]; wait > 0 {
		detail := ratelimit.DetailRequests
		if res[1] == 2 {
			detail = ratelimit.DetailBytes
		}
		return &signet.RateLimitError{RetryAfter: time.Duration(wait) * time.Microsecond, Detail: detail}
	}
	return nil
}

// AddBytes charges n bytes to keyID's current minute. It does nothing when
// l has no byte budget or n <= 0.
func (r *RateLimiter) AddBytes(ctx context.Context, keyID string, l signet.RateLimit, n int64) error {
	if l.BytesPerMinute <= 0 || n <= 0 {
		return nil
	}
	minute, untilNext := ratelimit.Minute(r.now().UnixMicro())
	key := prefixed(r.Prefix) + "rate:bytes:" + strconv.FormatInt(minute, 10) + ":" + keyID
	ttl := (untilNext+999)/1000 + ttlSlack
	return storeError("rate limit bytes", addScript.Run(ctx, r.Client.rdb, []string{key}, n, ttl).Err())
}

func (r *RateLimiter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
