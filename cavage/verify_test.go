package cavage

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

const testSecret = "s3cr3t-value-never-shown"

// testKeys holds one key of each kind.
type testKeys struct {
	rsa     *rsa.PrivateKey
	ecdsa   *ecdsa.PrivateKey
	ed25519 ed25519.PrivateKey
	store   signet.StaticKeys
}

var (
	keysOnce sync.Once
	keysVal  *testKeys
)

func getKeys(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		_, edk, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		rsaPubDER, _ := x509.MarshalPKIXPublicKey(rk.Public())
		store, err := signet.NewStaticKeys(
			&signet.Key{ID: "hmac", Secrets: []string{testSecret}},
			&signet.Key{ID: "hmac-other", Secrets: []string{"another-secret"}},
			&signet.Key{ID: "rotated", Secrets: []string{"new-secret", testSecret}},
			&signet.Key{ID: "sha1", Secrets: []string{testSecret}, Algorithms: []string{AlgHMACSHA1}},
			&signet.Key{ID: "only512", Secrets: []string{testSecret}, Algorithms: []string{AlgHMACSHA512}},
			&signet.Key{ID: "reqsig-only", Secrets: []string{testSecret}, Schemes: []string{signet.SchemeReqSig}},
			&signet.Key{ID: "short-lived", Secrets: []string{testSecret}, MaxExpires: time.Minute},
			&signet.Key{ID: "rsa", PublicKey: rk.Public()},
			&signet.Key{ID: "ecdsa", PublicKey: ek.Public()},
			&signet.Key{ID: "ed25519", PublicKey: edk.Public()},
			// A key whose "secret" is the RSA public key: the classic
			// confusion attack signs hmac with public material.
			&signet.Key{ID: "rsa-as-secret", Secrets: []string{string(rsaPubDER)}},
		)
		if err != nil {
			panic(err)
		}
		keysVal = &testKeys{rsa: rk, ecdsa: ek, ed25519: edk, store: store}
	})
	return keysVal
}

// newSigned returns a POST with a body, signed over (request-target) host
// date digest x-custom with the "hmac" key at t0.
func newSigned(t testing.TB, mutate func(s *Signer)) *http.Request {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, "http://api.example.com/v1/items?b=2&a=1", strings.NewReader(`{"name":"x"}`))
	r.Header.Set("X-Custom", "hello")
	r.Header.Set("Content-Type", "application/json")
	s := &Signer{KeyID: "hmac", Secret: testSecret, Now: fixedNow(t0),
		Headers: []string{RequestTarget, "host", "date", "digest", "x-custom"}}
	if mutate != nil {
		mutate(s)
	}
	if err := s.SignRequest(r); err != nil {
		t.Fatal(err)
	}
	return toServer(t, r)
}

// toServer sends a client request through the wire format and returns what
// a net/http server hands to its handler.
func toServer(t testing.TB, r *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

// editParam rewrites one parameter of the Authorization header.
func editParam(r *http.Request, name, value string) {
	h := r.Header.Get("Authorization")
	i := strings.Index(h, name+"=")
	if i < 0 {
		h += "," + name + "=" + value
	} else {
		j := i + len(name) + 1
		var end int
		if h[j] == '"' {
			end = j + 1 + strings.IndexByte(h[j+1:], '"') + 1
		} else {
			end = j + strings.IndexAny(h[j:]+",", ",")
		}
		h = h[:j] + value + h[end:]
	}
	r.Header.Set("Authorization", h)
}

func TestVerifyRoundTrip(t *testing.T) {
	k := getKeys(t)
	tests := []struct {
		name    string
		signer  Signer
		wantAlg string
		wantIdx int
	}{
		{"hmac-sha256 default", Signer{KeyID: "hmac", Secret: testSecret}, AlgHMACSHA256, 0},
		{"hmac-sha512", Signer{KeyID: "hmac", Secret: testSecret, Algorithm: AlgHMACSHA512}, AlgHMACSHA512, 0},
		{"hmac-sha1 listed", Signer{KeyID: "sha1", Secret: testSecret, Algorithm: AlgHMACSHA1}, AlgHMACSHA1, 0},
		{"rotated secret", Signer{KeyID: "rotated", Secret: testSecret}, AlgHMACSHA256, 1},
		{"Signature header", Signer{KeyID: "hmac", Secret: testSecret, HeaderName: "Signature"}, AlgHMACSHA256, 0},
		{"rsa-sha256", Signer{KeyID: "rsa", PrivateKey: k.rsa, Algorithm: AlgRSASHA256}, AlgRSASHA256, -1},
		{"rsa-sha512", Signer{KeyID: "rsa", PrivateKey: k.rsa, Algorithm: AlgRSASHA512}, AlgRSASHA512, -1},
		{"hs2019 rsa", Signer{KeyID: "rsa", PrivateKey: k.rsa}, AlgRSAPSSSHA512, -1},
		{"hs2019 ecdsa", Signer{KeyID: "ecdsa", PrivateKey: k.ecdsa}, AlgECDSASHA256, -1},
		{"ecdsa-sha256", Signer{KeyID: "ecdsa", PrivateKey: k.ecdsa, Algorithm: AlgECDSASHA256}, AlgECDSASHA256, -1},
		{"hs2019 ed25519", Signer{KeyID: "ed25519", PrivateKey: k.ed25519}, AlgEd25519, -1},
		{"ed25519", Signer{KeyID: "ed25519", PrivateKey: k.ed25519, Algorithm: AlgEd25519}, AlgEd25519, -1},
		{"created expires", Signer{KeyID: "hmac", Secret: testSecret, Expires: time.Minute,
			Headers: []string{RequestTarget, "host", Created, Expires, "digest"}}, AlgHMACSHA256, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPut, "http://api.example.com/p?q=1", strings.NewReader("body"))
			s := tt.signer
			s.Now = fixedNow(t0)
			if err := s.SignRequest(r); err != nil {
				t.Fatal(err)
			}
			r = toServer(t, r)
			v := &Verifier{Now: fixedNow(t0.Add(10 * time.Second)), RequiredHeaders: []string{RequestTarget, "host", "digest"}}
			ver, err := v.Verify(context.Background(), r, k.store)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ver.Algorithm != tt.wantAlg || ver.SecretIndex != tt.wantIdx || !ver.BodySigned || ver.KeyID != s.KeyID {
				t.Fatalf("Verified = %+v, want alg %q index %d", ver, tt.wantAlg, tt.wantIdx)
			}
			if ver.SignedAt.IsZero() {
				t.Errorf("SignedAt is zero")
			}
			if s.Expires > 0 && !ver.ExpiresAt.Equal(t0.Add(time.Minute)) {
				t.Errorf("ExpiresAt = %v", ver.ExpiresAt)
			}
			body, err := io.ReadAll(r.Body)
			if err != nil || string(body) != "body" {
				t.Fatalf("body = %q, %v", body, err)
			}
		})
	}
}

func TestVerifyTamper(t *testing.T) {
	k := getKeys(t)
	tests := []struct {
		name   string
		sign   func(s *Signer) // nil: default signer
		tamper func(r *http.Request)
		v      Verifier
		want   error
	}{
		{name: "method", tamper: func(r *http.Request) { r.Method = http.MethodPut }, want: signet.ErrMismatch},
		{name: "path", tamper: func(r *http.Request) { r.RequestURI = "/v1/other?b=2&a=1" }, want: signet.ErrMismatch},
		{name: "query", tamper: func(r *http.Request) { r.RequestURI = "/v1/items?b=2&a=2" }, want: signet.ErrMismatch},
		{name: "query order", tamper: func(r *http.Request) { r.RequestURI = "/v1/items?a=1&b=2" }, want: signet.ErrMismatch},
		{name: "host", tamper: func(r *http.Request) { r.Host = "evil.example.com" }, want: signet.ErrMismatch},
		{name: "date", tamper: func(r *http.Request) { r.Header.Set("Date", t0.Add(time.Second).Format(http.TimeFormat)) }, want: signet.ErrMismatch},
		{name: "digest header", tamper: func(r *http.Request) {
			sum := sha256.Sum256([]byte("other"))
			r.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
		}, want: signet.ErrMismatch},
		{name: "custom header", tamper: func(r *http.Request) { r.Header.Set("X-Custom", "hellO") }, want: signet.ErrMismatch},
		{name: "custom header added value", tamper: func(r *http.Request) { r.Header.Add("X-Custom", "more") }, want: signet.ErrMismatch},
		{name: "signature byte", tamper: func(r *http.Request) {
			p, _ := ParseParams(strings.TrimPrefix(r.Header.Get("Authorization"), "Signature "))
			p.Signature[0] ^= 1
			editParam(r, "signature", `"`+base64.StdEncoding.EncodeToString(p.Signature)+`"`)
		}, want: signet.ErrMismatch},
		{name: "signature truncated", tamper: func(r *http.Request) { editParam(r, "signature", `"AAAA"`) }, want: signet.ErrMismatch},
		{name: "headers param", tamper: func(r *http.Request) { editParam(r, "headers", `"(request-target) host date x-custom"`) }, want: signet.ErrMismatch},
		{name: "algorithm param", tamper: func(r *http.Request) { editParam(r, "algorithm", `"hmac-sha512"`) }, want: signet.ErrMismatch},
		{name: "other key", tamper: func(r *http.Request) { editParam(r, "keyId", `"hmac-other"`) }, want: signet.ErrMismatch},
		{name: "unknown key", tamper: func(r *http.Request) { editParam(r, "keyId", `"nobody"`) }, want: signet.ErrUnknownKey},
		{name: "scheme not allowed", tamper: func(r *http.Request) { editParam(r, "keyId", `"reqsig-only"`) }, want: signet.ErrSchemeNotAllowed},
		{name: "signed header missing", tamper: func(r *http.Request) { r.Header.Del("X-Custom") }, want: signet.ErrMissingHeader},
		{name: "signed date missing", tamper: func(r *http.Request) { r.Header.Del("Date") }, want: signet.ErrMissingHeader},
		{name: "signed digest missing", tamper: func(r *http.Request) { r.Header.Del("Digest") }, want: signet.ErrMissingHeader},
		{name: "created param", sign: withExpiry, tamper: func(r *http.Request) { editParam(r, "created", fmt.Sprint(t0.Unix()+1)) }, want: signet.ErrMismatch},
		{name: "expires param", sign: withExpiry, tamper: func(r *http.Request) { editParam(r, "expires", fmt.Sprint(t0.Unix()+61)) }, want: signet.ErrMismatch},
		{name: "required header not signed", v: Verifier{RequiredHeaders: []string{"Content-Type"}}, want: signet.ErrRequiredHeader},
		{name: "required digest not signed", sign: func(s *Signer) { s.Headers = []string{"date"} },
			v: Verifier{RequiredHeaders: []string{"digest"}}, want: signet.ErrRequiredHeader},
		{name: "date too old", v: Verifier{Now: fixedNow(t0.Add(301 * time.Second))}, want: signet.ErrExpired},
		{name: "date in future", v: Verifier{Now: fixedNow(t0.Add(-301 * time.Second))}, want: signet.ErrNotYetValid},
		{name: "date custom skew", v: Verifier{Now: fixedNow(t0.Add(31 * time.Second)), MaxSkew: 30 * time.Second}, want: signet.ErrExpired},
		{name: "date unparseable", sign: func(s *Signer) {}, tamper: func(r *http.Request) { r.Header.Set("Date", "yesterday") }, want: signet.ErrMalformed},
		{name: "expires passed", sign: withExpiry, v: Verifier{Now: fixedNow(t0.Add(61 * time.Second))}, want: signet.ErrExpired},
		{name: "created in future", sign: func(s *Signer) {
			withExpiry(s)
			s.Headers = []string{RequestTarget, Created, Expires}
			s.Expires = time.Hour
		}, v: Verifier{Now: fixedNow(t0.Add(-301 * time.Second))}, want: signet.ErrNotYetValid},
		{name: "expires too long for key", sign: func(s *Signer) {
			withExpiry(s)
			s.KeyID = "short-lived"
			s.Expires = time.Hour
		}, want: signet.ErrExpiresTooLong},
		{name: "expires far away for key", sign: func(s *Signer) {
			withExpiry(s)
			s.KeyID = "short-lived"
			s.Expires = time.Minute
		}, tamper: func(r *http.Request) {
			// (expires-created)*1e9 overflows int64 into a negative Duration.
			editParam(r, "expires", "996999999978")
		}, want: signet.ErrExpiresTooLong},
		{name: "hmac-sha1 refused unless listed", sign: func(s *Signer) { s.Algorithm = AlgHMACSHA1 }, want: signet.ErrAlgorithm},
		{name: "algorithm not listed by key", sign: func(s *Signer) { s.KeyID = "only512" }, want: signet.ErrAlgorithm},
		{name: "unknown algorithm", tamper: func(r *http.Request) { editParam(r, "algorithm", `"hmac-md5"`) }, want: signet.ErrAlgorithm},
		{name: "hmac claimed for rsa key", tamper: func(r *http.Request) { editParam(r, "keyId", `"rsa"`) }, want: signet.ErrAlgorithm},
		{name: "hmac claimed for ed25519 key", tamper: func(r *http.Request) { editParam(r, "keyId", `"ed25519"`) }, want: signet.ErrAlgorithm},
		{name: "rsa claimed for secret key", sign: func(s *Signer) {
			s.PrivateKey, s.Algorithm = k.rsa, AlgRSASHA256
		}, want: signet.ErrAlgorithm},
		{name: "hs2019 claimed for secret key", sign: func(s *Signer) { s.PrivateKey = k.ed25519 }, want: signet.ErrAlgorithm},
		{name: "rsa claimed for ecdsa key", sign: func(s *Signer) {
			s.KeyID, s.PrivateKey, s.Algorithm = "ecdsa", k.rsa, AlgRSASHA256
		}, want: signet.ErrAlgorithm},
		{name: "hmac with public key bytes as secret", sign: func(s *Signer) {
			der, _ := x509.MarshalPKIXPublicKey(k.rsa.Public())
			s.KeyID, s.Secret = "rsa", string(der)
		}, want: signet.ErrAlgorithm},
		{name: "rsa signature from another key", sign: func(s *Signer) {
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			s.KeyID, s.PrivateKey = "ecdsa", other
		}, want: signet.ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSigned(t, tt.sign)
			if tt.tamper != nil {
				tt.tamper(r)
			}
			v := tt.v
			if v.Now == nil {
				v.Now = fixedNow(t0)
			}
			ver, err := v.Verify(context.Background(), r, k.store)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %v", ver, err, tt.want)
			}
			assertSafeError(t, err, r)
		})
	}
}

func withExpiry(s *Signer) {
	s.Expires = time.Minute
	s.Headers = append(s.Headers, Created, Expires)
}

// assertSafeError checks that err is a *signet.Error for this scheme and
// shows neither a secret nor a signature.
func assertSafeError(t *testing.T, err error, r *http.Request) {
	t.Helper()
	var se *signet.Error
	if !errors.As(err, &se) || se.Scheme != signet.SchemeCavage {
		t.Fatalf("error %v is not a cavage *signet.Error", err)
	}
	msg := err.Error()
	if strings.Contains(msg, testSecret) {
		t.Fatalf("error shows the secret: %s", msg)
	}
	if p, perr := ParseParams(strings.TrimPrefix(r.Header.Get("Authorization"), "Signature ")); perr == nil {
		if strings.Contains(msg, p.signature) {
			t.Fatalf("error shows the signature: %s", msg)
		}
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error has a line break: %q", msg)
	}
}

func TestVerifyDigestStreaming(t *testing.T) {
	k := getKeys(t)
	t.Run("body tampered fails at EOF", func(t *testing.T) {
		r := newSigned(t, nil)
		r.Body = io.NopCloser(strings.NewReader(`{"name":"y"}`))
		ver, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store)
		if err != nil {
			t.Fatalf("Verify: %v (must not read the body)", err)
		}
		if !ver.BodySigned {
			t.Fatal("BodySigned = false")
		}
		_, err = io.ReadAll(r.Body)
		if !errors.Is(err, signet.ErrDigest) {
			t.Fatalf("read = %v, want ErrDigest", err)
		}
		assertSafeError(t, err, r)
		if _, err2 := r.Body.Read(make([]byte, 1)); !errors.Is(err2, signet.ErrDigest) {
			t.Fatalf("second read = %v, want sticky ErrDigest", err2)
		}
	})
	t.Run("body truncated fails at EOF", func(t *testing.T) {
		r := newSigned(t, nil)
		r.Body = io.NopCloser(strings.NewReader(`{"name":`))
		if _, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r.Body); !errors.Is(err, signet.ErrDigest) {
			t.Fatalf("read = %v, want ErrDigest", err)
		}
	})
	t.Run("verify does not read the body", func(t *testing.T) {
		r := newSigned(t, nil)
		body := &countingReader{r: r.Body}
		r.Body = body
		if _, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store); err != nil {
			t.Fatal(err)
		}
		if body.n != 0 {
			t.Fatalf("Verify read %d bytes", body.n)
		}
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		big := bytes.Repeat([]byte("a"), 100)
		r := httptest.NewRequest(http.MethodPost, "http://h/", bytes.NewReader(big))
		s := &Signer{KeyID: "hmac", Secret: testSecret, Now: fixedNow(t0)}
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
		_, err := (&Verifier{Now: fixedNow(t0), MaxBody: 99}).Verify(context.Background(), r, k.store)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r.Body)
		if !errors.Is(err, signet.ErrBodyTooLarge) {
			t.Fatalf("read = %v, want ErrBodyTooLarge", err)
		}
		if len(got) > 99 {
			t.Fatalf("read %d bytes past the limit", len(got))
		}
	})
	t.Run("body exactly at limit", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "http://h/", strings.NewReader("0123456789"))
		s := &Signer{KeyID: "hmac", Secret: testSecret, Now: fixedNow(t0)}
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
		if _, err := (&Verifier{Now: fixedNow(t0), MaxBody: 10}).Verify(context.Background(), r, k.store); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Fatalf("read = %v", err)
		}
	})
	t.Run("huge MaxBody", func(t *testing.T) {
		r := newSigned(t, nil)
		if _, err := (&Verifier{Now: fixedNow(t0), MaxBody: 1<<63 - 1}).Verify(context.Background(), r, k.store); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Fatalf("read = %v", err)
		}
	})
	t.Run("sha-512 and unknown algs", func(t *testing.T) {
		body := "payload"
		s512 := sha512.Sum512([]byte(body))
		r := httptest.NewRequest(http.MethodPost, "http://h/", strings.NewReader(body))
		r.Header.Set("Digest", "MD5=abc, sha-512="+base64.StdEncoding.EncodeToString(s512[:]))
		s := &Signer{KeyID: "hmac", Secret: testSecret, Now: fixedNow(t0)}
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
		if _, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Fatalf("read = %v", err)
		}
	})
	t.Run("no supported digest", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "http://h/", strings.NewReader("x"))
		r.Header.Set("Digest", "MD5=abc")
		s := &Signer{KeyID: "hmac", Secret: testSecret, Now: fixedNow(t0)}
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
		_, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store)
		if !errors.Is(err, signet.ErrDigest) {
			t.Fatalf("Verify = %v, want ErrDigest", err)
		}
	})
	t.Run("empty body with wrong digest", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
		sum := sha256.Sum256([]byte("not empty"))
		r.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
		s := &Signer{KeyID: "hmac", Secret: testSecret, Now: fixedNow(t0), Headers: []string{"date", "digest"}}
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
		_, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store)
		if !errors.Is(err, signet.ErrDigest) {
			t.Fatalf("Verify = %v, want ErrDigest", err)
		}
	})
	t.Run("empty body with empty digest", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
		s := &Signer{KeyID: "hmac", Secret: testSecret, Now: fixedNow(t0), Headers: []string{"date", "digest"}}
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
		ver, err := (&Verifier{Now: fixedNow(t0), RequiredHeaders: []string{"digest"}}).Verify(context.Background(), r, k.store)
		if err != nil || ver.BodySigned {
			t.Fatalf("Verify = %+v, %v", ver, err)
		}
	})
	t.Run("required digest vacuous without body", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
		s := &Signer{KeyID: "hmac", Secret: testSecret, Now: fixedNow(t0)}
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
		v := &Verifier{Now: fixedNow(t0), RequiredHeaders: []string{RequestTarget, "host", "date", "digest"}}
		if _, err := v.Verify(context.Background(), r, k.store); err != nil {
			t.Fatal(err)
		}
	})
}

type countingReader struct {
	r io.ReadCloser
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
func (c *countingReader) Close() error { return c.r.Close() }

func TestCheckDigest(t *testing.T) {
	s256 := sha256.Sum256([]byte("abc"))
	s512 := sha512.Sum512([]byte("abc"))
	b256 := base64.StdEncoding.EncodeToString(s256[:])
	b512 := base64.StdEncoding.EncodeToString(s512[:])
	tests := []struct {
		header, body string
		want         error
	}{
		{"SHA-256=" + b256, "abc", nil},
		{"sha-256=" + b256, "abc", nil},
		{"SHA-512=" + b512, "abc", nil},
		{"SHA-256=" + b256 + ", SHA-512=" + b512, "abc", nil},
		{"UNIXsum=30637, SHA-256=" + b256, "abc", nil},
		{"SHA-256=" + b256, "abd", signet.ErrDigest},
		{"SHA-256=" + b256 + ",SHA-512=" + b256, "abc", signet.ErrDigest},
		{"MD5=kAFQmDzST7DWlj99KOF/cg==", "abc", signet.ErrDigest},
		{"", "abc", signet.ErrDigest},
		{"SHA-256=!!!", "abc", signet.ErrDigest},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			err := CheckDigest(tt.header, strings.NewReader(tt.body))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("CheckDigest = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyNoSignature(t *testing.T) {
	k := getKeys(t)
	tests := []struct {
		name    string
		headers map[string]string
		want    error
	}{
		{"none", nil, signet.ErrNoSignature},
		{"bearer", map[string]string{"Authorization": "Bearer abc"}, signet.ErrNoSignature},
		{"other scheme starting with Signature", map[string]string{"Authorization": "SignatureV2 abc"}, signet.ErrNoSignature},
		{"rfc9421", map[string]string{"Signature-Input": `sig1=("@method");created=1`, "Signature": "sig1=:AAAA:"}, signet.ErrNoSignature},
		{"empty params", map[string]string{"Authorization": "Signature"}, signet.ErrMalformed},
		{"garbage params", map[string]string{"Authorization": "Signature garbage"}, signet.ErrMalformed},
		{"garbage Signature header", map[string]string{"Signature": "garbage"}, signet.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			_, err := (&Verifier{}).Verify(context.Background(), r, k.store)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyKeyStoreError(t *testing.T) {
	storeErr := errors.New("database down")
	keys := signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) { return nil, storeErr })
	r := newSigned(t, nil)
	_, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, keys)
	if !errors.Is(err, storeErr) {
		t.Fatalf("Verify = %v, want the store's error", err)
	}
	if !errors.Is(err, signet.ErrStoreUnavailable) || signet.Code(err) != "store_unavailable" {
		t.Fatalf("Code = %q, want store_unavailable", signet.Code(err))
	}
	wrapped := signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) {
		return nil, fmt.Errorf("lookup: %w", signet.ErrUnknownKey)
	})
	_, err = (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), newSigned(t, nil), wrapped)
	var se *signet.Error
	if !errors.As(err, &se) || !errors.Is(err, signet.ErrUnknownKey) || se.KeyID != "hmac" {
		t.Fatalf("Verify = %v, want a cavage ErrUnknownKey", err)
	}
}

// TestVerifyCompat covers what real clients send (COMPAT.md, draft-cavage).
func TestVerifyCompat(t *testing.T) {
	k := getKeys(t)
	hmacB64 := func(s string) string {
		m := hmac.New(sha256.New, []byte(testSecret))
		m.Write([]byte(s))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	t.Run("python example UTC date, no headers param", func(t *testing.T) {
		date := t0.Format("Mon, 02 Jan 2006 15:04:05") + " UTC"
		r := httptest.NewRequest(http.MethodGet, "http://h/protected", nil)
		r.Header.Set("date", date)
		r.Header.Set("Authorization", `Signature keyId="hmac",algorithm="hmac-sha256",signature="`+hmacB64("date: "+date)+`"`)
		ver, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store)
		if err != nil {
			t.Fatal(err)
		}
		if !ver.SignedAt.Equal(t0) || strings.Join(ver.SignedHeaders, " ") != "date" {
			t.Fatalf("Verified = %+v", ver)
		}
	})
	t.Run("empty headers param means date", func(t *testing.T) {
		date := t0.Format(http.TimeFormat)
		r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
		r.Header.Set("Date", date)
		r.Header.Set("Authorization", `Signature keyId="hmac",algorithm="hmac-sha256",headers="",signature="`+hmacB64("date: "+date)+`"`)
		if _, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store); err != nil {
			t.Fatal(err)
		}
		// The signature over the empty string (what http-signature signs)
		// is refused: it would be valid for any request.
		r.Header.Set("Authorization", `Signature keyId="hmac",algorithm="hmac-sha256",headers="",signature="`+hmacB64("")+`"`)
		if _, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store); !errors.Is(err, signet.ErrMismatch) {
			t.Fatalf("Verify = %v, want ErrMismatch", err)
		}
	})
	t.Run("repeated header joined with comma", func(t *testing.T) {
		for _, sep := range []string{", ", ","} {
			r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
			r.Header.Add("Cache-Control", "max-age=60")
			r.Header.Add("Cache-Control", "must-revalidate")
			ss := "cache-control: max-age=60" + sep + "must-revalidate"
			r.Header.Set("Authorization", `Signature keyId="hmac",algorithm="hmac-sha256",headers="cache-control",signature="`+hmacB64(ss)+`"`)
			if _, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store); err != nil {
				t.Fatalf("sep %q: %v", sep, err)
			}
		}
	})
	t.Run("api-signature signer keeps the case of names", func(t *testing.T) {
		// api-signature's Signer: headers="${Object.keys(data).join(" ")}"
		// and lines "${k}: ${v}", names as the caller spelled them.
		date := t0.Format(http.TimeFormat)
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.Host = "api.example.com"
		r.Header.Set("Date", date)
		ss := "Host: api.example.com\ndate: " + date
		r.Header.Set("Authorization", `Signature keyId="hmac",algorithm="hmac-sha256",headers="Host date",signature="`+hmacB64(ss)+`"`)
		ver, err := (&Verifier{Now: fixedNow(t0), RequiredHeaders: []string{"host", "date"}}).Verify(context.Background(), r, k.store)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ver.SignedHeaders, " "); got != "host date" {
			t.Fatalf("SignedHeaders = %q", got)
		}
	})
	t.Run("comma join only tried for repeated headers", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
		r.Header.Set("X-A", "a, b")
		r.Header.Set("Authorization", `Signature keyId="hmac",algorithm="hmac-sha256",headers="x-a",signature="`+hmacB64("x-a: a,b")+`"`)
		if _, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store); !errors.Is(err, signet.ErrMismatch) {
			t.Fatalf("Verify = %v, want ErrMismatch", err)
		}
	})
	t.Run("whitespace between params, unpadded base64, opaque", func(t *testing.T) {
		date := t0.Format(http.TimeFormat)
		r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
		r.Header.Set("Date", date)
		sig := strings.TrimRight(hmacB64("date: "+date), "=")
		r.Header.Set("Signature", `keyId="hmac", algorithm="hmac-sha256" ,opaque="x", headers="date",  signature="`+sig+`"`)
		ver, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store)
		if err != nil {
			t.Fatal(err)
		}
		// One identity per signature, for replay protection.
		if want := hmacB64("date: " + date); ver.Signature != want {
			t.Fatalf("Signature = %q, want the padded %q", ver.Signature, want)
		}
	})
	t.Run("rsa-pss with maximum salt (node)", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		ss := "(request-target): get /x"
		d := sha512.Sum512([]byte(ss))
		sig, err := rsa.SignPSS(rand.Reader, k.rsa, crypto.SHA512, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", `Signature keyId="rsa",algorithm="hs2019",headers="(request-target)",signature="`+base64.StdEncoding.EncodeToString(sig)+`"`)
		ver, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store)
		if err != nil || ver.Algorithm != AlgRSAPSSSHA512 {
			t.Fatalf("Verify = %+v, %v", ver, err)
		}
	})
	t.Run("ecdsa raw r||s", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		d := sha256.Sum256([]byte("(request-target): get /x"))
		rr, ss, err := ecdsa.Sign(rand.Reader, k.ecdsa, d[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := append(rr.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32))...)
		r.Header.Set("Authorization", `Signature keyId="ecdsa",algorithm="ecdsa-sha256",headers="(request-target)",signature="`+base64.StdEncoding.EncodeToString(sig)+`"`)
		if _, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store); err != nil {
			t.Fatal(err)
		}
		// and a wrong s fails
		ss.Add(ss, big.NewInt(1))
		sig = append(rr.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32))...)
		r.Header.Set("Authorization", `Signature keyId="ecdsa",algorithm="ecdsa-sha256",headers="(request-target)",signature="`+base64.StdEncoding.EncodeToString(sig)+`"`)
		if _, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store); !errors.Is(err, signet.ErrMismatch) {
			t.Fatalf("Verify = %v, want ErrMismatch", err)
		}
	})
	t.Run("absent algorithm uses the key", func(t *testing.T) {
		date := t0.Format(http.TimeFormat)
		r := httptest.NewRequest(http.MethodGet, "http://h/", nil)
		r.Header.Set("Date", date)
		r.Header.Set("Authorization", `Signature keyId="hmac",signature="`+hmacB64("date: "+date)+`"`)
		ver, err := (&Verifier{Now: fixedNow(t0)}).Verify(context.Background(), r, k.store)
		if err != nil || ver.Algorithm != AlgHMACSHA256 {
			t.Fatalf("Verify = %+v, %v", ver, err)
		}
	})
}

func TestParseDate(t *testing.T) {
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	for _, s := range []string{
		"Sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 +0000",
		"Sun, 06 Nov 1994 09:49:37 +0100",
	} {
		got, ok := parseDate(s)
		if !ok || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "yesterday", "Sun, 06 Nov 1994 08:49:37 EST", "1994-11-06T08:49:37Z"} {
		if _, ok := parseDate(s); ok {
			t.Errorf("parseDate(%q) succeeded", s)
		}
	}
}

func TestNonce(t *testing.T) {
	at := time.Unix(1700000000, 0)
	keys := mustKeys(t, &signet.Key{ID: "k", Secrets: []string{"secret"}})
	v := &Verifier{Now: func() time.Time { return at }}
	sign := func(nonce string, headers []string) *http.Request {
		r := httptest.NewRequest("GET", "http://api.example/x", nil)
		s := &Signer{KeyID: "k", Secret: "secret", Headers: headers, Now: func() time.Time { return at }}
		if nonce != "" {
			s.Nonce = func() string { return nonce }
		}
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
		return r
	}

	r := sign("n-1", nil)
	if !strings.Contains(r.Header.Get("Authorization"), `nonce="n-1",headers="(request-target) host date (nonce)"`) {
		t.Fatalf("Authorization = %q", r.Header.Get("Authorization"))
	}
	ver, err := v.Verify(context.Background(), r, keys)
	if err != nil {
		t.Fatal(err)
	}
	if ver.Nonce != "n-1" || ver.ReplayID != signet.NonceReplayID(signet.SchemeCavage, "k", "n-1") {
		t.Errorf("Nonce %q, ReplayID %q", ver.Nonce, ver.ReplayID)
	}

	// A different nonce is a different request for replay purposes.
	ver2, err := v.Verify(context.Background(), sign("n-2", nil), keys)
	if err != nil || ver2.ReplayID == ver.ReplayID {
		t.Errorf("second nonce: %v, same ReplayID %v", err, ver2 != nil && ver2.ReplayID == ver.ReplayID)
	}

	// Changing the signed nonce breaks the signature.
	r = sign("n-1", nil)
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), `nonce="n-1"`, `nonce="n-9"`, 1))
	if _, err := v.Verify(context.Background(), r, keys); !errors.Is(err, signet.ErrMismatch) {
		t.Errorf("tampered nonce: %v, want ErrMismatch", err)
	}

	// A nonce parameter the signature does not cover is refused.
	r = sign("", []string{"(request-target)", "date"})
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), `,headers=`, `,nonce="x",headers=`, 1))
	if _, err := v.Verify(context.Background(), r, keys); !errors.Is(err, signet.ErrRequiredHeader) {
		t.Errorf("unsigned nonce: %v, want ErrRequiredHeader", err)
	}

	// (nonce) signed without the parameter is malformed.
	r = sign("n-1", nil)
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), `nonce="n-1",`, ``, 1))
	if _, err := v.Verify(context.Background(), r, keys); !errors.Is(err, signet.ErrMalformed) {
		t.Errorf("(nonce) without parameter: %v, want ErrMalformed", err)
	}
}
