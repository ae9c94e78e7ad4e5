package postgres

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"hash/maphash"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

// TestCompactRoundTrip: a cached key reads back exactly as decode made it,
// for every field and for the nil/empty distinctions decode makes.
func TestCompactRoundTrip(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  *signet.Key
	}{
		{"minimal", &signet.Key{ID: "a", Secrets: []string{"s"}}},
		{"no secrets (made by decode)", &signet.Key{ID: "pub", Secrets: []string{}, PublicKey: &ec.PublicKey}},
		{"full", &signet.Key{
			ID: "app-1", Tenant: "acme", Secrets: []string{"new", "old", "ol\x00der"},
			Schemes: []string{"reqsig", "sw1"}, Algorithms: []string{"hmac-sha256", "hmac-sha512"},
			MaxExpires: 10 * time.Minute, SingleUse: true, FailOpen: true,
			RateLimit: signet.RateLimit{RequestsPerSecond: 2.5, Burst: 5, BytesPerMinute: 1 << 40},
			Upstreams: []signet.Upstream{
				{Origin: "*"},
				{Origin: "https://api.openai.com", Headers: map[string]string{"Authorization": "Bearer sk-1", "X-Org": "o"}},
				{Origin: "https://empty.example", Headers: map[string]string{}},
			},
		}},
		{"ed25519", &signet.Key{ID: "ed", Secrets: []string{}, PublicKey: ed}},
		{"rsa", &signet.Key{ID: "rsa", Secrets: []string{}, PublicKey: &rk.PublicKey}},
		{"negative and long", &signet.Key{ID: string(make([]byte, 300)), Secrets: []string{string(make([]byte, 70000))},
			MaxExpires: -time.Second, RateLimit: signet.RateLimit{Burst: -1, BytesPerMinute: -5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := newEntry(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if e.id != tt.key.ID {
				t.Fatalf("id %q, want %q", e.id, tt.key.ID)
			}
			got, err := e.get()
			if err != nil {
				t.Fatal(err)
			}
			want := *tt.key
			if want.PublicKey != nil {
				type equaler interface{ Equal(x crypto.PublicKey) bool }
				if !got.PublicKey.(equaler).Equal(want.PublicKey) {
					t.Errorf("public key differs")
				}
				got2 := *got
				got2.PublicKey, want.PublicKey = nil, nil
				got = &got2
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("round trip:\n got %#v\nwant %#v", *got, want)
			}
		})
	}
}

// A damaged record is an error, never a panic or a key.
func TestCompactCorrupt(t *testing.T) {
	e, err := newEntry(&signet.Key{ID: "a", Secrets: []string{"s"}, Upstreams: []signet.Upstream{{Origin: "o", Headers: map[string]string{"h": "v"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(e.rec) {
		if k, err := decodeCompact(e.rec[:n]); err == nil {
			t.Errorf("truncated to %d: %+v", n, k)
		}
	}
	if _, err := decodeCompact(append(e.rec[:len(e.rec):len(e.rec)], 0)); err == nil {
		t.Error("trailing byte accepted")
	}
}

// FuzzDecodeCompact: any bytes give a key or an error, and a key that
// decodes encodes back to a record that decodes to the same key.
func FuzzDecodeCompact(f *testing.F) {
	for _, k := range []*signet.Key{
		{ID: "a", Secrets: []string{"s"}},
		{ID: "b", Tenant: "t", Secrets: []string{"x", "y"}, Schemes: []string{"sw1"}, MaxExpires: time.Hour,
			Upstreams: []signet.Upstream{{Origin: "o", Headers: map[string]string{"h": "v"}}}},
	} {
		e, err := newEntry(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(e.rec)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := decodeCompact(b)
		if err != nil {
			return
		}
		e, err := newEntry(k)
		if err != nil {
			return // a public key that parses but does not marshal
		}
		k2, err := e.get()
		if err != nil {
			t.Fatalf("re-encoded key does not decode: %v", err)
		}
		if !reflect.DeepEqual(k2.Secrets, k.Secrets) || k2.ID != k.ID || !reflect.DeepEqual(k2.Upstreams, k.Upstreams) {
			t.Fatalf("round trip differs: %+v vs %+v", k2, k)
		}
	})
}

// A shard finds its keys by id, builds each once, keeps built keys when a
// shard is rebuilt from it, and finds ids whose hash collided.
func TestShard(t *testing.T) {
	entries := map[string]*entry{}
	for _, id := range []string{"a", "b", "c", "a-much-longer-id-" + string(make([]byte, 200))} {
		e, err := newEntry(&signet.Key{ID: id, Secrets: []string{"s-" + id}})
		if err != nil {
			t.Fatal(err)
		}
		entries[id] = e
	}
	sh := buildShard(entries)
	if sh.len() != 4 {
		t.Fatalf("len %d", sh.len())
	}
	for id := range entries {
		k, ok, err := sh.key(id)
		if err != nil || !ok || k.ID != id || k.Secrets[0] != "s-"+id {
			t.Fatalf("key(%q) = %+v, %v, %v", id, k, ok, err)
		}
		if again, _, _ := sh.key(id); again != k {
			t.Errorf("key(%q) built twice", id)
		}
	}
	for _, id := range []string{"", "d", "ab", "a\x00"} {
		if k, ok, err := sh.key(id); ok || k != nil || err != nil {
			t.Errorf("key(%q) = %v, %v, %v; want absent", id, k, ok, err)
		}
	}
	// Rebuilt from its entries (a per-key reload): built keys carry over.
	ka, _, _ := sh.key("a")
	m := sh.entries()
	delete(m, "b")
	sh2 := buildShard(m)
	if k, _, _ := sh2.key("a"); k != ka {
		t.Error("a rebuilt shard built key a again")
	}
	if _, ok, _ := sh2.key("b"); ok {
		t.Error("removed key still found")
	}
	// A hash collision: the second id goes to more.
	i := sh2.find("c")
	delete(sh2.idx, maphash.String(idSeed, "c"))
	sh2.more = map[string]int32{"c": i}
	if k, ok, _ := sh2.key("c"); !ok || k.ID != "c" {
		t.Errorf("collided id not found: %v %v", k, ok)
	}
}

// A full load's keys go straight into shard builders: every key is found
// with its own record, in every shard, and a public key that cannot be
// encoded leaves the builder as it was.
func TestTableBuilder(t *testing.T) {
	var seed = maphash.MakeSeed()
	shardOf := func(id string) int { return int(maphash.String(seed, id) % nShards) }
	tb := &tableBuilder{shardOf: shardOf}
	const n = 5000
	for i := range n {
		id := "k" + strconv.Itoa(i)
		k := &signet.Key{ID: id, Secrets: []string{"s-" + id}, Upstreams: []signet.Upstream{{Origin: "https://" + id + ".example"}}}
		if err := tb.add(k); err != nil {
			t.Fatal(err)
		}
	}
	before := tb.shards[shardOf("bad")]
	if err := tb.add(&signet.Key{ID: "bad", PublicKey: struct{}{}}); err == nil {
		t.Fatal("a public key x509 cannot marshal was encoded")
	}
	if after := tb.shards[shardOf("bad")]; len(after.arena) != len(before.arena) || len(after.offs) != len(before.offs) {
		t.Fatal("a failed add changed the builder")
	}
	tab := new(table)
	for i := range tb.shards {
		tab.shards[i].Store(tb.shards[i].build())
	}
	keepNewer(tab, tab, nil, shardOf)
	if got := tab.size.Load(); got != n {
		t.Fatalf("size %d, want %d", got, n)
	}
	for i := range n {
		id := "k" + strconv.Itoa(i)
		k, ok, err := tab.shards[shardOf(id)].Load().key(id)
		if err != nil || !ok || k.ID != id || k.Secrets[0] != "s-"+id || k.Upstreams[0].Origin != "https://"+id+".example" {
			t.Fatalf("key(%q) = %+v, %v, %v", id, k, ok, err)
		}
	}
	for i := range tab.shards {
		if sh := tab.shards[i].Load(); cap(sh.arena)-len(sh.arena) > len(sh.arena)/16 {
			t.Errorf("shard %d keeps %d unused bytes of %d", i, cap(sh.arena)-len(sh.arena), cap(sh.arena))
		}
	}
}

// Keys reloaded one by one during a full load keep the version the serving
// table has (newer than the load's snapshot), or leave when it has none.
func TestKeepNewer(t *testing.T) {
	var seed = maphash.MakeSeed()
	shardOf := func(id string) int { return int(maphash.String(seed, id) % nShards) }
	build := func(keys ...*signet.Key) *table {
		tb := &tableBuilder{shardOf: shardOf}
		for _, k := range keys {
			if err := tb.add(k); err != nil {
				t.Fatal(err)
			}
		}
		tab := new(table)
		for i := range tb.shards {
			tab.shards[i].Store(tb.shards[i].build())
		}
		return tab
	}
	key := func(id, secret string) *signet.Key { return &signet.Key{ID: id, Secrets: []string{secret}} }
	serving := build(key("a", "new"), key("c", "old"))
	loaded := build(key("a", "stale"), key("b", "b1"), key("d", "d1"), key("c", "c1"))
	// a: changed during the load; d: deleted during the load; c: not dirty.
	keepNewer(loaded, serving, map[string]struct{}{"a": {}, "d": {}}, shardOf)
	get := func(id string) string {
		k, ok, err := loaded.shards[shardOf(id)].Load().key(id)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return "absent"
		}
		return k.Secrets[0]
	}
	for id, want := range map[string]string{"a": "new", "b": "b1", "c": "c1", "d": "absent"} {
		if got := get(id); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	if got := loaded.size.Load(); got != 3 {
		t.Errorf("size %d, want 3", got)
	}
}
