// Package gateway is Signet's reverse proxy: an http.Handler that verifies
// signed requests and forwards them upstream.
//
// Entry points: New builds a Gateway from a config.Config; Gateway.ServeHTTP
// serves; Gateway.Reload swaps in a new configuration (a bad one keeps the
// old). A request whose query carries X-Sw-Signature or X-Sw-Proxy is a
// pre-signed SW1 URL: it is verified, the key must be allowed to reach the
// target origin, and it is forwarded to X-Sw-Proxy. Any other request is
// matched against the routes (longest path prefix, then host), verified with
// the route's schemes (reqsig, cavage, rfc9421, sigv4) and forwarded to the route's upstream
// with the rest of the path.
//
// Forwarding uses one httputil.ReverseProxy per transport, built at Reload
// (Rewrite reads the request's settings from its context). FlushInterval is
// 0: answers with a Content-Length leave in as few writes as possible, while
// SSE (text/event-stream) and bodies of unknown length are flushed after
// every write, so streams stay live. Signing
// parameters and signature headers are stripped, hop-by-hop headers dropped,
// configured headers injected (client copies deleted first) only for the
// origin they are configured for, X-Forwarded-* set. Upstream addresses are
// checked at the dialer: loopback, private, link-local, metadata and other
// non-public addresses are refused unless the origin is listed in the config.
//
// Keys come from the config (indexed at Reload, each converted on first
// use, so a million keys load in seconds), or from any signet.KeyStore set in
// Gateway.Keys (a postgres.Store): each key's Upstreams decide where it may
// go. After the signature, in DESIGN order, come the replay check (keys
// with SingleUse, and any signature with a nonce: Gateway.Replay, 409
// replayed) and the rate limit (Key.RateLimit: Gateway.Limiter, 429 with
// Retry-After); each exchange's bytes and usage are charged when it ends
// (Gateway.Usage). These stores default to in-memory ones; a failing store
// gives 503 store_unavailable unless the key fails open. Gateway.Checks
// feed /readyz.
//
// /healthz, /readyz and /metrics (Prometheus) are answered unsigned. Errors
// are JSON {"error","message"} with the statuses of signet.Status, plus 404
// no_route, 400 bad_path, 502 upstream_unreachable and 504 upstream_timeout.
package gateway
