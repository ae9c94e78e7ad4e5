package sw1

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

var benchTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func benchKeys() signet.KeyStore {
	return signet.StaticKeys{"app-id": {ID: "app-id", Secrets: []string{"super-secure-string"}}}
}

func benchURL(b *testing.B, body []byte) string {
	b.Helper()
	u, err := Presign(PresignOptions{
		KeyID:   "app-id",
		Secret:  "super-secure-string",
		Gateway: "https://gw.example.com",
		Target:  "https://api.openai.com/v1/completions",
		Method:  http.MethodPost,
		Body:    body,
		Time:    benchTime,
	})
	if err != nil {
		b.Fatal(err)
	}
	return u
}

func benchVerify(b *testing.B, u string, body []byte, wantErr bool) {
	v := &Verifier{Now: fixedNow(benchTime)}
	keys := benchKeys()
	r := httptest.NewRequest(http.MethodPost, u, nil)
	if body != nil {
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	br := bytes.NewReader(body)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if body != nil {
			br.Reset(body)
			r.Body = io.NopCloser(br)
		}
		_, err := v.Verify(ctx, r, keys)
		if (err != nil) != wantErr {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the typical URL: no body, no signed header, a cached
// derived key.
func BenchmarkVerify(b *testing.B) {
	benchVerify(b, benchURL(b, nil), nil, false)
}

// BenchmarkVerifyInvalid rejects a URL whose signature is off by one digit.
func BenchmarkVerifyInvalid(b *testing.B) {
	u := benchURL(b, nil)
	last := u[len(u)-1]
	if last == '0' {
		last = '1'
	} else {
		last = '0'
	}
	benchVerify(b, u[:len(u)-1]+string(last), nil, true)
}

// BenchmarkVerifyBody verifies a signed 1 KiB JSON body with its
// content-length.
func BenchmarkVerifyBody(b *testing.B) {
	body := []byte(`{"model":"gpt-4o-mini","stream":true,"prompt":"` + strings.Repeat("Say this is a test. ", 48) + `"}`)
	benchVerify(b, benchURL(b, body), body, false)
}

func BenchmarkPresign(b *testing.B) {
	o := PresignOptions{
		KeyID:   "app-id",
		Secret:  "super-secure-string",
		Gateway: "https://gw.example.com",
		Target:  "https://api.openai.com/v1/completions",
		Method:  http.MethodPost,
		Time:    benchTime,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Presign(o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyHashFloor is the hashing a verifier cannot avoid for
// BenchmarkVerify's URL: SHA-256 of its canonical request and HMAC-SHA256
// (pre-keyed with the derived key, reused) of the string to sign. It is the
// baseline BenchmarkVerify is read against (bench/README.md).
func BenchmarkVerifyHashFloor(b *testing.B) {
	v := &Verifier{Now: fixedNow(benchTime)}
	r := httptest.NewRequest(http.MethodPost, benchURL(b, nil), nil)
	_, canonical, err := v.verify(context.Background(), r, benchKeys(), true)
	if err != nil {
		b.Fatal(err)
	}
	const date = "20240102T030405Z"
	dk := signingKey("super-secure-string", date)
	mac := hmac.New(sha256.New, dk[:])
	cr := []byte(canonical)
	sts := make([]byte, 0, 256)
	sum := make([]byte, 0, sha256.Size)
	want := make([]byte, sha256.Size)
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(cr)
		sts = appendStringToSign(sts[:0], date, &h)
		mac.Reset()
		mac.Write(sts)
		sum = mac.Sum(sum[:0])
		if hmac.Equal(sum, want) {
			b.Fatal("equal")
		}
	}
}
