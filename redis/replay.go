package redis

import (
	"context"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/signet-dev/signet"
)

// ReplayStore is a signet.ReplayStore in Redis: an id used on one replica
// is refused on every other until it expires.
type ReplayStore struct {
	// Client is the connection; it must not be nil.
	Client *Client
	// Prefix starts every key; "" means DefaultPrefix.
	Prefix string
}

var _ signet.ReplayStore = (*ReplayStore)(nil)

// Use records id until expires with one SET NX PXAT, so that of concurrent
// uses on any replicas exactly one succeeds. A recorded id returns an
// error wrapping signet.ErrReplay; Redis's own clock decides expiry, and an
// id is remembered through the expiry instant (rounded up to the
// millisecond). An expiry in the past records nothing and succeeds, like
// replay.Memory: the verifier refuses expired signatures anyway.
func (s *ReplayStore) Use(ctx context.Context, id string, expires time.Time) error {
	ms := expires.UnixMilli()
	if expires.After(time.UnixMilli(ms)) {
		ms++ // never forget an id before it expires
	}
	key := prefixed(s.Prefix) + "replay:" + id
	err := s.Client.rdb.Do(ctx, "set", key, "1", "nx", "pxat", strconv.FormatInt(ms, 10)).Err()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.Nil):
		// A new value each time, as replay.Memory does: callers may fill in
		// Scheme and KeyID.
		return &signet.Error{Err: signet.ErrReplay, Detail: "this signature was already used"}
	}
	return storeError("replay", err)
}
