package signet

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
)

// Middleware returns net/http middleware that verifies every request with v
// against keys. A verified request reaches next with its Verified in the
// context (FromContext); any other request is answered by WriteError.
func Middleware(v Verifier, keys KeyStore) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return &Handler{Next: next, Verifier: v, Keys: keys}
	}
}

// Handler is the verifying handler Middleware builds; use it directly to set
// an ErrorHandler.
type Handler struct {
	Next     http.Handler // receives verified requests
	Verifier Verifier     // required
	Keys     KeyStore     // required

	// ErrorHandler answers requests that fail verification. Nil means
	// WriteError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ver, err := h.Verifier.Verify(r.Context(), r, h.Keys)
	if err != nil {
		eh := h.ErrorHandler
		if eh == nil {
			eh = func(w http.ResponseWriter, _ *http.Request, err error) { WriteError(w, err) }
		}
		eh(w, r, err)
		return
	}
	h.Next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), ver)))
}

var _ http.Handler = (*Handler)(nil)

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error   string `json:"error"`   // stable reason code, see Code
	Message string `json:"message"` // human explanation; never holds a secret
}

// WriteError answers with err's status and a JSON ErrorBody. Only the
// explanation carried by *Error reaches the client; any other error is
// reported as "internal" without its text, which could hold anything.
func WriteError(w http.ResponseWriter, err error) {
	status := Status(err)
	body := ErrorBody{Error: Code(err), Message: http.StatusText(status)}
	var se *Error
	var rl *RateLimitError
	switch {
	case errors.As(err, &se):
		body.Message = se.Error()
	case errors.As(err, &rl):
		body.Message = rl.Error()
		secs := int64(math.Ceil(rl.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Signature realm="signet"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
