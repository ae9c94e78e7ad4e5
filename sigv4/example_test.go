package sigv4_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/sigv4"
)

func ExampleSigner_SignRequest() {
	s := &sigv4.Signer{
		KeyID:  "AKIDEXAMPLE",
		Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		Now:    func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) },
	}
	r, _ := http.NewRequest(http.MethodGet, "https://api.example.com/v1/items?limit=10", nil)
	if err := s.SignRequest(r); err != nil {
		panic(err)
	}
	fmt.Println(r.Header.Get("X-Amz-Date"))
	fmt.Println(strings.ReplaceAll(r.Header.Get("Authorization"), ", ", ",\n  "))
	// Output:
	// 20240501T120000Z
	// AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/execute-api/aws4_request,
	//   SignedHeaders=host;x-amz-content-sha256;x-amz-date,
	//   Signature=556051a3383e4da54ad7cb2a8d848deb4f9aada8810a4702dd582bd34a51788c
}

func ExampleSigner_Presign() {
	s := &sigv4.Signer{
		KeyID:  "AKIDEXAMPLE",
		Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		Now:    func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) },
	}
	r, _ := http.NewRequest(http.MethodGet, "https://api.example.com/files/report.pdf", nil)
	u, err := s.Presign(r, 15*time.Minute)
	if err != nil {
		panic(err)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	fmt.Println(pu.Path, q.Get("X-Amz-Expires"), q.Get("X-Amz-SignedHeaders"), len(q.Get("X-Amz-Signature")))
	// Output:
	// /files/report.pdf 900 host 64
}

func ExampleVerifier_Verify() {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	keys, _ := signet.NewStaticKeys(&signet.Key{ID: "AKIDEXAMPLE", Secrets: []string{"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}})

	// A client signs ...
	s := &sigv4.Signer{KeyID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Now: func() time.Time { return now }}
	c, _ := http.NewRequest(http.MethodPost, "https://api.example.com/v1/items", strings.NewReader(`{"name":"x"}`))
	if err := s.SignRequest(c); err != nil {
		panic(err)
	}

	// ... and the gateway verifies what it receives.
	r := httptest.NewRequest(c.Method, c.URL.String(), strings.NewReader(`{"name":"x"}`))
	r.Header = c.Header
	v := &sigv4.Verifier{Now: func() time.Time { return now.Add(2 * time.Second) }}
	ver, err := v.Verify(context.Background(), r, keys)
	if err != nil {
		fmt.Println(signet.Code(err), err)
		return
	}
	fmt.Println(ver.Scheme, ver.KeyID, ver.Algorithm, ver.BodySigned, ver.SignedHeaders)
	// Output:
	// sigv4 AKIDEXAMPLE AWS4-HMAC-SHA256 true [content-length host x-amz-content-sha256 x-amz-date]
}

func ExampleParseAuthorization() {
	a, err := sigv4.ParseAuthorization("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
		"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Credential.KeyID, a.Credential.Date, a.Credential.Region, a.Credential.Service, a.SignedHeaders)
	// Output:
	// AKIDEXAMPLE 20150830 us-east-1 service [host x-amz-date]
}
