package reqsig

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/keycache"
)

// DefaultMaxSkew is the time window around the Timestamp that the Java
// library's README specifies.
const DefaultMaxSkew = 5 * time.Minute

const scheme = signet.SchemeReqSig

// Verifier verifies REQUEST-SIGNATURE Authorization headers. The zero value
// is ready to use. It is safe for concurrent use if its fields are not
// modified.
type Verifier struct {
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// MaxSkew is how far the Timestamp may be from Now, in both directions.
	// Zero (or negative) means DefaultMaxSkew, 5 minutes. The scheme has no
	// nonce: within the window a captured request can be replayed unless the
	// caller checks Verified.Signature for reuse.
	MaxSkew time.Duration

	// Types lists the accepted authentication types (the first word of the
	// header, which is also signed). Nil means []string{DefaultType}. A
	// header of another type is reported as signet.ErrNoSignature so that
	// other verifiers can try the request.
	Types []string
}

var _ signet.Verifier = (*Verifier)(nil)

var defaultTypes = []string{DefaultType}

// Verify checks r's Authorization header against the key named by its
// ApiKey. The canonical request is rebuilt from what the server received:
// r.Method upper-cased, r.Host without its port (case kept) when
// SignedHost=true, and the raw path and query of r.RequestURI (else of
// r.URL). Besides the path and query as received it tries "" for the path
// "/" and the percent-decoded path and query (only the escapes clients add:
// non-ASCII, controls, space and "<>\^`{|}!$'()*,:@[]), because the Java
// signer signs the URL string as the caller wrote it while HTTP clients send
// it encoded. The port, the scheme and the body are not signed.
//
// Errors wrap the signet sentinels: ErrNoSignature (no header of an accepted
// type), ErrMalformed, ErrUnknownKey, ErrSchemeNotAllowed, ErrAlgorithm,
// ErrExpired, ErrNotYetValid and ErrMismatch. A key store failure wraps
// ErrStoreUnavailable and the store's error (signet.LookupKey).
func (v *Verifier) Verify(ctx context.Context, r *http.Request, keys signet.KeyStore) (*signet.Verified, error) {
	a, err := v.header(r)
	if err != nil {
		return nil, err
	}
	key, err := signet.LookupKey(ctx, keys, scheme, a.APIKey)
	if err != nil {
		return nil, err
	}
	if !key.AllowsScheme(scheme) {
		return nil, signet.NewError(scheme, a.APIKey, signet.ErrSchemeNotAllowed, "the key may not sign REQUEST-SIGNATURE requests")
	}
	if !key.AllowsAlgorithm(signet.AlgHMACSHA256) {
		return nil, signet.NewError(scheme, a.APIKey, signet.ErrAlgorithm, "the key may not use hmac-sha256")
	}
	if len(key.Secrets) == 0 {
		return nil, signet.NewError(scheme, a.APIKey, signet.ErrAlgorithm, "the key has no HMAC secret")
	}

	signedAt := time.UnixMilli(a.Millis)
	skew := v.maxSkew()
	now := v.now()
	if signedAt.Before(now.Add(-skew)) {
		return nil, signet.NewError(scheme, a.APIKey, signet.ErrExpired,
			fmt.Sprintf("Timestamp is more than %v in the past", skew))
	}
	if signedAt.After(now.Add(skew)) {
		return nil, signet.NewError(scheme, a.APIKey, signet.ErrNotYetValid,
			fmt.Sprintf("Timestamp is more than %v in the future", skew))
	}

	idx := matchSecret(r, &a, key.Secrets)
	if idx < 0 {
		return nil, signet.NewError(scheme, a.APIKey, signet.ErrMismatch,
			"the signature does not match the method, host, path and query received")
	}
	return &signet.Verified{
		Scheme:      scheme,
		KeyID:       a.APIKey,
		Key:         key,
		SecretIndex: idx,
		Algorithm:   Algorithm,
		SignedAt:    signedAt,
		ExpiresAt:   signedAt.Add(skew),
		Signature:   a.Signature,
		// The signature is compared as text, so one request has one
		// accepted signature text: it identifies the request.
		ReplayID: scheme + ":" + a.APIKey + ":" + a.Signature,
	}, nil
}

// header finds and parses the one Authorization header of an accepted type.
func (v *Verifier) header(r *http.Request) (authorization, error) {
	types := v.Types
	if types == nil {
		types = defaultTypes
	}
	var (
		a     authorization
		found bool
	)
	for _, h := range r.Header["Authorization"] {
		p, err := parseAuthorization(h, types)
		if errors.Is(err, errNotOurs) {
			continue
		}
		if found {
			return a, signet.NewError(scheme, "", signet.ErrMalformed, "more than one Authorization header of this scheme")
		}
		if err != nil {
			return a, signet.NewError(scheme, "", signet.ErrMalformed, err.Error())
		}
		a, found = p, true
	}
	if !found {
		return a, signet.NewError(scheme, "", signet.ErrNoSignature, "no Authorization header of an accepted type")
	}
	return a, nil
}

// matchSecret returns the index of the secret that signed r, or -1. It tries
// every secret against every canonical request candidate; each comparison
// is constant-time.
func matchSecret(r *http.Request, a *authorization, secrets []string) int {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	method = upperMethod(method)
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	host = stripPort(host)
	path, query := receivedTarget(r)

	// Candidates: as received; "" for "/" (Java signs "" for
	// "https://api.com"); percent-decoded path and query.
	var paths [3]string
	var queries [2]string
	np, nq := 1, 1
	paths[0], queries[0] = path, query
	if path == "/" {
		paths[np] = ""
		np++
	}
	if d := percentDecode(path); d != path {
		paths[np] = d
		np++
	}
	if d := percentDecode(query); d != query {
		queries[nq] = d
		nq++
	}

	// The string to sign differs between candidates only in its last
	// component, the hash of the canonical request.
	var (
		stsBuf   [256]byte
		canonBuf [512]byte
		sums     [6][sha256.Size]byte
	)
	n := 0
	for _, p := range paths[:np] {
		for _, q := range queries[:nq] {
			c := appendCanonical(canonBuf[:0], method, host, p, q, a.SignedHost)
			sums[n] = sha256.Sum256(c)
			n++
		}
	}
	prefix := appendSTSPrefix(stsBuf[:0], a.Type, a.APIKey, a.APIVersion, a.Timestamp)
	plen := len(prefix)

	var got, want [signatureChars]byte
	copy(got[:], a.Signature)
	var mac [sha256.Size]byte
	h := keycache.GetHMAC256()
	match := -1
	for i, secret := range secrets {
		key := signingKey(secret, a.APIVersion, a.Timestamp)
		for _, sum := range sums[:n] {
			h.Init(key[:])
			h.Write(base64.RawURLEncoding.AppendEncode(prefix[:plen], sum[:]))
			h.Sum(&mac)
			base64.RawURLEncoding.AppendEncode(want[:0], mac[:])
			if subtle.ConstantTimeCompare(got[:], want[:]) == 1 && match < 0 {
				match = i
			}
		}
	}
	h.Put()
	return match
}

// receivedTarget returns the raw path and query the client put in the
// request line.
func receivedTarget(r *http.Request) (path, query string) {
	if r.RequestURI != "" {
		return requestTarget(r.RequestURI)
	}
	if r.URL == nil {
		return "", ""
	}
	return r.URL.EscapedPath(), r.URL.RawQuery
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}
