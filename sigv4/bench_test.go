package sigv4_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/sigv4"
)

func benchRequest(b *testing.B, pre bool) (*http.Request, *sigv4.Verifier, signet.StaticKeys) {
	b.Helper()
	var r *http.Request
	if pre {
		r = presigned(b, "/v1/items/42?view=full&lang=en", time.Hour)
	} else {
		r = signed(b, "GET", "/v1/items/42?view=full&lang=en", "")
	}
	return r, &sigv4.Verifier{Now: func() time.Time { return t0.Add(time.Second) }}, testKeys()
}

func benchVerify(b *testing.B, r *http.Request, v *sigv4.Verifier, keys signet.StaticKeys, want error) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, err := v.Verify(ctx, r, keys)
		if !errors.Is(err, want) {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	b.Run("header", func(b *testing.B) {
		r, v, keys := benchRequest(b, false)
		benchVerify(b, r, v, keys, nil)
	})
	b.Run("presigned", func(b *testing.B) {
		r, v, keys := benchRequest(b, true)
		benchVerify(b, r, v, keys, nil)
	})
	b.Run("header-body-1KiB", func(b *testing.B) {
		body := strings.Repeat("x", 1024)
		r := signed(b, "POST", "/v1/items", body)
		v := &sigv4.Verifier{Now: func() time.Time { return t0.Add(time.Second) }}
		ctx := context.Background()
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			r.Body = http.NoBody
			r.Body = readCloser(body)
			if _, err := v.Verify(ctx, r, testKeys()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyInvalid measures a wrong signature, which tries every
// canonical form the request allows before failing.
func BenchmarkVerifyInvalid(b *testing.B) {
	b.Run("header", func(b *testing.B) {
		r, v, keys := benchRequest(b, false)
		flipSig(r, "Authorization")
		benchVerify(b, r, v, keys, signet.ErrMismatch)
	})
	b.Run("presigned", func(b *testing.B) {
		r, v, keys := benchRequest(b, true)
		flipQuerySig(r)
		benchVerify(b, r, v, keys, signet.ErrMismatch)
	})
	b.Run("presigned-worst", func(b *testing.B) {
		// A path and query where every client canonicalisation differs.
		c := httptest.NewRequest("GET", "http://api.example.com/a/./(b)%C3%BC//c?%C3%A9=1&~=2&a/=3&a-=4", nil)
		s := &sigv4.Signer{KeyID: "AKID", Secret: secret, Now: fixed}
		u, err := s.Presign(c, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		r := httptest.NewRequest("GET", u, nil)
		flipQuerySig(r)
		v := &sigv4.Verifier{Now: func() time.Time { return t0.Add(time.Second) }}
		benchVerify(b, r, v, testKeys(), signet.ErrMismatch)
	})
}

func readCloser(s string) *nopCloser { return &nopCloser{strings.NewReader(s)} }

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
