package signet

import (
	"fmt"
	"net/http"
)

// RequestSigner signs an outgoing request in place: it adds headers or
// rewrites the URL. Signers that cover the body read it and replace r.Body.
type RequestSigner interface {
	SignRequest(r *http.Request) error
}

// RequestSignerFunc adapts a function to RequestSigner.
type RequestSignerFunc func(r *http.Request) error

// SignRequest calls f(r).
func (f RequestSignerFunc) SignRequest(r *http.Request) error { return f(r) }

// Transport is an http.RoundTripper that signs every request with Signer
// before passing it to Base.
type Transport struct {
	Signer RequestSigner     // required
	Base   http.RoundTripper // nil means http.DefaultTransport
}

// RoundTrip signs a clone of r (a RoundTripper must not modify its request)
// and sends it.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	r2 := r.Clone(r.Context())
	if err := t.Signer.SignRequest(r2); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("signet: sign request: %w", err)
	}
	return base.RoundTrip(r2)
}

var _ http.RoundTripper = (*Transport)(nil)
