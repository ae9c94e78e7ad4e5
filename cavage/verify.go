package cavage

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/signet-dev/signet"
)

// DefaultMaxSkew is the allowed Date skew when Verifier.MaxSkew is 0; both
// Node libraries use 300 s.
const DefaultMaxSkew = 300 * time.Second

// Verifier verifies draft-cavage signatures carried in an
// `Authorization: Signature ...` header or a `Signature:` header. Its zero
// value is ready to use; it is safe for concurrent use.
//
// Security: a signature covers only the headers it names. Without
// RequiredHeaders a client may sign as little as one header, and a signature
// that covers neither date nor (created)/(expires) never expires. Gateways
// should require at least "(request-target)", "host", "date" and "digest".
type Verifier struct {
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// MaxSkew is the allowed difference between a signed Date and now, and
	// how far in the future (created) may be. 0 means 300 s.
	MaxSkew time.Duration

	// RequiredHeaders lists names the signature must cover, such as
	// "(request-target)", "host", "date", "digest". Nil means none. A
	// required "digest" is satisfied when the request has no body.
	RequiredHeaders []string

	// MaxBody bounds a digested body; reading past it fails with an error
	// wrapping signet.ErrBodyTooLarge. 0 means 10 MiB.
	MaxBody int64
}

var _ signet.Verifier = (*Verifier)(nil)

// bufPool holds signing-string buffers, sparing an allocation per request.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Verify checks r's draft-cavage signature against the key its keyId names.
// When the signature covers "digest" and the request has a body, r.Body is
// replaced by a reader that hashes the body as it streams and fails at EOF
// (signet.ErrDigest) or past MaxBody (signet.ErrBodyTooLarge): the body is
// not read here, so the caller must read it to the end before trusting it.
//
// A request without a draft-cavage signature gets an error wrapping
// signet.ErrNoSignature. Verification failures are *signet.Error values
// wrapping a sentinel; a key store failure wraps ErrStoreUnavailable and
// the store's error (signet.LookupKey).
func (v *Verifier) Verify(ctx context.Context, r *http.Request, keys signet.KeyStore) (*signet.Verified, error) {
	raw, err := findParams(r)
	if err != nil {
		return nil, err
	}
	var p Params
	// Room for the signatures of every algorithm (RSA-4096: 512 bytes),
	// off the heap: check only reads it.
	var sigBuf [512]byte
	sig, err := parseParams(raw, &p, sigBuf[:0])
	if err != nil {
		return nil, err
	}
	id := p.KeyID
	key, err := signet.LookupKey(ctx, keys, signet.SchemeCavage, id)
	if err != nil {
		return nil, err
	}
	if !key.AllowsScheme(signet.SchemeCavage) {
		return nil, signet.NewError(signet.SchemeCavage, id, signet.ErrSchemeNotAllowed, "key may not sign draft-cavage signatures")
	}
	m, detail := resolve(p.Algorithm, key)
	if detail != "" {
		return nil, signet.NewError(signet.SchemeCavage, id, signet.ErrAlgorithm, detail)
	}

	hasBody := r.ContentLength != 0 || (r.Body != nil && r.Body != http.NoBody)
	for _, name := range v.RequiredHeaders {
		name = lower(name)
		if name == "digest" && !hasBody {
			continue
		}
		if !slices.Contains(p.Headers, name) {
			return nil, signet.NewError(signet.SchemeCavage, id, signet.ErrRequiredHeader, "the signature must cover "+quote(name))
		}
	}

	signedAt, expiresAt, err := v.checkTime(r, &p, key)
	if err != nil {
		return nil, err
	}

	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	ps := pseudo{p.Created, p.Expires, p.Nonce}
	msg, multi, err := appendSigningString((*bp)[:0], r, p.Headers, nil, ps, ", ", id)
	*bp = msg[:0]
	if err != nil {
		return nil, err
	}
	idx, ok := check(&m, key, msg, sig)
	// Variants real signers produce (COMPAT.md, draft-cavage), tried only
	// when they can differ: http-signature joins repeated values with ",";
	// api-signature labels lines with the names as the caller spelled them.
	for _, variant := range [...]struct {
		labels []string
		sep    string
		try    bool
	}{
		{nil, ",", multi},
		{p.asSent, ", ", p.asSent != nil},
		{p.asSent, ",", p.asSent != nil && multi},
	} {
		if ok || !variant.try {
			continue
		}
		msg, _, _ = appendSigningString(msg[:0], r, p.Headers, variant.labels, ps, variant.sep, id)
		*bp = msg[:0]
		idx, ok = check(&m, key, msg, sig)
	}
	if !ok {
		return nil, signet.NewError(signet.SchemeCavage, id, signet.ErrMismatch, "signature does not match the request")
	}
	ver := &signet.Verified{
		Scheme:      signet.SchemeCavage,
		KeyID:       id,
		Key:         key,
		SecretIndex: idx,
		Algorithm:   m.name,
		SignedAt:    signedAt,
		ExpiresAt:   expiresAt,
		Signature:   p.canonicalSignature(sig),
	}
	switch {
	case slices.Contains(p.Headers, Nonce):
		ver.Nonce = p.Nonce
		ver.ReplayID = signet.NonceReplayID(signet.SchemeCavage, id, p.Nonce)
	case p.Nonce != "":
		// An unsigned nonce protects nothing; say so rather than ignore it.
		return nil, signet.NewError(signet.SchemeCavage, id, signet.ErrRequiredHeader, "the nonce parameter must be signed as (nonce)")
	default:
		// ECDSA signatures have several valid encodings; what they cover
		// does not. (Hashed only here: a nonce makes it unneeded.)
		ver.ReplayID = signet.ReplayID(signet.SchemeCavage, id, msg)
	}

	if slices.Contains(p.Headers, "digest") {
		var spec digestSpec
		if err := parseDigest(&spec, strings.Join(r.Header["Digest"], ","), id); err != nil {
			return nil, err
		}
		if hasBody {
			maxBody := v.MaxBody
			if maxBody <= 0 {
				maxBody = DefaultMaxBody
			}
			body := r.Body
			if body == nil {
				body = http.NoBody
			}
			r.Body = newDigestReader(body, &spec, maxBody, id)
			ver.BodySigned = true
		} else if !spec.MatchEmpty() {
			return nil, signet.NewError(signet.SchemeCavage, id, signet.ErrDigest, "the request has no body but the signed Digest is not that of an empty body")
		}
	}

	if p.HeadersSet {
		ver.SignedHeaders = p.Headers
	} else {
		ver.SignedHeaders = []string{"date"}
	}
	return ver, nil
}

// check verifies sig over msg and returns the matching secret index (-1 for
// public keys).
func check(m *method, key *signet.Key, msg, sig []byte) (int, bool) {
	if m.kind == kindHMAC {
		i := m.verifyHMAC(key.Secrets, msg, sig)
		return i, i >= 0
	}
	return -1, m.verifyPublic(publicKey(key.PublicKey), msg, sig)
}

// checkTime applies the Date skew, (created) and (expires) checks and
// returns the signing and expiry times the signature covers.
func (v *Verifier) checkTime(r *http.Request, p *Params, key *signet.Key) (signedAt, expiresAt time.Time, err error) {
	id := p.KeyID
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if slices.Contains(p.Headers, "date") {
		vs := r.Header["Date"]
		if len(vs) == 0 {
			return signedAt, expiresAt, signet.NewError(signet.SchemeCavage, id, signet.ErrMissingHeader, `signed header "date" is absent from the request`)
		}
		if len(vs) > 1 {
			return signedAt, expiresAt, malformed(id, "several Date headers")
		}
		date, ok := parseDate(trimOWS(vs[0]))
		if !ok {
			return signedAt, expiresAt, malformed(id, "unparseable Date header")
		}
		if date.After(t.Add(skew)) {
			return signedAt, expiresAt, signet.NewError(signet.SchemeCavage, id, signet.ErrNotYetValid, "Date is too far in the future")
		}
		if date.Before(t.Add(-skew)) {
			return signedAt, expiresAt, signet.NewError(signet.SchemeCavage, id, signet.ErrExpired, "Date is too old")
		}
		signedAt = date
	}
	// created and expires are checked even when unsigned: refusing can only
	// make verification stricter.
	if p.Created != 0 {
		if time.Unix(p.Created, 0).After(t.Add(skew)) {
			return signedAt, expiresAt, signet.NewError(signet.SchemeCavage, id, signet.ErrNotYetValid, "created is in the future")
		}
		if slices.Contains(p.Headers, Created) {
			signedAt = time.Unix(p.Created, 0)
		}
	}
	if p.Expires != 0 {
		if t.Unix() > p.Expires {
			return signedAt, expiresAt, signet.NewError(signet.SchemeCavage, id, signet.ErrExpired, "expires has passed")
		}
		if slices.Contains(p.Headers, Expires) {
			expiresAt = time.Unix(p.Expires, 0)
		}
		if key.MaxExpires > 0 {
			from := t.Unix()
			if p.Created != 0 {
				from = p.Created
			}
			// In seconds: a Duration would overflow for far-away expires.
			if p.Expires-from > int64(key.MaxExpires/time.Second) {
				return signedAt, expiresAt, signet.NewError(signet.SchemeCavage, id, signet.ErrExpiresTooLong, "expires is further away than the key allows")
			}
		}
	}
	return signedAt, expiresAt, nil
}

// findParams returns the signature parameters: from `Authorization:
// Signature ...` first, else from a `Signature:` header. A Signature header
// next to a Signature-Input header is RFC 9421's, not ours.
func findParams(r *http.Request) (string, error) {
	for _, a := range r.Header["Authorization"] {
		a = trimOWS(a)
		if len(a) < len("Signature") || !strings.EqualFold(a[:len("Signature")], "Signature") {
			continue
		}
		rest := a[len("Signature"):]
		if rest == "" {
			return "", malformed("", "Authorization: Signature without parameters")
		}
		if rest[0] != ' ' && rest[0] != '\t' {
			continue // another scheme that starts with "Signature"
		}
		return trimOWS(rest), nil
	}
	sig := r.Header["Signature"]
	if len(sig) == 0 || len(r.Header["Signature-Input"]) > 0 {
		return "", signet.NewError(signet.SchemeCavage, "", signet.ErrNoSignature, "no Authorization: Signature or Signature header")
	}
	if len(sig) > 1 {
		return "", malformed("", "several Signature headers")
	}
	return sig[0], nil
}

// parseDate parses an HTTP date: IMF-fixdate, RFC 850 and ANSI C (as
// net/http does), plus a "UTC" zone in place of "GMT" (the scheme's Python
// example), a one-digit day, and a numeric +0000 zone.
func parseDate(s string) (time.Time, bool) {
	if t, ok := parseIMFFixdate(s); ok {
		return t, true
	}
	if t, err := time.Parse(http.TimeFormat, s); err == nil {
		return t, true
	}
	if rest, ok := strings.CutSuffix(s, " UTC"); ok {
		s = rest + " GMT"
	}
	for _, layout := range []string{
		http.TimeFormat,
		"Mon, 2 Jan 2006 15:04:05 GMT",
		"Monday, 02-Jan-06 15:04:05 GMT",
		time.ANSIC,
		"Mon, 2 Jan 2006 15:04:05 -0700",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
