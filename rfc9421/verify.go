package rfc9421

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/signet-dev/signet"
)

// Defaults for Verifier's zero fields.
const (
	DefaultMaxAge  = 5 * time.Minute
	DefaultMaxSkew = time.Minute
)

// Verifier verifies RFC 9421 signatures carried in Signature-Input and
// Signature fields. Its zero value is ready to use and applies the default
// policy; it is safe for concurrent use.
type Verifier struct {
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// MaxAge is how old created may be. 0 means 5 minutes; negative means
	// no limit (then only expires bounds a signature's life).
	MaxAge time.Duration

	// MaxSkew is how far in the future created may be. 0 means 1 minute
	// (http-message-signatures' clients sign with created = now); negative
	// means none.
	MaxSkew time.Duration

	// RequiredComponents lists component identifiers the signature must
	// cover (`@method`, `"content-type"`, `@query-param;name="a"`). Nil
	// means the default policy: @method, @authority, @path, @query when the
	// request has a query, content-digest when it has a body. An empty
	// non-nil slice requires nothing. @target-uri counts as covering
	// @authority, @path and @query; @request-target as @path and @query.
	RequiredComponents []string

	// Label selects the signature to verify by its label. "" means any: the
	// first signature (in Signature-Input order, and with Tag when set)
	// whose key id resolves in the key store.
	Label string

	// Tag, when set, considers only signatures whose tag parameter equals
	// it. "" means any tag or none.
	Tag string

	// KeyID is the key used for a signature without a keyid parameter. ""
	// refuses such signatures (signet.ErrMalformed).
	KeyID string

	// Scheme is the request's scheme for @scheme and @target-uri. "" means
	// r.URL.Scheme, else "https" when r.TLS is set, else "http". Set it
	// behind a TLS-terminating proxy.
	Scheme string

	// DisableRequireCreated accepts signatures without a created parameter.
	// False (the default) refuses them: created is what bounds the age.
	DisableRequireCreated bool

	// MaxBody bounds a body under a covered Content-Digest; reading past it
	// fails with an error wrapping signet.ErrBodyTooLarge. 0 means 10 MiB.
	MaxBody int64
}

var _ signet.Verifier = (*Verifier)(nil)

// bufPool holds signature-base buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Verify checks r's RFC 9421 signature against the key its keyid names,
// with the algorithm the key decides. When the signature covers
// content-digest and the request has a body, r.Body is replaced by a reader
// that hashes the body as it streams and fails at EOF (signet.ErrDigest) or
// past MaxBody (signet.ErrBodyTooLarge): the caller must read the body to
// its end before trusting it.
//
// A request without Signature-Input gets an error wrapping
// signet.ErrNoSignature. Verification failures are *signet.Error values
// wrapping a sentinel; a key store failure wraps ErrStoreUnavailable and
// the store's error (signet.LookupKey).
func (v *Verifier) Verify(ctx context.Context, r *http.Request, keys signet.KeyStore) (*signet.Verified, error) {
	inputs := r.Header["Signature-Input"]
	if len(inputs) == 0 {
		return nil, signet.NewError(signet.SchemeRFC9421, "", signet.ErrNoSignature, "no Signature-Input field")
	}
	sigs := r.Header["Signature"]
	if len(sigs) == 0 {
		return nil, signet.NewError(signet.SchemeRFC9421, "", signet.ErrMalformed, "Signature-Input without Signature")
	}
	inDict, err := httpsfv.UnmarshalDictionary(inputs)
	if err != nil {
		return nil, signet.NewError(signet.SchemeRFC9421, "", signet.ErrMalformed, "Signature-Input is not a structured dictionary")
	}
	sigDict, err := httpsfv.UnmarshalDictionary(sigs)
	if err != nil {
		return nil, signet.NewError(signet.SchemeRFC9421, "", signet.ErrMalformed, "Signature is not a structured dictionary")
	}

	labels := inDict.Names()
	if v.Label != "" {
		if _, ok := inDict.Get(v.Label); !ok {
			return nil, signet.NewError(signet.SchemeRFC9421, "", signet.ErrNoSignature, "no signature labelled "+quote(v.Label))
		}
		labels = []string{v.Label}
	}
	// The first signature whose key resolves is verified; the others only
	// explain a failure when none does.
	var firstErr error
	sc := scratchPool.Get().(*scratch)
	defer sc.put()
	in := sigInput{comps: sc.comps[:0]}
	var key *signet.Key
	for _, label := range labels {
		mem, _ := inDict.Get(label)
		raw, _ := rawMember(inputs, label)
		err := parseSigInput(label, mem, raw, &in)
		sc.note(len(in.comps))
		if err != nil {
			if firstErr == nil {
				firstErr = toError(err, "")
			}
			continue
		}
		if v.Tag != "" && in.tag != v.Tag {
			continue
		}
		id := in.keyID
		if !in.hasKeyIDArg {
			id = v.KeyID
		}
		if id == "" {
			if firstErr == nil {
				firstErr = signet.NewError(signet.SchemeRFC9421, "", signet.ErrMalformed, "signature "+quote(label)+" has no keyid")
			}
			continue
		}
		k, err := signet.LookupKey(ctx, keys, signet.SchemeRFC9421, id)
		if err != nil {
			if !errors.Is(err, signet.ErrUnknownKey) {
				return nil, err
			}
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		in.keyID, key = id, k
		break
	}
	if key == nil {
		if firstErr == nil {
			firstErr = signet.NewError(signet.SchemeRFC9421, "", signet.ErrNoSignature, "no signature with tag "+quote(v.Tag))
		}
		return nil, firstErr
	}
	return v.verify(r, &in, key, sigDict)
}

func (v *Verifier) verify(r *http.Request, in *sigInput, key *signet.Key, sigDict *httpsfv.Dictionary) (*signet.Verified, error) {
	id := in.keyID
	fail := func(sentinel error, detail string) (*signet.Verified, error) {
		return nil, signet.NewError(signet.SchemeRFC9421, id, sentinel, detail)
	}
	if !key.AllowsScheme(signet.SchemeRFC9421) {
		return fail(signet.ErrSchemeNotAllowed, "key may not sign RFC 9421 signatures")
	}
	var mbuf [2]*method
	methods, detail := resolve(in.alg, key, &mbuf)
	if detail != "" {
		return fail(signet.ErrAlgorithm, detail)
	}

	mem, ok := sigDict.Get(in.label)
	if !ok {
		return fail(signet.ErrMalformed, "no Signature member labelled "+quote(in.label))
	}
	it, ok := mem.(httpsfv.Item)
	sig, isBytes := it.Value.([]byte)
	if !ok || !isBytes {
		return fail(signet.ErrMalformed, "Signature member "+quote(in.label)+" is not a byte sequence")
	}

	msg := newMessage(r, v.Scheme)
	hasBody := r.ContentLength != 0 || (r.Body != nil && r.Body != http.NoBody)
	if err := v.checkRequired(in, msg, hasBody); err != nil {
		return nil, err
	}
	signedAt, expiresAt, err := v.checkTime(in, key)
	if err != nil {
		return nil, err
	}

	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	base, err := appendBase((*bp)[:0], msg, in, modeRFC)
	*bp = base[:0]
	rfcErr := err
	if err != nil && err != errRepeatedParam {
		return nil, toError(err, id)
	}
	idx, m, ok := -1, (*method)(nil), false
	if rfcErr == nil {
		idx, m, ok = check(methods, key, base, sig)
	}
	if !ok {
		// http-message-signatures computes some components differently
		// (COMPAT.md); its base is tried only when it differs.
		nodeBase, err := appendBase(base[len(base):], msg, in, modeNode)
		if err != nil {
			if rfcErr != nil {
				return nil, toError(err, id)
			}
		} else if rfcErr != nil || !bytes.Equal(nodeBase, base) {
			if idx, m, ok = check(methods, key, nodeBase, sig); ok {
				base = nodeBase
			}
		}
		if cap(nodeBase) > cap(*bp) {
			*bp = nodeBase[:0]
		}
	}
	if !ok {
		return fail(signet.ErrMismatch, "signature does not match the request")
	}

	ver := &signet.Verified{
		Scheme:      signet.SchemeRFC9421,
		KeyID:       id,
		Key:         key,
		SecretIndex: idx,
		Algorithm:   m.name,
		SignedAt:    signedAt,
		ExpiresAt:   expiresAt,
		Signature:   sfBinary(sig),
		Nonce:       in.nonce,
	}
	if in.nonce != "" {
		ver.ReplayID = signet.NonceReplayID(signet.SchemeRFC9421, id, in.nonce)
	} else {
		ver.ReplayID = signet.ReplayID(signet.SchemeRFC9421, id, base)
	}
	ver.SignedHeaders = make([]string, len(in.comps))
	digest := false
	for i := range in.comps {
		ver.SignedHeaders[i] = in.comps[i].id
		if in.comps[i].name == "content-digest" && !in.comps[i].bs {
			digest = true
		}
	}
	if digest {
		var spec digestSpec
		if err := parseContentDigest(&spec, r.Header["Content-Digest"], id); err != nil {
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
			return fail(signet.ErrDigest, "the request has no body but the signed Content-Digest is not that of an empty body")
		}
	}
	return ver, nil
}

// check verifies sig over base with each candidate method and returns the
// matching secret index (-1 for public keys) and method.
func check(methods []*method, key *signet.Key, base, sig []byte) (int, *method, bool) {
	for _, m := range methods {
		if m.kind == kindHMAC {
			if i := verifyHMAC(key.Secrets, base, sig); i >= 0 {
				return i, m, true
			}
			continue
		}
		if m.verifyPublic(publicKey(key.PublicKey), base, sig) {
			return -1, m, true
		}
	}
	return -1, nil, false
}

// checkRequired applies RequiredComponents (or the default policy).
func (v *Verifier) checkRequired(in *sigInput, msg *message, hasBody bool) error {
	covered := func(id string) bool {
		for i := range in.comps {
			if in.comps[i].id == id {
				return true
			}
		}
		switch id {
		case `"@authority"`:
			return covered2(in, `"@target-uri"`)
		case `"@path"`, `"@query"`:
			return covered2(in, `"@target-uri"`) || covered2(in, `"@request-target"`)
		}
		return false
	}
	need := func(id string) error {
		if covered(id) {
			return nil
		}
		return signet.NewError(signet.SchemeRFC9421, in.keyID, signet.ErrRequiredHeader, "the signature must cover "+id)
	}
	if v.RequiredComponents == nil {
		for _, id := range [...]string{`"@method"`, `"@authority"`, `"@path"`} {
			if err := need(id); err != nil {
				return err
			}
		}
		if msg.query != "" {
			if err := need(`"@query"`); err != nil {
				return err
			}
		}
		if hasBody {
			return need(`"content-digest"`)
		}
		return nil
	}
	for _, c := range v.RequiredComponents {
		id := normalizeComponent(c)
		if id == `"content-digest"` && !hasBody {
			continue
		}
		if err := need(id); err != nil {
			return err
		}
	}
	return nil
}

func covered2(in *sigInput, id string) bool {
	return slices.ContainsFunc(in.comps, func(c component) bool { return c.id == id })
}

// checkTime applies created, expires, MaxAge and MaxSkew, and returns the
// signing time and the time after which the signature is refused.
func (v *Verifier) checkTime(in *sigInput, key *signet.Key) (signedAt, expiresAt time.Time, err error) {
	fail := func(sentinel error, detail string) (time.Time, time.Time, error) {
		return time.Time{}, time.Time{}, signet.NewError(signet.SchemeRFC9421, in.keyID, sentinel, detail)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	maxAge, skew := v.MaxAge, v.MaxSkew
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	if skew == 0 {
		skew = DefaultMaxSkew
	} else if skew < 0 {
		skew = 0
	}
	if in.hasCreated {
		signedAt = time.Unix(in.created, 0)
		if signedAt.After(t.Add(skew)) {
			return fail(signet.ErrNotYetValid, "created is in the future")
		}
		if maxAge > 0 {
			expiresAt = signedAt.Add(maxAge)
			if t.After(expiresAt) {
				return fail(signet.ErrExpired, "created is too old")
			}
		}
	} else if !v.DisableRequireCreated {
		return fail(signet.ErrMalformed, "the signature has no created parameter")
	}
	if in.hasExpires {
		exp := time.Unix(in.expires, 0)
		if t.After(exp) {
			return fail(signet.ErrExpired, "expires has passed")
		}
		if expiresAt.IsZero() || exp.Before(expiresAt) {
			expiresAt = exp
		}
		if key.MaxExpires > 0 {
			from := t.Unix()
			if in.hasCreated {
				from = in.created
			}
			if in.expires-from > int64(key.MaxExpires/time.Second) {
				return fail(signet.ErrExpiresTooLong, "expires is further away than the key allows")
			}
		}
	}
	return signedAt, expiresAt, nil
}
