package rfc9421_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/rfc9421"
)

func ExampleSigner_SignRequest() {
	s := &rfc9421.Signer{
		KeyID:  "app",
		Secret: "a shared secret",
		Now:    func() time.Time { return time.Unix(1718107200, 0) },
	}
	r := httptest.NewRequest("POST", "https://api.example.com/v1/chat?stream=1", strings.NewReader(`{"hello": "world"}`))
	if err := s.SignRequest(r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Content-Digest:", r.Header.Get("Content-Digest"))
	fmt.Println("Signature-Input:", r.Header.Get("Signature-Input"))
	fmt.Println("Signature:", r.Header.Get("Signature"))
	// Output:
	// Content-Digest: sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:
	// Signature-Input: sig1=("@method" "@authority" "@path" "@query" "content-digest");created=1718107200;keyid="app";alg="hmac-sha256"
	// Signature: sig1=:FF726CNDzbl2PPHQYX/ExxlvvfvjTmFKsFHpG7rsOyU=:
}

func ExampleVerifier_Verify() {
	keys, _ := signet.NewStaticKeys(&signet.Key{ID: "app", Secrets: []string{"a shared secret"}})
	now := func() time.Time { return time.Unix(1718107230, 0) }

	// What a client sends: signed by Signer (see its example).
	r := httptest.NewRequest("POST", "https://api.example.com/v1/chat?stream=1", strings.NewReader(`{"hello": "world"}`))
	r.Header.Set("Content-Digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")
	r.Header.Set("Signature-Input", `sig1=("@method" "@authority" "@path" "@query" "content-digest");created=1718107200;keyid="app";alg="hmac-sha256"`)
	r.Header.Set("Signature", "sig1=:FF726CNDzbl2PPHQYX/ExxlvvfvjTmFKsFHpG7rsOyU=:")

	v := &rfc9421.Verifier{Now: now}
	ver, err := v.Verify(context.Background(), r, keys)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The body is checked against Content-Digest as it is read.
	body, err := io.ReadAll(r.Body)
	fmt.Println(ver.KeyID, ver.Algorithm, ver.SignedAt.UTC().Format(time.RFC3339), ver.SignedHeaders)
	fmt.Println(string(body), err)

	// A tampered body fails at EOF.
	r2 := httptest.NewRequest("POST", "https://api.example.com/v1/chat?stream=1", strings.NewReader(`{"hello": "there"}`))
	r2.Header = r.Header.Clone()
	if _, err := v.Verify(context.Background(), r2, keys); err == nil {
		_, err = io.ReadAll(r2.Body)
		fmt.Println(signet.Code(err))
	}
	// Output:
	// app hmac-sha256 2024-06-11T12:00:00Z ["@method" "@authority" "@path" "@query" "content-digest"]
	// {"hello": "world"} <nil>
	// digest_mismatch
}

func ExampleSignatureBase() {
	r := httptest.NewRequest("GET", "https://example.com/foo?param=Value&Pet=dog", nil)
	base, _ := rfc9421.SignatureBase(r, `("@method" "@authority" "@query-param";name="Pet");created=1618884473;keyid="k"`)
	fmt.Println(string(base))
	// Output:
	// "@method": GET
	// "@authority": example.com
	// "@query-param";name="Pet": dog
	// "@signature-params": ("@method" "@authority" "@query-param";name="Pet");created=1618884473;keyid="k"
}

func ExampleCheckContentDigest() {
	err := rfc9421.CheckContentDigest("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", strings.NewReader(`{"hello": "world"}`))
	fmt.Println(err)
	// Output: <nil>
}
