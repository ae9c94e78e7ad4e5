package sw1

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The Rust gateway and the JS SDK re-serialise X-Sw-Proxy with the WHATWG
// URL Standard (Rust's url crate, JS's URL), and Go's net/url does not. This
// file implements that parse-and-serialise for the two special schemes a
// proxy target can have, http and https, so that Presign signs exactly what
// Signway signs.

// Percent-encode sets of the URL Standard, as bitmaps over ASCII. Every byte
// above 0x7E is encoded as well.
var (
	fragmentSet     = asciiSet(" \"<>`")
	specialQuerySet = asciiSet(" \"#<>'")
	pathSet         = asciiSet(" \"#<>?`{}")
	userinfoSet     = asciiSet(" \"#<>?`{}/:;=@[\\]^|")
)

type byteSet [256]bool

// asciiSet returns the C0 control percent-encode set plus extra.
func asciiSet(extra string) (s byteSet) {
	for c := 0; c < 0x20; c++ {
		s[c] = true
	}
	for c := 0x7F; c < 256; c++ {
		s[c] = true
	}
	for i := 0; i < len(extra); i++ {
		s[extra[i]] = true
	}
	return s
}

func appendPercentEncoded(dst []byte, s string, set *byteSet) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if set[c] {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

var errTarget = errors.New("sw1: invalid target URL")

func targetError(raw, why string) error {
	return fmt.Errorf("%w %q: %s", errTarget, raw, why)
}

// normalizeTarget parses raw as an http, https, ws or wss URL and returns its WHATWG
// serialisation: lower-case scheme and host, default port dropped, empty
// path as "/", dot segments resolved, and spaces, non-ASCII and the other
// bytes of each component's encode set percent-encoded. Hosts that are not
// ASCII are refused: their IDNA mapping is not implemented here.
func normalizeTarget(raw string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", targetError(raw, "not valid UTF-8")
	}
	// Leading and trailing C0 controls and spaces are stripped; tabs and
	// newlines anywhere are removed.
	s := strings.TrimFunc(raw, func(r rune) bool { return r <= 0x20 })
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
	}

	colon := strings.IndexByte(s, ':')
	if colon <= 0 {
		return "", targetError(raw, "no scheme")
	}
	scheme := strings.ToLower(s[:colon])
	var defaultPort string
	switch scheme {
	case "http", "ws":
		defaultPort = "80"
	case "https", "wss":
		defaultPort = "443"
	default:
		return "", targetError(raw, "scheme must be http, https, ws or wss")
	}
	rest := strings.TrimLeft(s[colon+1:], `/\`)

	// Authority: up to the first of / \ ? #.
	end := strings.IndexAny(rest, `/\?#`)
	if end < 0 {
		end = len(rest)
	}
	authority, rest := rest[:end], rest[end:]

	var userinfo []byte
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		user, pass, hasPass := strings.Cut(authority[:at], ":")
		userinfo = appendPercentEncoded(userinfo, user, &userinfoSet)
		if hasPass && pass != "" {
			userinfo = append(userinfo, ':')
			userinfo = appendPercentEncoded(userinfo, pass, &userinfoSet)
		}
		authority = authority[at+1:]
	}

	hostPart, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		rb := strings.IndexByte(authority, ']')
		if rb < 0 {
			return "", targetError(raw, "unclosed IPv6 address")
		}
		hostPart, port = authority[:rb+1], authority[rb+1:]
		if port != "" {
			if port[0] != ':' {
				return "", targetError(raw, "invalid host")
			}
			port = port[1:]
		}
	} else if i := strings.IndexByte(authority, ':'); i >= 0 {
		hostPart, port = authority[:i], authority[i+1:]
	}
	if hostPart == "" {
		return "", targetError(raw, "empty host")
	}
	host, err := parseHost(hostPart)
	if err != nil {
		return "", targetError(raw, err.Error())
	}
	if port != "" {
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return "", targetError(raw, "invalid port")
			}
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return "", targetError(raw, "port out of range")
		}
		port = strconv.FormatUint(n, 10)
		if port == defaultPort {
			port = ""
		}
	}

	// Path, query and fragment.
	pathPart, query, fragment := rest, "", ""
	hasQuery, hasFragment := false, false
	if i := strings.IndexByte(pathPart, '#'); i >= 0 {
		pathPart, fragment, hasFragment = pathPart[:i], pathPart[i+1:], true
	}
	if i := strings.IndexByte(pathPart, '?'); i >= 0 {
		pathPart, query, hasQuery = pathPart[:i], pathPart[i+1:], true
	}

	out := make([]byte, 0, len(s)+16)
	out = append(out, scheme...)
	out = append(out, "://"...)
	if len(userinfo) > 0 {
		out = append(out, userinfo...)
		out = append(out, '@')
	}
	out = append(out, host...)
	if port != "" {
		out = append(out, ':')
		out = append(out, port...)
	}
	out = appendPath(out, pathPart)
	if hasQuery {
		out = append(out, '?')
		out = appendPercentEncoded(out, query, &specialQuerySet)
	}
	if hasFragment {
		out = append(out, '#')
		out = appendPercentEncoded(out, fragment, &fragmentSet)
	}
	return string(out), nil
}

// appendPath appends the serialised path of a special URL whose path input
// is p (starting with / or \, or empty).
func appendPath(dst []byte, p string) []byte {
	if p != "" {
		p = p[1:] // the path start state consumes the first slash
	}
	var segs []string
	for {
		i := strings.IndexAny(p, `/\`)
		seg, last := p, true
		if i >= 0 {
			seg, p, last = p[:i], p[i+1:], false
		}
		enc := string(appendPercentEncoded(nil, seg, &pathSet))
		switch {
		case isDoubleDot(enc):
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
			if last {
				segs = append(segs, "")
			}
		case isSingleDot(enc):
			if last {
				segs = append(segs, "")
			}
		default:
			segs = append(segs, enc)
		}
		if last {
			break
		}
	}
	for _, s := range segs {
		dst = append(dst, '/')
		dst = append(dst, s...)
	}
	return dst
}

func isSingleDot(s string) bool {
	return s == "." || strings.EqualFold(s, "%2e")
}

func isDoubleDot(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

// parseHost parses the host of a special URL: an IPv6 literal, an IPv4
// address in any of the forms the standard accepts, or an ASCII domain.
func parseHost(h string) (string, error) {
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") {
			return "", errors.New("invalid IPv6 address")
		}
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", errors.New("invalid IPv6 address")
		}
		return "[" + serializeIPv6(a.As16()) + "]", nil
	}
	d, err := percentDecode(h)
	if err != nil {
		return "", errors.New("invalid percent-encoding in host")
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c >= 0x80 {
			return "", errors.New("non-ASCII host: use its punycode (xn--) form")
		}
		if c <= 0x20 || c == 0x7F || strings.IndexByte("#%/:<>?@[\\]^|", c) >= 0 {
			return "", fmt.Errorf("forbidden character %q in host", c)
		}
	}
	d = strings.ToLower(d)
	if endsInNumber(d) {
		v4, ok := parseIPv4(d)
		if !ok {
			return "", errors.New("invalid IPv4 address")
		}
		return fmt.Sprintf("%d.%d.%d.%d", byte(v4>>24), byte(v4>>16), byte(v4>>8), byte(v4)), nil
	}
	return d, nil
}

func percentDecode(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	if !utf8.Valid(b) {
		return "", errors.New("invalid UTF-8")
	}
	return string(b), nil
}

// endsInNumber is the URL Standard's "ends in a number" checker.
func endsInNumber(h string) bool {
	parts := strings.Split(h, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4 is the URL Standard's IPv4 parser.
func parseIPv4(h string) (uint32, bool) {
	parts := strings.Split(h, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return 0, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return 0, false
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return 0, false
		}
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return 0, false
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		v += n << (8 * (3 - i))
	}
	return uint32(v), true
}

func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		// Digits valid for the base but too many of them: still a number,
		// and one too large for any address.
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 1 << 40, true
		}
		return 0, false
	}
	return n, true
}

// serializeIPv6 writes the address as the URL Standard does: lower-case
// hex pieces without leading zeros, the first longest run of two or more
// zero pieces compressed to "::", and no embedded IPv4 form.
func serializeIPv6(a [16]byte) string {
	var p [8]uint16
	for i := range p {
		p[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	best, bestLen := -1, 1
	for i := 0; i < 8; {
		if p[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && p[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	var b []byte
	for i := 0; i < 8; i++ {
		if i == best {
			if i == 0 {
				b = append(b, ':')
			}
			b = append(b, ':')
			i += bestLen - 1
			continue
		}
		b = strconv.AppendUint(b, uint64(p[i]), 16)
		if i < 7 {
			b = append(b, ':')
		}
	}
	return string(b)
}
