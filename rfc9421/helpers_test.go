package rfc9421

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/dunglas/httpsfv"
)

type vectorMessage struct {
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Headers [][2]string `json:"headers"`
	Body    string      `json:"body"`
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
	N   string `json:"n"`
	E   string `json:"e"`
	P   string `json:"p"`
	Q   string `json:"q"`
}

type vectorFile struct {
	TestKeys     map[string]json.RawMessage `json:"test_keys"`
	TestRequest  vectorMessage              `json:"test_request"`
	KnownAnswers []struct {
		Source         string `json:"source"`
		Message        string `json:"message"`
		KeyID          string `json:"key_id"`
		Alg            string `json:"alg"`
		Deterministic  bool   `json:"deterministic"`
		SignatureInput string `json:"signature_input"`
		Signature      string `json:"signature"`
		SignatureBase  string `json:"signature_base"`
	} `json:"known_answers"`
	DerivedComponentExamples []struct {
		Message    vectorMessage `json:"message"`
		Components [][2]string   `json:"components"`
	} `json:"derived_component_examples"`
	ContentDigestExamples []struct {
		Body  string `json:"body"`
		Alg   string `json:"alg"`
		Value string `json:"value"`
	} `json:"content_digest_examples"`
	GeneratedCases []struct {
		Source string `json:"source"`
		Input  struct {
			vectorMessage
			Covered     []string        `json:"covered"`
			Params      [][2]any        `json:"params"`
			Alg         string          `json:"alg"`
			Key         json.RawMessage `json:"key"`
			KeyEncoding string          `json:"key_encoding"`
			Label       string          `json:"label"`
		} `json:"input"`
		Output struct {
			SignatureBase  string `json:"signature_base"`
			SignatureInput string `json:"signature_input"`
			Signature      string `json:"signature"`
		} `json:"output"`
	} `json:"generated_cases"`
}

var (
	vectorsOnce sync.Once
	vectors     vectorFile
	vectorsErr  error
)

func loadVectors(t testing.TB) *vectorFile {
	t.Helper()
	vectorsOnce.Do(func() {
		b, err := os.ReadFile("../testdata/rfc9421.json")
		if err != nil {
			vectorsErr = err
			return
		}
		vectorsErr = json.Unmarshal(b, &vectors)
	})
	if vectorsErr != nil {
		t.Fatalf("load vectors: %v", vectorsErr)
	}
	return &vectors
}

func b64url(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

// parseJWK returns the public key and, when the JWK has the private parts
// Go needs, a signer.
func parseJWK(t testing.TB, raw json.RawMessage) (crypto.PublicKey, crypto.Signer) {
	t.Helper()
	var k jwk
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatalf("jwk: %v", err)
	}
	switch k.Kty {
	case "OKP":
		priv := ed25519.NewKeyFromSeed(b64url(t, k.D))
		pub := ed25519.PublicKey(b64url(t, k.X))
		if !pub.Equal(priv.Public()) {
			t.Fatal("ed25519 jwk: x does not match d")
		}
		return pub, priv
	case "EC":
		curve := elliptic.P256()
		if k.Crv == "P-384" {
			curve = elliptic.P384()
		}
		priv, err := ecdsa.ParseRawPrivateKey(curve, b64url(t, k.D))
		if err != nil {
			t.Fatalf("ec jwk: %v", err)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, b64url(t, k.X)...), b64url(t, k.Y)...))
		if err != nil || !pub.Equal(&priv.PublicKey) {
			t.Fatalf("ec jwk: x, y do not match d: %v", err)
		}
		return pub, priv
	case "RSA":
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(b64url(t, k.N)), E: int(new(big.Int).SetBytes(b64url(t, k.E)).Int64())}
		if k.P == "" {
			return pub, nil
		}
		priv := &rsa.PrivateKey{PublicKey: *pub, D: new(big.Int).SetBytes(b64url(t, k.D)),
			Primes: []*big.Int{new(big.Int).SetBytes(b64url(t, k.P)), new(big.Int).SetBytes(b64url(t, k.Q))}}
		priv.Precompute()
		if err := priv.Validate(); err != nil {
			t.Fatalf("rsa jwk: %v", err)
		}
		return pub, priv
	}
	t.Fatalf("unsupported jwk kty %q", k.Kty)
	return nil, nil
}

// serverRequest builds the request a server receives for msg: the wire form
// read back with http.ReadRequest, the request target taken verbatim from
// the URL (no re-encoding), TLS set for https.
func serverRequest(t testing.TB, msg vectorMessage) *http.Request {
	t.Helper()
	rest, ok := strings.CutPrefix(msg.URL, "https://")
	https := ok
	if !ok {
		rest, ok = strings.CutPrefix(msg.URL, "http://")
		if !ok {
			t.Fatalf("url %q: unsupported scheme", msg.URL)
		}
	}
	host, target := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, target = rest[:i], rest[i:]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", msg.Method, target)
	hasHost := false
	for _, h := range msg.Headers {
		hasHost = hasHost || strings.EqualFold(h[0], "Host")
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if !hasHost {
		fmt.Fprintf(&b, "Host: %s\r\n", host)
	}
	b.WriteString("\r\n")
	b.WriteString(msg.Body)
	r, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		t.Fatalf("read request %s %s: %v", msg.Method, msg.URL, err)
	}
	if https {
		r.TLS = &tls.ConnectionState{}
	}
	return r
}

// member returns the value of the single member of a dictionary field.
func member(t testing.TB, field string) (label, value string) {
	t.Helper()
	label, value, ok := strings.Cut(field, "=")
	if !ok {
		t.Fatalf("field %q has no member", field)
	}
	return label, value
}

type interfaceSigner = crypto.Signer

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// parseSigInputString parses a Signature-Input member value.
func parseSigInputString(params string, in *sigInput) error {
	d, err := httpsfv.UnmarshalDictionary([]string{"a=" + params})
	if err != nil {
		return err
	}
	mem, _ := d.Get("a")
	return parseSigInput("a", mem, "", in)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
