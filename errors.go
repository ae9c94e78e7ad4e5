package signet

import (
	"errors"
	"net/http"
	"strings"
)

// Sentinel errors. Every verification failure wraps exactly one of them, so
// callers test with errors.Is and map to a reason code with Code.
var (
	ErrNoSignature       = errors.New("no signature")
	ErrMalformed         = errors.New("malformed signature parameters")
	ErrUnknownKey        = errors.New("unknown key")
	ErrAlgorithm         = errors.New("algorithm not allowed")
	ErrSchemeNotAllowed  = errors.New("scheme not allowed for key")
	ErrExpired           = errors.New("signature expired")
	ErrNotYetValid       = errors.New("signature not yet valid")
	ErrExpiresTooLong    = errors.New("expiry longer than the key allows")
	ErrMismatch          = errors.New("signature mismatch")
	ErrMissingHeader     = errors.New("signed header missing")
	ErrRequiredHeader    = errors.New("required header not signed")
	ErrDigest            = errors.New("body digest mismatch")
	ErrBodyTooLarge      = errors.New("signed body too large")
	ErrReplay            = errors.New("signature replayed")
	ErrForbiddenUpstream = errors.New("upstream not allowed for key")
	ErrStoreUnavailable  = errors.New("shared store unavailable")
	ErrRateLimited       = errors.New("rate limited")
)

// Error is the one error type verification returns. It carries the scheme
// and key id (never a secret or an expected signature) and wraps a sentinel.
type Error struct {
	Scheme string // scheme name, e.g. "sw1"; empty when not known yet
	KeyID  string // key id from the request; empty when not parsed yet
	Err    error  // one of the sentinels above
	Detail string // human explanation of what did not match; safe to show
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Scheme != "" {
		b.WriteString(e.Scheme)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// storeFailure is a key store's failure as LookupKey returns it. errors.As
// finds se first, so a client sees only its message; Error adds the
// store's own error, for the logs.
type storeFailure struct {
	se    *Error
	cause error
}

func (e *storeFailure) Error() string   { return e.se.Error() + ": " + e.cause.Error() }
func (e *storeFailure) Unwrap() []error { return []error{e.se, e.cause} }

// Errorf-style helper used by the scheme packages.
func NewError(scheme, keyID string, sentinel error, detail string) *Error {
	return &Error{Scheme: scheme, KeyID: keyID, Err: sentinel, Detail: detail}
}

// reason maps each sentinel to its stable reason code and HTTP status. It is
// the only place where that mapping lives.
var reasons = []struct {
	err    error
	code   string
	status int
}{
	{ErrNoSignature, "no_signature", http.StatusUnauthorized},
	{ErrMalformed, "malformed", http.StatusBadRequest},
	{ErrUnknownKey, "unknown_key", http.StatusUnauthorized},
	{ErrAlgorithm, "algorithm_not_allowed", http.StatusUnauthorized},
	{ErrSchemeNotAllowed, "scheme_not_allowed", http.StatusUnauthorized},
	{ErrExpired, "expired", http.StatusUnauthorized},
	{ErrNotYetValid, "not_yet_valid", http.StatusUnauthorized},
	{ErrExpiresTooLong, "expires_too_long", http.StatusUnauthorized},
	{ErrMismatch, "signature_mismatch", http.StatusUnauthorized},
	{ErrMissingHeader, "missing_signed_header", http.StatusBadRequest},
	{ErrRequiredHeader, "required_header_not_signed", http.StatusUnauthorized},
	{ErrDigest, "digest_mismatch", http.StatusUnauthorized},
	{ErrBodyTooLarge, "body_too_large", http.StatusRequestEntityTooLarge},
	{ErrReplay, "replayed", http.StatusConflict},
	{ErrForbiddenUpstream, "forbidden_upstream", http.StatusForbidden},
	{ErrStoreUnavailable, "store_unavailable", http.StatusServiceUnavailable},
	{ErrRateLimited, "rate_limited", http.StatusTooManyRequests},
}

// Code returns the stable reason code for err ("signature_mismatch", ...), or
// "internal" when err wraps none of the sentinels.
func Code(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.code
		}
	}
	return "internal"
}

// Status returns the HTTP status that fits err: 400 for malformed input, 401
// for a bad or expired signature, 403, 409, 413 as the sentinel says, and 500
// for errors that are not verification failures.
func Status(err error) int {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.status
		}
	}
	return http.StatusInternalServerError
}
