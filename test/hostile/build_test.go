package hostile_test

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/reqsig"
	"github.com/signet-dev/signet/rfc9421"
	"github.com/signet-dev/signet/sigv4"
	"github.com/signet-dev/signet/sw1"
)

func now() time.Time { return t0 }

// presign returns an SW1 URL for key app to the upstream path p, signed a
// minute before t0; mutate adjusts the options.
func (e *env) presign(p string, mutate func(*sw1.PresignOptions)) string {
	o := sw1.PresignOptions{KeyID: "app", Secret: appSecret, Gateway: e.url, Target: e.up.URL + p, Method: "GET", Time: t0.Add(-time.Minute)}
	if mutate != nil {
		mutate(&o)
	}
	u, err := sw1.Presign(o)
	if err != nil {
		e.t.Fatalf("presign %+v: %v", o.Target, err)
	}
	e.sigs.addFrom(u)
	return u
}

// query edits the raw query of a URL pair by pair, keeping everything
// else byte for byte.
type query struct {
	base  string
	pairs [][2]string // raw name, raw value
}

func parseURL(u string) *query {
	base, q, _ := strings.Cut(u, "?")
	qq := &query{base: base}
	for kv := range strings.SplitSeq(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		qq.pairs = append(qq.pairs, [2]string{k, v})
	}
	return qq
}

func (q *query) get(name string) string {
	for _, p := range q.pairs {
		if p[0] == name {
			return p[1]
		}
	}
	return ""
}

func (q *query) set(name, rawValue string) *query {
	for i, p := range q.pairs {
		if p[0] == name {
			q.pairs[i][1] = rawValue
		}
	}
	return q
}

func (q *query) del(name string) *query {
	out := q.pairs[:0]
	for _, p := range q.pairs {
		if p[0] != name {
			out = append(out, p)
		}
	}
	q.pairs = out
	return q
}

func (q *query) add(name, rawValue string) *query {
	q.pairs = append(q.pairs, [2]string{name, rawValue})
	return q
}

func (q *query) String() string {
	var b strings.Builder
	b.WriteString(q.base)
	for i, p := range q.pairs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(p[0])
		b.WriteByte('=')
		b.WriteString(p[1])
	}
	return b.String()
}

func (e *env) newReq(method, u string, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		e.t.Fatalf("request %s %.80q: %v", method, u, err)
	}
	return req
}

func (e *env) sign(req *http.Request, s interface{ SignRequest(*http.Request) error }) *http.Request {
	if err := s.SignRequest(req); err != nil {
		e.t.Fatalf("sign: %v", err)
	}
	e.sigs.addReq(req)
	return req
}

// expect records the signature a verifier computes for req as it is sent
// (the honest signature of the tampered request): it must not leak either.
func (e *env) expect(req *http.Request, s interface{ SignRequest(*http.Request) error }) {
	c := req.Clone(req.Context())
	for _, h := range []string{"Authorization", "Signature", "Signature-Input"} {
		c.Header.Del(h)
	}
	if req.GetBody != nil {
		c.Body, _ = req.GetBody()
	}
	if err := s.SignRequest(c); err == nil {
		e.sigs.addReq(c)
	}
}

var (
	reqsigApp  = &reqsig.Signer{KeyID: "app", Secret: appSecret, Now: now}
	cavageApp  = &cavage.Signer{KeyID: "app", Secret: appSecret, Now: now}
	cavageEd   = &cavage.Signer{KeyID: "edkey", PrivateKey: edPriv, Now: now}
	rfcApp     = &rfc9421.Signer{KeyID: "app", Secret: appSecret, Now: now}
	rfcEd      = &rfc9421.Signer{KeyID: "edkey", PrivateKey: edPriv, Now: now}
	sigv4App   = &sigv4.Signer{KeyID: "app", Secret: appSecret, Region: "eu-west-1", Service: "execute-api", Now: now}
	cavageTime = func(at time.Time) *cavage.Signer {
		return &cavage.Signer{KeyID: "app", Secret: appSecret, Now: func() time.Time { return at }}
	}
)

// reqsigAuth builds a REQUEST-SIGNATURE header value from parts, for
// malformed variants.
func reqsigValid(e *env, path string) *http.Request {
	return e.sign(e.newReq("GET", e.url+path, ""), reqsigApp)
}

// editAuth rewrites the Authorization header of a signed request.
func editAuth(r *http.Request, f func(string) string) *http.Request {
	r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
	return r
}

// cut removes the first component starting with prefix up to the next
// separator sep (inclusive) from s.
func cutPart(s, prefix, sep string) string {
	i := strings.Index(s, prefix)
	if i < 0 {
		return s
	}
	j := strings.Index(s[i:], sep)
	if j < 0 {
		return strings.TrimSuffix(s[:i], sep)
	}
	return s[:i] + s[i+j+len(sep):]
}

// replacePart replaces the value after prefix (up to sep) in s.
func replacePart(s, prefix, sep, val string) string {
	i := strings.Index(s, prefix)
	if i < 0 {
		return s
	}
	i += len(prefix)
	j := strings.Index(s[i:], sep)
	if j < 0 {
		return s[:i] + val
	}
	return s[:i] + val + s[i+j:]
}
