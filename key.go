package signet

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Scheme names, as used in Key.Schemes, Verified.Scheme and configuration.
const (
	SchemeSW1     = "sw1"     // Signway SW1-HMAC-SHA256 pre-signed URLs
	SchemeReqSig  = "reqsig"  // REQUEST-SIGNATURE Authorization header
	SchemeCavage  = "cavage"  // draft-cavage HTTP Signatures
	SchemeRFC9421 = "rfc9421" // RFC 9421 HTTP Message Signatures
	SchemeSigV4   = "sigv4"   // AWS Signature Version 4
)

// Algorithm names accepted by Key.Algorithms (draft-cavage names).
const (
	AlgHMACSHA1   = "hmac-sha1"
	AlgHMACSHA256 = "hmac-sha256"
	AlgHMACSHA512 = "hmac-sha512"
)

// Key is what a verifier needs to know about one key id.
type Key struct {
	// ID is the public key id carried by requests.
	ID string

	// Secrets verify symmetric signatures. Several secrets verify at once so
	// a secret can be rotated without downtime; Verified.SecretIndex says
	// which one matched. Empty when the key is a public key.
	Secrets []string

	// PublicKey verifies asymmetric signatures (cavage rsa-sha256, hs2019,
	// ecdsa, ed25519). Nil for symmetric keys.
	PublicKey crypto.PublicKey

	// Schemes lists the schemes this key may sign with. Empty means every
	// scheme the key's material fits (all symmetric schemes for secrets).
	Schemes []string

	// Algorithms restricts the signature algorithms (cavage names such as
	// "hmac-sha256"). Empty means every algorithm that fits the key material
	// except hmac-sha1, which must be listed explicitly.
	Algorithms []string

	// MaxExpires, when positive, refuses pre-signed URLs whose lifetime is
	// longer. Zero means no limit beyond the scheme's own.
	MaxExpires time.Duration

	// SingleUse makes every signature of this key valid once: a replay
	// before the signature expires is refused with ErrReplay. It needs a
	// ReplayStore where the key is verified.
	SingleUse bool

	// RateLimit is the key's request and byte budget; zero means none.
	RateLimit RateLimit

	// FailOpen keeps the key working while a shared store (replay, rate
	// limit) is unreachable, without those checks. The default, false,
	// refuses its requests with ErrStoreUnavailable instead.
	FailOpen bool

	// Tenant labels the key's owner, for operators; it is not checked.
	Tenant string

	// Upstreams lists the origins the key's requests may reach and the
	// headers injected there. Empty means the gateway's global policy.
	Upstreams []Upstream
}

// Upstream is an origin a key may reach, with the headers (credentials)
// injected into requests to that origin only.
type Upstream struct {
	// Origin is scheme://host[:port], normalised; "*" means any public
	// origin.
	Origin string
	// Headers are set on forwarded requests, replacing any client copy.
	// Their values are secrets: never log them.
	Headers map[string]string
}

// AllowsScheme reports whether k may be used with scheme.
func (k *Key) AllowsScheme(scheme string) bool {
	if len(k.Schemes) == 0 {
		return true
	}
	return slices.Contains(k.Schemes, scheme)
}

// AllowsAlgorithm reports whether k may be used with alg. hmac-sha1 is
// refused unless listed: it is kept only for old clients.
func (k *Key) AllowsAlgorithm(alg string) bool {
	if len(k.Algorithms) == 0 {
		return alg != AlgHMACSHA1
	}
	return slices.Contains(k.Algorithms, alg)
}

// KeyStore finds keys by id. Key returns an error wrapping ErrUnknownKey when
// there is no such key; other errors mean the store itself failed, and
// verifiers answer them with ErrStoreUnavailable (see LookupKey).
type KeyStore interface {
	Key(ctx context.Context, id string) (*Key, error)
}

// LookupKey is how verifiers call keys.Key, so that every scheme maps its
// outcome alike. No key (an error wrapping ErrUnknownKey, or a nil key) is
// an *Error wrapping ErrUnknownKey. Any other error is the store failing (a
// database down): the result wraps ErrStoreUnavailable (503
// store_unavailable), never a pass, whatever the key's FailOpen, which
// concerns the replay and rate-limit stores. The store's error is wrapped
// too, for errors.Is and for the logs (the result's Error method), but the
// *Error that WriteError shows the client names none of it.
func LookupKey(ctx context.Context, keys KeyStore, scheme, id string) (*Key, error) {
	k, err := keys.Key(ctx, id)
	switch {
	case err == nil && k != nil:
		return k, nil
	case err == nil || errors.Is(err, ErrUnknownKey):
		return nil, NewError(scheme, id, ErrUnknownKey, "no key with this id")
	}
	return nil, &storeFailure{
		se:    NewError(scheme, id, ErrStoreUnavailable, "the key store is unavailable; retry later"),
		cause: err,
	}
}

// KeyStoreFunc adapts a function to KeyStore.
type KeyStoreFunc func(ctx context.Context, id string) (*Key, error)

// Key calls f(ctx, id).
func (f KeyStoreFunc) Key(ctx context.Context, id string) (*Key, error) { return f(ctx, id) }

// StaticKeys is an in-memory KeyStore, indexed by key id. It is safe for
// concurrent reads; do not modify it while it is in use.
type StaticKeys map[string]*Key

// NewStaticKeys indexes keys by id. A duplicate or empty id is an error.
func NewStaticKeys(keys ...*Key) (StaticKeys, error) {
	m := make(StaticKeys, len(keys))
	for _, k := range keys {
		if k.ID == "" {
			return nil, fmt.Errorf("signet: key with empty id")
		}
		if _, dup := m[k.ID]; dup {
			return nil, fmt.Errorf("signet: duplicate key id %q", k.ID)
		}
		m[k.ID] = k
	}
	return m, nil
}

// Key returns the key with id, or an error wrapping ErrUnknownKey.
func (s StaticKeys) Key(_ context.Context, id string) (*Key, error) {
	if k, ok := s[id]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

var _ KeyStore = StaticKeys(nil)
