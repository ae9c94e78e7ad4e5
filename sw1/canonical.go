package sw1

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sort"

	"github.com/signet-dev/signet/internal/keycache"
)

// Algorithm is the only value X-Sw-Algorithm may carry.
const Algorithm = "SW1-HMAC-SHA256"

// Query parameter names, in the order the Rust signer writes them.
const (
	paramAlgorithm     = "X-Sw-Algorithm"
	paramCredential    = "X-Sw-Credential"
	paramDate          = "X-Sw-Date"
	paramExpires       = "X-Sw-Expires"
	paramProxy         = "X-Sw-Proxy"
	paramSignedHeaders = "X-Sw-SignedHeaders"
	paramBody          = "X-Sw-Body"
	paramSignature     = "X-Sw-Signature"
)

const dateLayout = "20060102T150405Z"

// encoding is one client's percent-encoding of the X-Sw-* values in the
// canonical query. They differ only on a few bytes, so most URLs sign the
// same under all three.
type encoding uint8

const (
	encRust   encoding = iota // Rust gateway: all but A-Za-z0-9-._~, space as %20
	encPython                 // Python quote_plus: same set, space as '+'
	encJS                     // JS encodeURIComponent: also leaves !*'() alone
	numEncodings
)

// unreserved[c] is true for the bytes every encoding leaves literal.
var unreserved = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~" {
		t[c] = true
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

// appendEscaped appends s percent-encoded the way enc does. Runs of
// unreserved bytes, most of a value, are copied at once. With dep non-nil
// it also adds to *dep the encodings (bit 1<<enc) under which s encodes
// differently than under encRust: found on the way, as only bytes that
// are not unreserved can depart.
func appendEscaped(dst []byte, s string, enc encoding, dep *uint8) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved[c] {
			continue
		}
		if dep != nil {
			*dep |= departs[c]
		}
		dst = append(dst, s[start:i]...)
		start = i + 1
		switch {
		case c == ' ' && enc == encPython:
			dst = append(dst, '+')
		case enc == encJS && (c == '!' || c == '*' || c == '\'' || c == '(' || c == ')'):
			dst = append(dst, c)
		default:
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return append(dst, s[start:]...)
}

// Bytes on which an encoding departs from encRust.
var departs = func() (t [256]uint8) {
	t[' '] |= 1 << encPython
	for _, c := range "!*'()" {
		t[c] |= 1 << encJS
	}
	return t
}()

// params are the decoded X-Sw-* values that enter the canonical query.
// The credential is held as its two parts, the key id and the day, which
// every encoding joins with "%2F".
type params struct {
	algorithm, keyID, day, date, expires, proxy, signedHeaders, body string
}

// header is one line of the canonical header block.
type header struct{ name, value string }

// appendCanonicalPrefix appends the canonical request without its body:
// METHOD \n path \n query \n header-lines \n\n signed-names \n.
// hs must be sorted by name and free of duplicates. With dep non-nil it
// also adds to *dep the encodings under which the query would differ
// (appendEscaped): the only candidates worth computing besides encRust.
func appendCanonicalPrefix(dst []byte, method, path string, p *params, enc encoding, hs []header, dep *uint8) []byte {
	dst = append(dst, method...)
	dst = append(dst, '\n')
	dst = append(dst, path...)
	dst = append(dst, '\n')
	// The seven parameters sorted by name; the names need no escaping.
	dst = append(dst, paramAlgorithm+"="...)
	dst = appendEscaped(dst, p.algorithm, enc, dep)
	dst = append(dst, "&"+paramBody+"="...)
	dst = appendEscaped(dst, p.body, enc, dep)
	dst = append(dst, "&"+paramCredential+"="...)
	dst = appendEscaped(dst, p.keyID, enc, dep)
	dst = append(dst, "%2F"...)
	dst = appendEscaped(dst, p.day, enc, dep)
	dst = append(dst, "&"+paramDate+"="...)
	dst = appendEscaped(dst, p.date, enc, dep)
	dst = append(dst, "&"+paramExpires+"="...)
	dst = appendEscaped(dst, p.expires, enc, dep)
	dst = append(dst, "&"+paramProxy+"="...)
	dst = appendEscaped(dst, p.proxy, enc, dep)
	dst = append(dst, "&"+paramSignedHeaders+"="...)
	dst = appendEscaped(dst, p.signedHeaders, enc, dep)
	dst = append(dst, '\n')
	for i, h := range hs {
		if i > 0 {
			dst = append(dst, '\n')
		}
		dst = append(dst, h.name...)
		dst = append(dst, ':')
		dst = append(dst, h.value...)
	}
	dst = append(dst, "\n\n"...)
	for i, h := range hs {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, h.name...)
	}
	dst = append(dst, '\n')
	return dst
}

// sortHeaders sorts hs by name and drops repeated names (first one wins).
func sortHeaders(hs []header) []header {
	if len(hs) < 2 {
		return hs
	}
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].name < hs[j].name })
	out := hs[:1]
	for _, h := range hs[1:] {
		if h.name != out[len(out)-1].name {
			out = append(out, h)
		}
	}
	return out
}

// appendStringToSign appends SW1-HMAC-SHA256 \n date \n day \n hex(hash).
func appendStringToSign(dst []byte, date string, canonicalHash *[sha256.Size]byte) []byte {
	dst = append(dst, Algorithm+"\n"...)
	dst = append(dst, date...)
	dst = append(dst, '\n')
	dst = append(dst, date[:8]...)
	dst = append(dst, '\n')
	return hex.AppendEncode(dst, canonicalHash[:])
}

// hasher computes SHA-256 and HMAC-SHA256 with reusable buffers, so the
// verify hot path allocates nothing for its hashing.
type hasher struct {
	h   hash.Hash
	u   interface{ UnmarshalBinary([]byte) error } // h, to restore saved states
	sum []byte
}

func newHasher() *hasher {
	h := sha256.New()
	return &hasher{h: h, u: h.(interface{ UnmarshalBinary([]byte) error }), sum: make([]byte, 0, sha256.Size)}
}

func (hh *hasher) sumInto(out *[sha256.Size]byte) {
	hh.sum = hh.h.Sum(hh.sum[:0])
	copy(out[:], hh.sum)
}

// hmac computes HMAC-SHA256(key, msg) for a key without saved states, with
// keycache's pooled HMAC256.
func (hh *hasher) hmac(key *[sha256.Size]byte, msg []byte, out *[sha256.Size]byte) {
	m := keycache.GetHMAC256()
	m.Init(key[:])
	m.Write(msg)
	m.Sum(out)
	m.Put()
}

// derivedKey is a derived signing key with the SHA-256 states after
// hashing key ⊕ ipad and key ⊕ opad (RFC 2104), marshaled: restoring them
// spares the two pad blocks of every HMAC under this key (FIPS 198-1 §6
// allows it; they are as secret as the key). Immutable once made.
type derivedKey struct {
	key          [sha256.Size]byte
	inner, outer []byte
}

// signingKeys caches derived keys by (secret, day); see keycache.Cache for
// its bounds and how it forgets a removed secret.
var signingKeys keycache.Cache[signingKeyID, *derivedKey]

type signingKeyID struct {
	secret string
	day    [8]byte
}

// signingKey returns HMAC-SHA256("SW1-HMAC-SHA256"+secret, day), where day
// is the YYYYMMDD prefix of date.
func signingKey(secret, date string) [sha256.Size]byte {
	return derived(secret, date).key
}

// derived returns the cached derived key of secret and date's day.
func derived(secret, date string) *derivedKey {
	id := signingKeyID{secret: secret}
	copy(id.day[:], date[:8])
	return signingKeys.Get(id, deriveSigningKey)
}

func deriveSigningKey(id signingKeyID) *derivedKey {
	dk := &derivedKey{}
	m := hmac.New(sha256.New, []byte(Algorithm+id.secret))
	m.Write(id.day[:])
	m.Sum(dk.key[:0])
	var pad [sha256.BlockSize]byte
	copy(pad[:], dk.key[:])
	for i := range pad {
		pad[i] ^= 0x36
	}
	dk.inner = padState(pad[:])
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	dk.outer = padState(pad[:])
	return dk
}

func padState(pad []byte) []byte {
	h := sha256.New()
	h.Write(pad)
	b, err := h.(interface{ MarshalBinary() ([]byte, error) }).MarshalBinary()
	if err != nil {
		panic("sw1: sha256 state cannot be marshaled: " + err.Error()) // the standard library's can
	}
	return b
}

// hmacDerived computes HMAC-SHA256(dk.key, msg) from the saved pad states.
func (hh *hasher) hmacDerived(dk *derivedKey, msg []byte, out *[sha256.Size]byte) {
	if hh.u.UnmarshalBinary(dk.inner) != nil {
		hh.hmac(&dk.key, msg, out)
		return
	}
	hh.h.Write(msg)
	hh.sumInto(out)
	if hh.u.UnmarshalBinary(dk.outer) != nil {
		hh.hmac(&dk.key, msg, out)
		return
	}
	hh.h.Write(out[:])
	hh.sumInto(out)
}
