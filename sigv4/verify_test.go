package sigv4_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/sigv4"
)

var (
	t0     = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	fixed  = func() time.Time { return t0 }
	secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

func testKeys() signet.StaticKeys {
	return signet.StaticKeys{"AKID": {ID: "AKID", Secrets: []string{secret}}}
}

func testVerifier() *sigv4.Verifier {
	return &sigv4.Verifier{Now: func() time.Time { return t0.Add(10 * time.Second) }, MaxBody: 1 << 10}
}

// signed returns a header-signed server-side request.
func signed(t testing.TB, method, target, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	c := httptest.NewRequest(method, "http://api.example.com"+target, rd)
	c.Header.Set("X-Custom", "a  b")
	c.Header.Set("Content-Type", "application/json")
	s := &sigv4.Signer{KeyID: "AKID", Secret: secret, Now: fixed}
	if err := s.SignRequest(c); err != nil {
		t.Fatal(err)
	}
	return toServer(t, c)
}

// toServer turns a client request into what a server would see.
func toServer(t testing.TB, c *http.Request) *http.Request {
	t.Helper()
	var body io.Reader
	if c.Body != nil {
		b, err := io.ReadAll(c.Body)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 {
			body = strings.NewReader(string(b))
		}
	}
	r := httptest.NewRequest(c.Method, c.URL.RequestURI(), body)
	r.Host = c.URL.Host
	if c.Host != "" {
		r.Host = c.Host
	}
	for k, vs := range c.Header {
		r.Header[k] = append([]string(nil), vs...)
	}
	return r
}

func presigned(t testing.TB, target string, expires time.Duration) *http.Request {
	t.Helper()
	c := httptest.NewRequest(http.MethodGet, "http://api.example.com"+target, nil)
	c.Header.Set("X-Custom", "v")
	s := &sigv4.Signer{KeyID: "AKID", Secret: secret, Now: fixed}
	u, err := s.Presign(c, expires)
	if err != nil {
		t.Fatal(err)
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, pu.RequestURI(), nil)
	r.Host = pu.Host
	r.Header.Set("X-Custom", "v")
	return r
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name, method, target, body string
	}{
		{"get", "GET", "/", ""},
		{"query", "GET", "/v1/items?b=2&a=1&a=0&sp=a%20b&plus=x+y", ""},
		{"escaped path", "GET", "/a%20b/%C3%BC/x", ""},
		{"dot segments", "GET", "/a/./b/../c//d", ""},
		{"post body", "POST", "/submit", `{"hello":"world"}`},
		{"put empty query value", "PUT", "/x?flag&k=", "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signed(t, tt.method, tt.target, tt.body)
			ver, err := testVerifier().Verify(context.Background(), r, testKeys())
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ver.Scheme != signet.SchemeSigV4 || ver.KeyID != "AKID" || !ver.BodySigned || !ver.SignedAt.Equal(t0) ||
				!ver.ExpiresAt.Equal(t0.Add(sigv4.DefaultMaxSkew)) || ver.ReplayID == "" {
				t.Errorf("Verified = %+v", ver)
			}
			b, err := io.ReadAll(r.Body)
			if err != nil || string(b) != tt.body {
				t.Errorf("body = %q, %v; want %q", b, err, tt.body)
			}
		})
	}
	t.Run("presigned", func(t *testing.T) {
		r := presigned(t, "/dl/file.txt?v=1", time.Hour)
		ver, err := testVerifier().Verify(context.Background(), r, testKeys())
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !ver.ExpiresAt.Equal(t0.Add(time.Hour)) || strings.Join(ver.SignedHeaders, ";") != "host;x-custom" {
			t.Errorf("Verified = %+v", ver)
		}
	})
	t.Run("unsigned payload", func(t *testing.T) {
		c := httptest.NewRequest("PUT", "http://api.example.com/up", strings.NewReader("stream"))
		s := &sigv4.Signer{KeyID: "AKID", Secret: secret, Now: fixed, UnsignedPayload: true}
		if err := s.SignRequest(c); err != nil {
			t.Fatal(err)
		}
		ver, err := testVerifier().Verify(context.Background(), toServer(t, c), testKeys())
		if err != nil || ver.BodySigned {
			t.Fatalf("Verify = %+v, %v; want unsigned body", ver, err)
		}
	})
	t.Run("s3 style", func(t *testing.T) {
		// "%25" makes the S3 reading differ from every escaping reading.
		c := httptest.NewRequest("GET", "http://bucket.example.com/a%2520b/c", nil)
		s := &sigv4.Signer{KeyID: "AKID", Secret: secret, Now: fixed, Service: "s3", DisableURIPathEscaping: true}
		if err := s.SignRequest(c); err != nil {
			t.Fatal(err)
		}
		v := testVerifier()
		v.Service, v.DisableURIPathEscaping = "s3", true
		if _, err := v.Verify(context.Background(), toServer(t, c), testKeys()); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		// The escaping verifier must not accept the S3 form of this path.
		v.DisableURIPathEscaping = false
		if _, err := v.Verify(context.Background(), toServer(t, c), testKeys()); !errors.Is(err, signet.ErrMismatch) {
			t.Fatalf("escaping verifier: got %v, want ErrMismatch", err)
		}
	})
	t.Run("rotation", func(t *testing.T) {
		keys := signet.StaticKeys{"AKID": {ID: "AKID", Secrets: []string{"new-secret", secret}}}
		v := testVerifier()
		for range 2 { // the second time through the signer cache
			ver, err := v.Verify(context.Background(), signed(t, "GET", "/", ""), keys)
			if err != nil || ver.SecretIndex != 1 {
				t.Fatalf("Verify = %+v, %v; want SecretIndex 1", ver, err)
			}
		}
		// The old secret removed: the cached signer must not keep it alive.
		keys["AKID"] = &signet.Key{ID: "AKID", Secrets: []string{"new-secret"}}
		if _, err := v.Verify(context.Background(), signed(t, "GET", "/", ""), keys); !errors.Is(err, signet.ErrMismatch) {
			t.Fatalf("removed secret: got %v, want ErrMismatch", err)
		}
	})
}

func TestTamper(t *testing.T) {
	header := func(r *http.Request) *http.Request { return r }
	tests := []struct {
		name    string
		pre     bool // pre-signed form
		mutate  func(r *http.Request)
		keys    signet.StaticKeys
		verify  func(v *sigv4.Verifier)
		want    error
		readErr error // error expected when reading the body after Verify
	}{
		{name: "method", mutate: func(r *http.Request) { r.Method = "DELETE" }, want: signet.ErrMismatch},
		{name: "path", mutate: func(r *http.Request) { r.URL.Path = "/v1/other" }, want: signet.ErrMismatch},
		{name: "query value", mutate: func(r *http.Request) { r.URL.RawQuery = "a=2" }, want: signet.ErrMismatch},
		{name: "query added", mutate: func(r *http.Request) { r.URL.RawQuery += "&admin=1" }, want: signet.ErrMismatch},
		{name: "query semicolon", mutate: func(r *http.Request) { r.URL.RawQuery += ";admin=1" }, want: signet.ErrMalformed},
		{name: "host", mutate: func(r *http.Request) { r.Host = "evil.example.com" }, want: signet.ErrMismatch},
		{name: "signed header", mutate: func(r *http.Request) { r.Header.Set("X-Custom", "a c") }, want: signet.ErrMismatch},
		{name: "signed header removed", mutate: func(r *http.Request) { r.Header.Del("X-Custom") }, want: signet.ErrMissingHeader},
		{name: "signature", mutate: func(r *http.Request) { flipSig(r, "Authorization") }, want: signet.ErrMismatch},
		{name: "x-amz-date", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20240501T120001Z") }, want: signet.ErrMismatch},
		{name: "x-amz-date absent", mutate: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, want: signet.ErrMissingHeader},
		{name: "x-amz-date twice", mutate: func(r *http.Request) { r.Header.Add("X-Amz-Date", "20240501T120000Z") }, want: signet.ErrMalformed},
		{name: "x-amz-date bad", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2024-05-01T12:00:00Z") }, want: signet.ErrMalformed},
		{name: "content sha256", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
		}, want: signet.ErrMismatch},
		{name: "unsigned payload claimed", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") }, want: signet.ErrMismatch},
		{name: "streaming payload", mutate: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		}, want: signet.ErrMalformed},
		{name: "body", mutate: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"n":2}`)) }, readErr: signet.ErrDigest},
		{name: "body too large", mutate: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(strings.Repeat("x", 2000))) }, readErr: signet.ErrBodyTooLarge},
		{name: "too old", verify: func(v *sigv4.Verifier) { v.Now = func() time.Time { return t0.Add(6 * time.Minute) } }, want: signet.ErrExpired},
		{name: "future", verify: func(v *sigv4.Verifier) { v.Now = func() time.Time { return t0.Add(-6 * time.Minute) } }, want: signet.ErrNotYetValid},
		{name: "other region", verify: func(v *sigv4.Verifier) { v.Region = "eu-west-1" }, want: signet.ErrMismatch},
		{name: "other service", verify: func(v *sigv4.Verifier) { v.Service = "s3" }, want: signet.ErrMismatch},
		{name: "scope date", mutate: func(r *http.Request) { replaceAuth(r, "/20240501/", "/20240502/") }, want: signet.ErrMalformed},
		{name: "scope terminator", mutate: func(r *http.Request) { replaceAuth(r, "aws4_request", "aws5_request") }, want: signet.ErrMalformed},
		{name: "unknown key", mutate: func(r *http.Request) { replaceAuth(r, "AKID/", "OTHER/") }, want: signet.ErrUnknownKey},
		{name: "host not signed", mutate: func(r *http.Request) { replaceAuth(r, ";host;", ";") }, want: signet.ErrRequiredHeader},
		{name: "signed headers unsorted", mutate: func(r *http.Request) { replaceAuth(r, "content-type;host", "host;content-type") }, want: signet.ErrMalformed},
		{name: "repeated parameter", mutate: func(r *http.Request) { r.Header.Set("Authorization", r.Header.Get("Authorization")+", Signature=00") }, want: signet.ErrMalformed},
		{name: "two authorization headers", mutate: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }, want: signet.ErrMalformed},
		{name: "no signature", mutate: func(r *http.Request) { r.Header.Del("Authorization") }, want: signet.ErrNoSignature},
		{name: "other scheme", mutate: func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, want: signet.ErrNoSignature},
		{name: "scheme not allowed", keys: signet.StaticKeys{"AKID": {ID: "AKID", Secrets: []string{secret}, Schemes: []string{signet.SchemeCavage}}}, want: signet.ErrSchemeNotAllowed},
		{name: "algorithm not allowed", keys: signet.StaticKeys{"AKID": {ID: "AKID", Secrets: []string{secret}, Algorithms: []string{signet.AlgHMACSHA512}}}, want: signet.ErrAlgorithm},
		{name: "wrong secret", keys: signet.StaticKeys{"AKID": {ID: "AKID", Secrets: []string{"nope"}}}, want: signet.ErrMismatch},

		{name: "presigned path", pre: true, mutate: func(r *http.Request) { r.URL.Path = "/v1/other" }, want: signet.ErrMismatch},
		{name: "presigned method", pre: true, mutate: func(r *http.Request) { r.Method = "PUT" }, want: signet.ErrMismatch},
		{name: "presigned signed header", pre: true, mutate: func(r *http.Request) { r.Header.Set("X-Custom", "w") }, want: signet.ErrMismatch},
		{name: "presigned query added", pre: true, mutate: func(r *http.Request) { r.URL.RawQuery += "&b=2" }, want: signet.ErrMismatch},
		{name: "presigned expires", pre: true, mutate: func(r *http.Request) { setQuery(r, "X-Amz-Expires", "7200") }, want: signet.ErrMismatch},
		{name: "presigned expires too long", pre: true, mutate: func(r *http.Request) { setQuery(r, "X-Amz-Expires", "604801") }, want: signet.ErrMalformed},
		{name: "presigned expires not a number", pre: true, mutate: func(r *http.Request) { setQuery(r, "X-Amz-Expires", "+60") }, want: signet.ErrMalformed},
		{name: "presigned date", pre: true, mutate: func(r *http.Request) { setQuery(r, "X-Amz-Date", "20240501T115900Z") }, want: signet.ErrMismatch},
		{name: "presigned signature", pre: true, mutate: func(r *http.Request) { flipQuerySig(r) }, want: signet.ErrMismatch},
		{name: "presigned duplicate date", pre: true, mutate: func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Date=20240501T120000Z" }, want: signet.ErrMalformed},
		{name: "presigned duplicate signature", pre: true, mutate: func(r *http.Request) { r.URL.RawQuery += "&x-amz-signature=00" }, want: signet.ErrMalformed},
		{name: "presigned missing credential", pre: true, mutate: func(r *http.Request) { delQuery(r, "X-Amz-Credential") }, want: signet.ErrMalformed},
		{name: "presigned and header", pre: true, mutate: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature="+strings.Repeat("0", 64))
		}, want: signet.ErrMalformed},
		{name: "presigned expired", pre: true, verify: func(v *sigv4.Verifier) { v.Now = func() time.Time { return t0.Add(time.Hour + time.Second) } }, want: signet.ErrExpired},
		{name: "presigned future", pre: true, verify: func(v *sigv4.Verifier) { v.Now = func() time.Time { return t0.Add(-time.Hour) } }, want: signet.ErrNotYetValid},
		{name: "presigned key max expires", pre: true, keys: signet.StaticKeys{"AKID": {ID: "AKID", Secrets: []string{secret}, MaxExpires: time.Minute}}, want: signet.ErrExpiresTooLong},
		{name: "presigned bad escape", pre: true, mutate: func(r *http.Request) { r.URL.RawQuery += "&x=%zz" }, want: signet.ErrMalformed},
	}
	_ = header
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *http.Request
			if tt.pre {
				r = presigned(t, "/v1/items?a=1", time.Hour)
			} else {
				r = signed(t, "POST", "/v1/items?a=1", `{"n":1}`)
			}
			if tt.mutate != nil {
				tt.mutate(r)
			}
			v := testVerifier()
			if tt.verify != nil {
				tt.verify(v)
			}
			keys := tt.keys
			if keys == nil {
				keys = testKeys()
			}
			ver, err := v.Verify(context.Background(), r, keys)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				var se *signet.Error
				if !errors.As(err, &se) || se.Scheme != signet.SchemeSigV4 {
					t.Errorf("error %v is not a sigv4 *signet.Error", err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error text holds the secret")
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			_, err = io.ReadAll(r.Body)
			if !errors.Is(err, tt.readErr) {
				t.Fatalf("reading the body: got %v, want %v", err, tt.readErr)
			}
			if !ver.BodySigned {
				t.Error("BodySigned = false")
			}
		})
	}
}

func TestKeyStoreError(t *testing.T) {
	boom := errors.New("store down")
	keys := signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) { return nil, boom })
	_, err := testVerifier().Verify(context.Background(), signed(t, "GET", "/", ""), keys)
	if !errors.Is(err, boom) || !errors.Is(err, signet.ErrStoreUnavailable) || signet.Code(err) != "store_unavailable" {
		t.Fatalf("got %v, want the store's error wrapped", err)
	}
}

func TestNoBodyWithDeclaredHash(t *testing.T) {
	// Signed with the SDK directly: Signer would also sign Content-Length.
	c := httptest.NewRequest("POST", "http://api.example.com/x", nil)
	dataHash := "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7" // sha256("data")
	c.Header.Set("X-Amz-Content-Sha256", dataHash)
	creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: secret}
	err := v4.NewSigner().SignHTTP(context.Background(), creds, c, dataHash, sigv4.DefaultService, sigv4.DefaultRegion, t0)
	if err != nil {
		t.Fatal(err)
	}
	r := toServer(t, c)
	if _, err := testVerifier().Verify(context.Background(), r, testKeys()); !errors.Is(err, signet.ErrDigest) {
		t.Fatalf("got %v, want ErrDigest", err)
	}
}

func TestSignerErrors(t *testing.T) {
	r := httptest.NewRequest("GET", "http://h/", nil)
	if err := (&sigv4.Signer{}).SignRequest(r); err == nil {
		t.Error("SignRequest without credentials succeeded")
	}
	s := &sigv4.Signer{KeyID: "AKID", Secret: secret}
	for _, d := range []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond, sigv4.MaxExpires + time.Second} {
		if _, err := s.Presign(r, d); err == nil {
			t.Errorf("Presign(%v) succeeded", d)
		}
	}
}

func replaceAuth(r *http.Request, old, new string) {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
}

func flipSig(r *http.Request, h string) {
	a := r.Header.Get(h)
	last := a[len(a)-1]
	if last == '0' {
		last = '1'
	} else {
		last = '0'
	}
	r.Header.Set(h, a[:len(a)-1]+string(last))
}

func setQuery(r *http.Request, k, v string) {
	q := r.URL.Query()
	q.Set(k, v)
	r.URL.RawQuery = q.Encode()
}

func delQuery(r *http.Request, k string) {
	q := r.URL.Query()
	q.Del(k)
	r.URL.RawQuery = q.Encode()
}

func flipQuerySig(r *http.Request) {
	q := r.URL.Query()
	s := q.Get("X-Amz-Signature")
	if s[0] == 'a' {
		s = "b" + s[1:]
	} else {
		s = "a" + s[1:]
	}
	q.Set("X-Amz-Signature", s)
	r.URL.RawQuery = q.Encode()
}
