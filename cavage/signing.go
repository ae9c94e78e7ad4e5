package cavage

import (
	"net/http"
	"net/textproto"
	"strconv"

	"github.com/signet-dev/signet"
)

// Pseudo-header names.
const (
	RequestTarget = "(request-target)"
	Created       = "(created)"
	Expires       = "(expires)"
	// Nonce signs the nonce parameter. Draft-cavage has no nonce; this is
	// Signet's extension, built like (created) and (expires), so that a
	// nonce counts only when the signature covers it.
	Nonce = "(nonce)"
)

// pseudo holds the signature parameters that pseudo-headers sign.
type pseudo struct {
	created, expires int64
	nonce            string
}

// SigningString returns the draft-cavage signing string of r for the signed
// names headers (lower case, in order): one `name: value` line per name,
// joined by "\n". "(request-target)" is the lower-cased method, a space and
// the request target as received (r.RequestURI on a server, else
// r.URL.RequestURI()); "(created)" and "(expires)" are the given values, an
// error when 0; several values of a header are trimmed and joined by ", ".
// A name absent from r gives an error wrapping signet.ErrMissingHeader.
func SigningString(r *http.Request, headers []string, created, expires int64) (string, error) {
	b, _, err := appendSigningString(nil, r, headers, nil, pseudo{created: created, expires: expires}, ", ", "")
	return string(b), err
}

// appendSigningString appends the signing string to dst. labels, when not
// nil, are the line labels to write in place of the lower-case names. sep
// joins the values of a repeated header. multi reports that some signed
// header had several values, so that the verifier knows whether another
// separator is worth a try.
func appendSigningString(dst []byte, r *http.Request, headers, labels []string, ps pseudo, sep, keyID string) (_ []byte, multi bool, _ error) {
	for i, name := range headers {
		if i > 0 {
			dst = append(dst, '\n')
		}
		if labels != nil {
			dst = append(dst, labels[i]...)
		} else {
			dst = append(dst, name...)
		}
		dst = append(dst, ": "...)
		switch name {
		case RequestTarget:
			target := r.RequestURI
			if target == "" {
				if r.URL == nil {
					return dst, multi, malformed(keyID, "request has no target")
				}
				target = r.URL.RequestURI()
			}
			method := r.Method
			if method == "" {
				method = http.MethodGet // what net/http sends for ""
			}
			dst = appendLower(dst, method)
			dst = append(dst, ' ')
			dst = append(dst, target...)
			continue
		case Nonce:
			if ps.nonce == "" {
				return dst, multi, malformed(keyID, name+" is signed but the parameter is absent")
			}
			dst = append(dst, ps.nonce...)
			continue
		case Created, Expires:
			v := ps.created
			if name == Expires {
				v = ps.expires
			}
			if v == 0 {
				return dst, multi, malformed(keyID, name+" is signed but the parameter is absent")
			}
			dst = strconv.AppendInt(dst, v, 10)
			continue
		case "host":
			if h := hostOf(r); h != "" {
				dst = append(dst, h...)
				continue
			}
		case "content-length":
			if _, ok := r.Header["Content-Length"]; !ok {
				if n, ok := impliedContentLength(r); ok {
					dst = strconv.AppendInt(dst, n, 10)
					continue
				}
			}
		}
		if len(name) > 0 && name[0] == '(' {
			return dst, multi, malformed(keyID, "unknown pseudo-header "+quote(name))
		}
		vs := headerValues(r.Header, name)
		if len(vs) == 0 {
			return dst, multi, signet.NewError(signet.SchemeCavage, keyID, signet.ErrMissingHeader, "signed header "+quote(name)+" is absent from the request")
		}
		if len(vs) > 1 {
			multi = true
		}
		for j, v := range vs {
			if j > 0 {
				dst = append(dst, sep...)
			}
			dst = append(dst, trimOWS(v)...)
		}
	}
	return dst, multi, nil
}

// hostOf is the Host a server received (r.Host) or a client will send.
func hostOf(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	if r.URL != nil {
		return r.URL.Host
	}
	return ""
}

// impliedContentLength is the Content-Length a client request will carry
// although its Header does not hold one (net/http writes it from
// ContentLength).
func impliedContentLength(r *http.Request) (int64, bool) {
	if r.ContentLength > 0 {
		return r.ContentLength, true
	}
	if r.ContentLength == 0 && (r.Body == nil || r.Body == http.NoBody) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			return 0, true
		}
	}
	return 0, false
}

// common maps frequently signed names to their canonical keys, sparing an
// allocation per lookup on the hot path.
var common = map[string]string{
	"date":           "Date",
	"digest":         "Digest",
	"host":           "Host",
	"content-type":   "Content-Type",
	"content-length": "Content-Length",
	"content-md5":    "Content-Md5",
	"x-date":         "X-Date",
	"user-agent":     "User-Agent",
	"accept":         "Accept",
	"cache-control":  "Cache-Control",
}

func headerValues(h http.Header, name string) []string {
	if k, ok := common[name]; ok {
		return h[k]
	}
	if vs, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return vs
	}
	return h[name] // a key set without canonicalisation
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// quote quotes s for an error message, shortened and without control
// characters, since it comes from the client.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.QuoteToASCII(s)
}
