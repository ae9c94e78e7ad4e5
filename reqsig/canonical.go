package reqsig

import (
	"errors"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CanonicalRequest returns the canonical request the Java library signs for
// method and rawURL:
//
//	METHOD [" " host] " " path [" " query]
//
// The method is upper-cased. The URL is parsed the way java.net.URL parses it
// (JDK 17): the host keeps its case and drops port and user info, the
// path and query are kept raw, "https://api.com" gives the path "", and an
// empty query (or a lone "?") is omitted. It returns an error where
// java.net.URL throws a MalformedURLException; only the http and https
// protocols are supported.
func CanonicalRequest(method, rawURL string, signedHost bool) (string, error) {
	u, err := parseJavaURL(rawURL)
	if err != nil {
		return "", err
	}
	return string(appendCanonical(nil, upperMethod(method), u.host, u.path, u.query, signedHost)), nil
}

// appendCanonical appends the canonical request to b. It is shared by the
// signer and the verifier so that both build byte-identical strings.
func appendCanonical(b []byte, method, host, path, query string, signedHost bool) []byte {
	b = append(b, method...)
	if signedHost {
		b = append(b, ' ')
		b = append(b, host...)
	}
	b = append(b, ' ')
	b = append(b, path...)
	if query != "" {
		b = append(b, ' ')
		b = append(b, query...)
	}
	return b
}

// upperMethod upper-cases the method as Java's String.toUpperCase does for
// ASCII. Non-ASCII methods (which HTTP cannot carry) use Go's simple case
// mapping, which differs from Java's full mapping for a few letters (ß).
func upperMethod(m string) string {
	lower := false
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c >= utf8.RuneSelf {
			return strings.ToUpper(m)
		}
		lower = lower || 'a' <= c && c <= 'z'
	}
	if !lower {
		return m
	}
	return asciiUpper(m)
}

func asciiUpper(m string) string {
	b := make([]byte, len(m))
	for i := 0; i < len(m); i++ {
		c := m[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}

// javaURL holds the parts of a java.net.URL the canonical request uses.
type javaURL struct {
	host  string // as getHost(): case kept, no port, IPv6 in brackets
	path  string // as getPath(): raw, possibly ""
	query string // as getQuery(): raw, "" when absent
}

func urlError(detail string) error { return errors.New("reqsig: malformed URL: " + detail) }

// parseJavaURL mirrors java.net.URL(String) followed by
// URLStreamHandler.parseURL (JDK 17) for the http and https protocols. All
// the delimiters are ASCII, so working on UTF-8 bytes gives the same split as
// Java's UTF-16 indexes.
func parseJavaURL(spec string) (javaURL, error) {
	var u javaURL
	// java.net.URL trims every char <= ' ' at both ends.
	limit := len(spec)
	for limit > 0 && spec[limit-1] <= ' ' {
		limit--
	}
	start := 0
	for start < limit && spec[start] <= ' ' {
		start++
	}
	if limit-start >= 4 && asciiEqualFold(spec[start:start+4], "url:") {
		start += 4
	}
	// The protocol is what precedes the first ':' seen before any '/'.
	protocol := ""
	if start < len(spec) && spec[start] != '#' {
		for i := start; i < limit && spec[i] != '/'; i++ {
			if spec[i] == ':' {
				s := spec[start:i]
				if validProtocol(s) {
					protocol = s
					start = i + 1
				}
				break
			}
		}
	}
	if protocol == "" {
		return u, urlError("no protocol")
	}
	if !asciiEqualFold(protocol, "http") && !asciiEqualFold(protocol, "https") {
		return u, urlError("unsupported protocol (only http and https)")
	}
	// The fragment is cut before anything else is split.
	if i := strings.IndexByte(spec[start:], '#'); i >= 0 && start+i < limit {
		limit = start + i
	}

	// URLStreamHandler.parseURL from here on.
	var (
		query string
		host  string
		path  string // a missing path reads as "", like Java's getPath
	)
	if start < limit {
		// Java searches the whole spec; the prefix before start can hold
		// no '?', so searching from start is the same.
		if q := strings.IndexByte(spec[start:], '?'); q >= 0 && start+q < limit {
			q += start
			query = spec[q+1 : limit]
			limit = q
			spec = spec[:q]
		}
	}
	isUNC := limit-start >= 4 && spec[start:start+4] == "////"
	if !isUNC && limit-start >= 2 && spec[start] == '/' && spec[start+1] == '/' {
		start += 2
		i := start + strings.IndexByte(spec[start:limit], '/')
		if i < start {
			i = limit
		}
		var err error
		if host, err = javaHost(spec[start:i]); err != nil {
			return u, err
		}
		start = i
	}
	// After an authority the rest starts with '/' (the authority ends at
	// the first '/'); without one, Java takes the rest as it is.
	path = spec[start:limit]
	if err := checkHost(host); err != nil {
		return u, err
	}
	u.host, u.path, u.query = host, path, query
	return u, nil
}

// javaHost extracts the host from an authority as parseURL does: user info
// dropped (two '@' leave no host at all), IPv6 literal kept in brackets and
// validated, port validated and dropped.
func javaHost(authority string) (string, error) {
	host := authority
	if at := strings.IndexByte(authority, '@'); at >= 0 {
		if at != strings.LastIndexByte(authority, '@') {
			return "", nil // not server based: Java keeps no host
		}
		host = authority[at+1:]
	}
	if host != "" && host[0] == '[' {
		end := strings.IndexByte(host, ']')
		if end <= 2 {
			return "", urlError("invalid authority")
		}
		if !isIPv6Literal(host[1:end]) {
			return "", urlError("invalid IPv6 host")
		}
		if rest := host[end+1:]; rest != "" {
			if rest[0] != ':' {
				return "", urlError("invalid authority")
			}
			if err := checkPort(rest[1:]); err != nil {
				return "", err
			}
		}
		return host[:end+1], nil
	}
	if c := strings.IndexByte(host, ':'); c >= 0 {
		if err := checkPort(host[c+1:]); err != nil {
			return "", err
		}
		host = host[:c]
	}
	return host, nil
}

// validProtocol mirrors URL.isValidProtocol: a letter, then letters, digits,
// '.', '+' or '-' (Java's Character.isLetter accepts non-ASCII letters).
func validProtocol(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if i == 0 {
			if !unicode.IsLetter(r) {
				return false
			}
			continue
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '+' && r != '-' {
			return false
		}
	}
	return true
}

func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// checkPort mirrors Integer.parseInt(port, 10) followed by the "port < -1"
// check. An empty port is allowed (RFC 2396). Java's Character.digit accepts
// any BMP decimal digit, not only ASCII ones.
func checkPort(p string) error {
	if p == "" {
		return nil
	}
	neg := false
	switch p[0] {
	case '-':
		neg = true
		p = p[1:]
	case '+':
		p = p[1:]
	}
	if p == "" {
		return urlError("invalid port")
	}
	var n int64
	for _, r := range p {
		d, ok := decimalDigit(r)
		if !ok {
			return urlError("invalid port")
		}
		n = n*10 + int64(d)
		if n > 1<<31 { // Integer overflow (MIN_VALUE is 1<<31)
			return urlError("invalid port")
		}
	}
	if !neg && n > 1<<31-1 {
		return urlError("invalid port")
	}
	if neg && n > 1 {
		return urlError("invalid port number")
	}
	return nil
}

// decimalDigit returns the value of a BMP Unicode decimal digit, as Java's
// Character.digit(c, 10) does for a char. Decimal digits come in runs of ten
// starting at a zero, so the value is the offset in the run.
func decimalDigit(r rune) (int, bool) {
	if '0' <= r && r <= '9' {
		return int(r - '0'), true
	}
	if r > 0xFFFF || !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if uint16(r) >= rg.Lo && uint16(r) <= rg.Hi {
			return int((uint16(r) - rg.Lo) % 10), true
		}
	}
	return 0, false
}

// isIPv6Literal approximates IPAddressUtil.isIPv6LiteralAddress: an IPv6
// address, optionally with a non-empty %scope.
func isIPv6Literal(s string) bool {
	addr, zone, hasZone := strings.Cut(s, "%")
	if hasZone && zone == "" {
		return false
	}
	a, err := netip.ParseAddr(addr)
	return err == nil && a.Is6()
}

// hostForbidden lists the non-ASCII characters IPAddressUtil.checkHostString
// refuses in a host (look-alikes of '/', '?', '#', '@', ':').
var hostForbidden = [...]rune{8263, 8264, 8265, 8448, 8449, 8453, 8454, 10868,
	65109, 65110, 65119, 65131, 65283, 65295, 65306, 65311, 65312}

// checkHost mirrors IPAddressUtil.checkHostString, which URL's setURL applies
// to the host of the built-in handlers: no control character, no '/', no DEL
// and none of hostForbidden.
func checkHost(h string) error {
	for _, r := range h {
		if r < 0x20 || r == '/' || r == 0x7f {
			return urlError("illegal character in host")
		}
		if r >= 8263 {
			for _, f := range hostForbidden {
				if r == f {
					return urlError("illegal character in host")
				}
			}
		}
	}
	return nil
}

// percentDecode decodes the %XX escapes an HTTP client adds to a URL that
// the Java signer signed raw: non-ASCII bytes, controls and space, and the
// ASCII characters that are not allowed raw in a URL or that some encoders
// escape (see decodable). It leaves everything else as it is, including '+'
// and invalid escapes. It returns s itself when there is nothing to decode.
//
// Escapes of structural characters ('/', '?', '#', '%', '&', '=', '+', ';')
// and of unreserved characters stay encoded: decoding them would let a
// signature for "/a/b" verify the different request "/a%2Fb" (or "q=a&b"
// verify "q=a%26b"), which the upstream may route differently. No client
// needs them decoded: Java signs them raw, and clients send them raw.
func percentDecode(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	var b []byte
	for ; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			if c := unhex(s[i+1])<<4 | unhex(s[i+2]); decodable[c] {
				if b == nil {
					b = make([]byte, 0, len(s))
					b = append(b, s[:i]...)
				}
				b = append(b, c)
				i += 2
				continue
			}
		}
		if b != nil {
			b = append(b, s[i])
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

// decodable marks the bytes percentDecode decodes.
var decodable = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c <= ' ' || c >= 0x7f
	}
	for _, c := range []byte("\"<>\\^`{|}!$'()*,:@[]") {
		t[c] = true
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
