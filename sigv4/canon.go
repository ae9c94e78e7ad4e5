package sigv4

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file turns the request as received into the inputs of the AWS SDK's
// signer. The SDK computes every signature; what happens here is choosing
// the path string and query it is given, because real clients disagree
// (COMPAT.md, AWS SigV4):
//
//   - Non-S3 services sign the path normalised (".", ".." and empty segments
//     removed) and escaped once more, so "%20" is signed as "%2520". The SDK
//     for Go does not normalise, so the verifier normalises and escapes
//     itself and hands the result over with DisableURIPathEscaping.
//   - The string a client signs is either the path it sent (AWS SDKs pass
//     an already-encoded path) or a raw path that its HTTP stack then
//     percent-encoded minimally (non-ASCII, space, "<>{}...": see
//     unminimal). Both are tried; the second only when it is unambiguous.
//   - @aws-sdk/signature-v4 3.374 escapes the path with encodeURIComponent,
//     which leaves !'()* alone, and sorts the query by raw key and value
//     instead of encoded ones.

// param is one decoded query parameter.
type param struct{ key, value string }

// parseQuery decodes a raw query strictly: an invalid escape or a ';'
// separator is an error, where url.ParseQuery would silently drop the pair
// (and the AWS SDK with it) so that an unsigned pair could slip through.
// "+" means a space, as in url.ParseQuery and the AWS SDK for Go.
func parseQuery(raw string) ([]param, bool) {
	var ps []param
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		if strings.IndexByte(pair, ';') >= 0 {
			return nil, false
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		ps = append(ps, param{k, v})
	}
	return ps, true
}

// encodeQuery encodes ps in order, so that url.ParseQuery gives them back.
func encodeQuery(ps []param) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.value))
	}
	return b.String()
}

// awsEscape percent-encodes every byte but A-Za-z0-9-._~ (and '/' in paths),
// upper-case hex, as SigV4 canonical strings require.
func awsEscape(b *strings.Builder, s string, keepSlash, legacy bool) {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (keepSlash && c == '/') || (legacy && isMark(c)) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
}

// needsEscape reports whether awsEscape (no slash kept, not legacy) would
// change s.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return true
		}
	}
	return false
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isMark reports the characters encodeURIComponent leaves alone beyond the
// unreserved set.
func isMark(c byte) bool {
	return c == '!' || c == '\'' || c == '(' || c == ')' || c == '*'
}

// canonicalQueries returns the canonical query in SigV4 order (by encoded
// key, then encoded value: current smithy and the AWS SDK for Go) and, when
// it differs, in the legacy order of @aws-sdk/signature-v4 3.374 (by raw key,
// then raw value, compared as JavaScript compares strings).
func canonicalQueries(ps []param) (current, legacy string) {
	type enc struct {
		param
		ek, ev string
	}
	es := make([]enc, len(ps))
	var b strings.Builder
	esc := func(s string) string {
		if !needsEscape(s) {
			return s
		}
		b.Reset()
		awsEscape(&b, s, false, false)
		return b.String()
	}
	for i, p := range ps {
		es[i] = enc{p, esc(p.key), esc(p.value)}
	}
	join := func() string {
		b.Reset()
		for i, e := range es {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(e.ek)
			b.WriteByte('=')
			b.WriteString(e.ev)
		}
		return b.String()
	}
	slices.SortStableFunc(es, func(x, y enc) int {
		if c := strings.Compare(x.ek, y.ek); c != 0 {
			return c
		}
		return strings.Compare(x.ev, y.ev)
	})
	current = join()
	legacyCmp := func(x, y enc) int {
		if c := compareUTF16(x.key, y.key); c != 0 {
			return c
		}
		return compareUTF16(x.value, y.value)
	}
	if slices.IsSortedFunc(es, legacyCmp) {
		return current, "" // a stable sort would keep this order
	}
	slices.SortStableFunc(es, legacyCmp)
	legacy = join()
	if legacy == current {
		legacy = ""
	}
	return current, legacy
}

// compareUTF16 compares as JavaScript's default sort does: by UTF-16 code
// units, which differs from byte order only beyond U+FFFF.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := units(ra), units(rb)
			if ua != ub {
				if ua < ub {
					return -1
				}
				return 1
			}
			// Equal first unit: surrogate pairs, compare the second.
			_, la := utf16.EncodeRune(ra)
			_, lb := utf16.EncodeRune(rb)
			if la < lb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// units returns the first UTF-16 code unit of r.
func units(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}

// normalizePath removes empty, "." and ".." segments as smithy's
// getCanonicalPath does, keeping a leading and a trailing slash.
func normalizePath(p string) string {
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && p != "" && p[0] == '/' {
		return p // fast path: nothing to remove
	}
	segs := make([]string, 0, 8)
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	var b strings.Builder
	if strings.HasPrefix(p, "/") {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(segs, "/"))
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		b.WriteByte('/')
	}
	return b.String()
}

// minimal reports the bytes an HTTP client percent-encodes in a path it is
// given raw (WHATWG URL's path set plus non-ASCII): those a request line
// cannot carry.
func minimal(c byte) bool {
	return c <= 0x20 || c >= 0x7F || strings.IndexByte("\"#<>?`{}|\\^", c) >= 0
}

// unminimal undoes minimal encoding: it decodes the escapes of bytes an HTTP
// client encodes and keeps every other escape ("%2F", "%25", ...) as is. It
// returns "" when there is nothing to undo. Its result always holds a byte
// that a path as sent cannot (non-ASCII, space, ...), so no escaped path
// sent by another client can be signed as the same string.
func unminimal(p string) string {
	if strings.IndexByte(p, '%') < 0 {
		return ""
	}
	var b strings.Builder
	changed := false
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			if c, ok := unhex2(p[i+1], p[i+2]); ok && minimal(c) {
				b.WriteByte(c)
				i += 2
				changed = true
				continue
			}
		}
		b.WriteByte(p[i])
	}
	if !changed {
		return ""
	}
	return b.String()
}

func unhex2(a, b byte) (byte, bool) {
	x, ok1 := unhex(a)
	y, ok2 := unhex(b)
	return x<<4 | y, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// pathCandidates returns the canonical paths to try for the path as sent
// (escaped form), most likely first, without duplicates.
//
// Escaping services (the default): escape(normalise(p)) as current smithy,
// the AWS SDKs and AWS itself compute it; the same for the raw path p's HTTP
// client encoded; escape(p) without normalising, as the AWS SDK for Go
// signs; and the 3.374 encodeURIComponent escaping of the first two.
// S3 style (noEscape): the path as sent, and the raw path.
//
// Why these and not more: two different paths as sent never share a
// candidate unless they name the same resource (up to dot segments, which
// SigV4 itself normalises away), so trying several cannot let a signature
// for one path verify another. Mixing the S3 form with the escaping forms
// would break that (sent "/a%2520" raw = sent "/a%20" escaped, yet they name
// "/a%20" and "/a "), hence the explicit mode.
func pathCandidates(dst []string, p string, noEscape bool) []string {
	if p == "" {
		p = "/"
	}
	add := func(s string) {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	raw := unminimal(p)
	if noEscape {
		add(p)
		if raw != "" {
			add(raw)
		}
		return dst
	}
	esc := func(s string, legacy bool) string {
		var b strings.Builder
		awsEscape(&b, s, true, legacy)
		return b.String()
	}
	np := normalizePath(p)
	add(esc(np, false))
	if raw != "" {
		add(esc(normalizePath(raw), false))
	}
	add(esc(p, false))
	add(esc(np, true))
	if raw != "" {
		add(esc(normalizePath(raw), true))
	}
	return dst
}
