package gateway

import (
	"cmp"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/internal/h1"
)

// state is one configuration compiled for serving. It is immutable once
// built, so requests read it without locks while Reload swaps in another.
type state struct {
	cfg  *config.Config
	keys signet.KeyStore // Gateway.Keys, or the config's keys

	// cfgKeys are the config's keys (nil when Gateway.Keys is set), with
	// their upstream policies; keys from Gateway.Keys get theirs from
	// Gateway.policyFor's cache.
	cfgKeys *configKeys

	// Pre-signed targets of keys without upstreams.
	allowOrigins   map[string]bool
	allowAnyPublic bool

	routes []*route // longest prefix first, host-specific first
	sw1    signet.Verifier
	cors   *cors

	// public dials only public addresses; explicit serves origins the
	// config lists and may dial their private addresses. Separate pools
	// keep a connection made for one from serving the other.
	public, explicit *h1.Transport

	// publicProxy and explicitProxy forward through public and explicit;
	// built once, they read each request's settings from its exchange.
	publicProxy, explicitProxy *httputil.ReverseProxy

	// errorLog receives the proxy's own complaints (a body copy that
	// failed mid-stream) at debug level.
	errorLog *log.Logger
}

type header struct{ name, value string } // name in canonical form

type route struct {
	prefix   string // path without trailing slash; "" matches every path
	host     string // lower-case hostname; "" matches any
	target   *url.URL
	origin   string
	verifier signet.Verifier
	keys     map[string]bool // nil: any key
	headers  []header
}

func (rt *route) matches(host, path string) bool {
	if rt.host != "" && rt.host != host {
		return false
	}
	return path == rt.prefix || strings.HasPrefix(path, rt.prefix+"/") || rt.prefix == ""
}

// rest returns the part of the escaped path after the route's prefix, and
// false when it holds dot segments, which could climb out of the upstream's
// base path.
func (rt *route) rest(escapedPath string) (string, bool) {
	rest := escapedPath[len(rt.prefix):]
	for seg := range strings.SplitSeq(rest, "/") {
		s, err := url.PathUnescape(seg)
		if err != nil {
			return "", false
		}
		// An encoded slash or backslash may be decoded upstream: check
		// the parts it would make too.
		for part := range strings.SplitSeq(strings.ReplaceAll(s, "\\", "/"), "/") {
			if part == "." || part == ".." {
				return "", false
			}
		}
	}
	return rest, true
}

func (st *state) match(r *http.Request) *route {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	path := r.URL.EscapedPath()
	for _, rt := range st.routes {
		if rt.matches(host, path) {
			return rt
		}
	}
	return nil
}

func (g *Gateway) build(cfg *config.Config) (*state, error) {
	st := &state{
		cfg:          cfg,
		allowOrigins: map[string]bool{},
	}
	var err error
	if g.Keys != nil {
		st.keys = g.Keys
	} else {
		if st.cfgKeys, err = newConfigKeys(cfg.Keys); err != nil {
			return nil, err
		}
		st.keys = st.cfgKeys
	}
	explicitAddrs := map[string]bool{}
	addExplicit := func(origin string) {
		if a := dialAddr(origin); a != "" {
			explicitAddrs[a] = true
		}
	}
	for _, o := range cfg.AllowOrigins {
		if o == "*" {
			st.allowAnyPublic = true
			continue
		}
		n, err := config.NormalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		st.allowOrigins[n] = true
		addExplicit(n)
	}
	if len(cfg.AllowOrigins) == 0 {
		st.allowAnyPublic = true
	}
	// The origins the config's keys list may be dialed on private
	// addresses; a million keys usually share a few.
	if st.cfgKeys != nil {
		for _, o := range st.cfgKeys.origins {
			n, err := config.NormalizeOrigin(o.origin)
			if err != nil {
				return nil, fmt.Errorf("key %s: %w", o.keyID, err)
			}
			addExplicit(n)
		}
	}

	if st.sw1, err = g.newVerifier(signet.SchemeSW1, cfg, nil); err != nil {
		return nil, err
	}
	for i := range cfg.Routes {
		rc := &cfg.Routes[i]
		target, err := url.Parse(rc.Upstream)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", rc.Path, err)
		}
		origin, err := config.OriginOf(target)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", rc.Path, err)
		}
		target.Scheme, _, _ = strings.Cut(origin, ":")
		addExplicit(origin)
		rt := &route{
			prefix:  strings.TrimSuffix(rc.Path, "/"),
			host:    strings.ToLower(rc.Host),
			target:  target,
			origin:  origin,
			headers: headersOf(rc.Headers),
		}
		if h, _, err := net.SplitHostPort(rt.host); err == nil {
			rt.host = h
		}
		if len(rc.Keys) > 0 {
			rt.keys = map[string]bool{}
			for _, id := range rc.Keys {
				rt.keys[id] = true
			}
		}
		schemes := rc.Schemes
		if len(schemes) == 0 {
			schemes = []string{signet.SchemeReqSig, signet.SchemeCavage}
		}
		var vs signet.Verifiers
		for _, s := range schemes {
			v, err := g.newVerifier(s, cfg, rc)
			if err != nil {
				return nil, fmt.Errorf("route %s: %w", rc.Path, err)
			}
			vs = append(vs, v)
		}
		rt.verifier = vs
		if len(vs) == 1 {
			rt.verifier = vs[0]
		}
		st.routes = append(st.routes, rt)
	}
	slices.SortStableFunc(st.routes, func(a, b *route) int {
		if c := cmp.Compare(len(b.prefix), len(a.prefix)); c != 0 {
			return c
		}
		return cmp.Compare(len(b.host), len(a.host))
	})
	st.cors = newCORS(cfg.CORS)
	st.errorLog = slog.NewLogLogger(g.logger().Handler(), slog.LevelDebug)
	st.public = inline(g.newTransport(cfg.Limits, nil))
	st.explicit = inline(g.newTransport(cfg.Limits, func(addr string) bool { return explicitAddrs[addr] }))
	st.publicProxy = newReverseProxy(st.public, st.errorLog)
	st.explicitProxy = newReverseProxy(st.explicit, st.errorLog)
	return st, nil
}

// inline serves plain-HTTP requests without a body on the caller's
// goroutine (internal/h1) with tr's dialer and limits, and the rest with tr.
func inline(tr *http.Transport) *h1.Transport {
	return &h1.Transport{
		DialContext:           tr.DialContext,
		Fallback:              tr,
		MaxIdleConnsPerHost:   tr.MaxIdleConnsPerHost,
		IdleConnTimeout:       tr.IdleConnTimeout,
		ResponseHeaderTimeout: tr.ResponseHeaderTimeout,
	}
}

func (g *Gateway) newVerifier(scheme string, cfg *config.Config, rc *config.Route) (signet.Verifier, error) {
	if g.NewVerifier != nil {
		return g.NewVerifier(scheme, cfg, rc)
	}
	now := g.Now
	if now == nil {
		now = time.Now
	}
	return builtinVerifier(scheme, cfg, rc, now)
}

// headersOf turns configured headers into a sorted list with canonical names,
// so injection order (and the logs) are deterministic.
func headersOf(m map[string]string) []header {
	hs := make([]header, 0, len(m))
	for k, v := range m {
		hs = append(hs, header{http.CanonicalHeaderKey(k), v})
	}
	slices.SortFunc(hs, func(a, b header) int { return strings.Compare(a.name, b.name) })
	return hs
}

// dialAddr is the "host:port" the transport dials for a normalized origin.
func dialAddr(origin string) string {
	u, err := url.Parse(origin)
	if err != nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
