package rfc9421

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/signet-dev/signet"
)

// benchRequest signs a typical GET (the default components) and returns the
// request as a server sees it with the key store.
func benchRequest(b *testing.B, alg string) (*http.Request, signet.KeyStore) {
	b.Helper()
	s, key := signerFor(b, alg)
	r := httptest.NewRequest("GET", "https://api.example.com/v1/items?limit=10", nil)
	r.Header.Set("Content-Type", "application/json")
	s.Components = []string{"@method", "@authority", "@path", "@query", "content-type"}
	if err := s.SignRequest(r); err != nil {
		b.Fatal(err)
	}
	return toServer(b, r), signet.StaticKeys{key.ID: key}
}

func benchVerify(b *testing.B, alg string) {
	r, keys := benchRequest(b, alg)
	v := &Verifier{Now: fixedNow}
	ctx := context.Background()
	if _, err := v.Verify(ctx, r, keys); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, keys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyHMACSHA256(b *testing.B)   { benchVerify(b, AlgHMACSHA256) }
func BenchmarkVerifyEd25519(b *testing.B)      { benchVerify(b, AlgEd25519) }
func BenchmarkVerifyECDSAP256(b *testing.B)    { benchVerify(b, AlgECDSAP256SHA256) }
func BenchmarkVerifyECDSAP384(b *testing.B)    { benchVerify(b, AlgECDSAP384SHA384) }
func BenchmarkVerifyRSAPSSSHA512(b *testing.B) { benchVerify(b, AlgRSAPSSSHA512) }
func BenchmarkVerifyRSAV15SHA256(b *testing.B) { benchVerify(b, AlgRSAV15SHA256) }

// BenchmarkVerifyRequired is BenchmarkVerifyHMACSHA256 under a configured
// RequiredComponents policy, as a gateway route sets it.
func BenchmarkVerifyRequired(b *testing.B) {
	r, keys := benchRequest(b, AlgHMACSHA256)
	v := &Verifier{Now: fixedNow, RequiredComponents: []string{"@method", "@authority", "@path", "@query", "content-type"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, keys); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyInvalid: a wrong HMAC signature, so both bases are built.
func BenchmarkVerifyInvalid(b *testing.B) {
	r, keys := benchRequest(b, AlgHMACSHA256)
	r.Header.Set("Signature", "sig1=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:")
	v := &Verifier{Now: fixedNow}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, keys); err == nil {
			b.Fatal("verified")
		}
	}
}

func BenchmarkSignHMACSHA256(b *testing.B) {
	s, _ := signerFor(b, AlgHMACSHA256)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("GET", "https://api.example.com/v1/items?limit=10", nil)
		if err := s.SignRequest(r); err != nil {
			b.Fatal(err)
		}
	}
}
