package rfc9421

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

var testNow = time.Date(2024, 6, 11, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

var (
	testKeysOnce sync.Once
	testPrivs    map[string]crypto.Signer
)

// testSigners returns one private key per asymmetric algorithm.
func testSigners(t testing.TB) map[string]crypto.Signer {
	t.Helper()
	testKeysOnce.Do(func() {
		testPrivs = map[string]crypto.Signer{}
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		testPrivs[AlgEd25519] = ed
		p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		testPrivs[AlgECDSAP256SHA256] = p256
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		testPrivs[AlgECDSAP384SHA384] = p384
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		testPrivs[AlgRSAPSSSHA512] = rsaKey
		testPrivs[AlgRSAV15SHA256] = rsaKey
	})
	return testPrivs
}

// signerFor returns a Signer and the matching key store entry for alg.
func signerFor(t testing.TB, alg string) (*Signer, *signet.Key) {
	t.Helper()
	s := &Signer{KeyID: "k-" + alg, Algorithm: alg, Now: fixedNow}
	key := &signet.Key{ID: s.KeyID}
	if alg == AlgHMACSHA256 {
		s.Secret = "current-secret"
		key.Secrets = []string{"old-secret", "current-secret"}
	} else {
		s.PrivateKey = testSigners(t)[alg]
		key.PublicKey = s.PrivateKey.Public()
	}
	return s, key
}

func newPOST(body string) *http.Request {
	r := httptest.NewRequest("POST", "https://api.example.com/v1/items?b=2&a=x%20y", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Custom", "one")
	return r
}

// toServer turns a signed client request into what a server receives.
func toServer(t testing.TB, r *http.Request) *http.Request {
	t.Helper()
	var body string
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	msg := vectorMessage{Method: r.Method, URL: r.URL.String(), Body: body}
	msg.Headers = append(msg.Headers, [2]string{"Host", r.Host})
	for name, vs := range r.Header {
		for _, v := range vs {
			msg.Headers = append(msg.Headers, [2]string{name, v})
		}
	}
	if body != "" && r.Header.Get("Content-Length") == "" {
		msg.Headers = append(msg.Headers, [2]string{"Content-Length", itoa(len(body))})
	}
	return serverRequest(t, msg)
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

var allAlgs = []string{AlgHMACSHA256, AlgEd25519, AlgECDSAP256SHA256, AlgECDSAP384SHA384, AlgRSAPSSSHA512, AlgRSAV15SHA256}

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range allAlgs {
		for _, digest := range []string{DigestSHA256, DigestSHA512} {
			t.Run(alg+"/"+digest, func(t *testing.T) {
				s, key := signerFor(t, alg)
				s.DigestAlgorithm = digest
				s.Nonce = func() string { return "n-1" }
				s.Tag = "app"
				s.Expires = time.Minute
				r := newPOST(`{"hello": "world"}`)
				if err := s.SignRequest(r); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(r.Header.Get("Content-Digest"), digest+"=:") {
					t.Errorf("Content-Digest = %q", r.Header.Get("Content-Digest"))
				}
				sr := toServer(t, r)
				v := &Verifier{Now: fixedNow}
				got, err := v.Verify(context.Background(), sr, signet.StaticKeys{key.ID: key})
				if err != nil {
					t.Fatalf("Verify: %v\n%s\n%s", err, sr.Header.Get("Signature-Input"), sr.Header.Get("Signature"))
				}
				b, err := io.ReadAll(sr.Body)
				if err != nil || string(b) != `{"hello": "world"}` {
					t.Errorf("body = %q, %v", b, err)
				}
				want := []string{`"@method"`, `"@authority"`, `"@path"`, `"@query"`, `"content-digest"`}
				if strings.Join(got.SignedHeaders, " ") != strings.Join(want, " ") {
					t.Errorf("SignedHeaders = %q, want %q", got.SignedHeaders, want)
				}
				wantIdx := -1
				if alg == AlgHMACSHA256 {
					wantIdx = 1
				}
				if got.Algorithm != alg || got.SecretIndex != wantIdx || !got.BodySigned || got.Nonce != "n-1" ||
					!got.SignedAt.Equal(testNow) || !got.ExpiresAt.Equal(testNow.Add(time.Minute)) ||
					got.ReplayID != signet.NonceReplayID(signet.SchemeRFC9421, key.ID, "n-1") || got.Scheme != signet.SchemeRFC9421 {
					t.Errorf("Verified = %+v", got)
				}
			})
		}
	}
}

func TestSignerDefaults(t *testing.T) {
	priv := testSigners(t)[AlgRSAPSSSHA512]
	s := &Signer{KeyID: "k", PrivateKey: priv, Now: fixedNow}
	r := httptest.NewRequest("GET", "https://api.example.com/x", nil)
	if err := s.SignRequest(r); err != nil {
		t.Fatal(err)
	}
	want := `sig1=("@method" "@authority" "@path");created=1718107200;keyid="k";alg="rsa-pss-sha512"`
	if got := r.Header.Get("Signature-Input"); got != want {
		t.Errorf("Signature-Input = %q, want %q", got, want)
	}
	if r.Header.Get("Content-Digest") != "" {
		t.Error("Content-Digest added to a request without a body")
	}
	// A second signature is added next to the first.
	s2 := &Signer{KeyID: "h", Secret: "s", Label: "sig2", Now: fixedNow}
	if err := s2.SignRequest(r); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("Signature-Input"); !strings.HasPrefix(got, want+", sig2=(") {
		t.Errorf("Signature-Input = %q", got)
	}
	if err := s2.SignRequest(r); err == nil {
		t.Error("a duplicate label was accepted")
	}
	for _, bad := range []*Signer{
		{KeyID: "k"},
		{KeyID: "k", Secret: "s", Algorithm: AlgEd25519},
		{KeyID: "k", PrivateKey: priv, Algorithm: AlgEd25519},
		{KeyID: "k", Secret: "s", Algorithm: "hmac-sha512"},
		{KeyID: "k", Secret: "s", DigestAlgorithm: "md5"},
		{KeyID: "k", Secret: "s", Components: []string{"@status"}},
		{KeyID: "k", Secret: "s", Components: []string{"@query-param;name=\"a\""}},
	} {
		r := httptest.NewRequest("GET", "https://api.example.com/x?a=1&a=2", nil)
		if err := bad.SignRequest(r); err == nil {
			t.Errorf("SignRequest with %+v succeeded", bad)
		}
	}
}

// TestMultipleSignatures: selection by label, by tag, and by the first key
// that resolves.
func TestMultipleSignatures(t *testing.T) {
	sA, keyA := signerFor(t, AlgEd25519)
	sB, keyB := signerFor(t, AlgHMACSHA256)
	sA.Label, sB.Label = "a", "b"
	sB.Tag = "mine"
	r := httptest.NewRequest("GET", "https://api.example.com/x", nil)
	if err := sA.SignRequest(r); err != nil {
		t.Fatal(err)
	}
	if err := sB.SignRequest(r); err != nil {
		t.Fatal(err)
	}
	only := func(k *signet.Key) signet.StaticKeys { return signet.StaticKeys{k.ID: k} }
	both := signet.StaticKeys{keyA.ID: keyA, keyB.ID: keyB}
	tests := []struct {
		name    string
		v       Verifier
		keys    signet.StaticKeys
		wantKey string
		wantErr error
	}{
		{"first", Verifier{}, both, keyA.ID, nil},
		{"first that resolves", Verifier{}, only(keyB), keyB.ID, nil},
		{"label", Verifier{Label: "b"}, both, keyB.ID, nil},
		{"tag", Verifier{Tag: "mine"}, both, keyB.ID, nil},
		{"absent label", Verifier{Label: "c"}, both, "", signet.ErrNoSignature},
		{"absent tag", Verifier{Tag: "other"}, both, "", signet.ErrNoSignature},
		{"label of unknown key", Verifier{Label: "a"}, only(keyB), "", signet.ErrUnknownKey},
		{"no key", Verifier{}, signet.StaticKeys{}, "", signet.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.v.Now = fixedNow
			got, err := tt.v.Verify(context.Background(), r, tt.keys)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.KeyID != tt.wantKey {
				t.Errorf("KeyID = %q, want %q", got.KeyID, tt.wantKey)
			}
		})
	}
}

type tamperCase struct {
	name    string
	mutate  func(r *http.Request)
	verify  func(v *Verifier, key *signet.Key)
	keys    func(key *signet.Key) signet.KeyStore
	wantErr error
	atEOF   bool // the error surfaces when the body is read
}

func replaceParam(r *http.Request, old, new string) {
	r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), old, new, 1))
}

func tamperCases() []tamperCase {
	return []tamperCase{
		{name: "untouched"},
		{name: "signature bit", mutate: func(r *http.Request) {
			s := r.Header.Get("Signature")
			i := strings.Index(s, ":") + 2
			c := byte('A')
			if s[i] == 'A' {
				c = 'B'
			}
			r.Header.Set("Signature", s[:i]+string(c)+s[i+1:])
		}, wantErr: signet.ErrMismatch},
		{name: "method", mutate: func(r *http.Request) { r.Method = "PUT" }, wantErr: signet.ErrMismatch},
		{name: "method case", mutate: func(r *http.Request) { r.Method = "post" }, wantErr: signet.ErrMismatch},
		{name: "authority", mutate: func(r *http.Request) { r.Host = "evil.example.com" }, wantErr: signet.ErrMismatch},
		{name: "path", mutate: func(r *http.Request) { r.RequestURI = strings.Replace(r.RequestURI, "/v1/", "/v2/", 1) }, wantErr: signet.ErrMismatch},
		{name: "query", mutate: func(r *http.Request) { r.RequestURI = strings.Replace(r.RequestURI, "b=2", "b=3", 1) }, wantErr: signet.ErrMismatch},
		{name: "query param", mutate: func(r *http.Request) { r.RequestURI = strings.Replace(r.RequestURI, "a=x%20y", "a=x%20z", 1) }, wantErr: signet.ErrMismatch},
		{name: "scheme", mutate: func(r *http.Request) { r.TLS = nil }, wantErr: signet.ErrMismatch},
		{name: "header", mutate: func(r *http.Request) { r.Header.Set("X-Custom", "two") }, wantErr: signet.ErrMismatch},
		{name: "header added line", mutate: func(r *http.Request) { r.Header.Add("X-Custom", "two") }, wantErr: signet.ErrMismatch},
		{name: "header removed", mutate: func(r *http.Request) { r.Header.Del("X-Custom") }, wantErr: signet.ErrMissingHeader},
		{name: "content-digest", mutate: func(r *http.Request) {
			r.Header.Set("Content-Digest", contentDigest(DigestSHA256, []byte("other")))
		}, wantErr: signet.ErrMismatch},
		{name: "body", mutate: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"hello": "World"}`))
		}, wantErr: signet.ErrDigest, atEOF: true},
		{name: "body too large", verify: func(v *Verifier, _ *signet.Key) { v.MaxBody = 5 }, wantErr: signet.ErrBodyTooLarge, atEOF: true},
		{name: "created", mutate: func(r *http.Request) { replaceParam(r, "created=1718107200", "created=1718107201") }, wantErr: signet.ErrMismatch},
		{name: "covered list", mutate: func(r *http.Request) { replaceParam(r, `"x-custom" `, ``) }, wantErr: signet.ErrMismatch},
		{name: "keyid unknown", mutate: func(r *http.Request) { replaceParam(r, `keyid="k-`, `keyid="x-`) }, wantErr: signet.ErrUnknownKey},
		{name: "no keyid", mutate: func(r *http.Request) { replaceParam(r, `;keyid="`, `;kid="`) }, wantErr: signet.ErrMalformed},
		{name: "alg claimed", mutate: func(r *http.Request) {
			in := r.Header.Get("Signature-Input")
			alg := AlgHMACSHA256
			if strings.Contains(in, AlgHMACSHA256) {
				alg = AlgEd25519
			}
			i := strings.Index(in, `alg="`)
			j := strings.Index(in[i+5:], `"`)
			r.Header.Set("Signature-Input", in[:i]+`alg="`+alg+in[i+5+j:])
		}, wantErr: signet.ErrAlgorithm},
		{name: "alg unknown", mutate: func(r *http.Request) { replaceParam(r, `;alg="`, `;alg="x`) }, wantErr: signet.ErrAlgorithm},
		{name: "alg not allowed", verify: func(_ *Verifier, k *signet.Key) { k.Algorithms = []string{"hmac-sha512"} }, wantErr: signet.ErrAlgorithm},
		{name: "scheme not allowed", verify: func(_ *Verifier, k *signet.Key) { k.Schemes = []string{signet.SchemeCavage} }, wantErr: signet.ErrSchemeNotAllowed},
		{name: "too old", verify: func(v *Verifier, _ *signet.Key) { v.Now = func() time.Time { return testNow.Add(6 * time.Minute) } }, wantErr: signet.ErrExpired},
		{name: "expires passed", verify: func(v *Verifier, _ *signet.Key) {
			v.MaxAge = time.Hour
			v.Now = func() time.Time { return testNow.Add(2 * time.Minute) }
		}, wantErr: signet.ErrExpired},
		{name: "expires too long", verify: func(_ *Verifier, k *signet.Key) { k.MaxExpires = time.Second }, wantErr: signet.ErrExpiresTooLong},
		{name: "future", verify: func(v *Verifier, _ *signet.Key) { v.Now = func() time.Time { return testNow.Add(-2 * time.Minute) } }, wantErr: signet.ErrNotYetValid},
		{name: "created missing", mutate: func(r *http.Request) { replaceParam(r, ";created=1718107200", "") }, wantErr: signet.ErrMalformed},
		{name: "required component", verify: func(v *Verifier, _ *signet.Key) { v.RequiredComponents = []string{"@method", "date"} }, wantErr: signet.ErrRequiredHeader},
		{name: "req parameter", mutate: func(r *http.Request) { replaceParam(r, `"x-custom"`, `"x-custom";req`) }, wantErr: signet.ErrMalformed},
		{name: "status component", mutate: func(r *http.Request) { replaceParam(r, `"x-custom"`, `"@status"`) }, wantErr: signet.ErrMalformed},
		{name: "signature-input garbage", mutate: func(r *http.Request) { r.Header.Set("Signature-Input", "sig1=(((") }, wantErr: signet.ErrMalformed},
		{name: "signature garbage", mutate: func(r *http.Request) { r.Header.Set("Signature", "sig1=:!!:") }, wantErr: signet.ErrMalformed},
		{name: "signature missing", mutate: func(r *http.Request) { r.Header.Del("Signature") }, wantErr: signet.ErrMalformed},
		{name: "signature other label", mutate: func(r *http.Request) { r.Header.Set("Signature", "other=:AAAA:") }, wantErr: signet.ErrMalformed},
		{name: "no signature", mutate: func(r *http.Request) { r.Header.Del("Signature-Input"); r.Header.Del("Signature") }, wantErr: signet.ErrNoSignature},
		{name: "store failure", keys: func(*signet.Key) signet.KeyStore {
			return signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) { return nil, errors.New("store down") })
		}, wantErr: errStore},
	}
}

var errStore = errors.New("store down")

// TestTamper signs one request per algorithm, then changes one signed part
// at a time: each must fail with its sentinel.
func TestTamper(t *testing.T) {
	for _, alg := range allAlgs {
		for _, tc := range tamperCases() {
			t.Run(alg+"/"+tc.name, func(t *testing.T) {
				s, key := signerFor(t, alg)
				s.Components = []string{"@method", "@authority", "@path", "@query", "@scheme", "x-custom", `@query-param;name="a"`, "content-digest"}
				s.Expires = time.Minute
				r := newPOST(`{"hello": "world"}`)
				if err := s.SignRequest(r); err != nil {
					t.Fatal(err)
				}
				sr := toServer(t, r)
				v := &Verifier{Now: fixedNow}
				if tc.mutate != nil {
					tc.mutate(sr)
				}
				if tc.verify != nil {
					tc.verify(v, key)
				}
				var keys signet.KeyStore = signet.StaticKeys{key.ID: key}
				if tc.keys != nil {
					keys = tc.keys(key)
				}
				got, err := v.Verify(context.Background(), sr, keys)
				if err == nil && got != nil {
					_, err = io.Copy(io.Discard, sr.Body)
					if !tc.atEOF && err != nil {
						t.Fatalf("body: %v", err)
					}
				}
				switch {
				case tc.wantErr == nil:
					if err != nil {
						t.Fatalf("err = %v", err)
					}
				case tc.wantErr == errStore:
					if !errors.Is(err, signet.ErrStoreUnavailable) || !strings.Contains(err.Error(), "store down") || signet.Code(err) != "store_unavailable" {
						t.Fatalf("err = %v, want the store's error, wrapped", err)
					}
				default:
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("err = %v, want %v", err, tc.wantErr)
					}
					var se *signet.Error
					if !errors.As(err, &se) || se.Scheme != signet.SchemeRFC9421 {
						t.Errorf("err %v is not a *signet.Error of rfc9421", err)
					}
					if s.Secret != "" && strings.Contains(err.Error(), s.Secret) {
						t.Errorf("error text holds the secret: %v", err)
					}
				}
			})
		}
	}
}

func TestDefaultPolicy(t *testing.T) {
	s, key := signerFor(t, AlgHMACSHA256)
	keys := signet.StaticKeys{key.ID: key}
	tests := []struct {
		name       string
		components []string
		target     string
		body       string
		wantErr    error
	}{
		{"minimal GET", []string{"@method", "@authority", "@path"}, "/x", "", nil},
		{"target-uri covers all", []string{"@method", "@target-uri"}, "/x?q=1", "", nil},
		{"request-target covers path and query", []string{"@method", "@authority", "@request-target"}, "/x?q=1", "", nil},
		{"no method", []string{"@authority", "@path"}, "/x", "", signet.ErrRequiredHeader},
		{"no authority", []string{"@method", "@path"}, "/x", "", signet.ErrRequiredHeader},
		{"no query", []string{"@method", "@authority", "@path"}, "/x?q=1", "", signet.ErrRequiredHeader},
		{"no digest", []string{"@method", "@authority", "@path"}, "/x", "body", signet.ErrRequiredHeader},
		{"digest", []string{"@method", "@authority", "@path", "content-digest"}, "/x", "body", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := httptest.NewRequest("POST", "https://api.example.com"+tt.target, body)
			s.Components = tt.components
			if err := s.SignRequest(r); err != nil {
				t.Fatal(err)
			}
			_, err := (&Verifier{Now: fixedNow}).Verify(context.Background(), toServer(t, r), keys)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestNodeVariants: what http-message-signatures signs differently from the
// RFC must verify, and only with the node base.
func TestNodeVariants(t *testing.T) {
	key := &signet.Key{ID: "k", Secrets: []string{"secret"}}
	tests := []struct {
		name   string
		method string
		target string
		params string
		node   string // the base's lines before @signature-params, as node computes them
	}{
		{"encodeURIComponent", "GET", "/x?a=it's%20(ok)!~", `("@query-param";name="a")`, `"@query-param";name="a": it's%20(ok)!~`},
		{"repeated param", "GET", "/x?a=1&a=2", `("@query-param";name="a")`, "\"@query-param\";name=\"a\": 1\n\"@query-param\";name=\"a\": 2"},
		{"whatwg query", "GET", "/x?a='b'", `("@query" "@request-target")`, "\"@query\": ?a=%27b%27\n\"@request-target\": /x?a=%27b%27"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := tt.params + `;created=1718107200;keyid="k"`
			base := tt.node + "\n\"@signature-params\": " + params
			sig, _ := mHMACSHA256.sign("secret", nil, []byte(base))
			r := serverRequest(t, vectorMessage{Method: tt.method, URL: "https://api.example.com" + tt.target})
			r.Header.Set("Signature-Input", "sig1="+params)
			r.Header.Set("Signature", "sig1=:"+b64(sig)+":")
			v := &Verifier{Now: fixedNow, RequiredComponents: []string{}}
			if _, err := v.Verify(context.Background(), r, signet.StaticKeys{"k": key}); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if rfc, err := SignatureBase(r, params); err == nil && string(rfc) == base {
				t.Errorf("the RFC base equals node's; the case tests nothing")
			}
		})
	}
}

func TestComponentParsing(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{"@method", `"@method"`, false},
		{`"@method"`, `"@method"`, false},
		{"Content-Type", `"content-type"`, false},
		{`@query-param;name="a b"`, `"@query-param";name="a b"`, false},
		{`x-dict;key="a"`, `"x-dict";key="a"`, false},
		{`x-dict;sf`, `"x-dict";sf`, false},
		{`x-b;bs`, `"x-b";bs`, false},
		{`x-b;bs;sf`, "", true},
		{`@method;sf`, "", true},
		{`@query-param`, "", true},
		{`x-a;name="b"`, "", true},
		{`x-a;req`, "", true},
		{`x-a;tr`, "", true},
		{`x-a;zz`, "", true},
		{`@status`, "", true},
		{`@signature-params`, "", true},
		{`"X-Up"`, "", true},
		{`"a b"`, "", true},
		{``, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := parseComponentString(tt.in)
			if tt.bad {
				if !errors.Is(err, signet.ErrMalformed) {
					t.Errorf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || c.id != tt.want {
				t.Errorf("got %q, %v; want %q", c.id, err, tt.want)
			}
		})
	}
}

func TestParseSignatureInput(t *testing.T) {
	got, err := ParseSignatureInput(`sig1=("@method" "x-a";key="b");created=1618884473;expires=1618884773;nonce="n";keyid="k";alg="ed25519";tag="t";other=1, sig2=()`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d members", len(got))
	}
	s := got[0]
	if s.Label != "sig1" || strings.Join(s.Components, " ") != `"@method" "x-a";key="b"` || s.Created.Unix() != 1618884473 ||
		s.Expires.Unix() != 1618884773 || s.Nonce != "n" || s.KeyID != "k" || s.Alg != "ed25519" || s.Tag != "t" ||
		s.Params != `("@method" "x-a";key="b");created=1618884473;expires=1618884773;nonce="n";keyid="k";alg="ed25519";tag="t";other=1` {
		t.Errorf("got %+v", s)
	}
	for _, bad := range []string{`sig1=`, `sig1="x"`, `sig1=("a" "a")`, `sig1=();created="1"`, `sig1=();keyid=1`, `sig1=();created=-1`, `sig1=(1)`} {
		if _, err := ParseSignatureInput(bad); !errors.Is(err, signet.ErrMalformed) {
			t.Errorf("ParseSignatureInput(%q): err = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestStructuredFieldComponents(t *testing.T) {
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	r.Header.Add("X-Dict", `a=1,   b=?0`)
	r.Header.Add("X-Dict", `c=(x  y);p=1`)
	r.Header.Add("X-List", `1,  2`)
	r.Header.Add("X-Bin", ` one `)
	r.Header.Add("X-Bin", `two`)
	r.Header.Set("X-Bad", `a=(`)
	tests := []struct{ id, want string }{
		{`"x-dict";sf`, `a=1, b=?0, c=(x y);p=1`},
		{`"x-dict";key="c"`, `(x y);p=1`},
		{`"x-list";sf`, `1, 2`},
		{`"x-bin";bs`, `:b25l:, :dHdv:`},
		{`"x-bin"`, `one, two`},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			base, err := SignatureBase(r, "("+tt.id+")")
			if err != nil {
				t.Fatal(err)
			}
			line, _, _ := strings.Cut(string(base), "\n")
			if want := tt.id + ": " + tt.want; line != want {
				t.Errorf("got %q, want %q", line, want)
			}
		})
	}
	for id, want := range map[string]error{
		`"x-dict";key="z"`:        signet.ErrMissingHeader,
		`"x-bad";sf`:              signet.ErrMalformed,
		`"x-list";key="a"`:        signet.ErrMalformed,
		`"x-none"`:                signet.ErrMissingHeader,
		`"@query-param";name="q"`: signet.ErrMissingHeader,
	} {
		if _, err := SignatureBase(r, "("+id+")"); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", id, err, want)
		}
	}
}

func TestEmptyBodyDigest(t *testing.T) {
	s, key := signerFor(t, AlgHMACSHA256)
	s.Components = []string{"@method", "@authority", "@path", "content-digest"}
	r := httptest.NewRequest("GET", "https://api.example.com/x", nil)
	if err := s.SignRequest(r); err != nil {
		t.Fatal(err)
	}
	sr := toServer(t, r)
	if _, err := (&Verifier{Now: fixedNow}).Verify(context.Background(), sr, signet.StaticKeys{key.ID: key}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// A signed digest of another body on a request without one.
	r = httptest.NewRequest("GET", "https://api.example.com/x", nil)
	r.Header.Set("Content-Digest", contentDigest(DigestSHA256, []byte("x")))
	if err := s.SignRequest(r); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Verifier{Now: fixedNow}).Verify(context.Background(), toServer(t, r), signet.StaticKeys{key.ID: key}); !errors.Is(err, signet.ErrDigest) {
		t.Fatalf("err = %v, want ErrDigest", err)
	}
}
