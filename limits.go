package signet

import (
	"context"
	"fmt"
	"time"
)

// RateLimit is a key's budget. The zero value means no limit.
type RateLimit struct {
	// RequestsPerSecond is the sustained request rate; 0 means unlimited.
	RequestsPerSecond float64
	// Burst is how many requests may arrive at once; 0 means
	// max(1, RequestsPerSecond).
	Burst int
	// BytesPerMinute bounds request plus response bytes in each minute;
	// 0 means unlimited.
	BytesPerMinute int64
}

// IsZero reports whether l limits nothing.
func (l RateLimit) IsZero() bool { return l.RequestsPerSecond <= 0 && l.BytesPerMinute <= 0 }

// RateLimiter enforces RateLimits, across replicas when it is shared.
type RateLimiter interface {
	// Allow takes one request from the key's budget, and checks that the
	// byte budget of the current minute is not spent. Over budget, it
	// returns a *RateLimitError; other errors mean the limiter failed.
	Allow(ctx context.Context, keyID string, l RateLimit) error
	// AddBytes charges n transferred bytes to the key's current minute.
	AddBytes(ctx context.Context, keyID string, l RateLimit, n int64) error
}

// RateLimitError is returned when a key is over its budget. It wraps
// ErrRateLimited.
type RateLimitError struct {
	RetryAfter time.Duration // when a retry may succeed
	Detail     string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v: %s; retry after %v", ErrRateLimited, e.Detail, e.RetryAfter.Round(time.Millisecond))
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// UsageRecorder meters what each key uses, per day.
type UsageRecorder interface {
	Record(ctx context.Context, u Usage) error
}

// Usage is one request's (or one aggregate's) consumption.
type Usage struct {
	KeyID    string
	At       time.Time // the day it counts for is At's UTC date
	Requests int64
	BytesIn  int64 // request body bytes received from the client
	BytesOut int64 // response body bytes sent to the client
}
