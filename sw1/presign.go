package sw1

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signet-dev/signet"
)

// DefaultExpires is the lifetime of a pre-signed URL when none is given.
const DefaultExpires = 10 * time.Minute

// PresignOptions describes one request to pre-sign.
type PresignOptions struct {
	KeyID  string // public key id; must not be empty or contain '/'
	Secret string // the key's secret; must not be empty

	// Gateway is the base URL of the Signet gateway. It may carry a path
	// prefix ("https://gw.example.com/sw"); the signed URL keeps that path
	// (with a trailing slash added) while the signature covers "/", as the
	// Signway gateway computes it.
	Gateway string

	// Target is the upstream URL, sent as X-Sw-Proxy. It is normalised the
	// way Signway's gateway does (WHATWG URL serialisation) before signing.
	Target string

	// Method is signed verbatim (case-sensitive). Empty means GET.
	Method string

	// Expires is the URL's lifetime in whole seconds. Zero means
	// DefaultExpires; at most 2^32-1 seconds.
	Expires time.Duration

	// Header holds the headers to sign, with the values the client will
	// send (the first value of each). Nil signs no header.
	Header http.Header

	// Body, when non-nil, is signed: X-Sw-Body=true, and (unless
	// DisableContentLength) a content-length header equal to len(Body) in
	// bytes is signed too, as the Signway SDKs do. The client must send
	// exactly these bytes. Nil means X-Sw-Body=false.
	Body []byte

	// DisableContentLength leaves content-length out of the signed headers
	// of a signed body, as Signway's own Rust signer does. False signs it.
	DisableContentLength bool

	// Time is the signing time. Zero means time.Now().
	Time time.Time
}

// Presign returns the pre-signed gateway URL for o. The query carries the
// X-Sw-* parameters in the order and encoding Signway's Rust signer uses,
// so the URL verifies on Signet and on a Signway gateway alike.
func Presign(o PresignOptions) (string, error) {
	if o.KeyID == "" {
		return "", errors.New("sw1: empty key id")
	}
	if strings.IndexByte(o.KeyID, '/') >= 0 {
		// The gateway takes the id as the text before the first '/'.
		return "", errors.New("sw1: key id must not contain '/'")
	}
	if o.Secret == "" {
		return "", errors.New("sw1: empty secret")
	}
	base, err := gatewayBase(o.Gateway)
	if err != nil {
		return "", err
	}
	target, err := normalizeTarget(o.Target)
	if err != nil {
		return "", err
	}
	method := o.Method
	if method == "" {
		method = http.MethodGet
	}
	if !isToken(method) {
		return "", fmt.Errorf("sw1: invalid method %q", method)
	}
	expires := o.Expires
	if expires == 0 {
		expires = DefaultExpires
	}
	if expires < 0 || expires%time.Second != 0 || expires/time.Second > math.MaxUint32 {
		return "", fmt.Errorf("sw1: expires %v is not a whole number of seconds between 1 and 2^32-1", o.Expires)
	}
	t := o.Time
	if t.IsZero() {
		t = time.Now()
	}
	t = t.UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return "", fmt.Errorf("sw1: signing time %v out of range", t)
	}

	hs := make([]header, 0, len(o.Header)+1)
	names := make([]string, 0, len(o.Header)+1)
	var contentLength string
	for name, vs := range o.Header {
		lname := strings.ToLower(name)
		if !isToken(lname) {
			return "", fmt.Errorf("sw1: invalid header name %q", name)
		}
		if len(vs) == 0 {
			return "", fmt.Errorf("sw1: header %q has no value", name)
		}
		v := strings.TrimSpace(vs[0])
		if !validHeaderValue(v) {
			return "", fmt.Errorf("sw1: header %q has an invalid value", name)
		}
		if lname == "content-length" {
			contentLength = v
			if o.Body != nil && !o.DisableContentLength {
				continue // added below, after the other names, as the SDKs do
			}
		}
		hs = append(hs, header{lname, v})
		names = append(names, lname)
	}
	if len(hs) != len(sortHeaders(hs)) {
		return "", errors.New("sw1: a header is given twice with different case")
	}
	// http.Header has no order; sort for a deterministic URL.
	sortStrings(names)
	if o.Body != nil {
		if !utf8.Valid(o.Body) {
			// Signway reads a signed body as UTF-8 text.
			return "", errors.New("sw1: a signed body must be valid UTF-8")
		}
		if !o.DisableContentLength {
			n := strconv.Itoa(len(o.Body))
			if contentLength != "" && contentLength != n {
				return "", fmt.Errorf("sw1: Content-Length %s does not match the body's %s bytes", contentLength, n)
			}
			hs = append(hs, header{"content-length", n})
			names = append(names, "content-length")
		}
	}
	hs = sortHeaders(hs)

	date := t.Format(dateLayout)
	p := params{
		algorithm:     Algorithm,
		keyID:         o.KeyID,
		day:           date[:8],
		date:          date,
		expires:       strconv.FormatInt(int64(expires/time.Second), 10),
		proxy:         target,
		signedHeaders: strings.Join(names, ";"),
		body:          "false",
	}
	if o.Body != nil {
		p.body = "true"
	}

	hh := newHasher()
	buf := appendCanonicalPrefix(make([]byte, 0, 512), method, "/", &p, encRust, hs, nil)
	hh.h.Write(buf)
	hh.h.Write(o.Body)
	var digest, sig [sha256.Size]byte
	hh.sumInto(&digest)
	key := signingKey(o.Secret, date)
	hh.hmac(&key, appendStringToSign(buf[:0], date, &digest), &sig)

	u := []byte(base)
	u = append(u, '?')
	for i, kv := range [...]struct{ k, v string }{
		{paramAlgorithm, p.algorithm},
		{paramCredential, p.keyID + "/" + p.day},
		{paramDate, p.date},
		{paramExpires, p.expires},
		{paramProxy, p.proxy},
		{paramSignedHeaders, p.signedHeaders},
		{paramBody, p.body},
	} {
		if i > 0 {
			u = append(u, '&')
		}
		u = append(u, kv.k...)
		u = append(u, '=')
		u = appendEscaped(u, kv.v, encRust, nil)
	}
	u = append(u, "&"+paramSignature+"="...)
	u = hex.AppendEncode(u, sig[:])
	return string(u), nil
}

// gatewayBase checks the gateway URL and returns it without query, with a
// path that ends in '/'.
func gatewayBase(gw string) (string, error) {
	u, err := url.Parse(gw)
	if err != nil {
		return "", fmt.Errorf("sw1: invalid gateway URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("sw1: gateway URL %q must be an absolute http or https URL", gw)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("sw1: gateway URL %q must not carry a query, fragment or user info", gw)
	}
	path := u.EscapedPath()
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return u.Scheme + "://" + u.Host + path, nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// isToken reports whether s is an HTTP token (RFC 9110), as methods and
// header names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7F || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue refuses the control characters no client can send.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7F {
			return false
		}
	}
	return true
}

// DefaultMaxBody is the largest signed body read when none is configured.
const DefaultMaxBody = 10 << 20

// Signer pre-signs outgoing requests (signet.RequestSigner): it rewrites the
// request to go to the gateway, with the original URL as X-Sw-Proxy.
type Signer struct {
	KeyID   string // required
	Secret  string // required
	Gateway string // base URL of the gateway; required

	// Expires is the lifetime of each URL. Zero means DefaultExpires.
	Expires time.Duration

	// SignBody signs the request body (buffered, at most MaxBody bytes) and
	// its content-length. False sends the body unsigned.
	SignBody bool

	// SignHeaders names request headers whose values are signed; a named
	// header missing from the request is an error. "host" signs the
	// gateway's host, where the request is sent.
	SignHeaders []string

	// Now returns the signing time. Nil means time.Now.
	Now func() time.Time

	// MaxBody limits the body SignBody reads. Zero means DefaultMaxBody.
	MaxBody int64
}

var _ signet.RequestSigner = (*Signer)(nil)

// SignRequest rewrites r.URL and r.Host to the pre-signed gateway URL whose
// X-Sw-Proxy is r's original URL (which must be absolute). With SignBody it
// reads r.Body and replaces it with the bytes read.
func (s *Signer) SignRequest(r *http.Request) error {
	if r.URL == nil || !r.URL.IsAbs() || r.URL.Host == "" {
		return errors.New("sw1: request URL must be absolute")
	}
	o := PresignOptions{
		KeyID:   s.KeyID,
		Secret:  s.Secret,
		Gateway: s.Gateway,
		Target:  r.URL.String(),
		Method:  r.Method,
		Expires: s.Expires,
	}
	if s.Now != nil {
		o.Time = s.Now()
	} else {
		o.Time = time.Now()
	}
	if len(s.SignHeaders) > 0 {
		o.Header = make(http.Header, len(s.SignHeaders))
		for _, name := range s.SignHeaders {
			var v string
			if vs := r.Header.Values(name); len(vs) > 0 {
				v = vs[0]
			} else if strings.EqualFold(name, "host") {
				// The request goes to the gateway, so that is the Host
				// the verifier sees.
				gw, err := url.Parse(s.Gateway)
				if err != nil {
					return fmt.Errorf("sw1: invalid gateway URL: %w", err)
				}
				v = gw.Host
			} else {
				return fmt.Errorf("sw1: header %q to sign is missing from the request", name)
			}
			o.Header.Set(name, v)
		}
	}
	if s.SignBody {
		body, err := readBody(r, s.MaxBody)
		if err != nil {
			return err
		}
		o.Body = body
	}
	signed, err := Presign(o)
	if err != nil {
		return err
	}
	u, err := url.Parse(signed)
	if err != nil {
		return fmt.Errorf("sw1: signed URL: %w", err)
	}
	r.URL = u
	r.Host = u.Host
	return nil
}

// readBody buffers r.Body (at most max bytes) and puts it back.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBody
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, max+1))
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sw1: read body: %w", err)
		}
		if int64(len(body)) > max {
			return nil, fmt.Errorf("sw1: body larger than %d bytes", max)
		}
	}
	if body == nil {
		body = []byte{} // a signed empty body, not "no body"
	}
	r.ContentLength = int64(len(body))
	if len(body) == 0 {
		// With a zero ContentLength a non-nil Body would go out chunked,
		// without the Content-Length the gateway requires.
		r.Body, r.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
		return body, nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return body, nil
}
