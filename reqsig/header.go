package reqsig

import (
	"errors"
	"strings"
)

// MaxHeaderLength bounds the Authorization header value Verify accepts.
const MaxHeaderLength = 8 << 10

// Component markers, in the order the Java library writes them. The ApiKey
// and ApiVersion values are not escaped, so the parser splits on these
// markers rather than on ','.
const (
	compAPIKey     = "ApiKey="
	markAPIVersion = ",ApiVersion="
	markSignedHost = ",SignedHost="
	markTimestamp  = ",Timestamp="
	markSignature  = ",Signature="
)

// authorization is a parsed Authorization header.
type authorization struct {
	Type       string // authentication type, one of the accepted types
	APIKey     string
	APIVersion string
	SignedHost bool
	Timestamp  string // decimal milliseconds, exactly as sent (it is signed as text)
	Millis     int64  // Timestamp's value
	Signature  string // 43 base64url characters
}

// errNotOurs reports a header that does not carry one of the accepted types,
// so that another verifier may try the request.
var errNotOurs = errors.New("reqsig: not a REQUEST-SIGNATURE header")

// malformed is a parse failure; its text names the component and never holds
// a secret (the header holds none).
type malformed string

func (m malformed) Error() string { return string(m) }

// matchType returns the longest of types that prefixes v followed by a
// space, and the rest of v after that space. Types may contain spaces, so
// the header is matched against each accepted type rather than cut at the
// first space.
func matchType(v string, types []string) (typ, creds string, ok bool) {
	for _, t := range types {
		if len(v) > len(t) && v[len(t)] == ' ' && v[:len(t)] == t && len(t) >= len(typ) && t != "" {
			typ, creds, ok = t, v[len(t)+1:], true
		}
	}
	return typ, creds, ok
}

// parseAuthorization parses v, an Authorization header value, for one of
// types. It returns errNotOurs when v is not of an accepted type, and a
// malformed error when it is but cannot be parsed.
func parseAuthorization(v string, types []string) (authorization, error) {
	var a authorization
	typ, creds, ok := matchType(v, types)
	if !ok {
		return a, errNotOurs
	}
	a.Type = typ
	if len(v) > MaxHeaderLength {
		return a, malformed("Authorization header longer than 8 KiB")
	}
	if !strings.HasPrefix(creds, compAPIKey) {
		return a, malformed("missing component ApiKey (credentials must start with \"ApiKey=\")")
	}
	rest := creds[len(compAPIKey):]
	// Each marker must appear exactly once: a second one is either a
	// duplicate component or a value that makes the header ambiguous.
	if strings.Contains(rest, ","+compAPIKey) {
		return a, malformed("duplicate component ApiKey (or a value containing \",ApiKey=\")")
	}
	for _, m := range [...]string{markAPIVersion, markSignedHost, markTimestamp, markSignature} {
		switch strings.Count(rest, m) {
		case 0:
			return a, malformed("missing component " + m[1:len(m)-1])
		case 1:
		default:
			return a, malformed("duplicate component " + m[1:len(m)-1] + " (or a value containing \"" + m + "\")")
		}
	}
	var sh, ts string
	var found bool
	if a.APIKey, rest, found = strings.Cut(rest, markAPIVersion); !found {
		return a, malformed("components out of order: ApiVersion must follow ApiKey")
	}
	if a.APIVersion, rest, found = strings.Cut(rest, markSignedHost); !found {
		return a, malformed("components out of order: SignedHost must follow ApiVersion")
	}
	if sh, rest, found = strings.Cut(rest, markTimestamp); !found {
		return a, malformed("components out of order: Timestamp must follow SignedHost")
	}
	if ts, a.Signature, found = strings.Cut(rest, markSignature); !found {
		return a, malformed("components out of order: Signature must follow Timestamp")
	}
	switch {
	case a.APIKey == "":
		return a, malformed("empty ApiKey")
	case a.APIVersion == "":
		return a, malformed("empty ApiVersion")
	}
	switch sh {
	case "true":
		a.SignedHost = true
	case "false":
	default:
		return a, malformed("SignedHost must be true or false")
	}
	if ts == "" {
		return a, malformed("empty Timestamp")
	}
	// Unix milliseconds: digits only, at most 18 of them so that the value
	// fits an int64 (Java never writes a sign or leading zeros here).
	if len(ts) > 18 {
		return a, malformed("Timestamp is not a decimal number of milliseconds")
	}
	for i := 0; i < len(ts); i++ {
		c := ts[i]
		if c < '0' || c > '9' {
			return a, malformed("Timestamp is not a decimal number of milliseconds")
		}
		a.Millis = a.Millis*10 + int64(c-'0')
	}
	a.Timestamp = ts
	if a.Signature == "" {
		return a, malformed("empty Signature")
	}
	if len(a.Signature) != signatureChars || !isBase64URL(a.Signature) {
		return a, malformed("Signature is not 43 unpadded base64url characters")
	}
	return a, nil
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
