package limittest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/usage"
)

// UsageStore is what a usage recorder offers.
type UsageStore interface {
	signet.UsageRecorder
	usage.Reader
}

// RunUsage checks a fresh store made by newStore (nothing recorded) against
// the shared usage expectations.
func RunUsage(t *testing.T, newStore func(t *testing.T) UsageStore) {
	ctx := context.Background()
	day1 := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	late := day1.Add(24*time.Hour - time.Nanosecond)
	// A time in another zone counts for its UTC day.
	paris := time.FixedZone("CET", 3600)

	t.Run("totals per key and day", func(t *testing.T) {
		s := newStore(t)
		records := []signet.Usage{
			{KeyID: "b", At: day1.Add(time.Hour), Requests: 1, BytesIn: 10, BytesOut: 100},
			{KeyID: "b", At: late, Requests: 1, BytesIn: 5, BytesOut: 7},
			{KeyID: "a", At: day1, Requests: 2, BytesOut: 1},
			{KeyID: "a", At: late.Add(time.Nanosecond), Requests: 1},                   // next day
			{KeyID: "keys", At: day1, Requests: 1},                                     // an id that looks like a store name
			{KeyID: "c:d", At: time.Date(2024, 1, 2, 0, 30, 0, 0, paris), Requests: 1}, // 2024-01-01 in UTC
			{KeyID: "ключ ☃", At: day1, BytesIn: 1 << 40},
		}
		for _, u := range records {
			if err := s.Record(ctx, u); err != nil {
				t.Fatalf("Record(%+v): %v", u, err)
			}
		}
		wantDay1 := []usage.Totals{
			{KeyID: "a", Day: "2024-01-02", Requests: 2, BytesOut: 1},
			{KeyID: "b", Day: "2024-01-02", Requests: 2, BytesIn: 15, BytesOut: 107},
			{KeyID: "keys", Day: "2024-01-02", Requests: 1},
			{KeyID: "ключ ☃", Day: "2024-01-02", BytesIn: 1 << 40},
		}
		checkList(t, s, "2024-01-02", wantDay1)
		checkList(t, s, "2024-01-03", []usage.Totals{{KeyID: "a", Day: "2024-01-03", Requests: 1}})
		checkList(t, s, "2024-01-01", []usage.Totals{{KeyID: "c:d", Day: "2024-01-01", Requests: 1}})
		checkList(t, s, "2023-12-31", nil)
		for _, want := range wantDay1 {
			got, err := s.Get(ctx, want.KeyID, want.Day)
			if err != nil || got != want {
				t.Errorf("Get(%q, %q) = %+v, %v; want %+v", want.KeyID, want.Day, got, err, want)
			}
		}
		got, err := s.Get(ctx, "nobody", "2024-01-02")
		if want := (usage.Totals{KeyID: "nobody", Day: "2024-01-02"}); err != nil || got != want {
			t.Errorf("Get(unknown key) = %+v, %v; want %+v", got, err, want)
		}
	})

	t.Run("invalid input", func(t *testing.T) {
		s := newStore(t)
		if err := s.Record(ctx, signet.Usage{At: day1, Requests: 1}); !errors.Is(err, usage.ErrEmptyKeyID) {
			t.Errorf("Record without key id: got %v, want ErrEmptyKeyID", err)
		}
		for _, day := range []string{"", "2024-1-2", "2024-01-32", "02-01-2024", "2024-01-02T00:00:00Z", "*", "2024-01-02 "} {
			if _, err := s.Get(ctx, "a", day); err == nil {
				t.Errorf("Get(day %q): no error", day)
			}
			if _, err := s.List(ctx, day); err == nil {
				t.Errorf("List(day %q): no error", day)
			}
		}
	})

	t.Run("concurrent records add up", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Go(func() {
				u := signet.Usage{KeyID: fmt.Sprint("k", i%3), At: day1, Requests: 1, BytesIn: 2, BytesOut: 3}
				if err := s.Record(ctx, u); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		checkList(t, s, "2024-01-02", []usage.Totals{
			{KeyID: "k0", Day: "2024-01-02", Requests: 34, BytesIn: 68, BytesOut: 102},
			{KeyID: "k1", Day: "2024-01-02", Requests: 33, BytesIn: 66, BytesOut: 99},
			{KeyID: "k2", Day: "2024-01-02", Requests: 33, BytesIn: 66, BytesOut: 99},
		})
	})
}

func checkList(t *testing.T, r usage.Reader, day string, want []usage.Totals) {
	t.Helper()
	got, err := r.List(context.Background(), day)
	if err != nil {
		t.Fatalf("List(%q): %v", day, err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List(%q):\n got %+v\nwant %+v", day, got, want)
	}
}
