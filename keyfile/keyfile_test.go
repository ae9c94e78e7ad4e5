package keyfile_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/signet-dev/signet/keyfile"
)

type equaler interface{ Equal(crypto.PublicKey) bool }

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestPEMForms(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, k := range map[string]crypto.Signer{"ed25519": edKey, "ecdsa": ecKey, "rsa": rsaKey} {
		t.Run(name, func(t *testing.T) {
			pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
			pkix, _ := x509.MarshalPKIXPublicKey(k.Public())
			forms := map[string][]byte{"PKCS#8": pemOf("PRIVATE KEY", pkcs8), "PKIX": pemOf("PUBLIC KEY", pkix)}
			switch k := k.(type) {
			case *rsa.PrivateKey:
				forms["PKCS#1 private"] = pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
				forms["PKCS#1 public"] = pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.PublicKey))
			case *ecdsa.PrivateKey:
				der, _ := x509.MarshalECPrivateKey(k)
				forms["SEC 1"] = pemOf("EC PRIVATE KEY", der)
			}
			forms["certificate"] = pemOf("CERTIFICATE", selfSigned(t, k))
			for form, data := range forms {
				pub, err := keyfile.ParsePublicKey(data)
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				if !pub.(equaler).Equal(k.Public()) {
					t.Errorf("%s: public key differs", form)
				}
			}
			for _, form := range []string{"PKCS#8", "PKCS#1 private", "SEC 1"} {
				data, ok := forms[form]
				if !ok {
					continue
				}
				priv, err := keyfile.ParsePrivateKey(data)
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				if !priv.Public().(equaler).Equal(k.Public()) {
					t.Errorf("%s: private key differs", form)
				}
			}
		})
	}
}

func selfSigned(t *testing.T, k crypto.Signer) []byte {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// The RFC 9421 test keys are published as JWKs (testdata/rfc9421.json).
func TestRFC9421JWKs(t *testing.T) {
	raw, err := os.ReadFile("../testdata/rfc9421.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		TestKeys map[string]json.RawMessage `json:"test_keys"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"test-key-ed25519": "ed25519", "test-key-ecc-p256": "ecdsa", "test-key-rsa-pss": "rsa"}
	for name, typ := range want {
		t.Run(name, func(t *testing.T) {
			priv, err := keyfile.ParsePrivateKey(v.TestKeys[name])
			if err != nil {
				t.Fatal(err)
			}
			pub, err := keyfile.ParsePublicKey(v.TestKeys[name])
			if err != nil {
				t.Fatal(err)
			}
			if !priv.Public().(equaler).Equal(pub) {
				t.Error("public half differs")
			}
			ok := false
			switch typ {
			case "ed25519":
				_, ok = pub.(ed25519.PublicKey)
			case "ecdsa":
				_, ok = pub.(*ecdsa.PublicKey)
			case "rsa":
				_, ok = pub.(*rsa.PublicKey)
			}
			if !ok {
				t.Errorf("got %T, want %s", pub, typ)
			}
		})
	}
}

func TestJWKErrors(t *testing.T) {
	x := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	for name, s := range map[string]string{
		"not json":       "{",
		"oct":            `{"kty":"oct","k":"AAAA"}`,
		"unknown kty":    `{"kty":"XYZ"}`,
		"bad curve":      `{"kty":"EC","crv":"P-192","x":"AA","y":"AA"}`,
		"off curve":      `{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + x + `"}`,
		"short ed25519":  `{"kty":"OKP","crv":"Ed25519","x":"AAAA"}`,
		"missing n":      `{"kty":"RSA","e":"AQAB"}`,
		"bad base64":     `{"kty":"OKP","crv":"Ed25519","x":"!!"}`,
		"no pem":         "hello",
		"unknown pem":    string(pemOf("DSA PRIVATE KEY", []byte{1})),
		"garbage pkix":   string(pemOf("PUBLIC KEY", []byte{1, 2, 3})),
		"rsa exponent 1": `{"kty":"RSA","n":"AQAB","e":"AQ"}`,
	} {
		if _, err := keyfile.ParsePublicKey([]byte(s)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A private JWK whose d does not match its public part.
	_, a, _ := ed25519.GenerateKey(rand.Reader)
	_, b, _ := ed25519.GenerateKey(rand.Reader)
	bad := `{"kty":"OKP","crv":"Ed25519","x":"` + base64.RawURLEncoding.EncodeToString(a.Public().(ed25519.PublicKey)) +
		`","d":"` + base64.RawURLEncoding.EncodeToString(b.Seed()) + `"}`
	if _, err := keyfile.ParsePrivateKey([]byte(bad)); err == nil {
		t.Error("mismatched d accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"qIVYZVLCrPZHGHjP17CTW0_-D9Lfw0EkjqF7xB4FivA","y":"Mc4nN9LTDOBhfoUeg8Ye9WedFRhnZXZJA12Qp0zZ6F0"}`))
	f.Add([]byte(`{"kty":"RSA","n":"AQAB","e":"AQAB"}`))
	f.Add(pemOf("PUBLIC KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x01}))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Never panics; whatever parses is a usable key type.
		if pub, err := keyfile.ParsePublicKey(data); err == nil && pub == nil {
			t.Fatal("nil key without error")
		}
		if priv, err := keyfile.ParsePrivateKey(data); err == nil && priv.Public() == nil {
			t.Fatal("private key without a public half")
		}
	})
}

func TestRSAJWKWithAndWithoutPrimes(t *testing.T) {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	enc := func(b *big.Int) string { return base64.RawURLEncoding.EncodeToString(b.Bytes()) }
	base := `"kty":"RSA","n":"` + enc(k.N) + `","e":"AQAB","d":"` + enc(k.D) + `"`
	for name, jwk := range map[string]string{
		"with primes":    `{` + base + `,"p":"` + enc(k.Primes[0]) + `","q":"` + enc(k.Primes[1]) + `"}`,
		"without primes": `{` + base + `}`,
	} {
		priv, err := keyfile.ParsePrivateKey([]byte(jwk))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The primes may come back in either order; the key is the same.
		got := priv.(*rsa.PrivateKey)
		if !got.PublicKey.Equal(&k.PublicKey) || got.D.Cmp(k.D) != 0 || len(got.Primes) != 2 ||
			new(big.Int).Mul(got.Primes[0], got.Primes[1]).Cmp(k.N) != 0 {
			t.Errorf("%s: recovered key differs", name)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestIsPrivate(t *testing.T) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	pkix, _ := x509.MarshalPKIXPublicKey(k.Public())
	for data, want := range map[string]bool{
		string(pemOf("PRIVATE KEY", pkcs8)):             true,
		string(pemOf("EC PRIVATE KEY", pkcs8)):          true,
		string(pemOf("PUBLIC KEY", pkix)):               false,
		`{"kty":"OKP","crv":"Ed25519","x":"a"}`:         false,
		`{"kty":"OKP","crv":"Ed25519","x":"a","d":"b"}`: true,
		"garbage": false,
	} {
		if got := keyfile.IsPrivate([]byte(data)); got != want {
			t.Errorf("IsPrivate(%.30q) = %v, want %v", data, got, want)
		}
	}
}
