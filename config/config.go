package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded defaults every config is decoded on top of.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Config is the gateway's configuration. Decode it with Load (or Default for
// the built-in values) and check it with Validate before use.
type Config struct {
	// Listen is the address the gateway listens on ("host:port").
	Listen string `yaml:"listen"`

	// Keys are the keys requests may be signed with. They must be empty
	// when Store is set: the keys then come from the store.
	Keys []Key `yaml:"keys"`

	// Store, when set, is the PostgreSQL URL ("postgres://...") of the key
	// store (managed with `signet keys`). Empty means the keys of this file.
	// A change needs a restart.
	Store string `yaml:"store"`

	// Redis, when set, is the Redis URL ("redis://...") where replicas share
	// single-use signatures, nonces, rate limits and usage counters. Empty
	// means in-memory state private to this process. A change needs a
	// restart.
	Redis string `yaml:"redis"`

	// KeysExternal, set by programs (never by the file), says the keys come
	// from a signet.KeyStore outside the config (gateway.Gateway.Keys), so
	// Keys may be empty and routes may name key ids Keys does not list.
	KeysExternal bool `yaml:"-"`

	// Routes map header-signed requests (reqsig, cavage) to upstreams.
	Routes []Route `yaml:"routes"`

	// AllowOrigins restricts the targets of pre-signed URLs for keys that
	// list no upstreams. Empty means any public origin (loopback, private,
	// link-local and metadata addresses are still refused at the dialer);
	// an origin listed here is allowed even when it is a private address.
	// "*" means any public origin.
	AllowOrigins []string `yaml:"allow_origins"`

	// H2C serves HTTP/2 without TLS (prior knowledge) next to HTTP/1.1,
	// for a TLS-terminating load balancer speaking HTTP/2 to Signet. False
	// serves HTTP/1.1 only without TLS; with TLS, HTTP/2 is always on.
	H2C bool `yaml:"h2c"`

	CORS    CORS    `yaml:"cors"`
	Limits  Limits  `yaml:"limits"`
	Schemes Schemes `yaml:"schemes"`
	TLS     TLS     `yaml:"tls"`
	Log     Log     `yaml:"log"`
}

// Key configures one key id.
type Key struct {
	// ID is the key id requests carry.
	ID string `yaml:"id"`
	// Secrets verify signatures; several at once allow rotation. Empty
	// only when PublicKey is set.
	Secrets []string `yaml:"secrets"`
	// PublicKey verifies asymmetric signatures (cavage rsa-sha256, hs2019,
	// ecdsa, ed25519; RFC 9421's asymmetric algorithms): a PEM block or a
	// JWK (JSON text, or a YAML mapping). Empty means a symmetric key.
	PublicKey PublicKey `yaml:"public_key"`
	// Schemes this key may sign with. Empty means all symmetric schemes.
	Schemes []string `yaml:"schemes"`
	// Algorithms restricts cavage algorithms. Empty means hmac-sha256 and
	// hmac-sha512; hmac-sha1 only when listed.
	Algorithms []string `yaml:"algorithms"`
	// MaxExpires refuses SW1 URLs living longer. Zero means no limit.
	MaxExpires Duration `yaml:"max_expires"`
	// Upstreams are the origins this key's pre-signed URLs may reach and the
	// headers injected there. Empty means the top-level allow_origins.
	// Origin "*" means any public origin.
	Upstreams []Upstream `yaml:"upstreams"`

	// (SingleUse and FailOpen sit together: apart, their padding cost a
	// million keys 8 MB.)

	// SingleUse accepts each signature of this key once, until it expires;
	// a replay gets 409 replayed. False means signatures may be reused
	// within their validity (nonces a signature carries are still checked).
	SingleUse bool `yaml:"single_use"`
	// FailOpen keeps the key working, without replay and rate-limit checks,
	// while the shared store is unreachable. False (the default) answers
	// 503 store_unavailable instead.
	FailOpen bool `yaml:"fail_open"`
	// RateLimit is the key's budget. Zero means unlimited.
	RateLimit RateLimit `yaml:"rate_limit"`
	// Tenant labels the key's owner for operators; it is not checked.
	Tenant string `yaml:"tenant"`
}

// RateLimit is a key's request and byte budget.
type RateLimit struct {
	// RequestsPerSecond is the sustained rate; 0 means unlimited.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// Burst is how many requests may come at once; 0 means
	// max(1, requests_per_second).
	Burst int `yaml:"burst"`
	// BytesPerMinute bounds request plus response body bytes per minute;
	// 0 means unlimited.
	BytesPerMinute Size `yaml:"bytes_per_minute"`
}

// Upstream is an origin a key may reach, with the headers injected there.
type Upstream struct {
	// Origin is "scheme://host[:port]" (http, https, ws or wss), or "*".
	Origin string `yaml:"origin"`
	// Headers are set on requests to Origin, replacing any client copy.
	Headers map[string]string `yaml:"headers"`
}

// Route maps a path prefix (and optionally a host) to an upstream for
// requests signed in headers.
type Route struct {
	// Path is the prefix matched against the request path; the longest
	// matching prefix wins. "/api/" and "/api" both match "/api/x"; neither
	// matches "/apix".
	Path string `yaml:"path"`
	// Host, when set, must equal the request's host (port ignored).
	Host string `yaml:"host"`
	// Upstream is the base URL; the rest of the path after Path is appended.
	Upstream string `yaml:"upstream"`
	// Schemes accepted on this route. Empty means reqsig and cavage.
	Schemes []string `yaml:"schemes"`
	// RequireHeaders must be covered by a cavage signature. Empty means none.
	RequireHeaders []string `yaml:"require_headers"`
	// RequireComponents must be covered by an RFC 9421 signature. Empty
	// means the rfc9421 package's default: @method, @authority, @path,
	// @query when the request has a query, content-digest with a body.
	RequireComponents []string `yaml:"require_components"`
	// Region and Service are the SigV4 credential scope the route accepts.
	// Empty means the sigv4 package's defaults.
	Region  string `yaml:"region"`
	Service string `yaml:"service"`
	// Keys restricts the key ids allowed on this route. Empty means any key.
	Keys []string `yaml:"keys"`
	// Headers are injected into every request forwarded by this route.
	Headers map[string]string `yaml:"headers"`
}

// CORS configures answers to browser callers.
type CORS struct {
	// AllowOrigins lists the browser origins allowed; "*" allows any. An
	// empty list disables CORS (no CORS headers, preflights unanswered).
	AllowOrigins []string `yaml:"allow_origins"`
	// AllowMethods lists the methods a preflight allows; "*" echoes the
	// requested method.
	AllowMethods []string `yaml:"allow_methods"`
	// AllowHeaders lists request headers a preflight allows; "*" echoes the
	// requested headers (so Authorization works too).
	AllowHeaders []string `yaml:"allow_headers"`
	// ExposeHeaders lists response headers the page may read.
	ExposeHeaders []string `yaml:"expose_headers"`
	// AllowCredentials sends Access-Control-Allow-Credentials: true; the
	// origin is then echoed instead of "*".
	AllowCredentials bool `yaml:"allow_credentials"`
	// MaxAge is how long a browser may cache a preflight. Zero omits it.
	MaxAge Duration `yaml:"max_age"`
}

// Limits bounds what clients and upstreams may cost.
type Limits struct {
	MaxSignedBody                 Size     `yaml:"max_signed_body"`
	MaxHeaderBytes                Size     `yaml:"max_header_bytes"`
	ReadHeaderTimeout             Duration `yaml:"read_header_timeout"`
	ReadTimeout                   Duration `yaml:"read_timeout"`
	WriteTimeout                  Duration `yaml:"write_timeout"`
	IdleTimeout                   Duration `yaml:"idle_timeout"`
	ShutdownTimeout               Duration `yaml:"shutdown_timeout"`
	UpstreamDialTimeout           Duration `yaml:"upstream_dial_timeout"`
	UpstreamTLSHandshakeTimeout   Duration `yaml:"upstream_tls_handshake_timeout"`
	UpstreamResponseHeaderTimeout Duration `yaml:"upstream_response_header_timeout"`
	UpstreamIdleTimeout           Duration `yaml:"upstream_idle_timeout"`
	UpstreamMaxIdleConnsPerHost   int      `yaml:"upstream_max_idle_conns_per_host"`
}

// Schemes holds per-scheme verifier settings.
type Schemes struct {
	SW1     SchemeOptions `yaml:"sw1"`
	ReqSig  SchemeOptions `yaml:"reqsig"`
	Cavage  SchemeOptions `yaml:"cavage"`
	RFC9421 SchemeOptions `yaml:"rfc9421"`
	SigV4   SchemeOptions `yaml:"sigv4"`
}

// SchemeOptions tunes one scheme's verifier.
type SchemeOptions struct {
	// MaxSkew: SW1, how far X-Sw-Date may lie in the future; reqsig, the
	// window around Timestamp; cavage, the allowed Date skew; rfc9421, how
	// far created may lie in the future; sigv4, the X-Amz-Date window of
	// the header form. Zero means the scheme's default.
	MaxSkew Duration `yaml:"max_skew"`
	// MaxAge (rfc9421 only) is the oldest created accepted. Zero means
	// the scheme's default (5m).
	MaxAge Duration `yaml:"max_age"`
}

// TLS enables HTTPS (and HTTP/2) when both files are set.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
}

// Default returns the built-in defaults (default.yaml). They configure no key,
// so Validate fails until keys are added.
func Default() *Config {
	c := &Config{}
	if err := decodeStrict(defaultYAML, c); err != nil {
		// The embedded file is tested; failing here is a build defect.
		panic("config: embedded defaults: " + err.Error())
	}
	return c
}

// Load reads the YAML file at path on top of Default, expanding ${VAR} (and
// ${VAR:-fallback}) in values from getenv (nil means os.Getenv). Unknown
// fields are errors, and so is a referenced variable that is unset or empty.
// getenv may be called from several goroutines at once (a large key list
// is read in parallel). Keys of a large list may share identical Schemes,
// Algorithms and Upstreams slices, and their strings may share memory:
// appending to a slice is safe, changing an element in place is not. A
// large file is read in pieces, and one that changes meanwhile is an error:
// load it again. Load does not validate: call Validate.
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var c *Config
	if fi.Mode().IsRegular() && fi.Size() >= fastKeysMinBytes {
		c, err = parseLarge(keysSource{r: f, size: fi.Size()}, getenv)
		if err == nil {
			if now, serr := f.Stat(); serr != nil || now.Size() != fi.Size() || !now.ModTime().Equal(fi.ModTime()) {
				err = errChanged
			}
		}
	} else {
		var data []byte
		if data, err = io.ReadAll(f); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		c, err = Parse(data, getenv)
	}
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

// Parse is Load for a document already in memory.
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if len(data) >= fastKeysMinBytes {
		return parseLarge(keysSource{data: data}, getenv)
	}
	return parse(data, getenv)
}

func parse(data []byte, getenv func(string) string) (*Config, error) {
	c := Default()
	if err := decodeExpanded(data, getenv, c); err != nil {
		if errors.Is(err, io.EOF) {
			return Default(), nil // an empty file is the defaults
		}
		return nil, err
	}
	return c, nil
}

// decodeExpanded decodes a YAML document into v strictly, after ${VAR}
// expansion. An empty document is io.EOF.
func decodeExpanded(data []byte, getenv func(string) string, v any) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	var errs []error
	expandNode(&doc, getenv, &errs)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Re-encoding the expanded tree lets the strict decoder (KnownFields)
	// check it, and quotes expanded values so they cannot change structure.
	expanded, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	return decodeStrict(expanded, v)
}

func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// expandNode expands ${VAR} in every scalar value (not in mapping keys).
func expandNode(n *yaml.Node, getenv func(string) string, errs *[]error) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			expandNode(c, getenv, errs)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			expandNode(n.Content[i], getenv, errs)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		v, err := Expand(n.Value, getenv)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("line %d: %w", n.Line, err))
			return
		}
		if v != n.Value {
			n.Value = v
			// Expanded text is data, never YAML structure: re-encoding
			// quotes it as needed. A plain scalar that reads as a number
			// or bool stays untagged so numeric fields can use ${VAR}.
			n.Tag = "!!str"
			if n.Style == 0 && looksScalar(v) {
				n.Tag = ""
			}
		}
	}
}

func looksScalar(v string) bool {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return true
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	return v == "true" || v == "false"
}

// Expand replaces ${VAR} and ${VAR:-fallback} in s with values from getenv;
// "$$" is a literal "$". A "$" not followed by "{" or "$" is kept. A variable
// that is unset or empty without a fallback is an error naming it.
func Expand(s string, getenv func(string) string) (string, error) {
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ in %q", redact(s))
			}
			expr := s[i+2 : i+2+end]
			name, fallback, hasFallback := strings.Cut(expr, ":-")
			if !validVarName(name) {
				return "", fmt.Errorf("invalid variable name %q", name)
			}
			v := getenv(name)
			if v == "" {
				if !hasFallback {
					missing = append(missing, name)
				}
				v = fallback
			}
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return b.String(), nil
}

// redact keeps error messages about a value from echoing it whole: values
// may hold secrets.
func redact(s string) string {
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// Duration is a time.Duration written as a string ("30s", "10m").
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: duration must be a string like \"30s\"", n.Line)
	}
	if n.Value == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q (use a string like \"30s\" or \"10m\")", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Size is a byte count written as "10MiB", "512KB" or a plain number.
type Size int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: size must be a string like \"10MiB\"", n.Line)
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = Size(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (s Size) MarshalYAML() (any, error) { return strconv.FormatInt(int64(s), 10), nil }

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

// ParseSize parses "10MiB", "1.5GB", "512" (bytes).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			mult = u.mult
			break
		}
	}
	if t == "" {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n < 0 || n > (1<<62)/mult {
			return 0, fmt.Errorf("size %q out of range", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f*float64(mult) > float64(int64(1)<<62) {
		return 0, fmt.Errorf("invalid size %q (use e.g. \"10MiB\")", s)
	}
	return int64(f * float64(mult)), nil
}

// NormalizeOrigin returns "scheme://host[:port]" for an absolute http, https,
// ws or wss URL: scheme and host lower-cased, default port dropped. ws and wss
// are reported as http and https, since a WebSocket reaches the same server.
// Userinfo is an error.
func NormalizeOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("invalid URL %q", raw)
	}
	return OriginOf(u)
}

// OriginOf is NormalizeOrigin for a parsed URL.
func OriginOf(u *url.URL) (string, error) {
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "http", "ws":
		scheme = "http"
	case "https", "wss":
		scheme = "https"
	default:
		return "", fmt.Errorf("scheme %q not allowed (http, https, ws, wss)", u.Scheme)
	}
	if u.User != nil {
		return "", errors.New("URL must not carry userinfo")
	}
	if u.Opaque != "" {
		return "", errors.New("URL must be absolute")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", errors.New("URL has no host")
	}
	port := u.Port()
	if port == "80" && scheme == "http" || port == "443" && scheme == "https" {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return "", fmt.Errorf("invalid port %q", port)
		}
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}
