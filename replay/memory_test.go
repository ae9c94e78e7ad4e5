package replay_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/replay"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestMemoryOnce(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	m := &replay.Memory{Now: c.now}
	ctx := context.Background()
	exp := c.t.Add(time.Minute)
	if err := m.Use(ctx, "a", exp); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := m.Use(ctx, "a", exp); !errors.Is(err, signet.ErrReplay) {
		t.Fatalf("second use: got %v, want ErrReplay", err)
	}
	if signet.Code(m.Use(ctx, "a", exp)) != "replayed" {
		t.Error("replay does not map to reason code replayed")
	}
	if err := m.Use(ctx, "b", exp); err != nil {
		t.Fatalf("other id: %v", err)
	}
	// At the expiry instant the id is still remembered; after it, forgotten.
	c.t = exp
	if err := m.Use(ctx, "a", exp); !errors.Is(err, signet.ErrReplay) {
		t.Errorf("at expiry: got %v, want ErrReplay", err)
	}
	c.t = exp.Add(time.Second)
	if err := m.Use(ctx, "x", c.t.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := m.Len(); got != 1 {
		t.Errorf("Len after expiry = %d, want 1 (only x)", got)
	}
}

func TestMemoryBounded(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	m := &replay.Memory{Now: c.now, MaxEntries: 3}
	ctx := context.Background()
	for i := range 3 {
		if err := m.Use(ctx, fmt.Sprint(i), c.t.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Use(ctx, "3", c.t.Add(time.Minute)); !errors.Is(err, replay.ErrFull) {
		t.Fatalf("over the bound: got %v, want ErrFull", err)
	}
	c.t = c.t.Add(2 * time.Minute)
	if err := m.Use(ctx, "3", c.t.Add(time.Minute)); err != nil {
		t.Fatalf("after expiry made room: %v", err)
	}
}

func TestMemoryConcurrentSingleWinner(t *testing.T) {
	m := &replay.Memory{}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m.Use(context.Background(), "same", time.Now().Add(time.Minute)) == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d goroutines used the same id, want exactly 1", wins.Load())
	}
}
