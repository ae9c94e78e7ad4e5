package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/signet-dev/signet"
)

// DefaultMaxKeys bounds a Memory whose MaxKeys is zero.
const DefaultMaxKeys = 1 << 20

// ErrFull is returned when Memory tracks MaxKeys keys that are all busy:
// forgetting one would reset its budget, so refusing is the safe answer.
// It wraps signet.ErrStoreUnavailable (503), so FailOpen keys still pass.
var ErrFull = &signet.Error{Err: signet.ErrStoreUnavailable, Detail: "rate limiter full"}

// Details of the RateLimitErrors, shared with package redis so both
// limiters answer with the same words.
const (
	DetailRequests = "key over its request rate"
	DetailBytes    = "key over its byte budget for this minute"
)

// minSweep is the table size below which idle keys are left alone.
const minSweep = 1024

// Memory is an in-memory signet.RateLimiter. The zero value is ready to
// use; it is safe for concurrent use.
type Memory struct {
	// MaxKeys bounds how many keys are tracked at once; 0 means
	// DefaultMaxKeys. Idle keys (full budget again) are forgotten first.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	keys    map[string]*state
	sweepAt int // table size that triggers the next sweep of idle keys
	// fullSweep is when the table, full, was last swept (unix µs).
	fullSweep int64
}

// state is one key's budget: the GCRA theoretical arrival time and the
// bytes of one minute, all in unix microseconds / minutes.
type state struct {
	tat    int64
	minute int64
	bytes  int64
}

var _ signet.RateLimiter = (*Memory)(nil)

// Allow takes one request from keyID's budget and checks that the bytes
// of the current minute are under l.BytesPerMinute. Over budget it returns
// a *signet.RateLimitError and takes nothing.
func (m *Memory) Allow(_ context.Context, keyID string, l signet.RateLimit) error {
	interval, tolerance := Params(l)
	if interval == 0 && l.BytesPerMinute <= 0 {
		return nil
	}
	us := m.now().UnixMicro()
	minute, untilNext := Minute(us)

	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.keys[keyID] // nil: a key never seen has its whole budget
	var wait, newTAT int64
	detail := ""
	if interval > 0 {
		tat := us
		if st != nil && st.tat > us {
			tat = st.tat
		}
		newTAT = tat + interval
		if allowAt := newTAT - tolerance; allowAt > us {
			wait, detail = allowAt-us, DetailRequests
		}
	}
	if l.BytesPerMinute > 0 && st != nil && st.minute == minute && st.bytes >= l.BytesPerMinute && untilNext > wait {
		wait, detail = untilNext, DetailBytes
	}
	if wait > 0 {
		return &signet.RateLimitError{RetryAfter: time.Duration(wait) * time.Microsecond, Detail: detail}
	}
	if interval > 0 {
		if st == nil {
			var err error
			if st, err = m.add(keyID, us, minute); err != nil {
				return err
			}
		}
		st.tat = newTAT
	}
	return nil
}

// AddBytes charges n bytes to keyID's current minute. It does nothing when
// l has no byte budget or n <= 0.
func (m *Memory) AddBytes(_ context.Context, keyID string, l signet.RateLimit, n int64) error {
	if l.BytesPerMinute <= 0 || n <= 0 {
		return nil
	}
	us := m.now().UnixMicro()
	minute, _ := Minute(us)
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.keys[keyID]
	if st == nil {
		var err error
		if st, err = m.add(keyID, us, minute); err != nil {
			return err
		}
	}
	if st.minute != minute {
		st.minute, st.bytes = minute, 0
	}
	st.bytes += n
	return nil
}

// Len reports how many keys are tracked.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// add creates keyID's state, first forgetting idle keys when the table has
// grown. Sweeps happen when the table doubles, so they cost O(1) per call.
// m.mu is held.
func (m *Memory) add(keyID string, us, minute int64) (*state, error) {
	if m.keys == nil {
		m.keys = make(map[string]*state)
	}
	limit := m.MaxKeys
	if limit <= 0 {
		limit = DefaultMaxKeys
	}
	full := len(m.keys) >= limit
	if full && us-m.fullSweep < 1_000_000 {
		return nil, ErrFull // swept less than a second ago: do not scan on every call
	}
	if len(m.keys) >= max(m.sweepAt, minSweep) || full {
		if full {
			m.fullSweep = us
		}
		for id, st := range m.keys {
			// Idle: the burst is whole again and no bytes count this minute.
			if st.tat <= us && (st.minute != minute || st.bytes == 0) {
				delete(m.keys, id)
			}
		}
		m.sweepAt = 2 * len(m.keys)
	}
	if len(m.keys) >= limit {
		return nil, ErrFull
	}
	st := &state{minute: minute}
	m.keys[keyID] = st
	return st, nil
}
