package reqsig

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

var benchTime = time.UnixMilli(1585733039477)

func benchSetup(b *testing.B, target string, tamper bool) (*Verifier, signet.StaticKeys, func() error) {
	b.Helper()
	s := &Signer{KeyID: "aaa-bbb-ccc", Secret: "secret-aaa-bbb-ccc", Now: func() time.Time { return benchTime }}
	r := httptest.NewRequest("GET", "https://api.com"+target, nil)
	if err := s.SignRequest(r); err != nil {
		b.Fatal(err)
	}
	if tamper {
		h := []byte(r.Header.Get("Authorization"))
		h[len(h)-1] ^= 1
		r.Header.Set("Authorization", string(h))
	}
	v := &Verifier{Now: func() time.Time { return benchTime.Add(time.Second) }}
	keys := signet.StaticKeys{"aaa-bbb-ccc": {ID: "aaa-bbb-ccc", Secrets: []string{"secret-aaa-bbb-ccc"}}}
	ctx := context.Background()
	return v, keys, func() error { _, err := v.Verify(ctx, r, keys); return err }
}

// BenchmarkVerify measures a valid request with one candidate.
func BenchmarkVerify(b *testing.B) {
	_, _, verify := benchSetup(b, "/search?product_id=prd1", false)
	b.ReportAllocs()
	for b.Loop() {
		if err := verify(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyEncoded measures a valid request whose path and query are
// percent-encoded (four candidates).
func BenchmarkVerifyEncoded(b *testing.B) {
	_, _, verify := benchSetup(b, "/caf%C3%A9?q=a%20b", false)
	b.ReportAllocs()
	for b.Loop() {
		if err := verify(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyInvalid measures a request whose signature does not match.
func BenchmarkVerifyInvalid(b *testing.B) {
	_, _, verify := benchSetup(b, "/search?product_id=prd1", true)
	b.ReportAllocs()
	for b.Loop() {
		if err := verify(); err == nil {
			b.Fatal("verified")
		}
	}
}

func BenchmarkAuthorization(b *testing.B) {
	s := &Signer{KeyID: "aaa-bbb-ccc", Secret: "secret-aaa-bbb-ccc"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Authorization("GET", "https://api.com/search?product_id=prd1", benchTime); err != nil {
			b.Fatal(err)
		}
	}
}
