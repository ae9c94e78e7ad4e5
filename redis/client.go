package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/signet-dev/signet"
)

// DefaultTimeout bounds dialing, each read and write, and the wait for a
// pooled connection, unless the URL sets them (dial_timeout, read_timeout,
// write_timeout, pool_timeout). It is short because a request waits for it:
// an unreachable Redis must cost a quarter second, not seconds.
const DefaultTimeout = 250 * time.Millisecond

// DefaultPrefix starts every key when a store's Prefix is empty.
const DefaultPrefix = "signet:"

// Client is a connection pool to one Redis server, shared by the stores.
// It is safe for concurrent use.
type Client struct {
	rdb *goredis.Client
}

// Open returns a Client for a redis:// (or rediss://, unix://) URL such as
// redis://user:password@127.0.0.1:6379/0. It does not connect: the first
// command does, so a gateway can start while Redis is down. Errors never
// repeat the URL, which may hold a password.
func Open(rawURL string) (c *Client, err error) {
	opt, err := goredis.ParseURL(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole URL
		}
		return nil, fmt.Errorf("redis: invalid URL: %v", err)
	}
	for _, d := range []*time.Duration{&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout} {
		if *d == 0 {
			*d = DefaultTimeout
		}
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1 // fail fast; the pool redials in the background
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = -1 // no command retries: see the package doc
	}
	// A request's context (client gone, deadline) also bounds its command.
	opt.ContextTimeoutEnabled = true
	defer func() {
		// NewClient panics on some option combinations a URL can request.
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("redis: %v", r)
		}
	}()
	return &Client{rdb: goredis.NewClient(opt)}, nil
}

// Ping checks that Redis answers; for /readyz. Its error wraps
// signet.ErrStoreUnavailable when Redis cannot be reached.
func (c *Client) Ping(ctx context.Context) error {
	return storeError("ping", c.rdb.Ping(ctx).Err())
}

// Close closes the connections. The stores using c fail afterwards.
func (c *Client) Close() error { return c.rdb.Close() }

// unavailable is the error of a command that failed because Redis could not
// serve it. The client sees only se ("shared store unavailable: redis
// unavailable"); Error, for logs, also says why.
type unavailable struct {
	se    *signet.Error
	op    string
	cause error
}

func (e *unavailable) Error() string {
	return "redis: " + e.op + ": " + e.se.Error() + ": " + e.cause.Error()
}

func (e *unavailable) Unwrap() []error { return []error{e.se, e.cause} }

// storeError classifies err from the command op: nil stays nil; a Redis
// state that means "cannot serve now" or any connection-level failure
// becomes an error wrapping signet.ErrStoreUnavailable; the caller's
// cancellation and other Redis replies (a bug, not an outage) are wrapped
// as they are.
func storeError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("redis: %s: %w", op, err)
	case isReply(err) && !unavailableReply(err):
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	return &unavailable{
		se:    &signet.Error{Err: signet.ErrStoreUnavailable, Detail: "redis unavailable"},
		op:    op,
		cause: err,
	}
}

// isReply reports whether err is an error reply from the server, rather
// than a failure to talk to it.
func isReply(err error) bool {
	var re goredis.Error
	return errors.As(err, &re)
}

// unavailableReplies are the error replies that mean "cannot serve now":
// loading, failing over, out of memory, busy with a script, refusing us.
var unavailableReplies = []string{
	"LOADING", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "OOM", "BUSY",
	"NOAUTH", "WRONGPASS", "NOPERM", "max number of clients",
}

// unavailableReply reports whether a server's error reply means it cannot
// serve for now, rather than a bug (WRONGTYPE, a syntax error).
func unavailableReply(err error) bool {
	for _, p := range unavailableReplies {
		if goredis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// prefixed returns p, or DefaultPrefix when p is empty.
func prefixed(p string) string {
	if p == "" {
		return DefaultPrefix
	}
	return p
}

// errorf is fmt.Errorf with the package prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("redis: "+format, args...)
}
