package usage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DayLayout is the layout of a day: YYYY-MM-DD, in UTC.
const DayLayout = "2006-01-02"

// Totals is what one key used on one day.
type Totals struct {
	KeyID    string `json:"key_id"`
	Day      string `json:"day"` // YYYY-MM-DD, UTC
	Requests int64  `json:"requests"`
	BytesIn  int64  `json:"bytes_in"`  // request bodies received
	BytesOut int64  `json:"bytes_out"` // response bodies sent
}

// Reader reads usage back.
type Reader interface {
	// Get returns keyID's totals for day (YYYY-MM-DD); a key that used
	// nothing that day has zero totals, not an error.
	Get(ctx context.Context, keyID, day string) (Totals, error)
	// List returns the totals of every key that used something on day,
	// sorted by key id.
	List(ctx context.Context, day string) ([]Totals, error)
}

// ErrEmptyKeyID is returned by recorders for a Usage without a key id.
var ErrEmptyKeyID = errors.New("usage: empty key id")

// Day returns the UTC day of t, as YYYY-MM-DD.
func Day(t time.Time) string { return t.UTC().Format(DayLayout) }

// ParseDay checks that day is a valid YYYY-MM-DD date and returns its start
// (UTC midnight).
func ParseDay(day string) (time.Time, error) {
	t, err := time.Parse(DayLayout, day)
	if err != nil || t.Format(DayLayout) != day {
		return time.Time{}, fmt.Errorf("usage: invalid day %q, want YYYY-MM-DD", day)
	}
	return t, nil
}
