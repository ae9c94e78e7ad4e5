package signet

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Verified describes a request whose signature checked out.
type Verified struct {
	Scheme      string // SchemeSW1, SchemeReqSig, SchemeCavage, ...
	KeyID       string
	Key         *Key
	SecretIndex int    // index in Key.Secrets of the secret that matched; -1 for public keys
	Algorithm   string // e.g. "hmac-sha256", "SW1-HMAC-SHA256"

	SignedAt  time.Time // when the request was signed, when the scheme says
	ExpiresAt time.Time // zero when the scheme carries no expiry

	// SignedHeaders lists the header names (lower case, plus pseudo-headers
	// such as "(request-target)") the signature covers, in signed order.
	SignedHeaders []string

	// Target is the upstream URL a pre-signed URL names (SW1 X-Sw-Proxy),
	// as it was signed. Empty for header-signed requests.
	Target string

	// BodySigned reports that the body is covered by the signature, directly
	// or through a digest header. For streamed digests the body reader
	// returns an error wrapping ErrDigest at EOF when it does not match.
	BodySigned bool

	// Signature is the signature as presented. It is public (the client sent
	// it) and identifies the request for replay protection.
	Signature string

	// ReplayID identifies this signed request for replay protection: the
	// scheme, key id and nonce when the request carries a nonce, else a hash
	// of what the signature covers (the signature text itself can have
	// several valid encodings, so it is not used). Stored until ExpiresAt.
	ReplayID string

	// Nonce is the nonce the signature covers, when the scheme has one.
	Nonce string
}

// Verifier verifies the signature of a request. It looks the key up itself,
// so that it checks the key's policy (schemes, algorithms) before computing.
// A Verifier returns an error wrapping ErrNoSignature when the request carries
// no signature of its scheme, so that several verifiers can be chained.
type Verifier interface {
	Verify(ctx context.Context, r *http.Request, keys KeyStore) (*Verified, error)
}

// Verifiers tries each verifier in turn; the first one that finds its
// scheme's signature in the request decides.
type Verifiers []Verifier

// Verify implements Verifier.
func (vs Verifiers) Verify(ctx context.Context, r *http.Request, keys KeyStore) (*Verified, error) {
	for _, v := range vs {
		ver, err := v.Verify(ctx, r, keys)
		if errors.Is(err, ErrNoSignature) {
			continue
		}
		return ver, err
	}
	return nil, &Error{Err: ErrNoSignature, Detail: "the request carries no signature of an accepted scheme"}
}

type ctxKey struct{}

// NewContext returns a copy of ctx carrying v.
func NewContext(ctx context.Context, v *Verified) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the Verified stored by NewContext (and by Middleware).
func FromContext(ctx context.Context) (*Verified, bool) {
	v, ok := ctx.Value(ctxKey{}).(*Verified)
	return v, ok
}
