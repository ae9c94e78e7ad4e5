package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/ratelimit"
	"github.com/signet-dev/signet/replay"
)

// Gateway verifies signed requests and forwards them upstream. Build one with
// New; the zero value answers /healthz and refuses everything else with 404
// no_route until Reload gives it a configuration.
type Gateway struct {
	// Logger receives one line per request and operational events. Nil
	// discards them. Secrets, injected values and signatures are never logged.
	Logger *slog.Logger

	// Now is the clock handed to the verifiers. Nil means time.Now. It takes
	// effect at the next Reload.
	Now func() time.Time

	// NewVerifier builds the verifier of a scheme: route is nil for sw1 (the
	// pre-signed URL path) and the route being served otherwise. Nil means
	// the built-in scheme packages (sw1, reqsig, cavage). It takes effect at
	// the next Reload.
	NewVerifier func(scheme string, cfg *config.Config, route *config.Route) (signet.Verifier, error)

	// Keys finds the keys requests are signed with (a postgres.Store, for
	// instance). Nil means the config's keys. Each key's Upstreams decide
	// where its pre-signed URLs may go, as for config keys. It takes effect
	// at the next Reload.
	Keys signet.KeyStore

	// Replay remembers single-use signatures and nonces until they expire.
	// Nil means an in-memory store private to this Gateway (replay.Memory):
	// replicas must share one (the redis package's) or a signature used on
	// one replica is accepted once more on each other.
	Replay signet.ReplayStore

	// Limiter enforces Key.RateLimit. Nil means an in-memory limiter
	// private to this Gateway (ratelimit.Memory): with N replicas a key
	// then gets N times its budget. Share one (redis) across replicas.
	Limiter signet.RateLimiter

	// Usage meters each proxied request (requests, bytes in and out per
	// key and day). Nil means an in-memory recorder (usage.Memory),
	// readable through UsageRecorder.
	Usage signet.UsageRecorder

	// Checks are run by /readyz, each under its name ("postgres",
	// "redis"): while one fails, /readyz answers 503 naming it. Nil means
	// ready once configured. Set it before serving.
	Checks []Check

	// StoreTimeout bounds each call to Replay, Limiter and Usage. Zero
	// means 2 seconds.
	StoreTimeout time.Duration

	// DialControl, when set, runs on every upstream dial after the SSRF
	// guard accepted the address actually dialed (after DNS), just before
	// connecting; an error refuses the dial (502 upstream_unreachable). It
	// is a test hook: a suite records the addresses that got past the guard
	// and refuses any off the machine, so no packet leaves it even when
	// the guard is broken. Nil means no extra check. It takes effect at the
	// next Reload.
	DialControl func(network, address string, c syscall.RawConn) error

	// Resolver looks up the upstream host names the gateway dials. Nil
	// means net.DefaultResolver. Set it to use a specific DNS server, or in
	// tests, to a resolver whose Dial answers from a table so that names
	// resolve without any packet leaving the machine. The SSRF guard
	// judges the addresses it returns, as any others. It takes effect at
	// the next Reload.
	Resolver *net.Resolver

	// dialControl is DialControl for the package's own tests.
	dialControl func(network, address string, c syscall.RawConn) error

	state     atomic.Pointer[state]
	reloadMu  sync.Mutex
	metricsMu sync.Once
	metrics   *metrics
	policies  policyCache

	// In-memory stores used when Replay, Limiter or Usage are nil; kept
	// across reloads so that a reload forgets nothing.
	defaultsOnce sync.Once
	memReplay    *replay.Memory
	memLimiter   *ratelimit.Memory
	memUsage     signet.UsageRecorder
}

// Check is a named readiness check for /readyz.
type Check struct {
	Name  string                          // "postgres", "redis"
	Check func(ctx context.Context) error // nil error: ready
}

var _ http.Handler = (*Gateway)(nil)

// New validates cfg and returns a Gateway serving it. logger may be nil.
func New(cfg *config.Config, logger *slog.Logger) (*Gateway, error) {
	g := &Gateway{Logger: logger}
	if err := g.Reload(cfg); err != nil {
		return nil, err
	}
	return g, nil
}

// Reload validates cfg and, when it is good, makes it the configuration for
// new requests; requests in flight finish with the old one. On error the
// current configuration stays in place.
func (g *Gateway) Reload(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("gateway: nil config")
	}
	if g.Keys != nil && !cfg.KeysExternal {
		if len(cfg.Keys) > 0 {
			return errors.New("gateway: the config lists keys but Gateway.Keys is set: keys come from one place")
		}
		c := *cfg
		c.KeysExternal = true
		cfg = &c
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("gateway: invalid config: %w", err)
	}
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	st, err := g.build(cfg)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	old := g.state.Swap(st)
	if old != nil {
		// Idle connections of the old transports would otherwise linger;
		// active ones finish their requests.
		old.public.CloseIdleConnections()
		old.explicit.CloseIdleConnections()
	}
	return nil
}

// Config returns the configuration in use, nil before the first Reload. Do
// not modify it.
func (g *Gateway) Config() *config.Config {
	if st := g.state.Load(); st != nil {
		return st.cfg
	}
	return nil
}

// PublicOriginsAllowed lists the key ids whose pre-signed URLs may reach any
// public origin (no upstreams and no allow_origins, or an origin "*"), for a
// startup warning.
func (g *Gateway) PublicOriginsAllowed() []string {
	st := g.state.Load()
	if st == nil {
		return nil
	}
	var ids []string
	if st.cfgKeys != nil {
		for i := range st.cfgKeys.keys {
			k := &st.cfgKeys.keys[i]
			anyPublic := slices.ContainsFunc(k.Upstreams, func(u config.Upstream) bool { return u.Origin == "*" })
			if anyPublic || len(k.Upstreams) == 0 && st.allowAnyPublic {
				ids = append(ids, k.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// Close releases idle upstream connections.
func (g *Gateway) Close() error {
	if st := g.state.Load(); st != nil {
		st.public.CloseIdleConnections()
		st.explicit.CloseIdleConnections()
	}
	return nil
}

func (g *Gateway) logger() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return discardLogger
}

var discardLogger = slog.New(slog.DiscardHandler)

// ServeHTTP implements http.Handler: reserved paths, CORS, then a pre-signed
// URL (any request whose query carries X-Sw-Signature or X-Sw-Proxy) or a
// route.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	m := g.getMetrics()
	ex := &exchange{g: g, st: g.state.Load(), r: r, start: start}
	ex.rec.ResponseWriter = w
	rec := &ex.rec
	ex.w = rec
	ex.reqID = requestID(r.Header.Get("X-Request-Id"))
	rec.Header().Set("X-Request-Id", ex.reqID)
	if r.Body != nil && r.Body != http.NoBody {
		ex.in = &countingBody{ReadCloser: r.Body}
		r.Body = ex.in
	}
	defer ex.finish(m)

	switch r.URL.Path {
	case "/healthz":
		ex.outcome = "health"
		writeStatus(rec, http.StatusOK, "ok")
		return
	case "/readyz":
		ex.outcome = "health"
		g.serveReady(rec, r, ex.st)
		return
	case "/metrics":
		ex.outcome = "metrics"
		m.handler.ServeHTTP(rec, r)
		return
	}
	st := ex.st
	if st == nil {
		ex.fail(http.StatusNotFound, "no_route", "no route matches this request")
		return
	}
	if st.cors.handle(rec, r) {
		ex.outcome = "preflight"
		return
	}
	if isPresigned(r.URL.RawQuery) {
		ex.scheme = signet.SchemeSW1
		ex.servePresigned()
		return
	}
	ex.serveRoute()
}

// isPresigned reports whether the query names an SW1 signature or target.
// Routes never see such requests: a pre-signed URL names its own target.
func isPresigned(rawQuery string) bool {
	for q := rawQuery; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if strings.EqualFold(k, "X-Sw-Signature") || strings.EqualFold(k, "X-Sw-Proxy") {
			return true
		}
	}
	return false
}

// exchange is the state of one request through the gateway.
type exchange struct {
	g      *Gateway
	st     *state
	w      *recorder
	r      *http.Request
	in     *countingBody
	start  time.Time
	reqID  string
	scheme string
	keyID  string // set once verified: a bounded label for metrics
	origin string
	// outcome is "ok" or the reason code of the failure.
	outcome string
	detail  string
	// upstreamDur is the time to the upstream's response headers.
	upstreamDur time.Duration
	upstreamErr string
	// upstreamStatus is the upstream's status, for answers written
	// without WriteHeader (a 101 on a hijacked connection).
	upstreamStatus int
	// admitted is the verified request once it passed replay and rate
	// limits: its bytes and usage are charged when the exchange ends.
	admitted *signet.Verified
	// bodyErr is the error that cut the upstream's response body short
	// (the upstream died mid-stream); set on the handler's goroutine.
	bodyErr error

	// What the shared ReverseProxy needs (set by proxy): the upstream
	// URL, the headers to inject, and the explicit origin's dial address.
	out            *url.URL
	inject         []header
	explicitAddr   string
	stripAuth      bool
	streamedDigest bool

	// rec and upBody live in the exchange to save an allocation each.
	rec    recorder
	upBody upstreamBody
}

// upstreamBody records why an upstream response body ended early.
type upstreamBody struct {
	io.ReadCloser
	ex *exchange
}

func (b *upstreamBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.ex.bodyErr == nil && b.ex.r.Context().Err() == nil {
		b.ex.bodyErr = err
	}
	return n, err
}

func (ex *exchange) servePresigned() {
	st, r := ex.st, ex.r
	ver, err := st.sw1.Verify(r.Context(), r, st.keys)
	if err == nil {
		err = ex.ensureKey(ver)
	}
	if err != nil {
		ex.verifyFailed(err)
		return
	}
	ex.keyID = ver.KeyID
	ex.scheme = ver.Scheme
	if name, ok := ambiguousSignedHeader(r.Header, ver.SignedHeaders); !ok {
		// SW1 signs the first value of a header (as Signway does) but the
		// upstream gets them all, and may read another one.
		ex.signetFail(signet.NewError(signet.SchemeSW1, ver.KeyID, signet.ErrMismatch,
			"signed header "+strconv.Quote(name)+" is sent more than once with different values"))
		return
	}
	target, err := url.Parse(ver.Target)
	if err != nil || !target.IsAbs() {
		ex.signetFail(signet.NewError(signet.SchemeSW1, ver.KeyID, signet.ErrMalformed, "X-Sw-Proxy is not an absolute URL"))
		return
	}
	origin, err := config.OriginOf(target)
	if err != nil {
		ex.signetFail(signet.NewError(signet.SchemeSW1, ver.KeyID, signet.ErrMalformed, "X-Sw-Proxy: "+err.Error()))
		return
	}
	ex.origin = origin
	up, explicit, ok := ex.g.policyFor(st, ver.Key).allow(origin, st)
	if !ok {
		ex.signetFail(signet.NewError(signet.SchemeSW1, ver.KeyID, signet.ErrForbiddenUpstream, "key may not reach "+origin))
		return
	}
	if err := ex.admit(ver); err != nil {
		ex.signetFail(err)
		return
	}
	// target was parsed for this request: it is changed in place.
	out := target
	out.Scheme, _, _ = strings.Cut(origin, ":") // ws and wss travel as http and https
	out.Fragment, out.RawFragment = "", ""
	out.User = nil
	if out.Path == "" {
		out.Path = "/"
	}
	out.RawQuery = stripSwParams(out.RawQuery)
	var inject []header
	if up != nil {
		inject = up.headers
	}
	ex.proxy(ver, out, explicit, inject)
}

func (ex *exchange) serveRoute() {
	st, r := ex.st, ex.r
	rt := st.match(r)
	if rt == nil {
		ex.fail(http.StatusNotFound, "no_route", "no route matches this request")
		return
	}
	rest, ok := rt.rest(r.URL.EscapedPath())
	if !ok {
		ex.fail(http.StatusBadRequest, "bad_path", "the path has dot segments or invalid escapes")
		return
	}
	ver, err := rt.verifier.Verify(r.Context(), r, st.keys)
	if err == nil {
		err = ex.ensureKey(ver)
	}
	if err != nil {
		ex.verifyFailed(err)
		return
	}
	ex.keyID = ver.KeyID
	ex.scheme = ver.Scheme
	ex.origin = rt.origin
	if rt.keys != nil && !rt.keys[ver.KeyID] {
		ex.signetFail(signet.NewError(ver.Scheme, ver.KeyID, signet.ErrForbiddenUpstream, "key may not use this route"))
		return
	}
	if err := ex.admit(ver); err != nil {
		ex.signetFail(err)
		return
	}
	out := *rt.target
	out.RawPath = strings.TrimSuffix(rt.target.EscapedPath(), "/") + rest
	if out.RawPath == "" {
		out.RawPath = "/"
	}
	p, err := url.PathUnescape(out.RawPath)
	if err != nil {
		ex.fail(http.StatusBadRequest, "bad_path", "the path has invalid escapes")
		return
	}
	out.Path = p
	if out.EscapedPath() != out.RawPath {
		// RawPath is only kept when it is a valid encoding of Path.
		out.RawPath = ""
	}
	out.RawQuery = stripSwParams(r.URL.RawQuery)
	inject := rt.headers
	if p := ex.g.policyFor(st, ver.Key); p != nil {
		if up := p.upstreams[rt.origin]; up != nil {
			// Key-specific headers for this origin win over the route's.
			inject = append(slices.Clip(inject), up.headers...)
		}
	}
	ex.proxy(ver, &out, true, inject)
}

// verifyFailed answers a verification error. A key store that failed is
// 503 store_unavailable (signet.LookupKey), its cause only in the request
// log line; other errors that are not verification failures (a custom
// verifier's) are 500 "internal" and logged.
func (ex *exchange) verifyFailed(err error) {
	var se *signet.Error
	if errors.As(err, &se) {
		if se.Scheme != "" {
			ex.scheme = se.Scheme
		}
	}
	if errors.Is(err, signet.ErrStoreUnavailable) {
		ex.g.getMetrics().storeErrors.WithLabelValues("keys", "refused").Inc()
		ex.g.logger().Warn("key store failed", "request_id", ex.reqID, "store", "keys",
			"action", "refused", "err", sanitize(err.Error()))
	}
	ex.signetFail(err)
}

func (ex *exchange) signetFail(err error) {
	ex.outcome = signet.Code(err)
	ex.detail = err.Error()
	var se *signet.Error
	var rl *signet.RateLimitError
	if !errors.As(err, &se) && !errors.As(err, &rl) {
		// Only signet errors are safe to describe; the rest is logged.
		ex.g.logger().Error("verification error", "request_id", ex.reqID, "err", err)
	}
	signet.WriteError(ex.w, err)
}

// fail answers with a gateway error (404, 502, 504, ...) in the JSON shape of
// signet.WriteError.
func (ex *exchange) fail(status int, code, msg string) {
	ex.outcome = code
	ex.detail = msg
	writeJSONError(ex.w, status, code, msg)
}

func (ex *exchange) proxy(ver *signet.Verified, out *url.URL, explicit bool, inject []header) {
	st, r := ex.st, ex.r
	if ver.BodySigned && r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(ex.w, r.Body, int64(st.cfg.Limits.MaxSignedBody))
	}
	// A streamed digest fails only at EOF: sending the body chunked makes
	// that failure truncate the upstream request instead of completing it.
	ex.streamedDigest = ver.BodySigned && ver.Scheme != signet.SchemeSW1
	ex.stripAuth = ver.Scheme == signet.SchemeReqSig ||
		ver.Scheme == signet.SchemeCavage && hasPrefixFold(r.Header.Get("Authorization"), "Signature ") ||
		ver.Scheme == signet.SchemeSigV4 && hasPrefixFold(r.Header.Get("Authorization"), "AWS4-")
	if ver.Scheme == signet.SchemeSigV4 {
		// A pre-signed SigV4 URL's parameters are its signature.
		out.RawQuery = stripParams(out.RawQuery, isSigV4Param)
	}
	ex.out, ex.inject = out, inject
	rp := st.publicProxy
	if explicit {
		rp = st.explicitProxy
		// The origin may be a store key's, unknown to the transport.
		ex.explicitAddr = dialAddr(ex.origin)
	}
	ex.outcome = "ok"
	// The state's proxies are shared: they find this exchange (target,
	// headers to inject, where to record the outcome) in the context.
	rp.ServeHTTP(ex.w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex)))
}

// exchangeKey carries the *exchange in the context of the request handed to
// the state's ReverseProxy (and of its upstream copy).
type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// newReverseProxy returns the proxy of one transport, built once per
// configuration: a proxy, a transport wrapper and closures per request
// showed up as a tenth of the allocations of a small proxied request.
func newReverseProxy(transport http.RoundTripper, errorLog *log.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Transport: timingTransport{base: transport},
		// Zero, not -1: an answer with a Content-Length leaves in as few
		// writes as the buffers allow (-1 flushed the headers, then every
		// body write: two syscalls or more for a 64-byte answer).
		// ReverseProxy still flushes after every write for
		// text/event-stream and for bodies of unknown length (chunked,
		// HTTP/2 streams), so SSE and streaming stay immediate.
		FlushInterval: 0,
		BufferPool:    bufferPool{},
		ErrorLog:      errorLog,
		Rewrite: func(pr *httputil.ProxyRequest) {
			exchangeFrom(pr.In.Context()).rewrite(pr)
		},
		ModifyResponse: func(res *http.Response) error {
			return exchangeFrom(res.Request.Context()).modifyResponse(res)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			exchangeFrom(r.Context()).upstreamError(w, r, err)
		},
	}
}

func (ex *exchange) rewrite(pr *httputil.ProxyRequest) {
	pr.Out.URL = ex.out
	pr.Out.Host = ""
	pr.SetXForwarded()
	h := pr.Out.Header
	if ex.stripAuth {
		h.Del("Authorization")
	}
	h.Del("Signature")
	h.Del("Signature-Input")
	// Set, not add: a later entry (the key's headers for a
	// route's origin) replaces an earlier one of the same name
	// (the route's), so the upstream sees one value.
	for _, ih := range ex.inject {
		h[ih.name] = []string{ih.value}
	}
	h["X-Request-Id"] = []string{ex.reqID}
	if ex.streamedDigest && pr.Out.Body != nil && pr.Out.Body != http.NoBody {
		pr.Out.ContentLength = -1
		h.Del("Content-Length")
	}
}

func (ex *exchange) modifyResponse(res *http.Response) error {
	ex.upstreamStatus = res.StatusCode
	if res.StatusCode != http.StatusSwitchingProtocols {
		// Note an upstream body that ends early: the proxy can only
		// abort the client's answer, and would log nothing useful. (A
		// 101's body is the upgraded connection: the proxy needs it as
		// it is, an io.ReadWriteCloser.)
		ex.upBody = upstreamBody{ReadCloser: res.Body, ex: ex}
		res.Body = &ex.upBody
	}
	if ex.st.cors.enabled && ex.r.Header.Get("Origin") != "" {
		// One CORS policy per answer: the gateway's.
		for _, k := range corsResponseHeaders {
			res.Header.Del(k)
		}
	}
	return nil
}

var corsResponseHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age",
}

// upstreamError maps a failed upstream round trip to an answer: a body that
// failed verification while streaming keeps its signet error (401, 413), a
// refused address is 403, a timeout 504, a client that went away 499 (logged
// only), anything else 502.
func (ex *exchange) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	var se *signet.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		ex.upstreamErr = "aborted"
		ex.signetFail(se)
	case errors.As(err, &mbe):
		ex.upstreamErr = "aborted"
		ex.signetFail(signet.NewError(ex.scheme, ex.keyID, signet.ErrBodyTooLarge, fmt.Sprintf("the signed body exceeds %d bytes", mbe.Limit)))
	case errors.Is(err, errForbiddenAddress):
		ex.upstreamErr = "forbidden_address"
		ex.signetFail(signet.NewError(ex.scheme, ex.keyID, signet.ErrForbiddenUpstream, "the target resolves to an address that is not allowed"))
	case r.Context().Err() != nil && ex.r.Context().Err() != nil:
		ex.upstreamErr = "client_canceled"
		ex.outcome = "client_canceled"
		w.WriteHeader(499)
	case isTimeout(err):
		ex.upstreamErr = "timeout"
		ex.fail(http.StatusGatewayTimeout, "upstream_timeout", "the upstream did not answer in time")
		ex.detail = err.Error()
	default:
		ex.upstreamErr = "unreachable"
		ex.fail(http.StatusBadGateway, "upstream_unreachable", "the upstream could not be reached")
		ex.detail = err.Error()
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func (ex *exchange) finish(m *metrics) {
	dur := time.Since(ex.start)
	status := ex.w.status
	if status == 0 {
		status = ex.upstreamStatus
	}
	if status == 0 {
		status = http.StatusOK
	}
	if ex.outcome == "" {
		ex.outcome = "ok"
	}
	if ex.bodyErr != nil && ex.outcome == "ok" {
		// The client got the status line but a truncated body (the
		// proxy aborted the connection so it cannot pass for complete).
		ex.outcome = "upstream_aborted"
		ex.upstreamErr = "aborted"
		ex.detail = "the upstream response ended early: " + ex.bodyErr.Error()
	}
	var in int64
	if ex.in != nil {
		in = ex.in.n.Load()
	}
	m.observe(ex, status, in, dur)
	if ex.admitted != nil {
		ex.account(in, ex.w.bytes)
	}
	if ex.outcome == "health" || ex.outcome == "metrics" {
		return
	}
	level := slog.LevelInfo
	if status >= 500 || ex.bodyErr != nil {
		level = slog.LevelWarn
	}
	lg := ex.g.logger()
	if !lg.Enabled(context.Background(), level) {
		// Building the attributes costs a tenth of a small request's
		// allocations; at log.level warn they are thrown away.
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", ex.reqID),
		slog.String("method", ex.r.Method),
		slog.String("path", ex.r.URL.Path), // never the query: it carries signatures
		slog.Int("status", status),
		slog.String("outcome", ex.outcome),
		slog.Duration("duration", dur),
		slog.Int64("bytes_in", in),
		slog.Int64("bytes_out", ex.w.bytes),
		slog.String("remote", ex.r.RemoteAddr),
	}
	if ex.scheme != "" {
		attrs = append(attrs, slog.String("scheme", ex.scheme))
	}
	if ex.keyID != "" {
		attrs = append(attrs, slog.String("key_id", ex.keyID))
	}
	if ex.origin != "" {
		attrs = append(attrs, slog.String("upstream", ex.origin))
	}
	if ex.detail != "" {
		attrs = append(attrs, slog.String("detail", sanitize(ex.detail)))
	}
	lg.LogAttrs(context.Background(), level, "request", attrs...)
}

// sanitize strips control characters (CR/LF) from text bound for the logs.
func sanitize(s string) string {
	if len(s) > 512 {
		s = s[:512]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// ambiguousSignedHeader returns the first signed header sent more than once
// with different values, and false; true when there is none.
func ambiguousSignedHeader(h http.Header, signed []string) (string, bool) {
	for _, name := range signed {
		vs := h.Values(name)
		for _, v := range vs[min(1, len(vs)):] {
			if strings.TrimSpace(v) != strings.TrimSpace(vs[0]) {
				return name, false
			}
		}
	}
	return "", true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// stripSwParams removes every X-Sw-* parameter (case-insensitive) from a raw
// query, keeping the others byte for byte and in order.
func stripSwParams(rawQuery string) string {
	return stripParams(rawQuery, func(k string) bool { return hasPrefixFold(k, "X-Sw-") })
}

// isSigV4Param reports the parameters of a pre-signed SigV4 URL.
func isSigV4Param(k string) bool {
	switch strings.ToLower(k) {
	case "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
		"x-amz-signedheaders", "x-amz-signature", "x-amz-security-token":
		return true
	}
	return false
}

// stripParams removes the parameters whose (unescaped) name drop reports
// from a raw query, keeping the others byte for byte and in order.
func stripParams(rawQuery string, drop func(name string) bool) string {
	if rawQuery == "" {
		return ""
	}
	var b strings.Builder
	for q := rawQuery; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if drop(k) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv)
	}
	return b.String()
}
