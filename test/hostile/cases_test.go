package hostile_test

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/rfc9421"
	"github.com/signet-dev/signet/sigv4"
	"github.com/signet-dev/signet/sw1"
)

// anyClientError accepts any 4xx: for shapes the HTTP server refuses before
// the gateway sees them, where the exact status is net/http's choice.
const anyClientError = -4

// hcase is one hostile request and the answer the contract implies.
type hcase struct {
	name   string
	req    func(e *env) *http.Request
	raw    func(e *env) (b []byte, halfClose bool)
	status int    // anyClientError: any 4xx
	code   string // the JSON "error"; "" when the answer is not a gateway error
	// mayReachUpstream: the request is refused while its body streams, so
	// the upstream may see (part of) it.
	mayReachUpstream bool
	// dialed: the address the dial hook must see (passed the guard), and
	// that the hook refused.
	dialed string
	// allow5xx: net/http itself answers 5xx (see the case).
	allow5xx bool
}

const big = 10<<10 + 1 // "over-long": just over 10 KB

var swParams = []string{"X-Sw-Algorithm", "X-Sw-Credential", "X-Sw-Date", "X-Sw-Expires", "X-Sw-Proxy", "X-Sw-SignedHeaders", "X-Sw-Body", "X-Sw-Signature"}

func sw1Cases() []hcase {
	var cs []hcase
	get := func(u func(e *env) string) func(e *env) *http.Request {
		return func(e *env) *http.Request { return e.newReq("GET", u(e), "") }
	}
	mod := func(f func(q *query)) func(e *env) *http.Request {
		return get(func(e *env) string { q := parseURL(e.presign("/x", nil)); f(q); return q.String() })
	}
	cs = append(cs,
		hcase{name: "sw1/valid GET", req: mod(func(*query) {}), status: 200},
		hcase{name: "sw1/valid POST signed body", req: func(e *env) *http.Request {
			u := e.presign("/x", func(o *sw1.PresignOptions) { o.Method = "POST"; o.Body = []byte("hello") })
			return e.newReq("POST", u, "hello")
		}, status: 200},
	)
	for _, p := range swParams {
		cs = append(cs,
			hcase{name: "sw1/missing " + p, req: mod(func(q *query) { q.del(p) }), status: 400, code: "malformed"},
			hcase{name: "sw1/duplicated " + p, req: mod(func(q *query) { q.add(p, q.get(p)) }), status: 400, code: "malformed"},
			hcase{name: "sw1/over-long " + p, req: mod(func(q *query) { q.set(p, strings.Repeat("A", 17<<10)) }), status: 400, code: "malformed"},
		)
	}
	emptyWant := map[string][2]any{
		"X-Sw-Algorithm":     {401, "algorithm_not_allowed"},
		"X-Sw-Credential":    {400, "malformed"},
		"X-Sw-Date":          {400, "malformed"},
		"X-Sw-Expires":       {400, "malformed"},
		"X-Sw-Proxy":         {401, "signature_mismatch"},
		"X-Sw-SignedHeaders": {200, ""}, // nothing was signed: empty is the valid value
		"X-Sw-Body":          {401, "signature_mismatch"},
		"X-Sw-Signature":     {400, "malformed"},
	}
	for _, p := range swParams {
		w := emptyWant[p]
		cs = append(cs, hcase{name: "sw1/empty " + p, req: mod(func(q *query) { q.set(p, "") }), status: w[0].(int), code: w[1].(string)})
	}
	cs = append(cs,
		hcase{name: "sw1/over-long 10KB X-Sw-Proxy (signed, within the 16KB limit)", req: get(func(e *env) string {
			return e.presign("/x?pad="+strings.Repeat("p", big), nil)
		}), status: 200},
		hcase{name: "sw1/non-UTF-8 credential", req: mod(func(q *query) { q.set("X-Sw-Credential", "%FF%FE%2F20260314") }), status: 401, code: "unknown_key"},
		hcase{name: "sw1/non-UTF-8 proxy", req: mod(func(q *query) { q.set("X-Sw-Proxy", q.get("X-Sw-Proxy")+"%FF") }), status: 401, code: "signature_mismatch"},
		hcase{name: "sw1/NUL in credential", req: mod(func(q *query) { q.set("X-Sw-Credential", "app%00%2F20260314") }), status: 401, code: "unknown_key"},
		hcase{name: "sw1/tab in date", req: mod(func(q *query) { q.set("X-Sw-Date", "20260314T15%0926Z") }), status: 400, code: "malformed"},
		hcase{name: "sw1/CRLF in credential id", req: mod(func(q *query) { q.set("X-Sw-Credential", "app%0D%0AX-Injected:%20yes%2F20260314") }), status: 401, code: "unknown_key"},
		hcase{name: "sw1/invalid percent-encoding in proxy", req: mod(func(q *query) { q.set("X-Sw-Proxy", "http%3A%2F%2F%zz") }), status: 400, code: "malformed"},
		hcase{name: "sw1/invalid percent-encoding in name", req: mod(func(q *query) { q.add("X-Sw-Pr%zzoxy", "1") }), status: 400, code: "malformed"},
		hcase{name: "sw1/truncated percent-encoding in signature", req: mod(func(q *query) { q.set("X-Sw-Signature", q.get("X-Sw-Signature")[:62]+"%A") }), status: 400, code: "malformed"},
		hcase{name: "sw1/encoded parameter name duplicates", req: mod(func(q *query) { q.add("X%2DSw-Signature", q.get("X-Sw-Signature")) }), status: 400, code: "malformed"},
		hcase{name: "sw1/expires negative", req: mod(func(q *query) { q.set("X-Sw-Expires", "-1") }), status: 400, code: "malformed"},
		// Signway parses X-Sw-Expires with Rust's u64 parser, which takes a
		// leading '+'; the raw text is what is signed, so "+600" fails
		// closed against a signature over "600".
		hcase{name: "sw1/expires with plus sign", req: mod(func(q *query) { q.set("X-Sw-Expires", "%2B600") }), status: 401, code: "signature_mismatch"},
		hcase{name: "sw1/expires overflowing uint32", req: mod(func(q *query) { q.set("X-Sw-Expires", "4294967296") }), status: 400, code: "malformed"},
		hcase{name: "sw1/expires overflowing int64", req: mod(func(q *query) { q.set("X-Sw-Expires", "99999999999999999999999") }), status: 400, code: "malformed"},
		hcase{name: "sw1/expires hex", req: mod(func(q *query) { q.set("X-Sw-Expires", "0x258") }), status: 400, code: "malformed"},
		hcase{name: "sw1/expires huge but signed (max uint32)", req: get(func(e *env) string {
			return e.presign("/x", func(o *sw1.PresignOptions) { o.Expires = 4294967295 * time.Second })
		}), status: 401, code: "expires_too_long"},
		hcase{name: "sw1/date far past (signed)", req: get(func(e *env) string {
			return e.presign("/x", func(o *sw1.PresignOptions) { o.Time = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC) })
		}), status: 401, code: "expired"},
		hcase{name: "sw1/date far future (signed)", req: get(func(e *env) string {
			return e.presign("/x", func(o *sw1.PresignOptions) { o.Time = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) })
		}), status: 401, code: "not_yet_valid"},
		hcase{name: "sw1/date malformed ISO", req: mod(func(q *query) { q.set("X-Sw-Date", "2026-03-14T15%3A08%3A26Z") }), status: 400, code: "malformed"},
		hcase{name: "sw1/date month 13", req: mod(func(q *query) {
			q.set("X-Sw-Date", "20261314T150826Z").set("X-Sw-Credential", "app%2F20261314")
		}), status: 400, code: "malformed"},
		hcase{name: "sw1/date not matching credential day", req: mod(func(q *query) { q.set("X-Sw-Credential", "app%2F20260313") }), status: 400, code: "malformed"},
		hcase{name: "sw1/unknown algorithm", req: mod(func(q *query) { q.set("X-Sw-Algorithm", "SW1-HMAC-SHA512") }), status: 401, code: "algorithm_not_allowed"},
		hcase{name: "sw1/algorithm none", req: mod(func(q *query) { q.set("X-Sw-Algorithm", "none") }), status: 401, code: "algorithm_not_allowed"},
		hcase{name: "sw1/signature not hex", req: mod(func(q *query) { q.set("X-Sw-Signature", strings.Repeat("zz", 32)) }), status: 400, code: "malformed"},
		hcase{name: "sw1/signature one digit changed", req: mod(func(q *query) {
			s := q.get("X-Sw-Signature")
			c := "0"
			if s[0] == '0' {
				c = "1"
			}
			q.set("X-Sw-Signature", c+s[1:])
		}), status: 401, code: "signature_mismatch"},
		hcase{name: "sw1/unknown key", req: get(func(e *env) string {
			return e.presign("/x", func(o *sw1.PresignOptions) { o.KeyID = "nobody" })
		}), status: 401, code: "unknown_key"},
		hcase{name: "sw1/signed header missing", req: get(func(e *env) string {
			return e.presign("/x", func(o *sw1.PresignOptions) { o.Header = http.Header{"X-Custom": {"a"}} })
		}), status: 400, code: "missing_signed_header"},
		hcase{name: "sw1/signed header twice with different values", req: func(e *env) *http.Request {
			r := e.newReq("GET", e.presign("/x", func(o *sw1.PresignOptions) { o.Header = http.Header{"X-Custom": {"a"}} }), "")
			r.Header["X-Custom"] = []string{"a", "b"}
			return r
		}, status: 401, code: "signature_mismatch"},
		hcase{name: "sw1/signed body changed", req: func(e *env) *http.Request {
			u := e.presign("/x", func(o *sw1.PresignOptions) { o.Method = "POST"; o.Body = []byte("hello") })
			return e.newReq("POST", u, "hellO")
		}, status: 401, code: "signature_mismatch"},
		hcase{name: "sw1/body larger than max_signed_body", req: func(e *env) *http.Request {
			b := strings.Repeat("x", maxSignedBody+1)
			u := e.presign("/x", func(o *sw1.PresignOptions) { o.Method = "POST"; o.Body = []byte(b) })
			return e.newReq("POST", u, b)
		}, status: 413, code: "body_too_large"},
		hcase{name: "sw1/Content-Length larger than the body", raw: func(e *env) ([]byte, bool) {
			u := e.presign("/x", func(o *sw1.PresignOptions) { o.Method = "POST"; o.Body = []byte("0123456789") })
			return []byte("POST " + strings.TrimPrefix(u, e.url) + " HTTP/1.1\r\nHost: " + e.host + "\r\nContent-Length: 10\r\nConnection: close\r\n\r\n01234"), true
		}, status: 400, code: "malformed"},
		hcase{name: "sw1/Content-Length smaller than the body", raw: func(e *env) ([]byte, bool) {
			u := e.presign("/x", func(o *sw1.PresignOptions) { o.Method = "POST"; o.Body = []byte("01234") })
			return []byte("POST " + strings.TrimPrefix(u, e.url) + " HTTP/1.1\r\nHost: " + e.host + "\r\nContent-Length: 5\r\nConnection: close\r\n\r\n0123456789"), false
		}, status: 200}, // the extra bytes are not part of this request (net/http discards them)
		// The signers refuse to sign file: and gopher: targets, so these
		// carry another URL's signature; TestTargetSchemes checks the
		// gateway's own refusal with a verifier that accepts anything.
		hcase{name: "sw1/proxy file:", req: mod(func(q *query) { q.set("X-Sw-Proxy", url.QueryEscape("file:///etc/passwd")) }), status: 401, code: "signature_mismatch"},
		hcase{name: "sw1/proxy gopher:", req: mod(func(q *query) { q.set("X-Sw-Proxy", url.QueryEscape("gopher://127.0.0.1:25/_HELO")) }), status: 401, code: "signature_mismatch"},
		hcase{name: "sw1/proxy with userinfo", req: get(func(e *env) string {
			return e.presign("", func(o *sw1.PresignOptions) {
				o.Target = strings.Replace(e.up.URL, "http://", "http://user:pw@", 1) + "/x"
			})
		}), status: 400, code: "malformed"},
		hcase{name: "sw1/proxy to an origin the key does not list", req: get(func(e *env) string {
			return e.presign("", func(o *sw1.PresignOptions) { o.Target = "http://127.0.0.2:9/x" })
		}), status: 403, code: "forbidden_upstream"},
		// WHATWG URL parsing drops CR, LF and tab from the target, so
		// the attempt becomes a harmless path (checkForwarded proves no
		// header was injected).
		hcase{name: "sw1/proxy CRLF header injection", req: get(func(e *env) string {
			return e.presign("", func(o *sw1.PresignOptions) { o.Target = e.up.URL + "/x\r\nX-Injected: yes" })
		}), status: 200},
		hcase{name: "sw1/proxy raw CRLF swapped in", req: mod(func(q *query) {
			q.set("X-Sw-Proxy", q.get("X-Sw-Proxy")+"%0D%0AX-Injected:%20yes")
		}), status: 401, code: "signature_mismatch"},
		hcase{name: "sw1/proxy encoded CRLF in path stays encoded", req: get(func(e *env) string {
			return e.presign("/x%0D%0AX-Injected:%20yes", nil)
		}), status: 200},
		hcase{name: "sw1/replayed single-use", req: func(e *env) *http.Request {
			u := e.presign("/once", func(o *sw1.PresignOptions) { o.KeyID, o.Secret = "once", onceSecret })
			if r, err := e.do(e.newReq("GET", u, "")); err != nil || r.status != 200 {
				e.t.Errorf("first use: %d %v %s", r.status, err, r.body)
			}
			return e.newReq("GET", u, "")
		}, status: 409, code: "replayed"},
		hcase{name: "sw1/1000 headers", req: func(e *env) *http.Request {
			r := e.newReq("GET", e.presign("/x", nil), "")
			for i := range 1000 {
				r.Header.Set(fmt.Sprintf("X-H-%d", i), "v")
			}
			return r
		}, status: 200},
		hcase{name: "sw1/64KB URL", req: func(e *env) *http.Request {
			return e.newReq("GET", e.presign("/x", nil)+"&pad="+strings.Repeat("u", 64<<10), "")
		}, status: 200},
	)
	// Targets the guard must refuse for a key allowed any public origin:
	// loopback end to end (the upstream listens there), the rest at the
	// dialer (the hook would record and refuse them if the guard let
	// them through).
	port := func(e *env) string { u, _ := url.Parse(e.up.URL); return u.Port() }
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]", "127.1", "0x7f.0.0.1", "2130706433", "[::ffff:127.0.0.1]", "0.0.0.0",
		"10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "[fe80::1]", "[fd00:ec2::254]", "[::ffff:10.0.0.1]", "[64:ff9b::a9fe:a9fe]", "224.0.0.1"} {
		cs = append(cs, hcase{name: "sw1/guard refuses " + h, req: get(func(e *env) string {
			return e.presign("", func(o *sw1.PresignOptions) {
				o.KeyID, o.Secret, o.Target = "open", openSecret, "http://"+h+":"+port(e)+"/latest/meta-data"
			})
		}), status: 403, code: "forbidden_upstream"})
	}
	cs = append(cs, hcase{name: "sw1/public bare IP passes the guard (hook refuses)", req: get(func(e *env) string {
		return e.presign("", func(o *sw1.PresignOptions) {
			o.KeyID, o.Secret, o.Target = "open", openSecret, "http://93.184.216.34:81/"
		})
	}), status: 502, code: "upstream_unreachable", dialed: "93.184.216.34:81"})
	return cs
}

func reqsigCases() []hcase {
	v := func(f func(e *env, r *http.Request) *http.Request) func(e *env) *http.Request {
		return func(e *env) *http.Request { return f(e, reqsigValid(e, "/rs/x")) }
	}
	auth := func(f func(string) string) func(e *env) *http.Request {
		return v(func(e *env, r *http.Request) *http.Request { return editAuth(r, f) })
	}
	cs := []hcase{
		{name: "reqsig/valid", req: v(func(_ *env, r *http.Request) *http.Request { return r }), status: 200},
		{name: "reqsig/no Authorization", req: v(func(_ *env, r *http.Request) *http.Request { r.Header.Del("Authorization"); return r }), status: 401, code: "no_signature"},
		{name: "reqsig/empty Authorization", req: auth(func(string) string { return "" }), status: 401, code: "no_signature"},
		// A type with no parameters carries no signature of this scheme.
		{name: "reqsig/scheme name only", req: auth(func(string) string { return "REQUEST-SIGNATURE " }), status: 401, code: "no_signature"},
	}
	for _, p := range []string{"ApiKey=", "ApiVersion=", "SignedHost=", "Timestamp=", "Signature="} {
		cs = append(cs,
			hcase{name: "reqsig/missing " + p, req: auth(func(a string) string { return cutPart(a, p, ",") }), status: 400, code: "malformed"},
			hcase{name: "reqsig/duplicated " + p, req: auth(func(a string) string {
				i := strings.Index(a, p)
				j := strings.Index(a[i:], ",")
				part := a[i:]
				if j >= 0 {
					part = a[i : i+j]
				}
				return a + "," + part
			}), status: 400, code: "malformed"},
		)
	}
	cs = append(cs,
		hcase{name: "reqsig/empty Signature", req: auth(func(a string) string { return replacePart(a, "Signature=", ",", "") }), status: 400, code: "malformed"},
		hcase{name: "reqsig/over-long ApiKey", req: auth(func(a string) string { return replacePart(a, "ApiKey=", ",", strings.Repeat("k", big)) }), status: 400, code: "malformed"},
		hcase{name: "reqsig/over-long Signature", req: auth(func(a string) string { return replacePart(a, "Signature=", ",", strings.Repeat("A", big)) }), status: 400, code: "malformed"},
		hcase{name: "reqsig/non-UTF-8 ApiKey", req: auth(func(a string) string { return replacePart(a, "ApiKey=", ",", "\xff\xfe") }), status: 401, code: "unknown_key"},
		hcase{name: "reqsig/Timestamp negative", req: auth(func(a string) string { return replacePart(a, "Timestamp=", ",", "-1") }), status: 400, code: "malformed"},
		hcase{name: "reqsig/Timestamp overflowing", req: auth(func(a string) string { return replacePart(a, "Timestamp=", ",", "99999999999999999999999") }), status: 400, code: "malformed"},
		hcase{name: "reqsig/Timestamp with sign", req: auth(func(a string) string {
			return replacePart(a, "Timestamp=", ",", fmt.Sprint("+", t0.UnixMilli()))
		}), status: 400, code: "malformed"},
		hcase{name: "reqsig/Timestamp far past", req: func(e *env) *http.Request {
			s := *reqsigApp
			s.Now = func() time.Time { return time.UnixMilli(1) }
			return e.sign(e.newReq("GET", e.url+"/rs/x", ""), &s)
		}, status: 401, code: "expired"},
		hcase{name: "reqsig/Timestamp far future", req: func(e *env) *http.Request {
			s := *reqsigApp
			s.Now = func() time.Time { return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }
			return e.sign(e.newReq("GET", e.url+"/rs/x", ""), &s)
		}, status: 401, code: "not_yet_valid"},
		hcase{name: "reqsig/tampered path", req: v(func(e *env, r *http.Request) *http.Request {
			r.URL.Path = "/rs/y"
			e.expect(r, reqsigApp)
			return r
		}), status: 401, code: "signature_mismatch"},
		hcase{name: "reqsig/unknown key", req: auth(func(a string) string { return replacePart(a, "ApiKey=", ",", "nobody") }), status: 401, code: "unknown_key"},
		hcase{name: "reqsig/key limited to sw1", req: func(e *env) *http.Request {
			return e.sign(e.newReq("GET", e.url+"/rs/x", ""), withKey(reqsigApp, "open", openSecret))
		}, status: 401, code: "scheme_not_allowed"},
		hcase{name: "reqsig/encoded dot segments", req: func(e *env) *http.Request {
			return e.sign(e.newReq("GET", e.url+"/rs/%2e%2e/admin", ""), reqsigApp)
		}, status: 400, code: "bad_path"},
		hcase{name: "reqsig/64KB path", req: func(e *env) *http.Request {
			return e.newReq("GET", e.url+"/rs/"+strings.Repeat("p", 64<<10), "")
		}, status: 401, code: "no_signature"},
	)
	return cs
}

func withKey(s interface{ SignRequest(*http.Request) error }, id, secret string) interface{ SignRequest(*http.Request) error } {
	switch s := s.(type) {
	case *cavage.Signer:
		c := *s
		c.KeyID, c.Secret = id, secret
		return &c
	case *rfc9421.Signer:
		c := *s
		c.KeyID, c.Secret = id, secret
		return &c
	}
	c := *reqsigApp
	c.KeyID, c.Secret = id, secret
	return &c
}

func cavageCases() []hcase {
	v := func(s *cavage.Signer, f func(e *env, r *http.Request) *http.Request) func(e *env) *http.Request {
		return func(e *env) *http.Request { return f(e, e.sign(e.newReq("GET", e.url+"/cav/x", ""), s)) }
	}
	auth := func(f func(string) string) func(e *env) *http.Request {
		return v(cavageApp, func(_ *env, r *http.Request) *http.Request { return editAuth(r, f) })
	}
	id := func(_ *env, r *http.Request) *http.Request { return r }
	cs := []hcase{
		{name: "cavage/valid hmac", req: v(cavageApp, id), status: 200},
		{name: "cavage/valid ed25519 (hs2019)", req: v(cavageEd, id), status: 200},
		{name: "cavage/valid with body and digest", req: func(e *env) *http.Request {
			return e.sign(e.newReq("POST", e.url+"/cav/x", "payload"), cavageApp)
		}, status: 200},
		{name: "cavage/no signature", req: func(e *env) *http.Request { return e.newReq("GET", e.url+"/cav/x", "") }, status: 401, code: "no_signature"},
	}
	for _, p := range []string{`keyId="`, `signature="`} {
		cs = append(cs,
			hcase{name: "cavage/missing " + p, req: auth(func(a string) string { return cutPart(a, p, `",`) }), status: 400, code: "malformed"},
			hcase{name: "cavage/empty " + p, req: auth(func(a string) string { return replacePart(a, p, `"`, "") }), status: 400, code: "malformed"},
			hcase{name: "cavage/over-long " + p, req: auth(func(a string) string { return replacePart(a, p, `"`, strings.Repeat("A", big)) }), status: 400, code: "malformed"},
		)
	}
	cs = append(cs,
		hcase{name: "cavage/duplicated keyId", req: auth(func(a string) string { return a + `,keyId="other"` }), status: 400, code: "malformed"},
		hcase{name: "cavage/unterminated quote", req: auth(func(a string) string { return a + `,extra="` }), status: 400, code: "malformed"},
		hcase{name: "cavage/non-UTF-8 keyId", req: auth(func(a string) string { return replacePart(a, `keyId="`, `"`, "\xff\xfe") }), status: 401, code: "unknown_key"},
		hcase{name: "cavage/tab in headers param", req: auth(func(a string) string { return replacePart(a, `headers="`, `"`, "(request-target)\thost") }), status: 401, code: "signature_mismatch"}, // fails closed
		hcase{name: "cavage/unknown algorithm", req: auth(func(a string) string { return replacePart(a, `algorithm="`, `"`, "hmac-md5") }), status: 401, code: "algorithm_not_allowed"},
		hcase{name: "cavage/hmac-sha1 not listed", req: v(&cavage.Signer{KeyID: "app", Secret: appSecret, Algorithm: "hmac-sha1", Now: now}, id), status: 401, code: "algorithm_not_allowed"},
		hcase{name: "cavage/algorithm confusion: hmac with a public key", req: func(e *env) *http.Request {
			// The classic attack: the public key (which is public) as
			// an HMAC secret.
			s := &cavage.Signer{KeyID: "edkey", Secret: edPublicPEM(e.t), Algorithm: "hmac-sha256", Now: now}
			return e.sign(e.newReq("GET", e.url+"/cav/x", ""), s)
		}, status: 401, code: "algorithm_not_allowed"},
		hcase{name: "cavage/algorithm confusion: ed25519 with an hmac key", req: v(&cavage.Signer{KeyID: "app", PrivateKey: edPriv, Algorithm: "ed25519", Now: now}, id), status: 401, code: "algorithm_not_allowed"},
		hcase{name: "cavage/Date far past", req: v(cavageTime(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)), id), status: 401, code: "expired"},
		hcase{name: "cavage/Date far future", req: v(cavageTime(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), id), status: 401, code: "not_yet_valid"},
		hcase{name: "cavage/Date malformed", req: v(cavageApp, func(e *env, r *http.Request) *http.Request {
			r.Header.Set("Date", "yesterday")
			return r
		}), status: 400, code: "malformed"},
		hcase{name: "cavage/signed header missing", req: func(e *env) *http.Request {
			r := e.newReq("GET", e.url+"/cav/x", "")
			r.Header.Set("X-Custom", "a")
			r = e.sign(r, &cavage.Signer{KeyID: "app", Secret: appSecret, Headers: []string{"(request-target)", "date", "x-custom"}, Now: now})
			r.Header.Del("X-Custom")
			return r
		}, status: 400, code: "missing_signed_header"},
		hcase{name: "cavage/signed header twice with different values", req: func(e *env) *http.Request {
			r := e.newReq("GET", e.url+"/cav/x", "")
			r.Header.Set("X-Custom", "a")
			r = e.sign(r, &cavage.Signer{KeyID: "app", Secret: appSecret, Headers: []string{"(request-target)", "date", "x-custom"}, Now: now})
			r.Header.Add("X-Custom", "b")
			return r
		}, status: 401, code: "signature_mismatch"},
		hcase{name: "cavage/tampered date header", req: v(cavageApp, func(e *env, r *http.Request) *http.Request {
			r.Header.Set("Date", t0.Add(time.Second).Format(http.TimeFormat))
			return r
		}), status: 401, code: "signature_mismatch"},
		hcase{name: "cavage/digest mismatch", req: func(e *env) *http.Request {
			r := e.sign(e.newReq("POST", e.url+"/cav/x", "payload"), cavageApp)
			r.Body, r.ContentLength = http.NoBody, 0
			r2 := e.newReq("POST", e.url+"/cav/x", "PAYLOAD")
			r2.Header = r.Header
			return r2
		}, status: 401, code: "digest_mismatch", mayReachUpstream: true},
		hcase{name: "cavage/body larger than max_signed_body", req: func(e *env) *http.Request {
			return e.sign(e.newReq("POST", e.url+"/cav/x", strings.Repeat("b", maxSignedBody+1)), cavageApp)
		}, status: 413, code: "body_too_large", mayReachUpstream: true},
		hcase{name: "cavage/signature not base64", req: auth(func(a string) string { return replacePart(a, `signature="`, `"`, "!!!not-base64!!!") }), status: 400, code: "malformed"},
	)
	return cs
}

func rfc9421Cases() []hcase {
	v := func(s *rfc9421.Signer, f func(e *env, r *http.Request) *http.Request) func(e *env) *http.Request {
		return func(e *env) *http.Request { return f(e, e.sign(e.newReq("GET", e.url+"/msg/x", ""), s)) }
	}
	id := func(_ *env, r *http.Request) *http.Request { return r }
	at := func(t time.Time) *rfc9421.Signer {
		return &rfc9421.Signer{KeyID: "app", Secret: appSecret, Now: func() time.Time { return t }}
	}
	return []hcase{
		{name: "rfc9421/valid hmac", req: v(rfcApp, id), status: 200},
		{name: "rfc9421/valid ed25519", req: v(rfcEd, id), status: 200},
		{name: "rfc9421/valid with body", req: func(e *env) *http.Request {
			return e.sign(e.newReq("POST", e.url+"/msg/x", "payload"), rfcApp)
		}, status: 200},
		// Signature-Input is what names a signature: without it there is none.
		{name: "rfc9421/Signature without Signature-Input", req: v(rfcApp, func(_ *env, r *http.Request) *http.Request {
			r.Header.Del("Signature-Input")
			return r
		}), status: 401, code: "no_signature"},
		{name: "rfc9421/Signature-Input without Signature", req: v(rfcApp, func(_ *env, r *http.Request) *http.Request {
			r.Header.Del("Signature")
			return r
		}), status: 400, code: "malformed"},
		{name: "rfc9421/Signature-Input not a structured field", req: v(rfcApp, func(_ *env, r *http.Request) *http.Request {
			r.Header.Set("Signature-Input", `sig1=("@method" ;;;`)
			return r
		}), status: 400, code: "malformed"},
		{name: "rfc9421/over-long Signature-Input", req: v(rfcApp, func(_ *env, r *http.Request) *http.Request {
			r.Header.Set("Signature-Input", r.Header.Get("Signature-Input")+`;tag="`+strings.Repeat("t", big)+`"`)
			return r
		}), status: 401, code: "signature_mismatch"},
		{name: "rfc9421/unknown alg", req: v(rfcApp, func(_ *env, r *http.Request) *http.Request {
			r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), `alg="hmac-sha256"`, `alg="hmac-md5"`, 1))
			return r
		}), status: 401, code: "algorithm_not_allowed"},
		{name: "rfc9421/algorithm confusion: hmac with a public key", req: func(e *env) *http.Request {
			s := &rfc9421.Signer{KeyID: "edkey", Secret: string(edPriv.Public().(ed25519.PublicKey)), Algorithm: "hmac-sha256", Now: now}
			return e.sign(e.newReq("GET", e.url+"/msg/x", ""), s)
		}, status: 401, code: "algorithm_not_allowed"},
		{name: "rfc9421/algorithm confusion: ed25519 with an hmac key", req: v(&rfc9421.Signer{KeyID: "app", PrivateKey: edPriv, Now: now}, id), status: 401, code: "algorithm_not_allowed"},
		{name: "rfc9421/created far past", req: v(at(time.Unix(1, 0)), id), status: 401, code: "expired"},
		{name: "rfc9421/created far future", req: v(at(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), id), status: 401, code: "not_yet_valid"},
		{name: "rfc9421/created negative", req: v(rfcApp, func(_ *env, r *http.Request) *http.Request {
			r.Header.Set("Signature-Input", replacePart(r.Header.Get("Signature-Input"), "created=", ";", "-5"))
			return r
		}), status: 400, code: "malformed"},
		{name: "rfc9421/created not an integer", req: v(rfcApp, func(_ *env, r *http.Request) *http.Request {
			r.Header.Set("Signature-Input", replacePart(r.Header.Get("Signature-Input"), "created=", ";", `"yesterday"`))
			return r
		}), status: 400, code: "malformed"},
		{name: "rfc9421/created overflowing", req: v(rfcApp, func(_ *env, r *http.Request) *http.Request {
			r.Header.Set("Signature-Input", replacePart(r.Header.Get("Signature-Input"), "created=", ";", "99999999999999999999"))
			return r
		}), status: 400, code: "malformed"},
		{name: "rfc9421/tampered method", req: v(rfcApp, func(e *env, r *http.Request) *http.Request {
			r.Method = "DELETE"
			e.expect(r, rfcApp)
			return r
		}), status: 401, code: "signature_mismatch"},
		{name: "rfc9421/content-digest mismatch", req: func(e *env) *http.Request {
			r := e.sign(e.newReq("POST", e.url+"/msg/x", "payload"), rfcApp)
			r2 := e.newReq("POST", e.url+"/msg/x", "PAYLOAD")
			r2.Header = r.Header
			return r2
		}, status: 401, code: "digest_mismatch", mayReachUpstream: true},
		{name: "rfc9421/body larger than max_signed_body", req: func(e *env) *http.Request {
			return e.sign(e.newReq("POST", e.url+"/msg/x", strings.Repeat("b", maxSignedBody+1)), rfcApp)
		}, status: 413, code: "body_too_large", mayReachUpstream: true},
	}
}

func sigv4Cases() []hcase {
	v := func(f func(e *env, r *http.Request) *http.Request) func(e *env) *http.Request {
		return func(e *env) *http.Request { return f(e, e.sign(e.newReq("GET", e.url+"/aws/x", ""), sigv4App)) }
	}
	presigned := func(f func(q *query)) func(e *env) *http.Request {
		return func(e *env) *http.Request {
			u, err := sigv4App.Presign(e.newReq("GET", e.url+"/aws/p", ""), 10*time.Minute)
			if err != nil {
				e.t.Fatal(err)
			}
			e.sigs.addFrom(u)
			q := parseURL(u)
			f(q)
			return e.newReq("GET", q.String(), "")
		}
	}
	at := func(t time.Time) *sigv4.Signer {
		s := *sigv4App
		s.Now = func() time.Time { return t }
		return &s
	}
	return []hcase{
		{name: "sigv4/valid header", req: v(func(_ *env, r *http.Request) *http.Request { return r }), status: 200},
		{name: "sigv4/valid presigned", req: presigned(func(*query) {}), status: 200},
		{name: "sigv4/missing X-Amz-Date", req: v(func(_ *env, r *http.Request) *http.Request { r.Header.Del("X-Amz-Date"); return r }), status: 400, code: "missing_signed_header"},
		{name: "sigv4/malformed Authorization", req: v(func(_ *env, r *http.Request) *http.Request {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=,,,")
			return r
		}), status: 400, code: "malformed"},
		{name: "sigv4/unknown algorithm", req: v(func(_ *env, r *http.Request) *http.Request {
			return editAuth(r, func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1) })
		}), status: 401, code: "no_signature"}, // another algorithm is another scheme: chained verifiers may take it
		{name: "sigv4/date far past", req: func(e *env) *http.Request {
			return e.sign(e.newReq("GET", e.url+"/aws/x", ""), at(time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)))
		}, status: 401, code: "expired"},
		{name: "sigv4/date far future", req: func(e *env) *http.Request {
			return e.sign(e.newReq("GET", e.url+"/aws/x", ""), at(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)))
		}, status: 401, code: "not_yet_valid"},
		{name: "sigv4/date malformed", req: v(func(_ *env, r *http.Request) *http.Request { r.Header.Set("X-Amz-Date", "2026-03-14"); return r }), status: 400, code: "malformed"},
		{name: "sigv4/presigned expires negative", req: presigned(func(q *query) { q.set("X-Amz-Expires", "-1") }), status: 400, code: "malformed"},
		{name: "sigv4/presigned expires huge", req: presigned(func(q *query) { q.set("X-Amz-Expires", "99999999999999999999") }), status: 400, code: "malformed"},
		{name: "sigv4/presigned duplicated signature", req: presigned(func(q *query) { q.add("X-Amz-Signature", q.get("X-Amz-Signature")) }), status: 400, code: "malformed"},
		{name: "sigv4/presigned invalid percent-encoding", req: presigned(func(q *query) { q.set("X-Amz-Credential", "app%2G") }), status: 400, code: "malformed"},
		{name: "sigv4/wrong region", req: func(e *env) *http.Request {
			s := *sigv4App
			s.Region = "us-east-1"
			return e.sign(e.newReq("GET", e.url+"/aws/x", ""), &s)
		}, status: 401, code: "signature_mismatch"},
		{name: "sigv4/payload hash mismatch", req: func(e *env) *http.Request {
			r := e.sign(e.newReq("POST", e.url+"/aws/x", "payload"), sigv4App)
			r2 := e.newReq("POST", e.url+"/aws/x", "PAYLOAD")
			r2.Header = r.Header
			return r2
		}, status: 401, code: "digest_mismatch", mayReachUpstream: true},
		{name: "sigv4/body larger than max_signed_body", req: func(e *env) *http.Request {
			return e.sign(e.newReq("POST", e.url+"/aws/x", strings.Repeat("b", maxSignedBody+1)), sigv4App)
		}, status: 413, code: "body_too_large", mayReachUpstream: true},
	}
}

// wireCases are shapes http.Client will not send: raw bytes.
func wireCases() []hcase {
	raw := func(s string) func(e *env) ([]byte, bool) {
		return func(e *env) ([]byte, bool) {
			return []byte(strings.ReplaceAll(s, "HOST", e.host)), false
		}
	}
	return []hcase{
		{name: "wire/CL and TE together (smuggling)", raw: raw("POST /rs/x HTTP/1.1\r\nHost: HOST\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /rs/admin HTTP/1.1\r\nHost: HOST\r\n\r\n"), status: anyClientError},
		{name: "wire/two different Content-Length", raw: raw("POST /rs/x HTTP/1.1\r\nHost: HOST\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc"), status: anyClientError},
		{name: "wire/obs-fold header", raw: raw("GET /rs/x HTTP/1.1\r\nHost: HOST\r\nAuthorization: REQUEST-SIGNATURE ApiKey=app,\r\n ApiVersion=v1\r\n\r\n"), status: anyClientError},
		// RFC 9112 section 6.1: a transfer coding the server does not
		// understand gets 501. net/http answers it before the gateway
		// runs; nothing is forwarded. The one 5xx the table allows.
		{name: "wire/TE chunked twice", raw: raw("POST /rs/x HTTP/1.1\r\nHost: HOST\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), status: 501, allow5xx: true},
		{name: "wire/TE xchunked", raw: raw("POST /rs/x HTTP/1.1\r\nHost: HOST\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"), status: 501, allow5xx: true},
		{name: "wire/bare CR in header value", raw: raw("GET /rs/x HTTP/1.1\r\nHost: HOST\r\nX-Request-Id: a\rX-Injected: b\r\n\r\n"), status: anyClientError},
		{name: "wire/bare LF line ending with injected header", raw: raw("GET /rs/x HTTP/1.1\nHost: HOST\nX-Api-Key: client-sent\n\n"), status: 401, code: "no_signature"},
		{name: "wire/space before colon", raw: raw("GET /rs/x HTTP/1.1\r\nHost: HOST\r\nAuthorization : x\r\n\r\n"), status: anyClientError},
		{name: "wire/non-UTF-8 in request target", raw: raw("GET /rs/\xff\xfe HTTP/1.1\r\nHost: HOST\r\n\r\n"), status: anyClientError},
		{name: "wire/control character in request target", raw: raw("GET /rs/x\x01y HTTP/1.1\r\nHost: HOST\r\n\r\n"), status: anyClientError},
		{name: "wire/NUL in header value", raw: raw("GET /rs/x HTTP/1.1\r\nHost: HOST\r\nAuthorization: REQUEST-SIGNATURE \x00\r\n\r\n"), status: anyClientError},
		{name: "wire/invalid chunk size", raw: raw("POST /rs/x HTTP/1.1\r\nHost: HOST\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"), status: 401, code: "no_signature"},
	}
}

func allCases() []hcase {
	var cs []hcase
	for _, f := range []func() []hcase{sw1Cases, dnsCases, reqsigCases, cavageCases, rfc9421Cases, sigv4Cases, wireCases} {
		cs = append(cs, f()...)
	}
	return cs
}
