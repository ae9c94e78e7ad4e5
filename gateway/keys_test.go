package gateway

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
)

// writeKeysConfig writes a config of n keys shaped as bench/benchutil's
// "keys" writes them (the shape of the issue 6 benchmark), and returns its
// path.
func writeKeysConfig(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "keys.yaml")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "listen: \"127.0.0.1:0\"\nkeys:\n")
	for i := range n {
		fmt.Fprintf(w, "  - id: k%07d\n    secrets: [\"secret-k%07d\"]\n    schemes: [sw1, cavage]\n    upstreams: [{origin: \"http://127.0.0.1:8080\"}]\n", i, i)
	}
	fmt.Fprintf(w, "routes:\n  - path: /r/\n    upstream: \"http://127.0.0.1:8080/\"\n    schemes: [cavage]\nlog: { level: warn }\n")
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkLoad100k is what serving a file of 100,000 keys costs before the
// first request: read, validate, index.
func BenchmarkLoad100k(b *testing.B) {
	path := writeKeysConfig(b, 100000)
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := config.Load(path, func(string) string { return "" })
		if err != nil {
			b.Fatal(err)
		}
		g := &Gateway{}
		if err := g.Reload(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup1M finds keys among a million (hits spread over the table,
// each key converted once, before the timer) and, for comparison, in a
// store of one.
func BenchmarkLookup1M(b *testing.B) {
	for _, n := range []int{1, 1000000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			keys := make([]config.Key, n)
			ids := make([]string, min(n, 4096))
			for i := range keys {
				keys[i] = config.Key{ID: fmt.Sprintf("k%07d", i), Secrets: []string{"s"}}
			}
			s, err := newConfigKeys(keys)
			if err != nil {
				b.Fatal(err)
			}
			for i := range ids {
				ids[i] = keys[(i*7919)%n].ID
				if _, err := s.Key(context.Background(), ids[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k, err := s.Key(context.Background(), ids[i%len(ids)])
				if err != nil || k == nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// Keys are converted on first use, page by page: a key from a page no
// request touched has no policy yet, and converting one key makes one
// page.
func TestConfigKeysPages(t *testing.T) {
	keys := make([]config.Key, 3*len(convPage{})+5)
	for i := range keys {
		keys[i] = config.Key{ID: fmt.Sprintf("k%d", i), Secrets: []string{"s"}}
	}
	s, err := newConfigKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.conv) != 4 {
		t.Fatalf("%d pages for %d keys, want 4", len(s.conv), len(keys))
	}
	last := keys[len(keys)-1].ID
	k, err := s.Key(context.Background(), last)
	if err != nil || k.ID != last {
		t.Fatalf("Key(%q) = %+v, %v", last, k, err)
	}
	for i := range s.conv {
		if got, want := s.conv[i].Load() != nil, i == 3; got != want {
			t.Errorf("page %d made: %v, want %v", i, got, want)
		}
	}
	if p, ok := s.policy(k); !ok || p == nil {
		t.Errorf("policy of a converted key = %v, %v", p, ok)
	}
	// A key of the same id from elsewhere is not this store's.
	if _, ok := s.policy(&signet.Key{ID: last}); ok {
		t.Error("policy of another *Key found")
	}
	if _, ok := s.policy(&signet.Key{ID: "k0"}); ok {
		t.Error("policy of a key never converted found")
	}
}

// Indexing finds duplicate ids within and across hashing batches, and
// lists each upstream origin once, with the first key listing it.
func TestNewConfigKeys(t *testing.T) {
	shared := []config.Upstream{{Origin: "http://127.0.0.1:8080"}}
	mk := func(n int) []config.Key {
		keys := make([]config.Key, n)
		for i := range keys {
			keys[i] = config.Key{ID: fmt.Sprintf("k%d", i), Secrets: []string{"s"}, Upstreams: shared}
		}
		return keys
	}
	tests := []struct {
		name    string
		keys    func() []config.Key
		err     string
		origins []keyOrigin
	}{
		{"shared upstreams", func() []config.Key { return mk(100) }, "", []keyOrigin{{"http://127.0.0.1:8080", "k0"}}},
		{"distinct and any", func() []config.Key {
			keys := mk(40)
			keys[20].Upstreams = []config.Upstream{{Origin: "*"}, {Origin: "https://b.example"}, {Origin: "http://127.0.0.1:8080"}}
			keys[30].Upstreams = []config.Upstream{{Origin: "https://b.example"}}
			keys[31].Upstreams = nil
			return keys
		}, "", []keyOrigin{{"http://127.0.0.1:8080", "k0"}, {"https://b.example", "k20"}}},
		{"duplicate in a batch", func() []config.Key { k := mk(40); k[3].ID = "k1"; return k }, `duplicate key id "k1"`, nil},
		{"duplicate across batches", func() []config.Key { k := mk(40); k[39].ID = "k2"; return k }, `duplicate key id "k2"`, nil},
		{"empty id", func() []config.Key { k := mk(40); k[17].ID = ""; return k }, "empty id", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.keys()
			s, err := newConfigKeys(keys)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.origins, tt.origins) {
				t.Errorf("origins %q, want %q", s.origins, tt.origins)
			}
			for i := range keys {
				if j, ok := s.find(keys[i].ID); !ok || int(j) != i {
					t.Fatalf("find(%q) = %d, %v; want %d", keys[i].ID, j, ok, i)
				}
			}
			if _, ok := s.find("nope"); ok {
				t.Error("find(nope) found")
			}
		})
	}
}
