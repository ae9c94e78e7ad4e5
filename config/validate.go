package config

import (
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"

	"github.com/signet-dev/signet"
)

// ReservedPaths are answered by the gateway itself, unsigned; routes may not
// use them.
var ReservedPaths = []string{"/healthz", "/readyz", "/metrics"}

// Known scheme and algorithm names.
var (
	knownSchemes    = []string{signet.SchemeSW1, signet.SchemeReqSig, signet.SchemeCavage, signet.SchemeRFC9421, signet.SchemeSigV4}
	routeSchemes    = []string{signet.SchemeReqSig, signet.SchemeCavage, signet.SchemeRFC9421, signet.SchemeSigV4}
	publicSchemes   = []string{signet.SchemeCavage, signet.SchemeRFC9421} // schemes a public key can verify
	knownAlgorithms = []string{
		signet.AlgHMACSHA1, signet.AlgHMACSHA256, signet.AlgHMACSHA512,
		// draft-cavage asymmetric names
		"rsa-sha256", "rsa-sha512", "rsa-pss-sha512", "ecdsa-sha256", "ecdsa-sha384", "ecdsa-sha512",
		"ed25519", "ed25519-sha512", "hs2019",
		// RFC 9421 names not listed above
		"ecdsa-p256-sha256", "ecdsa-p384-sha384", "rsa-v1_5-sha256",
	}
	logLevels = []string{"debug", "info", "warn", "error"}
)

// Validate reports every problem in c at once (joined with errors.Join).
func (c *Config) Validate() error { return c.validate(true) }

// ValidateSettings is Validate without the checks of each key in Keys and
// of the key ids routes name; that there are keys (or a store) is still
// checked. Its cost does not grow with the keys: a program can refuse a bad
// file before opening its stores, and leave the whole check to one Validate
// later (gateway.Gateway.Reload runs it) instead of reading a million keys
// twice.
func (c *Config) ValidateSettings() error { return c.validate(false) }

func (c *Config) validate(keys bool) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Listen == "" {
		add("listen: empty")
	} else if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen: %q is not host:port", c.Listen)
	}

	external := c.Store != "" || c.KeysExternal
	switch {
	case c.Store != "" && len(c.Keys) > 0:
		add("keys: with store set the keys come from the store; remove keys from the file (or unset store)")
	case len(c.Keys) == 0 && !external:
		add("keys: no key configured (use --config FILE, or the quick start: signet serve <id> <secret>)")
	}
	if c.Store != "" && !hasPrefixFold(c.Store, "postgres://") && !hasPrefixFold(c.Store, "postgresql://") {
		add("store: must be a postgres:// URL")
	}
	if c.Redis != "" && !hasPrefixFold(c.Redis, "redis://") && !hasPrefixFold(c.Redis, "rediss://") && !hasPrefixFold(c.Redis, "unix://") {
		add("redis: must be a redis://, rediss:// or unix:// URL")
	}
	var ids *idSet
	if keys {
		ids = c.validateKeys(add)
	}

	for i, o := range c.AllowOrigins {
		if o == "*" {
			continue
		}
		if _, err := normalizeConfigOrigin(o); err != nil {
			add("allow_origins[%d]: %v", i, err)
		}
	}

	type routeKey struct{ host, path string }
	routes := map[routeKey]bool{}
	for i, r := range c.Routes {
		where := fmt.Sprintf("routes[%d] (%s)", i, r.Path)
		if !strings.HasPrefix(r.Path, "/") {
			add("%s: path must start with /", where)
		}
		for _, p := range ReservedPaths {
			if r.Path == p || r.Path == p+"/" {
				add("%s: %s is reserved", where, p)
			}
		}
		rk := routeKey{strings.ToLower(r.Host), strings.TrimSuffix(r.Path, "/")}
		if routes[rk] {
			add("%s: duplicate route (same host and path)", where)
		}
		routes[rk] = true
		if r.Upstream == "" {
			add("%s: upstream is empty", where)
		} else if u, err := url.Parse(r.Upstream); err != nil {
			add("%s: upstream: invalid URL", where)
		} else if _, err := OriginOf(u); err != nil {
			add("%s: upstream: %v", where, err)
		} else if u.RawQuery != "" || u.Fragment != "" {
			add("%s: upstream must not carry a query or fragment", where)
		}
		for _, s := range r.Schemes {
			if !slices.Contains(routeSchemes, s) {
				add("%s: scheme %q cannot serve a route (use %s; sw1 URLs name their own target)", where, s, strings.Join(routeSchemes, ", "))
			}
		}
		for _, h := range r.RequireHeaders {
			if h != strings.ToLower(h) || h == "" {
				add("%s: require_headers: %q must be a lower-case header name or (pseudo-header)", where, h)
			}
		}
		for _, h := range r.RequireComponents {
			if h != strings.ToLower(h) || h == "" || strings.ContainsAny(h, " \t\r\n\"") {
				add("%s: require_components: %q must be a lower-case component name (\"@method\", \"content-digest\")", where, h)
			}
		}
		if (r.Region != "" || r.Service != "") && len(r.Schemes) > 0 && !slices.Contains(r.Schemes, signet.SchemeSigV4) {
			add("%s: region and service apply to sigv4, which the route does not accept", where)
		}
		for _, id := range r.Keys {
			if keys && !ids.has(id) && !external {
				add("%s: keys: unknown key id %q", where, id)
			}
		}
		validateHeaders(text(where), r.Headers, add)
	}

	if c.CORS.MaxAge < 0 {
		add("cors.max_age is negative")
	}
	if c.CORS.AllowCredentials && slices.Contains(c.CORS.AllowOrigins, "*") {
		// Browsers refuse "*" with credentials; echoing any origin with
		// credentials would let every site use the caller's cookies.
		add("cors: allow_credentials needs explicit allow_origins, not *")
	}
	for _, o := range c.CORS.AllowOrigins {
		if o != "*" {
			if _, err := NormalizeOrigin(o); err != nil {
				add("cors.allow_origins: %q: %v", o, err)
			}
		}
	}
	for _, m := range c.CORS.AllowMethods {
		if m != "*" && !validToken(m) {
			add("cors.allow_methods: invalid method %q", m)
		}
	}
	for _, list := range [][]string{c.CORS.AllowHeaders, c.CORS.ExposeHeaders} {
		for _, h := range list {
			if h != "*" && !validToken(h) {
				add("cors: invalid header name %q", h)
			}
		}
	}

	l := c.Limits
	if l.MaxSignedBody <= 0 {
		add("limits.max_signed_body must be positive")
	}
	if l.MaxHeaderBytes < 0 {
		add("limits.max_header_bytes is negative")
	}
	if l.ReadHeaderTimeout <= 0 {
		add("limits.read_header_timeout must be positive (it guards against slow clients)")
	}
	for name, d := range map[string]Duration{
		"read_timeout": l.ReadTimeout, "write_timeout": l.WriteTimeout, "idle_timeout": l.IdleTimeout,
		"shutdown_timeout": l.ShutdownTimeout, "upstream_dial_timeout": l.UpstreamDialTimeout,
		"upstream_tls_handshake_timeout":   l.UpstreamTLSHandshakeTimeout,
		"upstream_response_header_timeout": l.UpstreamResponseHeaderTimeout,
		"upstream_idle_timeout":            l.UpstreamIdleTimeout,
	} {
		if d < 0 {
			add("limits.%s is negative", name)
		}
	}
	if l.UpstreamMaxIdleConnsPerHost < 0 {
		add("limits.upstream_max_idle_conns_per_host is negative")
	}
	for name, s := range map[string]SchemeOptions{"sw1": c.Schemes.SW1, "reqsig": c.Schemes.ReqSig, "cavage": c.Schemes.Cavage,
		"rfc9421": c.Schemes.RFC9421, "sigv4": c.Schemes.SigV4} {
		if s.MaxSkew < 0 {
			add("schemes.%s.max_skew is negative", name)
		}
		if s.MaxAge < 0 {
			add("schemes.%s.max_age is negative", name)
		}
		if s.MaxAge != 0 && name != "rfc9421" {
			add("schemes.%s.max_age: only rfc9421 has max_age", name)
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls: set both cert_file and key_file, or neither")
	}
	if c.Log.Level != "" && !slices.Contains(logLevels, c.Log.Level) {
		add("log.level: %q is not one of %s", c.Log.Level, strings.Join(logLevels, ", "))
	}
	return errors.Join(errs...)
}

// validateKeys checks each key, and returns the set of their ids.
func (c *Config) validateKeys(add func(string, ...any)) *idSet {
	ids := newIDSet(c.Keys)
	// A million keys often name a handful of origins: parse each once.
	origins := map[string]originResult{}
	for i := range c.Keys {
		k := &c.Keys[i]
		where := keyWhere{i, k.ID} // formatted only for an error
		switch {
		case k.ID == "":
			add("%s: id is empty", where)
		case ids.dup(i):
			add("%s: duplicate id", where)
		case len(k.ID) > 256:
			add("%s: id longer than 256 bytes", where)
		}
		if len(k.Secrets) == 0 && k.PublicKey.IsZero() {
			add("%s: no secrets and no public_key", where)
		}
		if len(k.Secrets) == 0 && !k.PublicKey.IsZero() {
			for _, s := range k.Schemes {
				if !slices.Contains(publicSchemes, s) {
					add("%s: scheme %q needs secrets; a public_key verifies %s only", where, s, strings.Join(publicSchemes, ", "))
				}
			}
		}
		if r := k.RateLimit; r.RequestsPerSecond < 0 || r.Burst < 0 || r.BytesPerMinute < 0 {
			add("%s: rate_limit values must not be negative", where)
		}
		for j, s := range k.Secrets {
			if s == "" {
				add("%s: secrets[%d] is empty", where, j)
			}
		}
		for _, s := range k.Schemes {
			if !slices.Contains(knownSchemes, s) {
				add("%s: unknown scheme %q (known: %s)", where, s, strings.Join(knownSchemes, ", "))
			}
		}
		if strings.Contains(k.ID, "/") && (len(k.Schemes) == 0 || slices.Contains(k.Schemes, signet.SchemeSW1)) {
			add("%s: an id containing / cannot sign SW1 URLs (Signway reads the id up to the first /); list schemes without sw1", where)
		}
		for _, a := range k.Algorithms {
			if !slices.Contains(knownAlgorithms, a) {
				add("%s: unknown algorithm %q (known: %s)", where, a, strings.Join(knownAlgorithms, ", "))
			}
		}
		if k.MaxExpires < 0 {
			add("%s: max_expires is negative", where)
		}
		var seen map[string]bool
		if len(k.Upstreams) > 1 {
			seen = map[string]bool{}
		}
		for j, u := range k.Upstreams {
			uw := upstreamWhere{where, j}
			o := u.Origin
			if o != "*" {
				r, ok := origins[o]
				if !ok {
					r.normalized, r.err = normalizeConfigOrigin(o)
					if len(origins) < 1024 {
						origins[o] = r
					}
				}
				if r.err != nil {
					add("%s: origin: %v", uw, r.err)
					continue
				}
				o = r.normalized
			}
			if seen[o] {
				add("%s: duplicate origin %q", uw, u.Origin)
			}
			if seen != nil {
				seen[o] = true
			}
			if len(u.Headers) > 0 {
				validateHeaders(uw, u.Headers, add)
			}
		}
	}
	return ids
}

// idSet is the set of key ids Validate has seen: an open-addressing table,
// at most half full, of 1+index into keys (low 32 bits) and the id's hash
// (high 32 bits, compared before the id itself, which may be a cache miss
// away). For a million keys it is 16 MB and a fraction of the time a
// map[string]bool took.
type idSet struct {
	keys  []Key
	slots []uint64
	seed  maphash.Seed
	dups  map[int]bool // indexes of keys whose id an earlier key has
}

// idBatch is how many ids newIDSet hashes before it inserts them.
const idBatch = 16

// newIDSet indexes the ids of keys but empty ones.
func newIDSet(keys []Key) *idSet {
	size := 8
	for size < 2*len(keys) && size < 1<<30 {
		size *= 2
	}
	s := &idSet{keys: keys, slots: make([]uint64, size), seed: maphash.MakeSeed()}
	mask := uint64(size - 1)
	var hs [idBatch]uint64
	var sink uint64
	for i0 := 0; i0 < len(keys); i0 += idBatch {
		b := hs[:min(idBatch, len(keys)-i0)]
		// A slot is a cache (and TLB) miss away. The loads of a batch's
		// first slots do not depend on one another, so their misses
		// overlap, rather than come one after the other as inserts:
		// about half the time for a million keys.
		for j := range b {
			b[j] = maphash.String(s.seed, keys[i0+j].ID)
			sink += s.slots[b[j]&mask]
		}
		for j, h := range b {
			if keys[i0+j].ID != "" && !s.insert(h, i0+j) {
				if s.dups == nil {
					s.dups = map[int]bool{}
				}
				s.dups[i0+j] = true
			}
		}
	}
	runtime.KeepAlive(sink) // keeps the loads
	return s
}

// insert adds keys[i].ID, of hash h; false when the id is already there.
func (s *idSet) insert(h uint64, i int) bool {
	j, found := s.probe(h, s.keys[i].ID)
	if found {
		return false
	}
	s.slots[j] = h&^(1<<32-1) | uint64(i+1)
	return true
}

// dup reports whether keys[i].ID is the id of an earlier key.
func (s *idSet) dup(i int) bool { return s.dups[i] }

func (s *idSet) has(id string) bool {
	_, found := s.probe(maphash.String(s.seed, id), id)
	return found
}

// probe returns the slot of id, of hash h, or the empty slot it would take.
func (s *idSet) probe(h uint64, id string) (slot uint64, found bool) {
	mask := uint64(len(s.slots) - 1)
	for j := h & mask; ; j = (j + 1) & mask {
		v := s.slots[j]
		if v == 0 {
			return j, false
		}
		if v>>32 == h>>32 && s.keys[uint32(v)-1].ID == id {
			return j, true
		}
	}
}

type text string

func (t text) String() string { return string(t) }

type originResult struct {
	normalized string
	err        error
}

// keyWhere names keys[i] in messages; formatting waits for an error.
type keyWhere struct {
	i  int
	id string
}

func (w keyWhere) String() string {
	if w.id == "" {
		return fmt.Sprintf("keys[%d]", w.i)
	}
	return fmt.Sprintf("keys[%d] (%s)", w.i, w.id)
}

type upstreamWhere struct {
	key keyWhere
	j   int
}

func (w upstreamWhere) String() string { return fmt.Sprintf("%s.upstreams[%d]", w.key, w.j) }

// normalizeConfigOrigin accepts an origin with an optional trailing "/" but
// no other path, query or fragment: an origin is not a URL prefix.
func normalizeConfigOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("invalid URL %q", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port], no path)", raw)
	}
	return OriginOf(u)
}

func validateHeaders(where fmt.Stringer, h map[string]string, add func(string, ...any)) {
	for k, v := range h {
		if !validToken(k) {
			add("%s: headers: invalid header name %q", where, k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			// Never echo the value: it is usually a credential.
			add("%s: headers: value of %s contains CR, LF or NUL", where, k)
		}
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Connection", "Content-Length", "Transfer-Encoding", "Upgrade", "Te", "Trailer":
			add("%s: headers: %s cannot be injected", where, k)
		}
	}
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// SignetKeys converts the configured keys to signet keys, upstream origins
// normalized ("*" kept), so that they carry the same policy a key from a
// store would. Call Validate first: SignetKeys does not check them.
func (c *Config) SignetKeys() []*signet.Key {
	out := make([]*signet.Key, len(c.Keys))
	all := make([]signet.Key, len(c.Keys)) // one allocation for all
	origins := map[string]string{}
	for i := range c.Keys {
		c.Keys[i].signetKey(&all[i], origins)
		out[i] = &all[i]
	}
	return out
}

// SignetKey converts one configured key, as SignetKeys does.
func (k *Key) SignetKey() *signet.Key {
	sk := new(signet.Key)
	k.signetKey(sk, nil)
	return sk
}

// signetKey fills sk from k. origins, when not nil, caches normalized
// origins (many keys share a few).
func (k *Key) signetKey(sk *signet.Key, origins map[string]string) {
	*sk = signet.Key{
		ID:         k.ID,
		Secrets:    slices.Clone(k.Secrets),
		PublicKey:  k.PublicKey.Key,
		Schemes:    slices.Clone(k.Schemes),
		Algorithms: slices.Clone(k.Algorithms),
		MaxExpires: k.MaxExpires.D(),
		SingleUse:  k.SingleUse,
		RateLimit: signet.RateLimit{
			RequestsPerSecond: k.RateLimit.RequestsPerSecond,
			Burst:             k.RateLimit.Burst,
			BytesPerMinute:    int64(k.RateLimit.BytesPerMinute),
		},
		FailOpen: k.FailOpen,
		Tenant:   k.Tenant,
	}
	if len(k.Secrets) == 0 {
		sk.Secrets = nil
	}
	if len(k.Upstreams) > 0 {
		sk.Upstreams = make([]signet.Upstream, 0, len(k.Upstreams))
	}
	for _, u := range k.Upstreams {
		o := u.Origin
		if o != "*" {
			if n, ok := origins[o]; ok {
				o = n
			} else if n, err := normalizeConfigOrigin(o); err == nil {
				if origins != nil && len(origins) < 1024 {
					origins[o] = n
				}
				o = n
			}
		}
		sk.Upstreams = append(sk.Upstreams, signet.Upstream{Origin: o, Headers: maps.Clone(u.Headers)})
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
