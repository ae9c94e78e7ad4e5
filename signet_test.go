package signet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

func TestCodeAndStatus(t *testing.T) {
	tests := []struct {
		err    error
		code   string
		status int
	}{
		{signet.ErrNoSignature, "no_signature", 401},
		{signet.ErrMalformed, "malformed", 400},
		{signet.ErrUnknownKey, "unknown_key", 401},
		{signet.ErrAlgorithm, "algorithm_not_allowed", 401},
		{signet.ErrSchemeNotAllowed, "scheme_not_allowed", 401},
		{signet.ErrExpired, "expired", 401},
		{signet.ErrNotYetValid, "not_yet_valid", 401},
		{signet.ErrExpiresTooLong, "expires_too_long", 401},
		{signet.ErrMismatch, "signature_mismatch", 401},
		{signet.ErrMissingHeader, "missing_signed_header", 400},
		{signet.ErrRequiredHeader, "required_header_not_signed", 401},
		{signet.ErrDigest, "digest_mismatch", 401},
		{signet.ErrBodyTooLarge, "body_too_large", 413},
		{signet.ErrReplay, "replayed", 409},
		{signet.ErrForbiddenUpstream, "forbidden_upstream", 403},
		{signet.ErrStoreUnavailable, "store_unavailable", 503},
		{signet.ErrRateLimited, "rate_limited", 429},
		{errors.New("disk on fire"), "internal", 500},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			// Wrapped twice, as callers will see them.
			err := fmt.Errorf("outer: %w", signet.NewError("sw1", "k", tt.err, "detail"))
			if got := signet.Code(err); got != tt.code {
				t.Errorf("Code = %q, want %q", got, tt.code)
			}
			if got := signet.Status(err); got != tt.status {
				t.Errorf("Status = %d, want %d", got, tt.status)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	err := signet.NewError("cavage", "app", signet.ErrMissingHeader, `header "date" is signed but absent`)
	if got, want := err.Error(), `cavage: signed header missing: header "date" is signed but absent`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(err, signet.ErrMissingHeader) {
		t.Error("errors.Is(err, ErrMissingHeader) = false")
	}
}

func TestKeyPolicy(t *testing.T) {
	open := &signet.Key{ID: "a"}
	if !open.AllowsScheme(signet.SchemeCavage) || !open.AllowsAlgorithm(signet.AlgHMACSHA256) {
		t.Error("a key without lists must allow every scheme and the default algorithms")
	}
	if open.AllowsAlgorithm(signet.AlgHMACSHA1) {
		t.Error("hmac-sha1 must be refused unless listed")
	}
	strict := &signet.Key{ID: "b", Schemes: []string{signet.SchemeSW1}, Algorithms: []string{signet.AlgHMACSHA1}}
	if strict.AllowsScheme(signet.SchemeCavage) || !strict.AllowsScheme(signet.SchemeSW1) {
		t.Error("Schemes list not honoured")
	}
	if !strict.AllowsAlgorithm(signet.AlgHMACSHA1) || strict.AllowsAlgorithm(signet.AlgHMACSHA256) {
		t.Error("Algorithms list not honoured")
	}
}

func TestStaticKeys(t *testing.T) {
	keys, err := signet.NewStaticKeys(&signet.Key{ID: "a"}, &signet.Key{ID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := keys.Key(context.Background(), "b"); err != nil || k.ID != "b" {
		t.Errorf("Key(b) = %v, %v", k, err)
	}
	if _, err := keys.Key(context.Background(), "c"); !errors.Is(err, signet.ErrUnknownKey) {
		t.Errorf("Key(c) error = %v, want ErrUnknownKey", err)
	}
	if _, err := signet.NewStaticKeys(&signet.Key{ID: "a"}, &signet.Key{ID: "a"}); err == nil {
		t.Error("duplicate id accepted")
	}
	if _, err := signet.NewStaticKeys(&signet.Key{}); err == nil {
		t.Error("empty id accepted")
	}
}

// fakeVerifier accepts requests whose X-Test header names its scheme.
type fakeVerifier string

func (f fakeVerifier) Verify(_ context.Context, r *http.Request, _ signet.KeyStore) (*signet.Verified, error) {
	switch r.Header.Get("X-Test") {
	case string(f):
		return &signet.Verified{Scheme: string(f), KeyID: "k"}, nil
	case string(f) + "-bad":
		return nil, signet.NewError(string(f), "k", signet.ErrMismatch, "the signature does not match")
	}
	return nil, signet.NewError(string(f), "", signet.ErrNoSignature, "")
}

func TestVerifiersChain(t *testing.T) {
	vs := signet.Verifiers{fakeVerifier("one"), fakeVerifier("two")}
	tests := []struct {
		header     string
		wantScheme string
		wantErr    error
	}{
		{"one", "one", nil},
		{"two", "two", nil},
		{"two-bad", "", signet.ErrMismatch},
		{"", "", signet.ErrNoSignature},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Test", tt.header)
			ver, err := vs.Verify(context.Background(), r, signet.StaticKeys{})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && ver.Scheme != tt.wantScheme {
				t.Errorf("scheme = %q, want %q", ver.Scheme, tt.wantScheme)
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ver, ok := signet.FromContext(r.Context())
		if !ok {
			t.Error("no Verified in context")
			return
		}
		fmt.Fprintf(w, "hello %s via %s", ver.KeyID, ver.Scheme)
	})
	h := signet.Middleware(fakeVerifier("one"), signet.StaticKeys{})(next)

	t.Run("verified", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Test", "one")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Body.String() != "hello k via one" {
			t.Errorf("got %d %q, want 200 %q", w.Code, w.Body.String(), "hello k via one")
		}
	})
	for _, tt := range []struct {
		header, code string
		status       int
	}{
		{"one-bad", "signature_mismatch", 401},
		{"", "no_signature", 401},
	} {
		t.Run("rejected/"+tt.code, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Test", tt.header)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var body signet.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			if body.Error != tt.code || body.Message == "" {
				t.Errorf("body = %+v, want error %q and a message", body, tt.code)
			}
		})
	}
}

func TestWriteErrorHidesUnknownErrors(t *testing.T) {
	w := httptest.NewRecorder()
	signet.WriteError(w, errors.New("connect to db://user:hunter2@host failed"))
	if strings.Contains(w.Body.String(), "hunter2") {
		t.Errorf("internal error text leaked: %s", w.Body.String())
	}
	if w.Code != 500 {
		t.Errorf("status = %d, want 500", w.Code)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransportSignsAClone(t *testing.T) {
	var seen *http.Request
	tr := &signet.Transport{
		Signer: signet.RequestSignerFunc(func(r *http.Request) error {
			r.Header.Set("Authorization", "Signed")
			return nil
		}),
		Base: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			seen = r
			return &http.Response{StatusCode: 204, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
		}),
	}
	req := httptest.NewRequest("GET", "http://api.example/x", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := seen.Header.Get("Authorization"); got != "Signed" {
		t.Errorf("upstream saw Authorization %q, want %q", got, "Signed")
	}
	if got := req.Header.Get("Authorization"); got != "" {
		t.Errorf("caller's request was modified: Authorization %q", got)
	}
}

func TestTransportSignError(t *testing.T) {
	tr := &signet.Transport{
		Signer: signet.RequestSignerFunc(func(*http.Request) error { return errors.New("no key") }),
		Base: roundTripperFunc(func(*http.Request) (*http.Response, error) {
			t.Error("request sent although signing failed")
			return nil, errors.New("unreachable")
		}),
	}
	if _, err := tr.RoundTrip(httptest.NewRequest("GET", "http://api.example/", nil)); err == nil {
		t.Error("want an error")
	}
}

func TestWriteErrorRateLimited(t *testing.T) {
	w := httptest.NewRecorder()
	signet.WriteError(w, fmt.Errorf("gateway: %w", &signet.RateLimitError{RetryAfter: 1500 * time.Millisecond, Detail: "10 requests per second"}))
	if w.Code != 429 {
		t.Errorf("status = %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want %q", got, "2")
	}
	var body signet.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error != "rate_limited" {
		t.Errorf("body %q (%v), want error rate_limited", w.Body.String(), err)
	}
}

func TestReplayID(t *testing.T) {
	a := signet.ReplayID("cavage", "k", []byte("date: x"))
	if a != signet.ReplayID("cavage", "k", "date: x") {
		t.Error("string and []byte content give different ids")
	}
	// Each input is separated, so shifting bytes between them changes the id.
	for _, other := range []string{
		signet.ReplayID("cavage", "k", "date: y"),
		signet.ReplayID("cavage", "kd", "ate: x"),
		signet.ReplayID("rfc9421", "k", "date: x"),
		signet.NonceReplayID("cavage", "k", "date: x"),
	} {
		if other == a {
			t.Errorf("collision: %q", a)
		}
	}
	if !strings.HasPrefix(a, "cavage:") || len(a) != len("cavage:")+64 {
		t.Errorf("got %q, want cavage:<64 hex digits>", a)
	}
}

func BenchmarkReplayID(b *testing.B) {
	content := []byte(strings.Repeat("date: Tue, 07 Jun 2014 20:51:35 GMT\n", 4))
	b.ReportAllocs()
	for b.Loop() {
		signet.ReplayID(signet.SchemeCavage, "app", content)
	}
}
