package cavage

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/bodydigest"
)

type vectorFile struct {
	KnownAnswers   []knownAnswer   `json:"known_answers"`
	GeneratedCases []generatedCase `json:"generated_cases"`
}

type knownAnswer struct {
	Source string `json:"source"`
	Input  struct {
		Method      string      `json:"method"`
		Target      string      `json:"target"`
		Headers     [][2]string `json:"headers"`
		KeyID       string      `json:"key_id"`
		Key         string      `json:"key"`
		Algorithm   string      `json:"algorithm"`
		HeaderNames []string    `json:"header_names"`
	} `json:"input"`
	Output struct {
		SigningString string `json:"signing_string"`
		Signature     string `json:"signature"`
	} `json:"output"`
}

type generatedCase struct {
	Source string `json:"source"`
	Input  struct {
		Method      string          `json:"method"`
		Target      string          `json:"target"`
		Headers     [][2]string     `json:"headers"`
		KeyID       string          `json:"key_id"`
		Key         json.RawMessage `json:"key"`
		Algorithm   string          `json:"algorithm"`
		HeaderNames []string        `json:"header_names"`
		Created     *int64          `json:"created"`
		Expires     *int64          `json:"expires"`
		Body        *string         `json:"body"`
	} `json:"input"`
	Output struct {
		SigningString string `json:"signing_string"`
		HeaderName    string `json:"header_name"`
		HeaderValue   string `json:"header_value"`
	} `json:"output"`
}

func loadVectors(t testing.TB) *vectorFile {
	t.Helper()
	data, err := os.ReadFile("../testdata/cavage.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		t.Fatal(err)
	}
	return &vf
}

// caseName names a generated case by its index and algorithm.
func caseName(i int, c *generatedCase) string {
	return fmt.Sprintf("http-signature/%02d/%s", i, c.Input.Algorithm)
}

// jwk is the subset of RFC 7517 the vectors use.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	D   string `json:"d"`
	P   string `json:"p"`
	Q   string `json:"q"`
	X   string `json:"x"`
}

func b64uInt(t testing.TB, s string) *big.Int {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("jwk: %v", err)
	}
	return new(big.Int).SetBytes(b)
}

// privateFromJWK builds the private key a case was signed with; tests derive
// the verifier's public key from it.
func privateFromJWK(t testing.TB, raw json.RawMessage) crypto.Signer {
	t.Helper()
	var k jwk
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	switch k.Kty {
	case "RSA":
		priv := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: b64uInt(t, k.N), E: int(b64uInt(t, k.E).Int64())},
			D:         b64uInt(t, k.D),
			Primes:    []*big.Int{b64uInt(t, k.P), b64uInt(t, k.Q)},
		}
		if err := priv.Validate(); err != nil {
			t.Fatalf("jwk: %v", err)
		}
		priv.Precompute()
		return priv
	case "OKP":
		if k.Crv != "Ed25519" {
			t.Fatalf("jwk: curve %q", k.Crv)
		}
		seed, err := base64.RawURLEncoding.DecodeString(k.D)
		if err != nil || len(seed) != ed25519.SeedSize {
			t.Fatalf("jwk: bad seed")
		}
		priv := ed25519.NewKeyFromSeed(seed)
		x, _ := base64.RawURLEncoding.DecodeString(k.X)
		if !priv.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(x)) {
			t.Fatalf("jwk: x does not match d")
		}
		return priv
	}
	t.Fatalf("jwk: kty %q", k.Kty)
	return nil
}

// serverRequest builds the request a Go server would hand to a handler, by
// parsing the raw HTTP/1.1 message. Targets that net/http refuses to parse
// (invalid percent-escapes, which http-signature signs happily) are built by
// hand, as a non-Go front end or the CLI would present them.
func serverRequest(t testing.TB, method, target string, headers [][2]string, body *string) *http.Request {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(*body))
	}
	b.WriteString("\r\n")
	if body != nil {
		b.WriteString(*body)
	}
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
	if err == nil {
		return r
	}
	t.Logf("net/http refuses the target (%v); request built by hand", err)
	r = &http.Request{
		Method:     method,
		RequestURI: target,
		URL:        &url.URL{Path: "/"},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
		Body:       http.NoBody,
	}
	for _, h := range headers {
		if strings.EqualFold(h[0], "Host") {
			r.Host = h[1]
			continue
		}
		r.Header.Add(h[0], h[1])
	}
	if body != nil {
		r.Header.Set("Content-Length", strconv.Itoa(len(*body)))
		r.ContentLength = int64(len(*body))
		if len(*body) > 0 {
			r.Body = io.NopCloser(strings.NewReader(*body))
		}
	}
	return r
}

// clientRequest builds the request a Go client would send for target,
// keeping the target byte for byte (through URL.Opaque).
func clientRequest(t testing.TB, method, target string, headers [][2]string, body *string) *http.Request {
	t.Helper()
	path, query, hasQuery := strings.Cut(target, "?")
	u := &url.URL{Scheme: "http", Opaque: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(*body)
	}
	r, err := http.NewRequest(method, "http://placeholder/", rd)
	if err != nil {
		t.Fatal(err)
	}
	r.URL = u
	for _, h := range headers {
		if strings.EqualFold(h[0], "Host") {
			r.Host = h[1]
			u.Host = h[1]
			continue
		}
		r.Header.Add(h[0], h[1])
	}
	if got := r.URL.RequestURI(); got != target {
		t.Fatalf("client target = %q, want %q", got, target)
	}
	return r
}

func headerValue(headers [][2]string, name string) string {
	for _, h := range headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func dateOf(t testing.TB, headers [][2]string) time.Time {
	t.Helper()
	d, err := http.ParseTime(headerValue(headers, "Date"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fixedNow(tm time.Time) func() time.Time { return func() time.Time { return tm } }

// paramsOf strips the "Signature " scheme of an Authorization value.
func paramsOf(headerName, value string) string {
	if strings.EqualFold(headerName, "Authorization") {
		return strings.TrimPrefix(value, "Signature ")
	}
	return value
}

func TestKnownAnswers(t *testing.T) {
	vf := loadVectors(t)
	if len(vf.KnownAnswers) == 0 {
		t.Fatal("no known answers")
	}
	for _, ka := range vf.KnownAnswers {
		t.Run(ka.Source, func(t *testing.T) {
			in := ka.Input
			r := serverRequest(t, in.Method, in.Target, in.Headers, nil)
			ss, err := SigningString(r, in.HeaderNames, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ss != ka.Output.SigningString {
				t.Fatalf("signing string = %q, want %q", ss, ka.Output.SigningString)
			}
			r.Header.Set("Authorization", fmt.Sprintf(`Signature keyId=%q,algorithm=%q,headers=%q,signature=%q`,
				in.KeyID, in.Algorithm, strings.Join(in.HeaderNames, " "), ka.Output.Signature))
			keys := mustKeys(t, &signet.Key{ID: in.KeyID, Secrets: []string{in.Key}})
			v := &Verifier{Now: fixedNow(dateOf(t, in.Headers))}
			ver, err := v.Verify(context.Background(), r, keys)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ver.Algorithm != in.Algorithm || ver.SecretIndex != 0 || ver.Signature != ka.Output.Signature {
				t.Fatalf("Verified = %+v", ver)
			}

			cr := clientRequest(t, in.Method, in.Target, in.Headers, nil)
			s := &Signer{KeyID: in.KeyID, Secret: in.Key, Algorithm: in.Algorithm, Headers: in.HeaderNames, Now: v.Now}
			if err := s.SignRequest(cr); err != nil {
				t.Fatal(err)
			}
			p, err := ParseParams(paramsOf("Authorization", cr.Header.Get("Authorization")))
			if err != nil {
				t.Fatal(err)
			}
			if got := base64.StdEncoding.EncodeToString(p.Signature); got != ka.Output.Signature {
				t.Fatalf("Signer signature = %q, want %q", got, ka.Output.Signature)
			}
		})
	}
}

func mustKeys(t testing.TB, keys ...*signet.Key) signet.StaticKeys {
	t.Helper()
	s, err := signet.NewStaticKeys(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// caseKey returns the verifier's key for a case (the public half for
// asymmetric cases; hmac-sha1 listed when the case uses it) and the
// signer's material.
func caseKey(t testing.TB, c *generatedCase) (*signet.Key, string, crypto.Signer) {
	t.Helper()
	in := c.Input
	key := &signet.Key{ID: in.KeyID}
	var secret string
	if err := json.Unmarshal(in.Key, &secret); err == nil {
		key.Secrets = []string{secret}
		if in.Algorithm == AlgHMACSHA1 {
			key.Algorithms = []string{AlgHMACSHA1}
		}
		return key, secret, nil
	}
	priv := privateFromJWK(t, in.Key)
	key.PublicKey = priv.Public()
	return key, "", priv
}

func int64Of(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func TestGeneratedCases(t *testing.T) {
	vf := loadVectors(t)
	if len(vf.GeneratedCases) == 0 {
		t.Fatal("no generated cases")
	}
	for i := range vf.GeneratedCases {
		c := &vf.GeneratedCases[i]
		t.Run(caseName(i, c), func(t *testing.T) {
			in := c.Input
			created, expires := int64Of(in.Created), int64Of(in.Expires)
			key, secret, priv := caseKey(t, c)
			keys := mustKeys(t, key)
			now := dateOf(t, in.Headers)

			t.Run("signing-string", func(t *testing.T) {
				r := serverRequest(t, in.Method, in.Target, in.Headers, in.Body)
				ss, err := SigningString(r, in.HeaderNames, created, expires)
				if err != nil {
					t.Fatal(err)
				}
				if ss != c.Output.SigningString {
					t.Fatalf("signing string = %q, want %q", ss, c.Output.SigningString)
				}
			})

			t.Run("params", func(t *testing.T) {
				p, err := ParseParams(paramsOf(c.Output.HeaderName, c.Output.HeaderValue))
				if err != nil {
					t.Fatal(err)
				}
				if p.KeyID != in.KeyID || p.Algorithm != in.Algorithm || p.Created != created || p.Expires != expires ||
					strings.Join(p.Headers, " ") != strings.Join(in.HeaderNames, " ") || !p.HeadersSet {
					t.Fatalf("params = %+v", p)
				}
			})

			t.Run("verify", func(t *testing.T) {
				r := serverRequest(t, in.Method, in.Target, in.Headers, in.Body)
				r.Header.Set(c.Output.HeaderName, c.Output.HeaderValue)
				v := &Verifier{Now: fixedNow(now)}
				ver, err := v.Verify(context.Background(), r, keys)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				wantIdx := 0
				if priv != nil {
					wantIdx = -1
				}
				if ver.SecretIndex != wantIdx || ver.KeyID != in.KeyID || ver.Scheme != signet.SchemeCavage {
					t.Fatalf("Verified = %+v", ver)
				}
				if got := strings.Join(ver.SignedHeaders, " "); got != strings.Join(in.HeaderNames, " ") {
					t.Fatalf("SignedHeaders = %q", got)
				}
				wantBody := in.Body != nil && *in.Body != "" && slicesContains(in.HeaderNames, "digest")
				if ver.BodySigned != wantBody {
					t.Fatalf("BodySigned = %v, want %v", ver.BodySigned, wantBody)
				}
				if _, isDigest := r.Body.(*bodydigest.Reader); isDigest != wantBody {
					t.Fatalf("body wrapped = %v, want %v", isDigest, wantBody)
				}
				if _, err := io.ReadAll(r.Body); err != nil {
					t.Fatalf("read body: %v", err)
				}
			})

			t.Run("sign", func(t *testing.T) {
				r := clientRequest(t, in.Method, in.Target, in.Headers, in.Body)
				if in.Body != nil {
					r.Header.Del("Digest") // SignRequest must compute the recorded one
				}
				s := &Signer{KeyID: in.KeyID, Secret: secret, PrivateKey: priv, Algorithm: in.Algorithm,
					Headers: in.HeaderNames, HeaderName: c.Output.HeaderName, Now: fixedNow(now)}
				bothOrNone := (created == 0) == (expires == 0)
				if expires != 0 {
					s.Expires = time.Minute
					s.Now = fixedNow(time.Unix(expires-60, 0))
					if created != 0 && created != expires-60 {
						t.Fatalf("case lifetime is not 60 s")
					}
				}
				if err := s.SignRequest(r); err != nil {
					t.Fatal(err)
				}
				if in.Body != nil && slicesContains(in.HeaderNames, "digest") {
					if got, want := r.Header.Get("Digest"), headerValue(in.Headers, "Digest"); got != want {
						t.Fatalf("Digest = %q, want %q", got, want)
					}
				}
				got := r.Header.Get(c.Output.HeaderName)
				if bothOrNone && got != c.Output.HeaderValue {
					t.Fatalf("%s = %q\nwant %q", c.Output.HeaderName, got, c.Output.HeaderValue)
				}
				gp, err := ParseParams(paramsOf(c.Output.HeaderName, got))
				if err != nil {
					t.Fatal(err)
				}
				wp, _ := ParseParams(paramsOf(c.Output.HeaderName, c.Output.HeaderValue))
				if string(gp.Signature) != string(wp.Signature) {
					t.Fatalf("signature = %s, want %s", gp.signature, wp.signature)
				}

				// What we signed verifies, on the wire as a server sees it.
				sr := serverRequest(t, in.Method, in.Target, in.Headers, in.Body)
				sr.Header.Set(c.Output.HeaderName, got)
				v := &Verifier{Now: fixedNow(now)}
				if _, err := v.Verify(context.Background(), sr, keys); err != nil {
					t.Fatalf("Verify(our signature): %v", err)
				}
				if _, err := io.ReadAll(sr.Body); err != nil {
					t.Fatalf("read body: %v", err)
				}
			})
		})
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
