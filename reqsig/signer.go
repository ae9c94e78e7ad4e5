package reqsig

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet"
)

// DefaultType is the authentication type of the Java library: the first
// word of the Authorization header and of the string to sign.
const DefaultType = "REQUEST-SIGNATURE"

// DefaultAPIVersion is the ApiVersion a Signer uses when none is set.
const DefaultAPIVersion = "v1"

// Signer signs requests the way the Java library's RequestSigner does.
type Signer struct {
	// KeyID is the public ApiKey. Required. It may contain ',' but not one
	// of the component markers (",ApiVersion=", ...), which would make the
	// header ambiguous.
	KeyID string

	// Secret is the SecretApiKey. Required; it never leaves the signer.
	Secret string

	// APIVersion is signed and sent as ApiVersion. "" means "v1".
	APIVersion string

	// DisableSignedHost leaves the host out of the canonical request
	// (SignedHost=false). The zero value signs the host, which binds the
	// signature to the server it was made for.
	DisableSignedHost bool

	// Type is the authentication type; "" means DefaultType. A verifier only
	// accepts the types it is configured with.
	Type string

	// Now returns the signing time. Nil means time.Now.
	Now func() time.Time
}

var _ signet.RequestSigner = (*Signer)(nil)

// SignRequest sets r's Authorization header, signing r.Method and the host,
// path and query r will be sent with: r.Host (else r.URL.Host) without its
// port, and r.URL's escaped path and raw query as they appear in the request
// line. The body is not signed (the scheme does not cover it).
func (s *Signer) SignRequest(r *http.Request) error {
	if r.URL == nil {
		return errors.New("reqsig: request has no URL")
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	path, query := requestTarget(r.URL.RequestURI())
	v, err := s.authorization(method, stripPort(host), path, query, s.now())
	if err != nil {
		return err
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header.Set("Authorization", v)
	return nil
}

// Authorization returns the Authorization header value for method and
// rawURL signed at t, byte for byte what the Java library's
// signRequest(method, url, parameters, t.UnixMilli()) produces. rawURL is
// parsed as java.net.URL parses it (see CanonicalRequest).
func (s *Signer) Authorization(method, rawURL string, t time.Time) (string, error) {
	u, err := parseJavaURL(rawURL)
	if err != nil {
		return "", err
	}
	return s.authorization(method, u.host, u.path, u.query, t)
}

func (s *Signer) authorization(method, host, path, query string, t time.Time) (string, error) {
	typ := s.Type
	if typ == "" {
		typ = DefaultType
	}
	version := s.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	if err := s.check(typ, version); err != nil {
		return "", err
	}
	signedHost := !s.DisableSignedHost
	ts := strconv.FormatInt(t.UnixMilli(), 10)

	canonical := appendCanonical(make([]byte, 0, 256), upperMethod(method), host, path, query, signedHost)
	sts := appendStringToSign(make([]byte, 0, 128), typ, s.KeyID, version, ts, canonical)
	key := signingKey(s.Secret, version, ts)

	var b strings.Builder
	b.Grow(len(typ) + len(s.KeyID) + len(version) + len(ts) + 100)
	b.WriteString(typ)
	b.WriteString(" " + compAPIKey)
	b.WriteString(s.KeyID)
	b.WriteString(markAPIVersion)
	b.WriteString(version)
	b.WriteString(markSignedHost)
	b.WriteString(strconv.FormatBool(signedHost))
	b.WriteString(markTimestamp)
	b.WriteString(ts)
	b.WriteString(markSignature)
	b.Write(appendSignature(make([]byte, 0, signatureChars), &key, sts))
	return b.String(), nil
}

// check refuses parameters whose header Verify could not read back: empty
// values, control characters (header injection) and component markers
// inside values.
func (s *Signer) check(typ, version string) error {
	switch {
	case s.KeyID == "":
		return errors.New("reqsig: Signer.KeyID is empty")
	case s.Secret == "":
		return errors.New("reqsig: Signer.Secret is empty")
	}
	for _, f := range [...]struct{ name, v string }{{"Type", typ}, {"KeyID", s.KeyID}, {"APIVersion", version}} {
		for i := 0; i < len(f.v); i++ {
			if c := f.v[i]; c < ' ' || c == 0x7f {
				return errors.New("reqsig: Signer." + f.name + " contains a control character")
			}
		}
		if f.name == "Type" {
			continue
		}
		for _, m := range [...]string{"," + compAPIKey, markAPIVersion, markSignedHost, markTimestamp, markSignature} {
			if strings.Contains(f.v, m) {
				return errors.New("reqsig: Signer." + f.name + " contains " + strconv.Quote(m) + ", which makes the header ambiguous")
			}
		}
	}
	if strings.TrimSpace(typ) != typ {
		// HTTP trims header values, so the type would not be read back.
		return errors.New("reqsig: Signer.Type has leading or trailing spaces")
	}
	return nil
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// stripPort removes a port from a Host header value, as java.net.URL drops
// it from the host: "[::1]:80" gives "[::1]", "Example.com:8080" gives
// "Example.com". The case is kept.
func stripPort(host string) string {
	if host != "" && host[0] == '[' {
		if i := strings.IndexByte(host, ']'); i >= 0 {
			return host[:i+1]
		}
		return host
	}
	if i := strings.IndexByte(host, ':'); i >= 0 {
		return host[:i]
	}
	return host
}

// requestTarget splits a request target into its raw path and raw query.
// An absolute-form target (a request to a proxy) is parsed as java.net.URL
// parses it.
func requestTarget(target string) (path, query string) {
	if target != "" && target[0] != '/' && target != "*" {
		if u, err := parseJavaURL(target); err == nil {
			return u.path, u.query
		}
	}
	path, query, _ = strings.Cut(target, "?")
	return path, query
}
