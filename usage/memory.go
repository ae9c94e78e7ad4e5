package usage

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/signet-dev/signet"
)

// DefaultRetention is how long a day's counters are kept, in Memory and in
// the Redis recorder.
const DefaultRetention = 400 * 24 * time.Hour

// Memory is an in-memory signet.UsageRecorder and Reader. The zero value
// is ready to use; it is safe for concurrent use. Its counters live as
// long as the process: replicas that must add up use the Redis recorder.
type Memory struct {
	// Retention bounds memory: days older than this before the newest
	// recorded day are dropped. 0 means DefaultRetention.
	Retention time.Duration

	mu     sync.Mutex
	days   map[string]map[string]*Totals // day -> key id -> totals
	newest time.Time                     // start of the newest day recorded
	// lastStart and lastDay cache the day of the last record.
	lastStart time.Time
	lastDay   string
}

var (
	_ signet.UsageRecorder = (*Memory)(nil)
	_ Reader               = (*Memory)(nil)
)

// Record adds u to the totals of u.KeyID on u.At's UTC day.
func (m *Memory) Record(_ context.Context, u signet.Usage) error {
	if u.KeyID == "" {
		return ErrEmptyKeyID
	}
	start := u.At.UTC().Truncate(24 * time.Hour)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !start.Equal(m.lastStart) || m.lastDay == "" {
		m.lastStart, m.lastDay = start, Day(start) // formatting costs more than the rest
	}
	day := m.lastDay
	if m.days == nil {
		m.days = make(map[string]map[string]*Totals)
	}
	if start.After(m.newest) {
		m.newest = start
		m.expire()
	}
	if start.Before(m.newest.Add(-m.retention())) {
		return nil // older than what is kept: it would be dropped at once
	}
	keys := m.days[day]
	if keys == nil {
		keys = make(map[string]*Totals)
		m.days[day] = keys
	}
	t := keys[u.KeyID]
	if t == nil {
		t = &Totals{KeyID: u.KeyID, Day: day}
		keys[u.KeyID] = t
	}
	t.Requests += u.Requests
	t.BytesIn += u.BytesIn
	t.BytesOut += u.BytesOut
	return nil
}

// Get returns keyID's totals for day.
func (m *Memory) Get(_ context.Context, keyID, day string) (Totals, error) {
	if _, err := ParseDay(day); err != nil {
		return Totals{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.days[day][keyID]; t != nil {
		return *t, nil
	}
	return Totals{KeyID: keyID, Day: day}, nil
}

// List returns every key's totals for day, sorted by key id.
func (m *Memory) List(_ context.Context, day string) ([]Totals, error) {
	if _, err := ParseDay(day); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]Totals, 0, len(m.days[day]))
	for _, t := range m.days[day] {
		out = append(out, *t)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Totals) int { return cmp.Compare(a.KeyID, b.KeyID) })
	return out, nil
}

func (m *Memory) retention() time.Duration {
	if m.Retention > 0 {
		return m.Retention
	}
	return DefaultRetention
}

// expire drops the days that fell out of the retention. m.mu is held; it
// runs once per new day, so its cost does not matter.
func (m *Memory) expire() {
	oldest := m.newest.Add(-m.retention())
	for day := range m.days {
		if t, err := ParseDay(day); err != nil || t.Before(oldest) {
			delete(m.days, day)
		}
	}
}
