package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.Listen != "127.0.0.1:3000" {
		t.Errorf("Listen = %q", c.Listen)
	}
	if got, want := c.Limits.MaxSignedBody, Size(10<<20); got != want {
		t.Errorf("MaxSignedBody = %d, want %d", got, want)
	}
	if got, want := c.Limits.UpstreamResponseHeaderTimeout.D(), 60*time.Second; got != want {
		t.Errorf("UpstreamResponseHeaderTimeout = %v, want %v", got, want)
	}
	if len(c.CORS.AllowOrigins) != 1 || c.CORS.AllowOrigins[0] != "*" {
		t.Errorf("CORS.AllowOrigins = %q", c.CORS.AllowOrigins)
	}
	// The defaults configure no key: a clear error, not a gateway that
	// refuses everything.
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "no key configured") {
		t.Errorf("Validate() = %v, want the no-key error", err)
	}
	c.Keys = []Key{{ID: "a", Secrets: []string{"s"}}}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults plus one key: %v", err)
	}
}

func TestExampleRunsAsIs(t *testing.T) {
	c, err := Load("../examples/signet.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Keys[0].Secrets[0] != "demo-secret" {
		t.Errorf("demo secret = %q", c.Keys[0].Secrets[0])
	}
	// An environment value wins over the fallback.
	c, err = Load("../examples/signet.yaml", env(map[string]string{"DEMO_SECRET": "real"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys[0].Secrets[0] != "real" {
		t.Errorf("secret = %q, want real", c.Keys[0].Secrets[0])
	}
}

const issueYAML = `
listen: "127.0.0.1:3000"
keys:
  - id: app
    secrets: ["${APP_SECRET}", "${APP_OLD_SECRET}"]
    schemes: [sw1, reqsig, cavage]
    algorithms: [hmac-sha256, hmac-sha512]
    max_expires: 1h
    upstreams:
      - origin: "https://api.openai.com"
        headers: { Authorization: "Bearer ${OPENAI_KEY}" }
routes:
  - path: /internal/
    upstream: "http://127.0.0.1:9001/"
    schemes: [reqsig, cavage]
    require_headers: ["(request-target)", "host", "date"]
    headers: { X-Api-Key: "${INTERNAL_KEY}" }
cors: { allow_origins: ["https://app.example.com"], allow_headers: ["content-type"], expose_headers: [], max_age: 10m }
limits: { max_signed_body: 10MiB, read_header_timeout: 10s, upstream_response_header_timeout: 60s }
`

func TestParseIssueSchema(t *testing.T) {
	vars := map[string]string{"APP_SECRET": "new", "APP_OLD_SECRET": "old", "OPENAI_KEY": "sk-1", "INTERNAL_KEY": "ik"}
	c, err := Parse([]byte(issueYAML), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	k := c.Keys[0]
	if got := strings.Join(k.Secrets, ","); got != "new,old" {
		t.Errorf("secrets = %q", got)
	}
	if k.MaxExpires.D() != time.Hour {
		t.Errorf("max_expires = %v", k.MaxExpires.D())
	}
	if got := k.Upstreams[0].Headers["Authorization"]; got != "Bearer sk-1" {
		t.Errorf("injected = %q", got)
	}
	if got := c.Routes[0].Headers["X-Api-Key"]; got != "ik" {
		t.Errorf("route header = %q", got)
	}
	if c.CORS.MaxAge.D() != 10*time.Minute || c.CORS.AllowOrigins[0] != "https://app.example.com" {
		t.Errorf("cors = %+v", c.CORS)
	}
	// Fields the file does not name keep their defaults.
	if c.Limits.IdleTimeout.D() != 120*time.Second {
		t.Errorf("idle_timeout = %v, want the default", c.Limits.IdleTimeout.D())
	}
	sk := c.SignetKeys()
	if len(sk) != 1 || sk[0].ID != "app" || len(sk[0].Secrets) != 2 || sk[0].MaxExpires != time.Hour {
		t.Errorf("SignetKeys = %+v", sk[0])
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       []string
	}{
		{"unset variable named", issueYAML, map[string]string{"APP_SECRET": "x"}, []string{"APP_OLD_SECRET", "OPENAI_KEY", "INTERNAL_KEY"}},
		{"unknown top-level field", "listen: x:1\nlisen: y\n", nil, []string{"lisen"}},
		{"unknown nested field", "keys: [{id: a, secret: [x]}]\n", nil, []string{"secret"}},
		{"bad duration", "limits: {read_header_timeout: soon}\n", nil, []string{"invalid duration"}},
		{"integer duration", "limits: {read_header_timeout: [1]}\n", nil, []string{"duration"}},
		{"bad size", "limits: {max_signed_body: lots}\n", nil, []string{"invalid size"}},
		{"unterminated var", "listen: \"${X\"\n", nil, []string{"unterminated"}},
		{"bad var name", "listen: \"${1X}\"\n", nil, []string{"invalid variable name"}},
		{"not yaml", "listen: [\n", nil, []string{"yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), env(tt.env))
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

func TestExpansionCannotInjectStructure(t *testing.T) {
	// A secret holding YAML syntax stays one string value.
	evil := "x\"]\nlisten: \"0.0.0.0:1\"\n#"
	c, err := Parse([]byte("keys: [{id: a, secrets: [\"${S}\"]}]\n"), env(map[string]string{"S": evil}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys[0].Secrets[0] != evil || c.Listen != "127.0.0.1:3000" {
		t.Errorf("secret = %q, listen = %q", c.Keys[0].Secrets[0], c.Listen)
	}
	// Numbers come through for numeric fields; strings stay strings.
	c, err = Parse([]byte("limits:\n  upstream_max_idle_conns_per_host: ${N}\nkeys:\n  - id: a\n    secrets:\n      - ${N}\n"), env(map[string]string{"N": "12"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.UpstreamMaxIdleConnsPerHost != 12 || c.Keys[0].Secrets[0] != "12" {
		t.Errorf("got %d and %q", c.Limits.UpstreamMaxIdleConnsPerHost, c.Keys[0].Secrets[0])
	}
}

func TestExpand(t *testing.T) {
	get := env(map[string]string{"A": "1", "B": "two"})
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${A}", "1", ""},
		{"x${A}y${B}z", "x1ytwoz", ""},
		{"$$A", "$A", ""},
		{"cost $5", "cost $5", ""},
		{"${C:-fallback}", "fallback", ""},
		{"${A:-fallback}", "1", ""},
		{"${C:-}", "", ""},
		{"${C}", "", "C is not set"},
		{"${C}${D}", "", "C, D is not set"},
		{"$", "$", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Expand(tt.in, get)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"10MiB", 10 << 20, true}, {"512", 512, true}, {"1KB", 1000, true}, {"1.5KiB", 1536, true},
		{"64KiB", 64 << 10, true}, {"2G", 2 << 30, true}, {"", 0, false}, {"-1", 0, false},
		{"MiB", 0, false}, {"1XB", 0, false}, {"99999999999TiB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.openai.com", "https://api.openai.com"},
		{"HTTPS://API.OpenAI.com:443/", "https://api.openai.com"},
		{"http://127.0.0.1:80", "http://127.0.0.1"},
		{"http://127.0.0.1:9001/x", "http://127.0.0.1:9001"},
		{"wss://rt.example.com/v1", "https://rt.example.com"},
		{"ws://[::1]:8080", "http://[::1]:8080"},
		{"ftp://x", ""},
		{"https://user:pw@x", ""},
		{"https://", ""},
		{"/relative", ""},
		{"http://x:99999", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeOrigin(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeOrigin(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := Default()
	c.Listen = "nope"
	c.Keys = []Key{
		{ID: "", Secrets: nil},
		{ID: "a", Secrets: []string{""}, Schemes: []string{"sw2"}, Algorithms: []string{"md5"},
			Upstreams: []Upstream{{Origin: "https://x.example/path"}, {Origin: "https://u:p@x"}, {Origin: "https://ok", Headers: map[string]string{"Bad Name": "v", "X": "a\r\nb: c"}}}},
		{ID: "a", Secrets: []string{"s"}},
		{ID: "with/slash", Secrets: []string{"s"}},
	}
	c.Routes = []Route{
		{Path: "nope", Upstream: "ftp://x"},
		{Path: "/healthz", Upstream: "http://x"},
		{Path: "/a/", Upstream: "http://x/?q=1", Schemes: []string{"sw1"}, Keys: []string{"zzz"}, RequireHeaders: []string{"Date"}},
		{Path: "/a", Upstream: "http://x", Headers: map[string]string{"Host": "evil"}},
	}
	c.AllowOrigins = []string{"gopher://x"}
	c.CORS.AllowCredentials = true
	c.CORS.AllowMethods = []string{"GE T"}
	c.Limits.MaxSignedBody = 0
	c.Limits.ReadHeaderTimeout = 0
	c.TLS.CertFile = "x.pem"
	c.Log.Level = "loud"
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`listen: "nope"`, "keys[0]: id is empty", "keys[0]: no secrets", "secrets[0] is empty",
		`unknown scheme "sw2"`, `unknown algorithm "md5"`, "is not an origin", "userinfo",
		`invalid header name "Bad Name"`, "value of X contains CR", "keys[2] (a): duplicate id",
		"id containing /", "path must start with /", "/healthz is reserved", "query or fragment",
		`scheme "sw1" cannot serve a route`, `unknown key id "zzz"`, `"Date" must be a lower-case`,
		"duplicate route", "Host cannot be injected", `scheme "ftp" not allowed`, "allow_origins[0]",
		"allow_credentials", `invalid method "GE T"`, "max_signed_body", "read_header_timeout",
		"tls:", "log.level",
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q", w)
		}
	}
	// The secret-bearing value is never echoed.
	if strings.Contains(err.Error(), "b: c") {
		t.Errorf("error echoes a header value: %v", err)
	}
	if n := len(strings.Split(err.Error(), "\n")); n < len(want) {
		t.Errorf("%d problems reported, want at least %d", n, len(want))
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	c, err := Parse(nil, nil)
	if err != nil || c.Listen != Default().Listen {
		t.Errorf("Parse(nil) = %+v, %v", c, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(issueYAML))
	f.Add(DefaultYAML())
	if b, err := os.ReadFile("../examples/signet.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("keys: [{id: a, secrets: [\"${A:-x}\"]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, env(map[string]string{"APP_SECRET": "s", "A": "$"}))
		if err != nil {
			return
		}
		_ = c.Validate() // never panics
		_ = c.SignetKeys()
	})
}

func ExampleParse() {
	doc := []byte(`
keys:
  - id: app
    secrets: ["${APP_SECRET}"]
    upstreams:
      - origin: "https://api.openai.com"
        headers: { Authorization: "Bearer ${OPENAI_KEY}" }
`)
	getenv := env(map[string]string{"APP_SECRET": "s3cret", "OPENAI_KEY": "sk-1"})
	c, err := Parse(doc, getenv)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Validate(), c.Listen, c.Keys[0].ID, c.Limits.MaxSignedBody)
	// Output: <nil> 127.0.0.1:3000 app 10485760
}

// ValidateSettings checks everything but each key, so that a program can
// fail early and leave the keys to one Validate.
func TestValidateSettings(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(c *Config)
		want    string // "" means no error
		keysErr string // what Validate adds
	}{
		{"keys with problems", func(c *Config) { c.Keys = append(c.Keys, Key{ID: "b"}, Key{ID: "b", Secrets: []string{"s"}}) }, "", "keys[1] (b): no secrets"},
		{"route naming an unknown key", func(c *Config) { c.Routes = []Route{{Path: "/r", Upstream: "http://x", Keys: []string{"zzz"}}} }, "", `unknown key id "zzz"`},
		{"no keys", func(c *Config) { c.Keys = nil }, "no key configured", "no key configured"},
		{"bad listen", func(c *Config) { c.Listen = "nope" }, `listen: "nope"`, `listen: "nope"`},
		{"store with keys", func(c *Config) { c.Store = "postgres://x" }, "keys come from the store", "keys come from the store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Keys = []Key{{ID: "a", Secrets: []string{"s"}}}
			tt.mutate(c)
			err := c.ValidateSettings()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("ValidateSettings() = %v, want %q", err, tt.want)
			}
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.keysErr) {
				t.Errorf("Validate() = %v, want %q", err, tt.keysErr)
			}
		})
	}
}

// Ids are indexed in batches: duplicates are found within and across
// them, each reported at the later key, and empty ids are not ids.
func TestValidateDuplicateIDs(t *testing.T) {
	keys := make([]Key, 100)
	for i := range keys {
		keys[i] = Key{ID: fmt.Sprintf("k%d", i), Secrets: []string{"s"}}
	}
	keys[3].ID = "k1"   // same batch
	keys[40].ID = "k2"  // a later batch
	keys[41].ID = "k2"  // a third copy
	keys[99].ID = "k98" // the last, short batch
	keys[50].ID, keys[51].ID = "", ""
	c := Default()
	c.Keys = keys
	c.Routes = []Route{{Path: "/r", Upstream: "http://x", Keys: []string{""}}}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	var dups []string
	for line := range strings.SplitSeq(err.Error(), "\n") {
		if strings.HasSuffix(line, "duplicate id") {
			dups = append(dups, line)
		}
	}
	want := []string{"keys[3] (k1): duplicate id", "keys[40] (k2): duplicate id", "keys[41] (k2): duplicate id", "keys[99] (k98): duplicate id"}
	if !slices.Equal(dups, want) {
		t.Errorf("duplicates %q, want %q", dups, want)
	}
	for _, w := range []string{"keys[50]: id is empty", "keys[51]: id is empty", `unknown key id ""`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}
