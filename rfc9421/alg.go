package rfc9421

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"hash"
	"math/big"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/keycache"
)

// Algorithm names from the HTTP Signature Algorithms registry (RFC 9421
// §6.2.2), as carried by the alg parameter and listed in Key.Algorithms.
const (
	AlgHMACSHA256      = signet.AlgHMACSHA256 // "hmac-sha256"
	AlgEd25519         = "ed25519"
	AlgECDSAP256SHA256 = "ecdsa-p256-sha256"
	AlgECDSAP384SHA384 = "ecdsa-p384-sha384"
	AlgRSAPSSSHA512    = "rsa-pss-sha512"
	AlgRSAV15SHA256    = "rsa-v1_5-sha256"
)

type kind uint8

const (
	kindHMAC kind = iota
	kindEd25519
	kindECDSA
	kindRSAPSS
	kindRSAV15
)

// method is an algorithm resolved against key material.
type method struct {
	name    string
	kind    kind
	hash    crypto.Hash
	newHash func() hash.Hash
	curve   elliptic.Curve // ECDSA only
}

var (
	mHMACSHA256 = &method{AlgHMACSHA256, kindHMAC, crypto.SHA256, sha256.New, nil}
	mEd25519    = &method{AlgEd25519, kindEd25519, 0, nil, nil}
	mECDSAP256  = &method{AlgECDSAP256SHA256, kindECDSA, crypto.SHA256, sha256.New, elliptic.P256()}
	mECDSAP384  = &method{AlgECDSAP384SHA384, kindECDSA, crypto.SHA384, sha512.New384, elliptic.P384()}
	mRSAPSS     = &method{AlgRSAPSSSHA512, kindRSAPSS, crypto.SHA512, sha512.New, nil}
	mRSAV15     = &method{AlgRSAV15SHA256, kindRSAV15, crypto.SHA256, sha256.New, nil}
)

func methodByName(name string) *method {
	switch name {
	case AlgHMACSHA256:
		return mHMACSHA256
	case AlgEd25519:
		return mEd25519
	case AlgECDSAP256SHA256:
		return mECDSAP256
	case AlgECDSAP384SHA384:
		return mECDSAP384
	case AlgRSAPSSSHA512:
		return mRSAPSS
	case AlgRSAV15SHA256:
		return mRSAV15
	}
	return nil
}

// publicKey normalises the forms a Key.PublicKey may take (values and
// pointers) to *rsa.PublicKey, *ecdsa.PublicKey and ed25519.PublicKey.
func publicKey(pub crypto.PublicKey) crypto.PublicKey {
	switch k := pub.(type) {
	case *ed25519.PublicKey:
		if k != nil {
			return *k
		}
		return nil
	case rsa.PublicKey:
		return &k
	case ecdsa.PublicKey:
		return &k
	}
	return pub
}

// methodsForPublic lists the methods a public key can verify, preferred
// first. An RSA key fits two algorithms; the alg parameter or the key's
// Algorithms choose between them.
func methodsForPublic(pub crypto.PublicKey) []*method {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return []*method{mEd25519}
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []*method{mECDSAP256}
		case elliptic.P384():
			return []*method{mECDSAP384}
		}
	case *rsa.PublicKey:
		return []*method{mRSAPSS, mRSAV15}
	}
	return nil
}

// resolve decides what to compute for key, given the alg parameter ("" when
// absent). The key's material and its Algorithms decide; a claimed alg that
// the key does not fit is refused. It returns the candidate methods (two
// only for an RSA key without alg) or a detail for signet.ErrAlgorithm.
func resolve(alg string, key *signet.Key, buf *[2]*method) ([]*method, string) {
	pub := publicKey(key.PublicKey)
	var fit []*method
	switch {
	case alg == AlgHMACSHA256:
		if len(key.Secrets) == 0 {
			return nil, "hmac-sha256 claimed for a key without a secret"
		}
		buf[0] = mHMACSHA256
		fit = buf[:1]
	case alg != "":
		m := methodByName(alg)
		if m == nil {
			return nil, "unknown algorithm " + quote(alg)
		}
		if pub == nil {
			return nil, "algorithm " + quote(alg) + " needs a public key"
		}
		for _, c := range methodsForPublic(pub) {
			if c == m {
				buf[0] = m
				fit = buf[:1]
			}
		}
		if fit == nil {
			return nil, "algorithm " + quote(alg) + " does not fit the key"
		}
	case pub != nil:
		fit = append(buf[:0], methodsForPublic(pub)...)
		if len(fit) == 0 {
			return nil, "unsupported public key type"
		}
	case len(key.Secrets) > 0:
		buf[0] = mHMACSHA256
		fit = buf[:1]
	default:
		return nil, "key has neither secret nor public key"
	}
	n := 0
	for _, m := range fit {
		if key.AllowsAlgorithm(m.name) {
			fit[n] = m
			n++
		}
	}
	if n == 0 {
		return nil, "algorithm " + quote(fit[0].name) + " not allowed for this key"
	}
	return fit[:n], ""
}

// verifyHMAC tries every secret and returns the index of the first that
// matches, or -1. All secrets are tried so the time does not say which one
// matched.
func verifyHMAC(secrets []string, msg, sig []byte) int {
	if len(sig) != sha256.Size {
		return -1
	}
	match := -1
	for i, s := range secrets {
		if s == "" {
			continue // an empty secret would let anyone sign
		}
		mp := keycache.Keyed(s, crypto.SHA256)
		mac := mp.Get()
		mac.Write(msg)
		if hmac.Equal(mac.Hash.Sum(mac.Sum[:0]), sig) && match < 0 {
			match = i
		}
		mp.Put(mac)
	}
	return match
}

// verifyPublic reports whether sig is m's signature of msg under pub.
func (m *method) verifyPublic(pub crypto.PublicKey, msg, sig []byte) bool {
	if m.kind == kindEd25519 {
		k, ok := pub.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize && ed25519.Verify(k, msg, sig)
	}
	h := m.newHash()
	h.Write(msg)
	var buf [sha512.Size]byte
	digest := h.Sum(buf[:0])
	switch m.kind {
	case kindRSAPSS:
		// Any salt length: the RFC says 64 bytes, node signs with the maximum.
		k, ok := pub.(*rsa.PublicKey)
		return ok && rsa.VerifyPSS(k, m.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	case kindRSAV15:
		k, ok := pub.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(k, m.hash, digest, sig) == nil
	case kindECDSA:
		// RFC 9421 §3.3.4: the signature is r||s, each the curve's size.
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != m.curve {
			return false
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k, digest, r, s)
	}
	return false
}

// sign signs msg with m using secret (hmac) or priv.
func (m *method) sign(secret string, priv crypto.Signer, msg []byte) ([]byte, error) {
	switch m.kind {
	case kindHMAC:
		if secret == "" {
			return nil, errors.New("empty Secret")
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(msg)
		return mac.Sum(nil), nil
	case kindEd25519:
		return priv.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	h := m.newHash()
	h.Write(msg)
	digest := h.Sum(nil)
	switch m.kind {
	case kindRSAPSS:
		return priv.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: 64, Hash: m.hash})
	case kindRSAV15:
		return priv.Sign(rand.Reader, digest, m.hash)
	}
	// ECDSA: crypto.Signer returns ASN.1 DER; the wire format is r||s.
	der, err := priv.Sign(rand.Reader, digest, m.hash)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
		return nil, errors.New("ecdsa signer returned a malformed signature")
	}
	size := (m.curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// methodForSigner picks the method for a signer's key material.
func methodForSigner(alg, secret string, priv crypto.Signer) (*method, error) {
	if alg != "" {
		m := methodByName(alg)
		if m == nil {
			return nil, errors.New("unknown algorithm " + quote(alg))
		}
		if m.kind == kindHMAC {
			if secret == "" {
				return nil, errors.New("hmac-sha256 needs a Secret")
			}
			return m, nil
		}
		if priv == nil {
			return nil, errors.New("algorithm " + quote(alg) + " needs a PrivateKey")
		}
		for _, c := range methodsForPublic(publicKey(priv.Public())) {
			if c == m {
				return m, nil
			}
		}
		return nil, errors.New("algorithm " + quote(alg) + " does not fit the PrivateKey")
	}
	if priv != nil {
		ms := methodsForPublic(publicKey(priv.Public()))
		if len(ms) == 0 {
			return nil, errors.New("unsupported PrivateKey type")
		}
		return ms[0], nil
	}
	if secret == "" {
		return nil, errors.New("neither Secret nor PrivateKey")
	}
	return mHMACSHA256, nil
}
