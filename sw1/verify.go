package sw1

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/signet-dev/signet"
)

// DefaultMaxSkew is how far in the future X-Sw-Date may lie by default.
const DefaultMaxSkew = time.Minute

// Verifier verifies SW1-HMAC-SHA256 pre-signed URLs. Its zero value is
// ready to use; it is safe for concurrent use.
//
// It accepts URLs made by Signway's Rust signer, its Python SDK and its JS
// SDK, which canonicalise differently (see the package documentation), by
// trying each canonical form a genuine client could have signed.
type Verifier struct {
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// MaxSkew is how far X-Sw-Date may lie in the future of Now. Zero
	// means DefaultMaxSkew; negative means no tolerance. (Signway has no
	// such check, so a URL dated ahead would live longer than it says.)
	MaxSkew time.Duration

	// MaxBody limits a signed body. Zero or negative means DefaultMaxBody.
	// A larger body fails with signet.ErrBodyTooLarge.
	MaxBody int64
}

var _ signet.Verifier = (*Verifier)(nil)

// maxParamLen bounds each X-Sw-* value; real ones are far shorter, and the
// proxy URL dominates.
const maxParamLen = 16 << 10

// Candidate limits: paths x encodings x content-length values.
const (
	maxPaths      = 3
	maxCLValues   = 3
	maxCandidates = maxPaths * int(numEncodings) * maxCLValues
)

type candidate struct {
	path string
	enc  encoding
	cl   string // content-length value; "" when none is signed
}

// state is the per-call scratch space, pooled so that the hot path does
// not allocate buffers.
type state struct {
	*hasher
	buf     []byte
	hs      []header
	nh      int // headers set in hs's array, cleared before pooling
	cands   [maxCandidates]candidate
	nc      int // candidates set, cleared before pooling
	digests [maxCandidates][sha256.Size]byte
	mac     [sha256.Size]byte
}

var statePool = sync.Pool{New: func() any {
	return &state{hasher: newHasher(), buf: make([]byte, 0, 1024), hs: make([]header, 0, 8)}
}}

// Verify checks the SW1 pre-signed URL of r against keys. The order is:
// parse, look the key up, check its policy and the time window, read a
// signed body, then compute and compare each candidate signature.
//
// A request with no X-Sw-* parameter fails with signet.ErrNoSignature. A
// signed body (X-Sw-Body=true) is buffered, at most MaxBody bytes: the
// backend held it in memory to sign it, and the client-specific
// content-length candidates need all of it. After a successful check
// r.Body is replaced by a reader over the bytes read, so it can be proxied.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, keys signet.KeyStore) (*signet.Verified, error) {
	ver, _, err := v.verify(ctx, r, keys, false)
	return ver, err
}

// rawParams locate the X-Sw-* values, still encoded, in the raw query:
// by offsets rather than strings, so that filling them stores no pointers
// (no GC write barriers on the hot path).
type rawParams struct {
	start, end [8]int
	seen       [8]bool
	any        bool
}

// value is the raw value of parameter i in the query q that was parsed.
func (rp *rawParams) value(q string, i int) string { return q[rp.start[i]:rp.end[i]] }

var paramNames = [8]string{
	paramAlgorithm, paramCredential, paramDate, paramExpires,
	paramProxy, paramSignedHeaders, paramBody, paramSignature,
}

func swError(keyID string, sentinel error, detail string) error {
	return signet.NewError(signet.SchemeSW1, keyID, sentinel, detail)
}

func malformed(keyID, detail string) error {
	return swError(keyID, signet.ErrMalformed, detail)
}

// parseQuery scans the raw query for the X-Sw-* parameters. Other
// parameters are ignored, as Signway ignores them.
func parseQuery(q string, rp *rawParams) error {
	for off := 0; off < len(q); {
		end := strings.IndexByte(q[off:], '&')
		if end < 0 {
			end = len(q)
		} else {
			end += off
		}
		k := q[off:end]
		valStart := end // no '=': an empty value
		if eq := strings.IndexByte(k, '='); eq >= 0 {
			k, valStart = k[:eq], off+eq+1
		}
		off = end + 1
		// A name spelled exactly needs no decoding (none holds '%' or
		// '+'): the usual case, checked first.
		i := paramIndex(k)
		if i < 0 {
			if !hasSwPrefix(k) {
				if strings.IndexByte(k, '%') < 0 {
					continue
				}
				// An encoded name could still spell an X-Sw-* parameter.
				d, ok := formDecode(k)
				if !ok || !hasSwPrefix(d) {
					continue
				}
				k = d
			} else if indexEscape(k) >= 0 {
				d, ok := formDecode(k)
				if !ok {
					return malformed("", "invalid percent-encoding in a query parameter name")
				}
				k = d
			}
			i = paramIndex(k)
		}
		rp.any = true
		if i < 0 {
			continue
		}
		if rp.seen[i] {
			return malformed("", "duplicate "+paramNames[i]+" parameter")
		}
		if end-valStart > maxParamLen {
			return malformed("", paramNames[i]+" is too long")
		}
		rp.seen[i], rp.start[i], rp.end[i] = true, valStart, end
	}
	return nil
}

// hasSwPrefix reports whether k starts with "x-sw-" in any case. (What
// strings.EqualFold(k[:5], "x-sw-") says: five bytes hold five runes only
// when all are ASCII, so Unicode folding never applies.)
func hasSwPrefix(k string) bool {
	return len(k) >= 5 && k[0]|0x20 == 'x' && k[1] == '-' && k[2]|0x20 == 's' && k[3]|0x20 == 'w' && k[4] == '-'
}

// paramIndex is the index of name in paramNames, or -1. A switch compiles
// to a search by length and content, cheaper than comparing every name.
func paramIndex(name string) int {
	switch name {
	case paramAlgorithm:
		return 0
	case paramCredential:
		return 1
	case paramDate:
		return 2
	case paramExpires:
		return 3
	case paramProxy:
		return 4
	case paramSignedHeaders:
		return 5
	case paramBody:
		return 6
	case paramSignature:
		return 7
	}
	return -1
}

// verify does the work of Verify. With wantCanonical it also returns the
// canonical request of the candidate that matched (for tests).
func (v *Verifier) verify(ctx context.Context, r *http.Request, keys signet.KeyStore, wantCanonical bool) (*signet.Verified, string, error) {
	var rp rawParams
	var q string
	if r.URL != nil {
		q = r.URL.RawQuery
		if err := parseQuery(q, &rp); err != nil {
			return nil, "", err
		}
	}
	if !rp.any {
		return nil, "", swError("", signet.ErrNoSignature, "no X-Sw-* query parameters")
	}
	for i, name := range paramNames {
		if !rp.seen[i] {
			return nil, "", malformed("", "missing "+name+" parameter")
		}
	}
	// Credential: "<id>/<YYYYMMDD>", the id being the text before the
	// first '/', as the Signway gateway reads it.
	keyID, day, ok := splitCredential(rp.value(q, 1))
	if !ok || keyID == "" {
		return nil, "", malformed("", "X-Sw-Credential is not <id>/<YYYYMMDD>")
	}
	var dec [8]string
	for i := range dec {
		if i == 1 {
			continue
		}
		d, ok := formDecode(rp.value(q, i))
		if !ok {
			return nil, "", malformed(keyID, "invalid percent-encoding in "+paramNames[i])
		}
		dec[i] = d
	}
	p := params{
		algorithm:     dec[0],
		keyID:         keyID,
		day:           day,
		date:          dec[2],
		expires:       dec[3],
		proxy:         dec[4],
		signedHeaders: dec[5],
		body:          dec[6],
	}
	sigHex := dec[7]
	if p.algorithm != Algorithm {
		return nil, "", swError(keyID, signet.ErrAlgorithm, "X-Sw-Algorithm must be "+Algorithm)
	}
	signedAt, ok := parseDate(p.date)
	if !ok {
		return nil, "", malformed(keyID, "X-Sw-Date is not YYYYMMDDTHHMMSSZ")
	}
	if day != p.date[:8] {
		return nil, "", malformed(keyID, "X-Sw-Credential date does not match X-Sw-Date")
	}
	expSecs, ok := parseExpires(p.expires)
	if !ok {
		return nil, "", malformed(keyID, "X-Sw-Expires is not a number of seconds (0 to 4294967295)")
	}
	var sig [sha256.Size]byte
	if !decodeHex(sigHex, sig[:]) {
		return nil, "", malformed(keyID, "X-Sw-Signature is not 64 hex digits")
	}
	bodySigned := p.body == "true" // only the exact string, as Signway

	key, err := signet.LookupKey(ctx, keys, signet.SchemeSW1, keyID)
	if err != nil {
		return nil, "", err
	}
	if !key.AllowsScheme(signet.SchemeSW1) || len(key.Secrets) == 0 {
		return nil, "", swError(keyID, signet.ErrSchemeNotAllowed, "key may not sign SW1 URLs")
	}
	lifetime := time.Duration(expSecs) * time.Second
	if key.MaxExpires > 0 && lifetime > key.MaxExpires {
		return nil, "", swError(keyID, signet.ErrExpiresTooLong, "X-Sw-Expires exceeds the key's maximum of "+key.MaxExpires.String())
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	expiresAt := signedAt.Add(lifetime)
	if t.After(expiresAt) {
		return nil, "", swError(keyID, signet.ErrExpired, "URL expired at "+expiresAt.Format(time.RFC3339))
	}
	skew := v.MaxSkew
	if skew == 0 {
		skew = DefaultMaxSkew
	} else if skew < 0 {
		skew = 0
	}
	if signedAt.After(t.Add(skew)) {
		return nil, "", swError(keyID, signet.ErrNotYetValid, "X-Sw-Date is in the future")
	}

	method := r.Method
	if method == "" {
		method = http.MethodGet
	}

	// Released by hand on each return below, not deferred: with this
	// function's many returns the compiler cannot open-code a defer.
	st := statePool.Get().(*state)

	// Signed headers: X-Sw-SignedHeaders keeps the client's order in the
	// query; the header block is sorted.
	var signedNames []string
	hs := st.hs[:0]
	clIndex := -1
	for rest := p.signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		if name == "" {
			continue
		}
		name = strings.ToLower(name)
		val, ok := headerValue(r, name)
		if !ok {
			st.hs, st.nh = hs, len(hs)
			st.release()
			return nil, "", swError(keyID, signet.ErrMissingHeader, "signed header "+strconv.Quote(name)+" is missing from the request")
		}
		if !containsHeader(hs, name) {
			hs = append(hs, header{name, strings.TrimSpace(val)})
			signedNames = append(signedNames, name)
		}
	}
	st.nh = len(hs) // before sortHeaders drops repeated names
	hs = sortHeaders(hs)
	st.hs = hs
	for i := range hs {
		if hs[i].name == "content-length" {
			clIndex = i
		}
	}

	var body []byte
	if bodySigned {
		body, err = v.readBody(r, keyID)
		if err != nil {
			st.release()
			return nil, "", err
		}
	}

	// Candidate canonical paths: "/" (the Rust gateway's and our signer's
	// view) and the path the request arrived on (SDKs sign the gateway
	// URL's own path, which matters when the gateway sits under a prefix).
	var paths [maxPaths]string
	np := 0
	paths[np] = "/"
	np++
	if r.URL != nil {
		if ep := r.URL.EscapedPath(); ep != "/" && ep != "" {
			paths[np] = ep
			np++
		}
	}
	if r.RequestURI != "" && r.RequestURI != "*" {
		// Behind http.StripPrefix r.URL lost the prefix the client signed.
		rp, _, _ := strings.Cut(r.RequestURI, "?")
		if strings.HasPrefix(rp, "/") && rp != "/" && (np == 1 || rp != paths[1]) {
			paths[np] = rp
			np++
		}
	}
	// Candidate encodings: encRust, then only those that change the
	// canonical query, which building the first candidate finds out (dep).
	encs := [numEncodings]encoding{encRust}
	ne := 1
	var dep uint8
	// Candidate content-length values: as sent, and for a non-ASCII body
	// the length the Python SDK (code points) and JS SDK (UTF-16 units)
	// signed.
	var cls [maxCLValues]string
	ncl := 1
	if clIndex >= 0 {
		cls[0] = hs[clIndex].value
		if bodySigned && !isASCII(body) {
			for _, n := range [...]int{utf8.RuneCount(body), utf16Len(body)} {
				s := strconv.Itoa(n)
				dup := false
				for _, c := range cls[:ncl] {
					dup = dup || c == s
				}
				if !dup {
					cls[ncl] = s
					ncl++
				}
			}
		}
	}

	nc := 0
	for _, path := range paths[:np] {
		for ei := 0; ei < ne; ei++ { // ne grows after the first candidate
			enc := encs[ei]
			for _, cl := range cls[:ncl] {
				if clIndex >= 0 {
					hs[clIndex].value = cl
				}
				// Every candidate finds the same dep; the first one's counts.
				st.buf = appendCanonicalPrefix(st.buf[:0], method, path, &p, enc, hs, &dep)
				st.h.Reset()
				st.h.Write(st.buf)
				st.h.Write(body)
				st.sumInto(&st.digests[nc])
				st.cands[nc] = candidate{path, enc, cl}
				nc++
				st.nc = nc
				if nc == 1 {
					for _, e := range [...]encoding{encPython, encJS} {
						if dep&(1<<e) != 0 {
							encs[ne] = e
							ne++
						}
					}
				}
			}
		}
	}

	for si, secret := range key.Secrets {
		dk := derived(secret, p.date)
		for ci := 0; ci < nc; ci++ {
			st.buf = appendStringToSign(st.buf[:0], p.date, &st.digests[ci])
			st.hmacDerived(dk, st.buf, &st.mac)
			if !hmac.Equal(st.mac[:], sig[:]) {
				continue
			}
			ver := &signet.Verified{
				Scheme:        signet.SchemeSW1,
				KeyID:         keyID,
				Key:           key,
				SecretIndex:   si,
				Algorithm:     Algorithm,
				SignedAt:      signedAt,
				ExpiresAt:     expiresAt,
				SignedHeaders: signedNames,
				Target:        p.proxy,
				BodySigned:    bodySigned,
				Signature:     sigHex,
				ReplayID:      replayID(keyID, sigHex, &sig),
			}
			var canon string
			if wantCanonical {
				c := st.cands[ci]
				if clIndex >= 0 {
					hs[clIndex].value = c.cl
				}
				canon = string(appendCanonicalPrefix(nil, method, c.path, &p, c.enc, hs, nil)) + string(body)
			}
			st.release()
			return ver, canon, nil
		}
	}
	st.release()
	return nil, "", swError(keyID, signet.ErrMismatch, "signature does not match the request")
}

// release drops the references to a request's strings and pools st.
func (st *state) release() {
	clear(st.hs[:st.nh])
	st.nh = 0
	clear(st.cands[:st.nc])
	st.nc = 0
	statePool.Put(st)
}

func containsHeader(hs []header, name string) bool {
	for _, h := range hs {
		if h.name == name {
			return true
		}
	}
	return false
}

// headerValue returns the first value of the named header. Host and
// Content-Length are not in r.Header on every path, so they fall back to
// r.Host and r.ContentLength.
func headerValue(r *http.Request, name string) (string, bool) {
	if vs := r.Header.Values(name); len(vs) > 0 {
		return vs[0], true
	}
	switch name {
	case "host":
		if r.Host != "" {
			return r.Host, true
		}
	case "content-length":
		if r.ContentLength > 0 {
			return strconv.FormatInt(r.ContentLength, 10), true
		}
	}
	return "", false
}

// readBody reads a signed body, bounded by MaxBody and Content-Length, and
// leaves r.Body readable again.
func (v *Verifier) readBody(r *http.Request, keyID string) ([]byte, error) {
	raw, ok := headerValue(r, "content-length")
	if !ok {
		return nil, malformed(keyID, "X-Sw-Body=true requires a Content-Length header")
	}
	n, err := strconv.ParseUint(strings.TrimSpace(raw), 10, 63)
	if err != nil {
		return nil, malformed(keyID, "invalid Content-Length")
	}
	max := v.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	if n > uint64(max) {
		return nil, swError(keyID, signet.ErrBodyTooLarge, "signed body larger than "+strconv.FormatInt(max, 10)+" bytes")
	}
	var body []byte
	if r.Body != nil {
		body, err = io.ReadAll(io.LimitReader(r.Body, int64(n)+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, swError(keyID, signet.ErrBodyTooLarge, "signed body too large")
			}
			return nil, malformed(keyID, "reading the body failed")
		}
		orig := r.Body
		r.Body = &replayBody{Reader: bytes.NewReader(body), orig: orig}
	}
	if uint64(len(body)) != n {
		return nil, malformed(keyID, "body length does not match Content-Length")
	}
	if !utf8.Valid(body) {
		return nil, malformed(keyID, "signed body is not valid UTF-8")
	}
	return body, nil
}

// replayBody replays the bytes read for verification and closes the
// original body.
type replayBody struct {
	*bytes.Reader
	orig io.Closer
}

func (b *replayBody) Close() error { return b.orig.Close() }

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// utf16Len is the body's length in UTF-16 code units (JS string length).
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		n += utf16.RuneLen(r)
	}
	return n
}

// formDecode decodes application/x-www-form-urlencoded text: %XX escapes
// and '+' as space (the Python SDK's quote_plus). It returns s itself when
// there is nothing to decode, and copies the text between escapes in runs.
func formDecode(s string) (string, bool) {
	i := indexEscape(s)
	if i < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		if s[i] == '+' {
			b.WriteByte(' ')
			s = s[i+1:]
		} else {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			s = s[i+3:]
		}
		i = indexEscape(s)
	}
	b.WriteString(s)
	return b.String(), true
}

// indexEscape is the index of the first '%' or '+' in s, or -1.
func indexEscape(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '+' {
			return i
		}
	}
	return -1
}

// splitCredential form-decodes a raw X-Sw-Credential and splits it at its
// first '/'. When the id needs no decoding (the usual "<id>%2F<day>") it
// returns substrings of raw and allocates nothing.
func splitCredential(raw string) (id, day string, ok bool) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '/' || c == '%' && i+2 < len(raw) && raw[i+1] == '2' && (raw[i+2] == 'F' || raw[i+2] == 'f') {
			rest := raw[i+1:]
			if c == '%' {
				rest = raw[i+3:]
			}
			day, ok = formDecode(rest)
			return raw[:i], day, ok
		}
		if c == '%' || c == '+' {
			break // the id itself is encoded
		}
	}
	d, ok := formDecode(raw)
	if !ok {
		return "", "", false
	}
	return strings.Cut(d, "/")
}

// hexValue maps a hex digit of either case to its value and any other
// byte to 0xff: one load per digit instead of three range tests.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
		t[c-'a'+'A'] = c - 'a' + 10
	}
	return t
}()

func isHex(c byte) bool { return hexValue[c] != 0xff }

func unhex(c byte) byte { return hexValue[c] }

// decodeHex decodes exactly len(dst)*2 hex digits of either case.
func decodeHex(s string, dst []byte) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	bad := byte(0)
	for i := range dst {
		a, b := hexValue[s[2*i]], hexValue[s[2*i+1]]
		bad |= a | b
		dst[i] = a<<4 | b&0xf
	}
	return bad&0xf0 == 0 // an invalid digit set the high bits
}

// parseDate parses YYYYMMDDTHHMMSSZ, refusing out-of-range fields.
func parseDate(s string) (time.Time, bool) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(4, 6)
	d, ok3 := num(6, 8)
	h, ok4 := num(9, 11)
	mi, ok5 := num(11, 13)
	se, ok6 := num(13, 15)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59 {
		return time.Time{}, false
	}
	if d > daysIn(mo, y) {
		return time.Time{}, false // e.g. February 30
	}
	return time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC), true
}

// daysIn is the number of days in month mo (1-12) of year y, proleptic
// Gregorian as package time.
func daysIn(mo, y int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseExpires parses a u32 in decimal, with an optional leading '+' as
// Rust's u32 parser allows.
func parseExpires(s string) (uint32, bool) {
	s = strings.TrimPrefix(s, "+")
	if s == "" || len(s) > 20 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > 1<<32-1 {
			return 0, false
		}
	}
	return uint32(n), true
}

// replayID is "sw1:" + keyID + ":" + the signature in lower-case hex, built
// with one allocation: an HMAC has one valid value per request, so its
// bytes identify the request (hex case aside: normalised here). sigHex,
// the signature as sent, is used as it is when already lower-case (as
// signers write it).
func replayID(keyID, sigHex string, sig *[sha256.Size]byte) string {
	if isLowerHex(sigHex) {
		return "sw1:" + keyID + ":" + sigHex
	}
	var buf [128]byte
	b := append(buf[:0], "sw1:"...)
	b = append(b, keyID...)
	b = append(b, ':')
	return string(hex.AppendEncode(b, sig[:]))
}

// isLowerHex reports whether s is 64 lower-case hex digits.
func isLowerHex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
