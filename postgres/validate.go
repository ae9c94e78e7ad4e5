package postgres

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
)

// knownSchemes are the values KeySpec.Schemes accepts.
var knownSchemes = []string{signet.SchemeSW1, signet.SchemeReqSig, signet.SchemeCavage, signet.SchemeRFC9421, signet.SchemeSigV4}

// validateID applies the rules of config.Validate: non-empty, at most 256
// bytes, and no "/" when the key may sign SW1 URLs (Signway reads the id up
// to the first "/"). Control characters, spaces, quotes and commas are
// refused too: they cannot travel in the schemes' parameters.
func validateID(id string, schemes []string) error {
	switch {
	case id == "":
		return errors.New("postgres: key id is empty")
	case len(id) > 256:
		return errors.New("postgres: key id longer than 256 bytes")
	case strings.Contains(id, "/") && (len(schemes) == 0 || slices.Contains(schemes, signet.SchemeSW1)):
		return errors.New("postgres: an id containing / cannot sign SW1 URLs; list schemes without sw1")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == '\\' {
			return fmt.Errorf("postgres: key id %q: only printable ASCII without space, quote, comma or backslash", id)
		}
	}
	return nil
}

func validateSpec(spec *KeySpec) error {
	var errs []error
	for _, s := range spec.Schemes {
		if !slices.Contains(knownSchemes, s) {
			errs = append(errs, fmt.Errorf("postgres: unknown scheme %q (known: %s)", s, strings.Join(knownSchemes, ", ")))
		}
	}
	for _, a := range spec.Algorithms {
		if !validToken(a) || strings.ToLower(a) != a {
			errs = append(errs, fmt.Errorf("postgres: invalid algorithm name %q", a))
		}
	}
	if spec.MaxExpires < 0 {
		errs = append(errs, errors.New("postgres: max expires is negative"))
	}
	if l := spec.RateLimit; l.RequestsPerSecond < 0 || l.Burst < 0 || l.BytesPerMinute < 0 {
		errs = append(errs, errors.New("postgres: rate limit values must not be negative"))
	}
	if spec.PublicKeyPEM != "" {
		if _, err := parsePublicKey(spec.PublicKeyPEM); err != nil {
			errs = append(errs, err)
		}
	}
	seen := map[string]bool{}
	for i := range spec.Upstreams {
		u := &spec.Upstreams[i]
		o, err := normalizeOrigin(u.Origin)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[o] {
			errs = append(errs, fmt.Errorf("postgres: duplicate upstream %q", o))
		}
		seen[o] = true
		u.Origin = o
		h, err := normalizeHeaders(u.Headers)
		if err != nil {
			errs = append(errs, err)
		}
		u.Headers = h
	}
	return errors.Join(errs...)
}

// normalizeOrigin accepts "*" or scheme://host[:port] with at most a "/"
// path, as the config file does.
func normalizeOrigin(raw string) (string, error) {
	if raw == "*" {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("postgres: upstream: invalid URL %q", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("postgres: upstream %q is not an origin (scheme://host[:port], no path)", raw)
	}
	o, err := config.OriginOf(u)
	if err != nil {
		return "", fmt.Errorf("postgres: upstream %q: %w", raw, err)
	}
	return o, nil
}

// normalizeHeaders canonicalises header names and refuses what cannot be
// injected. Errors name the header, never its value (a credential).
func normalizeHeaders(h map[string]string) (map[string]string, error) {
	if len(h) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(h))
	var errs []error
	for k, v := range h {
		name := http.CanonicalHeaderKey(strings.TrimSpace(k))
		switch {
		case !validToken(name):
			errs = append(errs, fmt.Errorf("postgres: invalid header name %q", k))
		case strings.ContainsAny(v, "\r\n\x00"):
			errs = append(errs, fmt.Errorf("postgres: value of header %s contains CR, LF or NUL", name))
		case slices.Contains([]string{"Host", "Connection", "Content-Length", "Transfer-Encoding", "Upgrade", "Te", "Trailer"}, name):
			errs = append(errs, fmt.Errorf("postgres: header %s cannot be injected", name))
		}
		if _, dup := out[name]; dup {
			errs = append(errs, fmt.Errorf("postgres: header %s given twice", name))
		}
		out[name] = v
	}
	return out, errors.Join(errs...)
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

// parsePublicKey reads a PEM "PUBLIC KEY" (PKIX) block.
func parsePublicKey(s string) (any, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("postgres: public key must be a PEM \"PUBLIC KEY\" block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("postgres: public key: %w", err)
	}
	return pub, nil
}
