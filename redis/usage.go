package redis

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/usage"
)

// Usage is a signet.UsageRecorder and usage.Reader in Redis: every
// replica adds to the same per-key, per-day counters.
type Usage struct {
	// Client is the connection; it must not be nil.
	Client *Client
	// Prefix starts every key; "" means DefaultPrefix.
	Prefix string
	// Retention is how long a day's counters live after their last
	// update; 0 means usage.DefaultRetention (400 days).
	Retention time.Duration
}

var (
	_ signet.UsageRecorder = (*Usage)(nil)
	_ usage.Reader         = (*Usage)(nil)
)

// Hash fields of a key's day.
const (
	fieldRequests = "requests"
	fieldBytesIn  = "bytes_in"
	fieldBytesOut = "bytes_out"
)

// listBatch bounds how many hashes one List round trip reads.
const listBatch = 500

// Record adds u to u.KeyID's counters for u.At's UTC day, in one MULTI.
func (s *Usage) Record(ctx context.Context, u signet.Usage) error {
	if u.KeyID == "" {
		return usage.ErrEmptyKeyID
	}
	day := usage.Day(u.At)
	hash, set := s.hashKey(day, u.KeyID), s.setKey(day)
	ttl := s.Retention
	if ttl <= 0 {
		ttl = usage.DefaultRetention
	}
	_, err := s.Client.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HIncrBy(ctx, hash, fieldRequests, u.Requests)
		p.HIncrBy(ctx, hash, fieldBytesIn, u.BytesIn)
		p.HIncrBy(ctx, hash, fieldBytesOut, u.BytesOut)
		p.Expire(ctx, hash, ttl)
		p.SAdd(ctx, set, u.KeyID)
		p.Expire(ctx, set, ttl)
		return nil
	})
	return storeError("usage", err)
}

// Get returns keyID's totals for day (YYYY-MM-DD); zero when it used
// nothing.
func (s *Usage) Get(ctx context.Context, keyID, day string) (usage.Totals, error) {
	if _, err := usage.ParseDay(day); err != nil {
		return usage.Totals{}, err
	}
	vals, err := s.Client.rdb.HMGet(ctx, s.hashKey(day, keyID), fieldRequests, fieldBytesIn, fieldBytesOut).Result()
	if err != nil {
		return usage.Totals{}, storeError("usage", err)
	}
	t, _, err := totals(keyID, day, vals)
	return t, err
}

// List returns the totals of every key that used something on day, sorted
// by key id.
func (s *Usage) List(ctx context.Context, day string) ([]usage.Totals, error) {
	if _, err := usage.ParseDay(day); err != nil {
		return nil, err
	}
	ids, err := s.Client.rdb.SMembers(ctx, s.setKey(day)).Result()
	if err != nil {
		return nil, storeError("usage", err)
	}
	slices.Sort(ids)
	out := make([]usage.Totals, 0, len(ids))
	for batch := range slices.Chunk(ids, listBatch) {
		cmds := make([]*goredis.SliceCmd, len(batch))
		_, err := s.Client.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, id := range batch {
				cmds[i] = p.HMGet(ctx, s.hashKey(day, id), fieldRequests, fieldBytesIn, fieldBytesOut)
			}
			return nil
		})
		if err != nil {
			return nil, storeError("usage", err)
		}
		for i, cmd := range cmds {
			t, found, err := totals(batch[i], day, cmd.Val())
			if err != nil {
				return nil, err
			}
			if found {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b usage.Totals) int { return cmp.Compare(a.KeyID, b.KeyID) })
	return out, nil
}

// totals decodes an HMGET reply; found is false when the hash is gone.
func totals(keyID, day string, vals []any) (t usage.Totals, found bool, err error) {
	t = usage.Totals{KeyID: keyID, Day: day}
	dst := []*int64{&t.Requests, &t.BytesIn, &t.BytesOut}
	for i, v := range vals {
		if i >= len(dst) || v == nil {
			continue
		}
		str, ok := v.(string)
		if !ok {
			return t, false, errorf("usage: unexpected reply %T for %q", v, keyID)
		}
		n, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return t, false, errorf("usage: counter of %q is not a number", keyID)
		}
		*dst[i], found = n, true
	}
	return t, found, nil
}

func (s *Usage) hashKey(day, keyID string) string {
	return prefixed(s.Prefix) + "usage:" + day + ":key:" + keyID
}

func (s *Usage) setKey(day string) string {
	return prefixed(s.Prefix) + "usage:" + day + ":keys"
}
