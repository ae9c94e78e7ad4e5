// Package keyfile reads public and private keys from PEM (PKIX, PKCS#1,
// PKCS#8, SEC 1, certificates) or JWK (RFC 7517: RSA, EC P-256/P-384/P-521,
// OKP Ed25519), the forms operators and SDKs hand around.
package keyfile

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// ParsePublicKey reads a public key from PEM or JWK. A private key is
// accepted too, and its public half returned.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		j, err := parseJWK(data)
		if err != nil {
			return nil, err
		}
		return j.public()
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("keyfile: no PEM block or JWK found")
	}
	switch blk.Type {
	case "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(blk.Bytes)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(blk.Bytes)
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("keyfile: %w", err)
		}
		return c.PublicKey, nil
	}
	priv, err := parsePrivatePEM(blk)
	if err != nil {
		return nil, err
	}
	return priv.Public(), nil
}

// ParsePrivateKey reads a private key from PEM or JWK.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		j, err := parseJWK(data)
		if err != nil {
			return nil, err
		}
		return j.private()
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("keyfile: no PEM block or JWK found")
	}
	return parsePrivatePEM(blk)
}

func parsePrivatePEM(blk *pem.Block) (crypto.Signer, error) {
	var (
		k   any
		err error
	)
	switch blk.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("keyfile: unsupported PEM block %q", blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keyfile: %T cannot sign", k)
	}
	return s, nil
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

func parseJWK(data []byte) (*jwk, error) {
	var j jwk
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("keyfile: JWK: %w", err)
	}
	return &j, nil
}

func b64(field, s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("keyfile: JWK: missing %q", field)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("keyfile: JWK %q: %w", field, err)
	}
	return b, nil
}

func bigInt(field, s string) (*big.Int, error) {
	b, err := b64(field, s)
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}

func (j *jwk) public() (crypto.PublicKey, error) {
	switch j.Kty {
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("keyfile: JWK: unsupported OKP curve %q", j.Crv)
		}
		x, err := b64("x", j.X)
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, errors.New("keyfile: JWK: bad Ed25519 key size")
		}
		return ed25519.PublicKey(x), nil
	case "EC":
		crv, err := curve(j.Crv)
		if err != nil {
			return nil, err
		}
		x, err := b64("x", j.X)
		if err != nil {
			return nil, err
		}
		y, err := b64("y", j.Y)
		if err != nil {
			return nil, err
		}
		size := (crv.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, errors.New("keyfile: JWK: bad EC coordinate size")
		}
		// Parse through the uncompressed point encoding, which checks that
		// the point is on the curve.
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(crv, point)
		if err != nil {
			return nil, fmt.Errorf("keyfile: JWK: %w", err)
		}
		return pub, nil
	case "RSA":
		n, err := bigInt("n", j.N)
		if err != nil {
			return nil, err
		}
		e, err := bigInt("e", j.E)
		if err != nil {
			return nil, err
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, errors.New("keyfile: JWK: bad RSA exponent")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "oct":
		return nil, errors.New("keyfile: JWK: symmetric (oct) keys are secrets, not public keys")
	}
	return nil, fmt.Errorf("keyfile: JWK: unsupported kty %q", j.Kty)
}

func (j *jwk) private() (crypto.Signer, error) {
	pub, err := j.public()
	if err != nil {
		return nil, err
	}
	d, err := b64("d", j.D)
	if err != nil {
		return nil, err
	}
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(d) != ed25519.SeedSize {
			return nil, errors.New("keyfile: JWK: bad Ed25519 seed size")
		}
		k := ed25519.NewKeyFromSeed(d)
		if !k.Public().(ed25519.PublicKey).Equal(p) {
			return nil, errors.New("keyfile: JWK: d does not match x")
		}
		return k, nil
	case *ecdsa.PublicKey:
		k, err := ecdsa.ParseRawPrivateKey(p.Curve, d)
		if err != nil {
			return nil, fmt.Errorf("keyfile: JWK: %w", err)
		}
		if !k.PublicKey.Equal(p) {
			return nil, errors.New("keyfile: JWK: d does not match x, y")
		}
		return k, nil
	case *rsa.PublicKey:
		dd := new(big.Int).SetBytes(d)
		var pp, q *big.Int
		if j.P == "" && j.Q == "" {
			// Some published JWKs (RFC 9421's test-key-rsa-pss) carry
			// only n, e and d: recover the primes.
			if pp, q, err = factor(p.N, big.NewInt(int64(p.E)), dd); err != nil {
				return nil, err
			}
		} else {
			if pp, err = bigInt("p", j.P); err != nil {
				return nil, err
			}
			if q, err = bigInt("q", j.Q); err != nil {
				return nil, err
			}
		}
		k := &rsa.PrivateKey{PublicKey: *p, D: dd, Primes: []*big.Int{pp, q}}
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("keyfile: JWK: %w", err)
		}
		k.Precompute()
		return k, nil
	}
	return nil, errors.New("keyfile: JWK: unsupported private key")
}

func curve(name string) (elliptic.Curve, error) {
	switch name {
	case "P-256":
		return elliptic.P256(), nil
	case "P-384":
		return elliptic.P384(), nil
	case "P-521":
		return elliptic.P521(), nil
	}
	return nil, fmt.Errorf("keyfile: JWK: unsupported curve %q", name)
}

// factor recovers the primes of n from the exponents (the method of NIST SP
// 800-56B, appendix C): d*e-1 = 2^s * t; for a base g, some g^(t*2^i) is a
// non-trivial square root of 1 modulo n, whose gcd with n is a prime.
func factor(n, e, d *big.Int) (p, q *big.Int, err error) {
	one := big.NewInt(1)
	k := new(big.Int).Mul(d, e)
	k.Sub(k, one)
	if k.Sign() <= 0 || k.Bit(0) != 0 {
		return nil, nil, errors.New("keyfile: JWK: inconsistent RSA exponents")
	}
	t := new(big.Int).Set(k)
	for t.Bit(0) == 0 {
		t.Rsh(t, 1)
	}
	nMinus1 := new(big.Int).Sub(n, one)
	for _, base := range []int64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47} {
		x := new(big.Int).Exp(big.NewInt(base), t, n)
		for i := new(big.Int).Set(t); i.Cmp(k) < 0; i.Lsh(i, 1) {
			if x.Cmp(one) == 0 || x.Cmp(nMinus1) == 0 {
				break
			}
			y := new(big.Int).Exp(x, big.NewInt(2), n)
			if y.Cmp(one) == 0 {
				p = new(big.Int).GCD(nil, nil, new(big.Int).Sub(x, one), n)
				q = new(big.Int).Div(n, p)
				if new(big.Int).Mul(p, q).Cmp(n) == 0 && p.Cmp(one) > 0 && q.Cmp(one) > 0 {
					return p, q, nil
				}
			}
			x = y
		}
	}
	return nil, nil, errors.New("keyfile: JWK: cannot recover the RSA primes from n, e, d")
}

// IsPrivate reports whether data holds a private key (a PEM block whose
// type names one, or a JWK with a private exponent), so that callers that
// only verify can refuse to store one.
func IsPrivate(data []byte) bool {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		j, err := parseJWK(data)
		return err == nil && j.D != ""
	}
	blk, _ := pem.Decode(data)
	return blk != nil && bytes.Contains([]byte(blk.Type), []byte("PRIVATE"))
}
