package cavage

import (
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/signet-dev/signet"
)

// MaxHeaderLen bounds the signature parameters a request may carry. Real
// signatures are a few hundred bytes; an RSA-4096 one with a long header list
// stays far below it.
const MaxHeaderLen = 8 << 10

// Params are the parameters of a draft-cavage signature.
type Params struct {
	KeyID string

	// Algorithm is the algorithm the request claims, lower-cased; empty when
	// the parameter is absent. It is only a hint: the verifier decides from
	// the key.
	Algorithm string

	// Headers lists the signed names, lower-cased, in signed order. When the
	// request has no headers parameter, or an empty one, it is ["date"]: the
	// default of drafts up to -09 and of both Node libraries. An empty list
	// is not honoured because it would sign the empty string, a signature
	// valid for any request.
	Headers []string

	// Signature is the decoded signature.
	Signature []byte

	// Created and Expires are the (created) and (expires) parameters, Unix
	// seconds; 0 when absent.
	Created, Expires int64

	// Nonce is the nonce parameter; empty when absent. It is only honoured
	// (replay-checked) when Headers covers it as "(nonce)".
	Nonce string

	// HeadersSet reports that the request carried a non-empty headers
	// parameter; false means Headers holds the default.
	HeadersSet bool

	// signature is the base64 text as sent.
	signature string

	// asSent holds the header names with their case as sent, when some had
	// upper-case letters (api-signature's signer labels the lines so).
	asSent []string
}

var defaultHeaders = []string{"date"}

// ParseParams parses the parameters of a signature: what follows
// "Signature " in an Authorization header, or the whole value of a Signature
// header. It accepts `name="value"` pairs separated by commas with optional
// whitespace around them, quoted values without escapes (as the draft says),
// and unquoted numbers for created and expires. Unknown parameters are
// ignored; a repeated known parameter, a missing keyId or signature, or bad
// base64 is an error wrapping signet.ErrMalformed.
func ParseParams(header string) (*Params, error) {
	p := new(Params)
	sig, err := parseParams(header, p, nil)
	if err != nil {
		return nil, err
	}
	p.Signature = sig
	return p, nil
}

func malformed(keyID, detail string) error {
	return signet.NewError(signet.SchemeCavage, keyID, signet.ErrMalformed, detail)
}

// Bits recording which known parameters were seen, to refuse duplicates.
const (
	seenKeyID = 1 << iota
	seenAlgorithm
	seenHeaders
	seenSignature
	seenCreated
	seenExpires
	seenNonce
)

// parseParams parses s into p, except for p.Signature: the decoded
// signature is appended to sigBuf and returned, so that Verify can keep it
// in a buffer of its own stack.
func parseParams(s string, p *Params, sigBuf []byte) (sig []byte, err error) {
	if len(s) > MaxHeaderLen {
		return nil, malformed("", "signature parameters too long")
	}
	var seen int
	var headers string
	i := 0
	for {
		i = skipOWS(s, i)
		if i == len(s) {
			break
		}
		// name
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		if i == start || i == len(s) || s[i] != '=' {
			return nil, malformed(p.KeyID, "bad parameter syntax")
		}
		name := s[start:i]
		i++ // '='
		var value string
		quoted := false
		if i < len(s) && s[i] == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, malformed(p.KeyID, "unterminated quoted value")
			}
			value = s[i+1 : i+1+end]
			i += end + 2
			quoted = true
		} else {
			start = i
			for i < len(s) && isTokenChar(s[i]) {
				i++
			}
			value = s[start:i]
		}
		i = skipOWS(s, i)
		if i < len(s) {
			if s[i] != ',' {
				return nil, malformed(p.KeyID, "bad parameter syntax")
			}
			i++
		}

		var bit int
		switch {
		case strings.EqualFold(name, "keyId"):
			bit = seenKeyID
			if !quoted {
				return nil, malformed("", "keyId must be quoted")
			}
			p.KeyID = value
		case strings.EqualFold(name, "algorithm"):
			bit = seenAlgorithm
			p.Algorithm = lower(value)
		case strings.EqualFold(name, "headers"):
			bit = seenHeaders
			if !quoted {
				return nil, malformed(p.KeyID, "headers must be quoted")
			}
			headers = value
		case strings.EqualFold(name, "signature"):
			bit = seenSignature
			if !quoted {
				return nil, malformed(p.KeyID, "signature must be quoted")
			}
			p.signature = value
		case strings.EqualFold(name, "created"):
			bit = seenCreated
			n, ok := parseUnix(value)
			if !ok {
				return nil, malformed(p.KeyID, "created is not a Unix time")
			}
			p.Created = n
		case strings.EqualFold(name, "expires"):
			bit = seenExpires
			n, ok := parseUnix(value)
			if !ok {
				return nil, malformed(p.KeyID, "expires is not a Unix time")
			}
			p.Expires = n
		case strings.EqualFold(name, "nonce"):
			bit = seenNonce
			if !quoted || value == "" {
				return nil, malformed(p.KeyID, "nonce must be a non-empty quoted string")
			}
			p.Nonce = value
		default:
			continue // opaque and future parameters: valid, not used
		}
		if seen&bit != 0 {
			return nil, malformed(p.KeyID, "parameter "+lower(name)+" repeated")
		}
		seen |= bit
	}

	if p.KeyID == "" {
		return nil, malformed("", "missing keyId")
	}
	if p.signature == "" {
		return nil, malformed(p.KeyID, "missing signature")
	}
	sig, err = decodeBase64(sigBuf, p.signature)
	if err != nil {
		return nil, malformed(p.KeyID, "signature is not base64")
	}
	if strings.Trim(headers, " \t") == "" {
		p.Headers = defaultHeaders
	} else {
		var ok bool
		if p.Headers, p.asSent, ok = splitHeaders(headers); !ok {
			return nil, malformed(p.KeyID, "bad name in headers")
		}
		p.HeadersSet = true
	}
	return sig, nil
}

// splitHeaders splits on runs of spaces and lower-cases each name. A name
// must be a token or a parenthesised token (a pseudo-header). asSent keeps
// the names as sent when some were not lower case.
func splitHeaders(s string) (names, asSent []string, ok bool) {
	// Only spaces and tabs separate names: strings.Fields would also split
	// on \f or \v, which must make the parameter malformed instead. Both
	// are ASCII, so a byte scan splits as strings.FieldsFunc would, without
	// a call per rune.
	n := 0
	for i := 0; i < len(s); i++ {
		if !isSep(s[i]) && (i == 0 || isSep(s[i-1])) {
			n++
		}
	}
	names = make([]string, 0, n)
	for i := 0; i < len(s); {
		for i < len(s) && isSep(s[i]) {
			i++
		}
		start := i
		for i < len(s) && !isSep(s[i]) {
			i++
		}
		if i > start {
			names = append(names, s[start:i])
		}
	}
	for i, f := range names {
		name := f
		if len(name) > 2 && name[0] == '(' && name[len(name)-1] == ')' {
			name = name[1 : len(name)-1]
		}
		for j := 0; j < len(name); j++ {
			if !isTokenChar(name[j]) {
				return nil, nil, false
			}
		}
		if l := lower(f); l != f {
			if asSent == nil {
				asSent = slices.Clone(names)
			}
			names[i] = l
		}
	}
	return names, asSent, true
}

func isSep(c byte) bool { return c == ' ' || c == '\t' }

// lower lower-cases ASCII letters only (names are ASCII tokens; Unicode
// case folding would map, e.g., the Kelvin sign to "k"), without allocating
// when s already is lower case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func parseUnix(v string) (int64, bool) {
	if v == "" || len(v) > 12 { // 12 digits reach the year 33658
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// decodeBase64 accepts standard base64 with or without padding: the draft
// says base64, and some signers drop the padding. It is strict otherwise:
// no line breaks and zero trailing bits, so that one signature has exactly
// one padded text (see canonicalSignature). It appends to dst, growing it
// only when the signature does not fit.
func decodeBase64(dst []byte, s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break in base64")
	}
	enc := base64.StdEncoding.Strict()
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding.Strict()
	}
	dst = slices.Grow(dst[:0], enc.DecodedLen(len(s)))
	n, err := enc.Decode(dst[:cap(dst)], []byte(s))
	if err == nil && n == 0 {
		err = errors.New("empty signature")
	}
	return dst[:n], err
}

// canonicalSignature is the padded base64 text of the signature sig: the
// text as sent by conforming clients, and a single identity for replay
// protection even when a client dropped the padding.
func (p *Params) canonicalSignature(sig []byte) string {
	if len(p.signature)%4 == 0 {
		return p.signature // strictly decoded, so already canonical
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
