package reqsig

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

const (
	testKeyID  = "aaa-bbb-ccc"
	testSecret = "secret-aaa-bbb-ccc"
	testSig    = "kqZmfo4_lfLoAhmlg0XNFWbygQ7GRnTbjBBOcAVu_po"
)

// The first known answer: GET https://api.com/search?product_id=prd1.
var (
	testTime = time.UnixMilli(1585733039477)
	testAuth = "REQUEST-SIGNATURE ApiKey=aaa-bbb-ccc,ApiVersion=v1,SignedHost=true,Timestamp=1585733039477,Signature=kqZmfo4_lfLoAhmlg0XNFWbygQ7GRnTbjBBOcAVu_po"
)

func testKeys() signet.StaticKeys {
	return signet.StaticKeys{
		testKeyID: {ID: testKeyID, Secrets: []string{testSecret}},
		"other":   {ID: "other", Secrets: []string{testSecret}},
	}
}

func testVerifier() *Verifier {
	return &Verifier{Now: func() time.Time { return testTime.Add(30 * time.Second) }}
}

// knownRequest is the request of the first known answer as a server
// receives it.
func knownRequest() *http.Request {
	r := serverRequest("GET", "api.com", "/search", "product_id=prd1")
	r.Header.Set("Authorization", testAuth)
	return r
}

func TestVerifyKnownAnswer(t *testing.T) {
	ver, err := testVerifier().Verify(context.Background(), knownRequest(), testKeys())
	if err != nil {
		t.Fatal(err)
	}
	want := signet.Verified{
		Scheme: signet.SchemeReqSig, KeyID: testKeyID, SecretIndex: 0, Algorithm: "HMAC-SHA256",
		SignedAt: testTime, ExpiresAt: testTime.Add(5 * time.Minute), Signature: testSig,
	}
	if ver.Scheme != want.Scheme || ver.KeyID != want.KeyID || ver.SecretIndex != want.SecretIndex ||
		ver.Algorithm != want.Algorithm || !ver.SignedAt.Equal(want.SignedAt) ||
		!ver.ExpiresAt.Equal(want.ExpiresAt) || ver.Signature != want.Signature ||
		ver.SignedHeaders != nil || ver.Key == nil || ver.Key.ID != testKeyID {
		t.Errorf("got %+v, want %+v", ver, want)
	}
}

// TestVerifyTamper changes each signed part of a valid request; every
// change must fail with the right sentinel.
func TestVerifyTamper(t *testing.T) {
	replace := func(old, new string) func(r *http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(testAuth, old, new, 1))
		}
	}
	tests := []struct {
		name   string
		tamper func(r *http.Request)
		want   error
	}{
		{"method", func(r *http.Request) { r.Method = "POST" }, signet.ErrMismatch},
		{"host", func(r *http.Request) { r.Host = "api.org" }, signet.ErrMismatch},
		{"host case", func(r *http.Request) { r.Host = "API.com" }, signet.ErrMismatch},
		{"path", func(r *http.Request) { r.RequestURI = "/searcH?product_id=prd1" }, signet.ErrMismatch},
		{"path suffix", func(r *http.Request) { r.RequestURI = "/search/?product_id=prd1" }, signet.ErrMismatch},
		// Escapes of unreserved and structural characters are not decoded:
		// they would name another resource or parameter upstream.
		{"unreserved char encoded", func(r *http.Request) { r.RequestURI = "/%73earch?product_id=prd1" }, signet.ErrMismatch},
		{"query = encoded", func(r *http.Request) { r.RequestURI = "/search?product_id%3Dprd1" }, signet.ErrMismatch},
		{"query value", func(r *http.Request) { r.RequestURI = "/search?product_id=prd2" }, signet.ErrMismatch},
		{"query added", func(r *http.Request) { r.RequestURI = "/search?product_id=prd1&x=1" }, signet.ErrMismatch},
		{"query removed", func(r *http.Request) { r.RequestURI = "/search" }, signet.ErrMismatch},
		{"ApiKey", replace("ApiKey=aaa-bbb-ccc", "ApiKey=other"), signet.ErrMismatch},
		{"ApiVersion", replace("ApiVersion=v1", "ApiVersion=v2"), signet.ErrMismatch},
		{"SignedHost", replace("SignedHost=true", "SignedHost=false"), signet.ErrMismatch},
		{"Timestamp", replace("Timestamp=1585733039477", "Timestamp=1585733039478"), signet.ErrMismatch},
		{"Signature first byte", replace("Signature=k", "Signature=j"), signet.ErrMismatch},
		{"Signature last byte", replace("_po", "_pA"), signet.ErrMismatch},
		// 'o' and 'r' differ only in the unused low bits of the last
		// character: they decode to the same MAC, but the signature must be
		// presented canonically (it also keys replay protection).
		{"Signature non-canonical last char", replace("_po", "_pr"), signet.ErrMismatch},
		{"type", replace("REQUEST-SIGNATURE ", "OTHER-TYPE "), signet.ErrNoSignature},
		{"unknown key", replace("ApiKey=aaa-bbb-ccc", "ApiKey=nobody"), signet.ErrUnknownKey},
		{"port is not signed", func(r *http.Request) { r.Host = "api.com:8443" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := knownRequest()
			tt.tamper(r)
			_, err := testVerifier().Verify(context.Background(), r, testKeys())
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil {
				checkErrorText(t, err)
			}
		})
	}
}

// checkErrorText checks that an error says which scheme failed and holds
// neither the secret nor a computed signature.
func checkErrorText(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.Contains(msg, testSecret) || strings.Contains(msg, testSig) {
		t.Errorf("error text leaks a secret or signature: %q", msg)
	}
	var se *signet.Error
	if !errors.As(err, &se) || se.Scheme != signet.SchemeReqSig {
		t.Errorf("error %v is not a reqsig *signet.Error", err)
	}
}

func TestVerifyCustomType(t *testing.T) {
	s := &Signer{KeyID: testKeyID, Secret: testSecret, Type: "MY SIGNATURE"}
	auth, err := s.Authorization("GET", "https://api.com/search?product_id=prd1", testTime)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(auth, "MY SIGNATURE ApiKey=") {
		t.Fatalf("got %q", auth)
	}
	r := knownRequest()
	r.Header.Set("Authorization", auth)
	v := testVerifier()
	if _, err := v.Verify(context.Background(), r, testKeys()); !errors.Is(err, signet.ErrNoSignature) {
		t.Errorf("default types: got %v, want ErrNoSignature", err)
	}
	v.Types = []string{DefaultType, "MY", "MY SIGNATURE"}
	if _, err := v.Verify(context.Background(), r, testKeys()); err != nil {
		t.Errorf("custom type: %v", err)
	}
	// The type is signed: presenting it as another accepted type fails.
	r.Header.Set("Authorization", "REQUEST-SIGNATURE"+strings.TrimPrefix(auth, "MY SIGNATURE"))
	if _, err := v.Verify(context.Background(), r, testKeys()); !errors.Is(err, signet.ErrMismatch) {
		t.Errorf("type swapped: got %v, want ErrMismatch", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	const good = "ApiKey=k,ApiVersion=v1,SignedHost=true,Timestamp=1585733039477,Signature=" + testSig
	tests := []struct {
		name, header, detail string
	}{
		{"no credentials", "REQUEST-SIGNATURE ", "ApiKey"},
		{"lower-case component", "REQUEST-SIGNATURE apikey=k,ApiVersion=v1,SignedHost=true,Timestamp=1,Signature=" + testSig, "ApiKey"},
		{"two spaces", "REQUEST-SIGNATURE  " + good, "ApiKey"},
		{"missing ApiVersion", "REQUEST-SIGNATURE ApiKey=k,SignedHost=true,Timestamp=1,Signature=" + testSig, "ApiVersion"},
		{"missing SignedHost", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,Timestamp=1,Signature=" + testSig, "SignedHost"},
		{"missing Timestamp", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=true,Signature=" + testSig, "Timestamp"},
		{"missing Signature", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=true,Timestamp=1", "Signature"},
		{"duplicate Timestamp", "REQUEST-SIGNATURE " + good + ",Timestamp=2", "Timestamp"},
		{"duplicate ApiKey", "REQUEST-SIGNATURE " + good + ",ApiKey=x", "ApiKey"},
		{"out of order", "REQUEST-SIGNATURE ApiKey=k,SignedHost=true,ApiVersion=v1,Timestamp=1,Signature=" + testSig, "order"},
		{"empty ApiKey", "REQUEST-SIGNATURE ApiKey=,ApiVersion=v1,SignedHost=true,Timestamp=1,Signature=" + testSig, "ApiKey"},
		{"empty ApiVersion", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=,SignedHost=true,Timestamp=1,Signature=" + testSig, "ApiVersion"},
		{"empty Timestamp", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=true,Timestamp=,Signature=" + testSig, "Timestamp"},
		{"empty Signature", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=true,Timestamp=1,Signature=", "Signature"},
		{"bad SignedHost", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=True,Timestamp=1,Signature=" + testSig, "SignedHost"},
		{"negative Timestamp", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=true,Timestamp=-1,Signature=" + testSig, "Timestamp"},
		{"decimal Timestamp", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=true,Timestamp=1.5,Signature=" + testSig, "Timestamp"},
		{"huge Timestamp", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=true,Timestamp=9999999999999999999,Signature=" + testSig, "Timestamp"},
		{"padded Signature", "REQUEST-SIGNATURE " + good + "=", "Signature"},
		{"std base64 Signature", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=true,Timestamp=1,Signature=kqZmfo4/lfLoAhmlg0XNFWbygQ7GRnTbjBBOcAVu+po", "Signature"},
		{"short Signature", "REQUEST-SIGNATURE ApiKey=k,ApiVersion=v1,SignedHost=true,Timestamp=1,Signature=abc", "Signature"},
		{"trailing component", "REQUEST-SIGNATURE " + good + ",Extra=1", "Signature"},
		{"overlong", "REQUEST-SIGNATURE ApiKey=" + strings.Repeat("k", MaxHeaderLength) + ",ApiVersion=v1,SignedHost=true,Timestamp=1,Signature=" + testSig, "8 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := knownRequest()
			r.Header.Set("Authorization", tt.header)
			_, err := testVerifier().Verify(context.Background(), r, testKeys())
			if !errors.Is(err, signet.ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not name %q", err, tt.detail)
			}
			checkErrorText(t, err)
		})
	}

	t.Run("two headers", func(t *testing.T) {
		r := knownRequest()
		r.Header.Add("Authorization", testAuth)
		if _, err := testVerifier().Verify(context.Background(), r, testKeys()); !errors.Is(err, signet.ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	})
}

func TestVerifyNoSignature(t *testing.T) {
	for _, h := range []string{"", "Bearer abc", "REQUEST-SIGNATURE", "request-signature " + testAuth[len(DefaultType)+1:], "REQUEST-SIGNATUREApiKey=x"} {
		r := knownRequest()
		r.Header.Del("Authorization")
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		_, err := testVerifier().Verify(context.Background(), r, testKeys())
		if !errors.Is(err, signet.ErrNoSignature) {
			t.Errorf("header %q: got %v, want ErrNoSignature", h, err)
		}
	}
	// Chained behind another verifier that finds nothing, reqsig decides.
	chain := signet.Verifiers{signet.Verifiers{}, testVerifier()}
	if _, err := chain.Verify(context.Background(), knownRequest(), testKeys()); err != nil {
		t.Errorf("chained: %v", err)
	}
}

// TestVerifyOtherHeaderAlongside keeps a foreign Authorization header from
// hiding ours.
func TestVerifyOtherHeaderAlongside(t *testing.T) {
	r := knownRequest()
	r.Header["Authorization"] = []string{"Bearer x", testAuth}
	if _, err := testVerifier().Verify(context.Background(), r, testKeys()); err != nil {
		t.Error(err)
	}
}

func TestVerifyTimeWindow(t *testing.T) {
	tests := []struct {
		name    string
		now     time.Time
		maxSkew time.Duration
		want    error
	}{
		{"at timestamp", testTime, 0, nil},
		{"5m after (boundary)", testTime.Add(5 * time.Minute), 0, nil},
		{"5m1ms after", testTime.Add(5*time.Minute + time.Millisecond), 0, signet.ErrExpired},
		{"5m before (boundary)", testTime.Add(-5 * time.Minute), 0, nil},
		{"5m1ms before", testTime.Add(-5*time.Minute - time.Millisecond), 0, signet.ErrNotYetValid},
		{"custom skew", testTime.Add(2 * time.Minute), time.Minute, signet.ErrExpired},
		{"custom skew future", testTime.Add(-2 * time.Minute), time.Minute, signet.ErrNotYetValid},
		{"negative skew means default", testTime.Add(4 * time.Minute), -time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Now: func() time.Time { return tt.now }, MaxSkew: tt.maxSkew}
			ver, err := v.Verify(context.Background(), knownRequest(), testKeys())
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err == nil {
				skew := tt.maxSkew
				if skew <= 0 {
					skew = DefaultMaxSkew
				}
				if !ver.ExpiresAt.Equal(testTime.Add(skew)) {
					t.Errorf("ExpiresAt: got %v, want %v", ver.ExpiresAt, testTime.Add(skew))
				}
			}
		})
	}
}

func TestVerifyKeyPolicy(t *testing.T) {
	storeErr := errors.New("database down")
	tests := []struct {
		name string
		keys signet.KeyStore
		want error
	}{
		{"scheme not allowed", signet.StaticKeys{testKeyID: {ID: testKeyID, Secrets: []string{testSecret}, Schemes: []string{signet.SchemeSW1}}}, signet.ErrSchemeNotAllowed},
		{"scheme allowed", signet.StaticKeys{testKeyID: {ID: testKeyID, Secrets: []string{testSecret}, Schemes: []string{signet.SchemeReqSig}}}, nil},
		{"algorithm not allowed", signet.StaticKeys{testKeyID: {ID: testKeyID, Secrets: []string{testSecret}, Algorithms: []string{signet.AlgHMACSHA512}}}, signet.ErrAlgorithm},
		{"algorithm allowed", signet.StaticKeys{testKeyID: {ID: testKeyID, Secrets: []string{testSecret}, Algorithms: []string{signet.AlgHMACSHA256}}}, nil},
		{"no secret", signet.StaticKeys{testKeyID: {ID: testKeyID}}, signet.ErrAlgorithm},
		{"wrong secret", signet.StaticKeys{testKeyID: {ID: testKeyID, Secrets: []string{"nope"}}}, signet.ErrMismatch},
		{"unknown key (wrapped)", signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) {
			return nil, errors.Join(errors.New("lookup"), signet.ErrUnknownKey)
		}), signet.ErrUnknownKey},
		{"nil key", signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) { return nil, nil }), signet.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testVerifier().Verify(context.Background(), knownRequest(), tt.keys)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil {
				checkErrorText(t, err)
			}
		})
	}

	t.Run("store failure", func(t *testing.T) {
		keys := signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) { return nil, storeErr })
		_, err := testVerifier().Verify(context.Background(), knownRequest(), keys)
		if !errors.Is(err, storeErr) {
			t.Fatalf("got %v, want %v", err, storeErr)
		}
		if !errors.Is(err, signet.ErrStoreUnavailable) || signet.Code(err) != "store_unavailable" {
			t.Errorf("store failure maps to %q, want store_unavailable", signet.Code(err))
		}
	})
}

func TestVerifyRotation(t *testing.T) {
	keys := signet.StaticKeys{testKeyID: {ID: testKeyID, Secrets: []string{"new-secret", testSecret, "older"}}}
	ver, err := testVerifier().Verify(context.Background(), knownRequest(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if ver.SecretIndex != 1 {
		t.Errorf("SecretIndex: got %d, want 1", ver.SecretIndex)
	}
}

// TestVerifyCandidates covers the paths the Java signer signs differently
// from what HTTP clients send.
func TestVerifyCandidates(t *testing.T) {
	tests := []struct {
		name, url, requestURI string
		disableHost           bool
	}{
		{"empty path sent as slash", "https://api.com", "/", false},
		{"empty path with query", "https://api.com?a=1", "/?a=1", false},
		{"raw space encoded", "https://api.com/a b?q=c d", "/a%20b?q=c%20d", false},
		{"raw non-ASCII encoded", "https://api.com/é?q=中", "/%C3%A9?q=%E4%B8%AD", false},
		{"encoded path, raw query", "https://api.com/a b?q=%2B", "/a%20b?q=%2B", false},
		{"raw non-ASCII sent raw", "https://api.com/é?q=中", "/é?q=中", false},
		{"absolute-form target", "https://api.com/x?y=1", "http://api.com:80/x?y=1", false},
		{"no host", "https://api.com/x", "/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Signer{KeyID: testKeyID, Secret: testSecret, DisableSignedHost: tt.disableHost}
			auth, err := s.Authorization("get", tt.url, testTime)
			if err != nil {
				t.Fatal(err)
			}
			r := serverRequest("GET", "api.com", "", "")
			r.RequestURI = tt.requestURI
			r.Header.Set("Authorization", auth)
			if tt.disableHost {
				r.Host = "elsewhere.example"
			}
			if _, err := testVerifier().Verify(context.Background(), r, testKeys()); err != nil {
				t.Errorf("Verify %q: %v", tt.requestURI, err)
			}
		})
	}
}

// TestVerifyNoStructuralDecoding: a signature for one resource does not
// verify a request whose encoded delimiters name another.
func TestVerifyNoStructuralDecoding(t *testing.T) {
	tests := []struct{ signed, sent string }{
		{"https://api.com/a/b", "/a%2Fb"},
		{"https://api.com/a?b", "/a%3Fb"},
		{"https://api.com/x?q=a&b=c", "/x?q=a%26b=c"},
		{"https://api.com/x?q=a+b", "/x?q=a%2Bb"},
		{"https://api.com/x;y", "/x%3By"},
		{"https://api.com/%41", "/%2541"},
		{"https://api.com/a/../b", "/a/%2E%2E/b"},
	}
	for _, tt := range tests {
		t.Run(tt.sent, func(t *testing.T) {
			s := &Signer{KeyID: testKeyID, Secret: testSecret}
			auth, err := s.Authorization("GET", tt.signed, testTime)
			if err != nil {
				t.Fatal(err)
			}
			r := serverRequest("GET", "api.com", "", "")
			r.RequestURI = tt.sent
			r.Header.Set("Authorization", auth)
			if _, err := testVerifier().Verify(context.Background(), r, testKeys()); !errors.Is(err, signet.ErrMismatch) {
				t.Errorf("signed %q, sent %q: got %v, want ErrMismatch", tt.signed, tt.sent, err)
			}
		})
	}
}

// TestSignRequestEndToEnd sends signed requests through a real client and
// server with the signet middleware.
func TestSignRequestEndToEnd(t *testing.T) {
	clock := func() time.Time { return testTime }
	var got *signet.Verified
	h := signet.Middleware(&Verifier{Now: clock}, testKeys())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = signet.FromContext(r.Context())
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &signet.Transport{Signer: &Signer{KeyID: testKeyID, Secret: testSecret, Now: clock}}}

	for _, path := range []string{"", "/", "/search?product_id=prd1", "/a b/é?q=x+y&z=中", "/a%2Fb?x=%41", "/dots/../x"} {
		t.Run(path, func(t *testing.T) {
			got = nil
			req, err := http.NewRequest("PATCH", srv.URL+path, strings.NewReader("body"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || got == nil || got.KeyID != testKeyID {
				t.Fatalf("status %d, body %s, verified %+v", resp.StatusCode, b, got)
			}
		})
	}

	t.Run("tampered", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
		if err := (&Signer{KeyID: testKeyID, Secret: testSecret, Now: clock}).SignRequest(req); err != nil {
			t.Fatal(err)
		}
		req.URL.Path = "/y"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status: got %d, want 401", resp.StatusCode)
		}
	})
}

func TestSignerErrors(t *testing.T) {
	tests := []struct {
		name string
		s    Signer
	}{
		{"no key", Signer{Secret: "s"}},
		{"no secret", Signer{KeyID: "k"}},
		{"newline in key", Signer{KeyID: "k\r\nX-Evil: 1", Secret: "s"}},
		{"control in version", Signer{KeyID: "k", Secret: "s", APIVersion: "v\x00"}},
		{"control in type", Signer{KeyID: "k", Secret: "s", Type: "T\n"}},
		{"marker in key", Signer{KeyID: "k,Timestamp=1", Secret: "s"}},
		{"marker in version", Signer{KeyID: "k", Secret: "s", APIVersion: "v,Signature=x"}},
		{"spaces around type", Signer{KeyID: "k", Secret: "s", Type: " T"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.s.Authorization("GET", "https://api.com/", testTime); err == nil {
				t.Error("got no error")
			}
		})
	}
	if _, err := (&Signer{KeyID: "k", Secret: "s"}).Authorization("GET", "api.com/x", testTime); err == nil {
		t.Error("URL without protocol: got no error")
	}
	if err := (&Signer{KeyID: "k", Secret: "s"}).SignRequest(&http.Request{}); err == nil {
		t.Error("request without URL: got no error")
	}
}

// TestSignerKeyWithComma: an ApiKey may contain ',' (COMPAT: ambiguous in
// general); the marker-based parser reads it back.
func TestSignerKeyWithComma(t *testing.T) {
	const id = "a,b=c,ApiVersion"
	s := &Signer{KeyID: id, Secret: testSecret, APIVersion: "=v,1"}
	auth, err := s.Authorization("GET", "https://api.com/search?product_id=prd1", testTime)
	if err != nil {
		t.Fatal(err)
	}
	r := knownRequest()
	r.Header.Set("Authorization", auth)
	keys := signet.StaticKeys{id: {ID: id, Secrets: []string{testSecret}}}
	ver, err := testVerifier().Verify(context.Background(), r, keys)
	if err != nil {
		t.Fatal(err)
	}
	if ver.KeyID != id {
		t.Errorf("KeyID: got %q, want %q", ver.KeyID, id)
	}
}
