package sigv4

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/signet-dev/signet"
)

// Limits on what a client sends, so that parsing stays cheap.
const (
	maxAuthorization = 8 << 10 // bytes of an Authorization header or X-Amz-* value
	maxSignedHeaders = 64
)

// amzDateFormat is the layout of X-Amz-Date.
const amzDateFormat = "20060102T150405Z"

// Credential is the parsed X-Amz-Credential or Authorization Credential:
// "<key id>/<YYYYMMDD>/<region>/<service>/aws4_request".
type Credential struct {
	KeyID   string // access key id; may not be empty
	Date    string // YYYYMMDD, the day of X-Amz-Date
	Region  string
	Service string
}

// Authorization is a parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
type Authorization struct {
	Credential    Credential
	SignedHeaders []string // lower case, sorted, as listed
	Signature     string   // lower-case hex, 64 digits
}

// ParseAuthorization parses the value of an Authorization header of the form
// `AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request,
// SignedHeaders=<h1;h2>, Signature=<hex>`. Parameters may come in any
// order, separated by commas and optional spaces; each must appear once and
// no other is allowed. Errors are *signet.Error values wrapping
// signet.ErrMalformed.
func ParseAuthorization(s string) (*Authorization, error) {
	if len(s) > maxAuthorization {
		return nil, malformed("", "Authorization header too long")
	}
	rest, ok := strings.CutPrefix(s, Algorithm)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return nil, malformed("", "Authorization is not "+Algorithm)
	}
	var a Authorization
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.Trim(part, " \t")
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, malformed("", "Authorization parameter without '='")
		}
		var dst *string
		var have *bool
		switch name {
		case "Credential":
			dst, have = &cred, &haveCred
		case "SignedHeaders":
			dst, have = &signed, &haveSigned
		case "Signature":
			dst, have = &sig, &haveSig
		default:
			return nil, malformed("", "unknown Authorization parameter")
		}
		if *have {
			return nil, malformed("", "repeated Authorization parameter "+name)
		}
		*dst, *have = value, true
	}
	if !haveCred || !haveSigned || !haveSig {
		return nil, malformed("", "Authorization needs Credential, SignedHeaders and Signature")
	}
	c, err := ParseCredential(cred)
	if err != nil {
		return nil, err
	}
	a.Credential = c
	if a.SignedHeaders, err = parseSignedHeaders(signed, c.KeyID); err != nil {
		return nil, err
	}
	if a.Signature, err = parseSignature(sig, c.KeyID); err != nil {
		return nil, err
	}
	return &a, nil
}

// ParseCredential parses "<key id>/<YYYYMMDD>/<region>/<service>/aws4_request".
// The key id is everything before the last four parts, so it may itself
// hold a '/'.
func ParseCredential(s string) (Credential, error) {
	var c Credential
	if len(s) > maxAuthorization {
		return c, malformed("", "credential too long")
	}
	rest, ok := strings.CutSuffix(s, "/aws4_request")
	if !ok {
		return c, malformed("", "credential scope does not end in aws4_request")
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return c, malformed("", "credential needs <id>/<date>/<region>/<service>/aws4_request")
	}
	c.Service, rest = rest[i+1:], rest[:i]
	if i = strings.LastIndexByte(rest, '/'); i < 0 {
		return c, malformed("", "credential needs <id>/<date>/<region>/<service>/aws4_request")
	}
	c.Region, rest = rest[i+1:], rest[:i]
	if i = strings.LastIndexByte(rest, '/'); i < 0 {
		return c, malformed("", "credential needs <id>/<date>/<region>/<service>/aws4_request")
	}
	c.Date, c.KeyID = rest[i+1:], rest[:i]
	if c.KeyID == "" || c.Region == "" || c.Service == "" {
		return c, malformed(c.KeyID, "credential has an empty key id, region or service")
	}
	if _, err := time.Parse("20060102", c.Date); err != nil || len(c.Date) != 8 {
		return c, malformed(c.KeyID, "credential date is not YYYYMMDD")
	}
	return c, nil
}

// parseSignedHeaders checks a ';'-separated list of lower-case header names
// in strictly ascending order, as every SigV4 signer writes it: a list in
// another order could never match what the AWS signer computes.
func parseSignedHeaders(s, id string) ([]string, error) {
	if s == "" {
		return nil, malformed(id, "SignedHeaders is empty")
	}
	n := strings.Count(s, ";") + 1
	if n > maxSignedHeaders {
		return nil, malformed(id, "too many SignedHeaders")
	}
	hs := make([]string, 0, n)
	for h := range strings.SplitSeq(s, ";") {
		if !isToken(h) {
			return nil, malformed(id, "SignedHeaders holds an empty, upper-case or invalid header name")
		}
		if len(hs) > 0 && hs[len(hs)-1] >= h {
			return nil, malformed(id, "SignedHeaders is not sorted or repeats a name")
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// isToken reports a non-empty lower-case RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// parseSignature checks 64 hex digits and returns them in lower case.
func parseSignature(s, id string) (string, error) {
	var b [32]byte
	if len(s) != 64 {
		return "", malformed(id, "Signature is not 64 hex digits")
	}
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return "", malformed(id, "Signature is not 64 hex digits")
	}
	return strings.ToLower(s), nil
}

// parseAmzDate parses X-Amz-Date strictly.
func parseAmzDate(s, id string) (time.Time, error) {
	t, err := time.Parse(amzDateFormat, s)
	if err != nil || len(s) != len(amzDateFormat) {
		return time.Time{}, malformed(id, "X-Amz-Date is not YYYYMMDDTHHMMSSZ")
	}
	return t, nil
}

func malformed(id, detail string) error {
	return signet.NewError(signet.SchemeSigV4, id, signet.ErrMalformed, detail)
}
