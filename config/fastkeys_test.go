package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// fastKeyItems are key entries of the shapes readKeyFast reads and of some
// it leaves to the YAML library; both must decode the same.
var fastKeyItems = []string{
	"- id: k%d\n  secrets: [\"s-%d\"]\n  schemes: [sw1, cavage]\n  upstreams: [{origin: \"http://127.0.0.1:8080\"}]\n",
	"- id: 'k%d'\n  secrets: ['s-%d', \"${SECRET}\"]\n  tenant: acme\n  single_use: true\n  fail_open: false\n  max_expires: 1h\n",
	"-   id: k%d\n    secrets: [s-%d]\n    algorithms: [hmac-sha256]\n    upstreams: [{origin: https://a.example}, {origin: \"*\"}]\n",
	"- id: k%d # a comment\n  secrets: [s-%d]\n",
	"- id: k%d\n  secrets:\n    - s-%d\n  upstreams:\n    - origin: https://b.example\n      headers: {X-A: \"1\"}\n",
	"- id: \"k%d\"\n  secrets: [\"s-\\u0041%d\"]\n  rate_limit: {requests_per_second: 5}\n",
	"- id: k%d\n\n  secrets: [s-%d]\n  schemes: []\n  upstreams: []\n",
	"- id: k%d\n  secrets: [s-%d, ~]\n",
	"- id: k%d\n  secrets: [\"s-%d\"]\n  max_expires: 0\n  single_use: yes\n",
}

func manyKeysDoc(n int) string {
	var b strings.Builder
	b.WriteString("# many keys\nlisten: \"127.0.0.1:9\"\nkeys:\n")
	for i := range n {
		item := fastKeyItems[i%len(fastKeyItems)]
		for line := range strings.SplitSeq(strings.TrimSuffix(fmt.Sprintf(item, i, i), "\n"), "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	b.WriteString("routes:\n  - path: /r/\n    upstream: \"http://127.0.0.1:8080/\"\nlog: { level: warn }\n")
	return b.String()
}

func TestParseManyKeysSameAsLibrary(t *testing.T) {
	doc := manyKeysDoc(4000)
	if len(doc) < fastKeysMinBytes {
		t.Fatalf("document of %d bytes does not take the fast path", len(doc))
	}
	getenv := env(map[string]string{"SECRET": "from-env"})
	defer func(n int) { chunkItems = n }(chunkItems)
	chunkItems = 333 // several chunks, the last one short
	fast, err := Parse([]byte(doc), getenv)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := parse([]byte(doc), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if len(fast.Keys) != 4000 || !reflect.DeepEqual(fast, slow) {
		for i := range min(len(fast.Keys), len(slow.Keys)) {
			if !reflect.DeepEqual(fast.Keys[i], slow.Keys[i]) {
				t.Fatalf("keys[%d]: fast %+v, library %+v", i, fast.Keys[i], slow.Keys[i])
			}
		}
		t.Fatalf("fast path differs: %d keys, library %d", len(fast.Keys), len(slow.Keys))
	}
	if err := fast.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseManyKeysErrors(t *testing.T) {
	base := manyKeysDoc(3000)
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unset variable with its line", strings.Replace(base, "\"${SECRET}\"", "\"${NOPE}\"", 1), []string{"line 9", "NOPE"}},
		{"unknown field in a key", strings.Replace(base, "  tenant: acme", "  tennant: acme", 1), []string{"tennant"}},
		{"unknown field after the keys", base + "lisen: x\n", []string{"lisen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), env(map[string]string{"SECRET": "x"}))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// FuzzReadKeyFast: whenever the fast reader accepts an item, the YAML
// library decodes it the same.
func FuzzReadKeyFast(f *testing.F) {
	for i, item := range fastKeyItems {
		f.Add(fmt.Sprintf(item, i, i))
	}
	getenv := env(map[string]string{"SECRET": "from-env"})
	f.Fuzz(func(t *testing.T, item string) {
		var k Key
		ok, err := readKeyFast([]byte(item), 1, getenv, &k, newInterner())
		if !ok || err != nil {
			return
		}
		var one []Key
		if err := decodeExpanded([]byte(item), getenv, &one); err != nil {
			t.Fatalf("fast read %q as %+v; library: %v", item, k, err)
		}
		if len(one) != 1 || !reflect.DeepEqual(one[0], k) {
			t.Fatalf("fast read %q as %+v; library %+v", item, k, one)
		}
	})
}

func BenchmarkParseManyKeys(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("keys:\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "  - id: k%07d\n    secrets: [\"secret-k%07d\"]\n    schemes: [sw1, cavage]\n    upstreams: [{origin: \"http://127.0.0.1:8080\"}]\n", i, i)
	}
	doc := []byte(sb.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, env(nil)); err != nil {
			b.Fatal(err)
		}
	}
}
