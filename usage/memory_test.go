package usage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/limittest"
	"github.com/signet-dev/signet/usage"
)

func TestMemory(t *testing.T) {
	limittest.RunUsage(t, func(t *testing.T) limittest.UsageStore { return &usage.Memory{} })
}

func TestMemoryRetention(t *testing.T) {
	m := &usage.Memory{Retention: 48 * time.Hour}
	ctx := context.Background()
	day := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		if err := m.Record(ctx, signet.Usage{KeyID: "a", At: day.AddDate(0, 0, i), Requests: 1}); err != nil {
			t.Fatal(err)
		}
	}
	// Newest is 2024-01-14: 01-12 is kept, 01-11 is gone.
	for d, want := range map[string]int64{"2024-01-10": 0, "2024-01-11": 0, "2024-01-12": 1, "2024-01-14": 1} {
		got, err := m.Get(ctx, "a", d)
		if err != nil || got.Requests != want {
			t.Errorf("Get(%s) = %+v, %v; want %d requests", d, got, err, want)
		}
	}
	// A late record for a dropped day is not kept either.
	if err := m.Record(ctx, signet.Usage{KeyID: "a", At: day, Requests: 1}); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, "a", "2024-01-10"); got.Requests != 0 {
		t.Errorf("late record for an expired day kept: %+v", got)
	}
}

func TestParseDay(t *testing.T) {
	tests := []struct {
		day string
		ok  bool
	}{
		{"2024-01-02", true}, {"2024-02-29", true}, {"2023-02-29", false},
		{"2024-1-02", false}, {"", false}, {"20240102", false}, {"2024-01-02\n", false},
	}
	for _, tt := range tests {
		got, err := usage.ParseDay(tt.day)
		if (err == nil) != tt.ok {
			t.Errorf("ParseDay(%q) error %v, want ok=%v", tt.day, err, tt.ok)
		}
		if err == nil && usage.Day(got) != tt.day {
			t.Errorf("Day(ParseDay(%q)) = %q", tt.day, usage.Day(got))
		}
	}
}

func ExampleMemory() {
	m := &usage.Memory{}
	ctx := context.Background()
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	_ = m.Record(ctx, signet.Usage{KeyID: "key1", At: at, Requests: 1, BytesIn: 120, BytesOut: 4096})
	_ = m.Record(ctx, signet.Usage{KeyID: "key1", At: at.Add(time.Hour), Requests: 1, BytesOut: 100})
	totals, _ := m.Get(ctx, "key1", usage.Day(at))
	fmt.Printf("%+v\n", totals)
	list, _ := m.List(ctx, "2024-01-02")
	_ = json.NewEncoder(os.Stdout).Encode(list)
	// Output:
	// {KeyID:key1 Day:2024-01-02 Requests:2 BytesIn:120 BytesOut:4196}
	// [{"key_id":"key1","day":"2024-01-02","requests":2,"bytes_in":120,"bytes_out":4196}]
}

func BenchmarkUsageRecordMemory(b *testing.B) {
	m := &usage.Memory{}
	ctx := context.Background()
	u := signet.Usage{KeyID: "bench", At: time.Now(), Requests: 1, BytesIn: 100, BytesOut: 1000}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Record(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

// ParseDay accepts exactly the days Day prints.
func FuzzParseDay(f *testing.F) {
	for _, s := range []string{"2024-01-02", "2024-02-29", "0000-01-01", "9999-12-31", "2024-1-2", "", "2024-01-02T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := usage.ParseDay(s)
		if err != nil {
			return
		}
		if got := usage.Day(d); got != s {
			t.Errorf("ParseDay(%q) = %v, prints as %q", s, d, got)
		}
	})
}
