// Package replay provides the in-memory signet.ReplayStore: single-use
// signatures and nonces remembered until they expire, within a bound.
// Replicas that must share what they have seen use the Redis store instead.
package replay

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/signet-dev/signet"
)

// DefaultMaxEntries bounds a Memory whose MaxEntries is zero.
const DefaultMaxEntries = 1 << 20

// ErrFull is returned when the store holds MaxEntries unexpired ids:
// refusing is the only safe answer, since forgetting an id would allow its
// replay. It wraps signet.ErrStoreUnavailable (503).
var ErrFull = &signet.Error{Err: signet.ErrStoreUnavailable, Detail: "replay store full"}

// Memory is an in-memory ReplayStore. The zero value is ready to use.
type Memory struct {
	// MaxEntries bounds the ids kept at once; 0 means DefaultMaxEntries.
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	expires map[string]time.Time
	order   expiryHeap
}

var _ signet.ReplayStore = (*Memory)(nil)

// Use records id until expires, or returns an error wrapping
// signet.ErrReplay when id was recorded before and has not expired.
func (m *Memory) Use(_ context.Context, id string, expires time.Time) error {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	t := now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expires == nil {
		m.expires = make(map[string]time.Time)
	}
	m.evict(t)
	if exp, seen := m.expires[id]; seen && !t.After(exp) {
		return &signet.Error{Err: signet.ErrReplay, Detail: "this signature was already used"}
	}
	if !expires.After(t) {
		// Already expired: the verifier refuses it anyway; nothing to keep.
		return nil
	}
	max := m.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	if len(m.expires) >= max {
		return ErrFull
	}
	m.expires[id] = expires
	heap.Push(&m.order, entry{id: id, expires: expires})
	return nil
}

// Len reports how many ids are remembered.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.expires)
}

// evict drops expired ids, oldest first.
func (m *Memory) evict(now time.Time) {
	for len(m.order) > 0 && now.After(m.order[0].expires) {
		e := heap.Pop(&m.order).(entry)
		if exp, ok := m.expires[e.id]; ok && exp.Equal(e.expires) {
			delete(m.expires, e.id)
		}
	}
}

type entry struct {
	id      string
	expires time.Time
}

type expiryHeap []entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
