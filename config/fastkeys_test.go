package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"
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
	// The document must take the fast path, not fall back as a whole.
	_, kb, err := scanKeysBlock(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("scanKeysBlock: %v", err)
	}
	if _, err := parseKeys(keysSource{data: []byte(doc)}, &kb, getenv); err != nil {
		t.Fatalf("parseKeys: %v", err)
	}
	path := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	slow, err := parse([]byte(doc), getenv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		parse func() (*Config, error)
	}{
		{"Parse", func() (*Config, error) { return Parse([]byte(doc), getenv) }},
		{"Load", func() (*Config, error) { return Load(path, getenv) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fast, err := tt.parse()
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
		})
	}
}

// Windows line ends and comment lines between items read the same too.
func TestParseManyKeysLineEnds(t *testing.T) {
	doc := strings.ReplaceAll(strings.ReplaceAll(manyKeysDoc(3000), "\n  - id: k7\n", "\n# between items\n\n  - id: k7\n"), "\n", "\r\n")
	if !strings.Contains(doc, "\r\n# between items\r\n") {
		t.Fatal("no comment between items")
	}
	getenv := env(map[string]string{"SECRET": "from-env"})
	_, kb, err := scanKeysBlock(strings.NewReader(doc))
	if err == nil {
		_, err = parseKeys(keysSource{data: []byte(doc)}, &kb, getenv)
	}
	if err != nil {
		t.Fatalf("fast path not taken: %v", err)
	}
	fast, err := Parse([]byte(doc), getenv)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := parse([]byte(doc), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatal("fast path differs from the library")
	}
}

// Documents the fast path must not take whole (anchors and aliases, which
// may reach across items, several documents) go to the library whole.
func TestParseManyKeysFallsBack(t *testing.T) {
	base := manyKeysDoc(3000)
	getenv := env(map[string]string{"SECRET": "from-env"})
	alias := strings.Replace(strings.Replace(base, "tenant: acme", "tenant: &t acme", 1), "schemes: []", "schemes: [*t]", 1)
	tests := []struct{ name, doc string }{
		{"alias across items", alias},
		{"anchor used after the keys", strings.Replace(base, "tenant: acme", "tenant: &t acme", 1) + "listen: *t\n"},
		{"two documents", base + "---\nlisten: x\n"},
		{"keys twice", base + "keys: []\n"},
		{"directive", "%YAML 1.2\n" + base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, kb, err := scanKeysBlock(strings.NewReader(tt.doc))
			if err == nil {
				_, err = parseKeys(keysSource{data: []byte(tt.doc)}, &kb, getenv)
			}
			if !errors.Is(err, errNotSimple) {
				t.Fatalf("fast path taken: %v", err)
			}
		})
	}
	// And the library reads them: the alias is followed.
	c, err := Parse([]byte(alias), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Keys[6].Schemes; len(got) != 1 || got[0] != "acme" {
		t.Errorf("keys[6].Schemes = %q, want the alias's [acme]", got)
	}
}

func TestMayAlias(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{`  - id: a` + "\n" + `    upstreams: [{origin: "*"}]`, false},
		{`secrets: [a*b, x&y]`, false},
		{`secrets: ['*']`, false},
		{`tenant: &t acme`, true},
		{`tenant: *t`, true},
		{`schemes: [*s]`, true},
		{`schemes: [a,*s]`, true},
		{`upstreams: {origin:*o}`, true},
		{"*t", true},
		{"x:\n*t", true},
		{`secrets: ["a *b"]`, true}, // in quotes, but told apart only by the library
	}
	for _, tt := range tests {
		if got := mayAlias([]byte(tt.text)); got != tt.want {
			t.Errorf("mayAlias(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// The fast path reads a file twice; a file that changes in between is an
// error, never a mix of two versions.
func TestParseKeysChangedSource(t *testing.T) {
	doc := manyKeysDoc(3000)
	_, kb, err := scanKeysBlock(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"SECRET": "x"})
	tests := []struct{ name, second string }{
		{"shorter", doc[:len(doc)/2]},
		{"lines moved", "# one more line\n" + doc},
		{"items moved", strings.Replace(doc, "  - id: k0\n", "  - id: k0\n    tenant: t\n", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			second := strings.NewReader(tt.second)
			_, err := parseKeys(keysSource{r: second, size: second.Size()}, &kb, getenv)
			if !errors.Is(err, errChanged) {
				t.Errorf("err = %v, want errChanged", err)
			}
		})
	}
}

// Keys read by the fast path share one string and one []string per chunk;
// appending to a key's Secrets must not touch the next key's.
func TestFastKeysShareSafely(t *testing.T) {
	var b strings.Builder
	b.WriteString("keys:\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "  - id: k%07d\n    secrets: [\"secret-%07d\", s2]\n    schemes: [sw1]\n    upstreams: [{origin: \"http://127.0.0.1:8080\"}]\n", i, i)
	}
	c, err := Parse([]byte(b.String()), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	k0, k1 := &c.Keys[0], &c.Keys[1]
	if len(k0.Secrets) != 2 || cap(k0.Secrets) != 2 {
		t.Fatalf("Secrets len %d cap %d, want 2 and 2", len(k0.Secrets), cap(k0.Secrets))
	}
	k0.Secrets = append(k0.Secrets, "new")
	k0.Schemes = append(k0.Schemes, "cavage")
	if k1.Secrets[0] != "secret-0000001" || len(k1.Schemes) != 1 {
		t.Errorf("appending to keys[0] changed keys[1]: %q %q", k1.Secrets, k1.Schemes)
	}
	if c.Keys[2999].ID != "k0002999" || c.Keys[2999].Secrets[0] != "secret-0002999" {
		t.Errorf("last key = %+v", c.Keys[2999])
	}
}

// Reading keys costs allocations per chunk of keys, not per key.
func TestParseManyKeysAllocations(t *testing.T) {
	doc := []byte(manyKeysDocShaped(20000))
	allocs := testing.AllocsPerRun(2, func() {
		if _, err := Parse(doc, env(nil)); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2000 {
		t.Errorf("%v allocations for 20,000 keys, want at most 2,000", allocs)
	}
}

// manyKeysDocShaped is a document of n keys shaped as the issue 6
// benchmark writes them.
func manyKeysDocShaped(n int) string {
	var sb strings.Builder
	sb.WriteString("keys:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - id: k%07d\n    secrets: [\"secret-k%07d\"]\n    schemes: [sw1, cavage]\n    upstreams: [{origin: \"http://127.0.0.1:8080\"}]\n", i, i)
	}
	return sb.String()
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
		var ks keyStrings
		ok, err := readKeyFast([]byte(item), 1, getenv, &k, newInterner(), &ks)
		ks.finish()
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
	doc := []byte(manyKeysDocShaped(10000))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, env(nil)); err != nil {
			b.Fatal(err)
		}
	}
}

// A million keys cost a million Keys: a field out of place costs padding.
func TestKeySize(t *testing.T) {
	if size := unsafe.Sizeof(Key{}); strconv.IntSize == 64 && size > 184 {
		t.Errorf("Key is %d bytes, was 184: a million keys grow by %d MB", size, (size-184)*1000000>>20)
	}
}
