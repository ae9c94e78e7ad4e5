package cavage_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/cavage"
)

func ExampleSigner_SignRequest() {
	r, _ := http.NewRequest(http.MethodPost, "https://api.example.com/v1/items?limit=10", strings.NewReader(`{"name":"x"}`))
	s := &cavage.Signer{
		KeyID:  "my-key",
		Secret: "my-secret",
		Now:    func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) },
	}
	if err := s.SignRequest(r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Date:", r.Header.Get("Date"))
	fmt.Println("Digest:", r.Header.Get("Digest"))
	fmt.Println("Authorization:", r.Header.Get("Authorization"))
	// Output:
	// Date: Wed, 01 May 2024 12:00:00 GMT
	// Digest: SHA-256=AinTfjParhSb9AVDpc4dtEWdEPgw1ROSeaor/V9khaE=
	// Authorization: Signature keyId="my-key",algorithm="hmac-sha256",headers="(request-target) host date digest",signature="NojU/9U1FpBirygZdLEjVkPek2xri36SIeWA/c32wWQ="
}

func ExampleVerifier_Verify() {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	keys, _ := signet.NewStaticKeys(&signet.Key{ID: "my-key", Secrets: []string{"my-secret"}})

	// What a client sends.
	r := httptest.NewRequest(http.MethodPost, "/v1/items?limit=10", strings.NewReader(`{"name":"x"}`))
	r.Host = "api.example.com"
	signer := &cavage.Signer{KeyID: "my-key", Secret: "my-secret", Now: func() time.Time { return now }}
	if err := signer.SignRequest(r); err != nil {
		fmt.Println(err)
		return
	}

	v := &cavage.Verifier{
		Now:             func() time.Time { return now.Add(5 * time.Second) },
		RequiredHeaders: []string{"(request-target)", "host", "date", "digest"},
	}
	ver, err := v.Verify(context.Background(), r, keys)
	if err != nil {
		fmt.Println(signet.Code(err), err)
		return
	}
	fmt.Println(ver.KeyID, ver.Algorithm, ver.SignedHeaders, ver.BodySigned)

	// The body digest is checked as the body streams: read it to the end.
	body, err := io.ReadAll(r.Body)
	fmt.Println(string(body), err)

	// A tampered body fails at EOF.
	r2 := httptest.NewRequest(http.MethodPost, "/v1/items?limit=10", strings.NewReader(`{"name":"x"}`))
	r2.Host = "api.example.com"
	_ = signer.SignRequest(r2)
	r2.Body = io.NopCloser(strings.NewReader(`{"name":"y"}`))
	if _, err := v.Verify(context.Background(), r2, keys); err == nil {
		_, err = io.ReadAll(r2.Body)
		fmt.Println(signet.Code(err))
	}
	// Output:
	// my-key hmac-sha256 [(request-target) host date digest] true
	// {"name":"x"} <nil>
	// digest_mismatch
}
