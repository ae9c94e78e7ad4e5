package cavage

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// benchRequest returns a server-side POST signed over (request-target) host
// date digest.
func benchRequest(b *testing.B, s *Signer) *http.Request {
	b.Helper()
	r, _ := http.NewRequest(http.MethodPost, "http://api.example.com/v1/items?limit=10", strings.NewReader(`{"name":"x"}`))
	s.Now = fixedNow(t0)
	s.Headers = []string{RequestTarget, "host", "date", "digest"}
	if err := s.SignRequest(r); err != nil {
		b.Fatal(err)
	}
	return toServer(b, r)
}

func benchVerify(b *testing.B, s *Signer, wantErr bool) {
	k := getKeys(b)
	r := benchRequest(b, s)
	if wantErr {
		r.Header.Set("Date", t0.Add(time.Second).Format(http.TimeFormat))
	}
	body := r.Body
	v := &Verifier{Now: fixedNow(t0), RequiredHeaders: []string{RequestTarget, "host", "date", "digest"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.Body = body // Verify wraps the body; do not let wrappers pile up
		_, err := v.Verify(ctx, r, k.store)
		if (err != nil) != wantErr {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyHMACSHA256(b *testing.B) {
	benchVerify(b, &Signer{KeyID: "hmac", Secret: testSecret}, false)
}

func BenchmarkVerifyHMACSHA256Rotated(b *testing.B) {
	benchVerify(b, &Signer{KeyID: "rotated", Secret: testSecret}, false)
}

// BenchmarkVerifyInvalid measures the rejection of a wrong signature.
func BenchmarkVerifyInvalid(b *testing.B) {
	benchVerify(b, &Signer{KeyID: "hmac", Secret: testSecret}, true)
}

func BenchmarkVerifyRSASHA256(b *testing.B) {
	benchVerify(b, &Signer{KeyID: "rsa", PrivateKey: getKeys(b).rsa, Algorithm: AlgRSASHA256}, false)
}

func BenchmarkVerifyHS2019RSAPSS(b *testing.B) {
	benchVerify(b, &Signer{KeyID: "rsa", PrivateKey: getKeys(b).rsa}, false)
}

func BenchmarkVerifyECDSAP256(b *testing.B) {
	benchVerify(b, &Signer{KeyID: "ecdsa", PrivateKey: getKeys(b).ecdsa}, false)
}

func BenchmarkVerifyEd25519(b *testing.B) {
	benchVerify(b, &Signer{KeyID: "ed25519", PrivateKey: getKeys(b).ed25519}, false)
}

func BenchmarkParseParams(b *testing.B) {
	const h = `keyId="hmac",algorithm="hmac-sha256",headers="(request-target) host date digest",signature="NojU/9U1FpBirygZdLEjVkPek2xri36SIeWA/c32wWQ="`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseParams(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignHMACSHA256(b *testing.B) {
	s := &Signer{KeyID: "hmac", Secret: testSecret, Now: fixedNow(t0)}
	b.ReportAllocs()
	for b.Loop() {
		r, _ := http.NewRequest(http.MethodGet, "http://api.example.com/v1/items", nil)
		if err := s.SignRequest(r); err != nil {
			b.Fatal(err)
		}
	}
}
