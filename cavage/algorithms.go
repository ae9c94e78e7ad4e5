package cavage

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"math/big"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/keycache"
)

// Algorithm names: the draft's, http-signature's, and the concrete ones that
// Verified.Algorithm reports for hs2019.
const (
	AlgHMACSHA1      = signet.AlgHMACSHA1 // refused unless the key lists it
	AlgHMACSHA256    = signet.AlgHMACSHA256
	AlgHMACSHA512    = signet.AlgHMACSHA512
	AlgRSASHA256     = "rsa-sha256"     // RSASSA-PKCS1-v1_5 with SHA-256
	AlgRSASHA512     = "rsa-sha512"     // RSASSA-PKCS1-v1_5 with SHA-512
	AlgRSAPSSSHA512  = "rsa-pss-sha512" // hs2019 with an RSA key
	AlgECDSASHA256   = "ecdsa-sha256"   // any curve; hs2019 with a P-256 key
	AlgECDSASHA384   = "ecdsa-sha384"   // hs2019 with a P-384 key
	AlgECDSASHA512   = "ecdsa-sha512"   // hs2019 with a P-521 key
	AlgEd25519       = "ed25519"        // also hs2019 with an Ed25519 key
	AlgEd25519SHA512 = "ed25519-sha512" // http-signature's name for ed25519
	AlgHS2019        = "hs2019"         // drafts 10-12: the key decides
)

type kind uint8

const (
	kindHMAC kind = iota
	kindRSA
	kindRSAPSS
	kindECDSA
	kindEd25519
)

// method is an algorithm resolved against a key: what is actually computed.
type method struct {
	name    string // concrete name, reported in Verified.Algorithm
	kind    kind
	hash    crypto.Hash
	newHash func() hash.Hash
}

var (
	mHMACSHA1   = method{AlgHMACSHA1, kindHMAC, crypto.SHA1, sha1.New}
	mHMACSHA256 = method{AlgHMACSHA256, kindHMAC, crypto.SHA256, sha256.New}
	mHMACSHA512 = method{AlgHMACSHA512, kindHMAC, crypto.SHA512, sha512.New}
	mRSASHA256  = method{AlgRSASHA256, kindRSA, crypto.SHA256, sha256.New}
	mRSASHA512  = method{AlgRSASHA512, kindRSA, crypto.SHA512, sha512.New}
	mRSAPSS     = method{AlgRSAPSSSHA512, kindRSAPSS, crypto.SHA512, sha512.New}
	mECDSA256   = method{AlgECDSASHA256, kindECDSA, crypto.SHA256, sha256.New}
	mECDSA384   = method{AlgECDSASHA384, kindECDSA, crypto.SHA384, sha512.New384}
	mECDSA512   = method{AlgECDSASHA512, kindECDSA, crypto.SHA512, sha512.New}
	mEd25519    = method{AlgEd25519, kindEd25519, 0, nil}
)

// publicKey normalises the key types a Key.PublicKey may hold.
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

// resolveSecret resolves a claimed hmac algorithm ("" meaning hmac-sha256).
func resolveSecret(alg string) (method, bool) {
	switch alg {
	case "", AlgHMACSHA256:
		return mHMACSHA256, true
	case AlgHMACSHA512:
		return mHMACSHA512, true
	case AlgHMACSHA1:
		return mHMACSHA1, true
	}
	return method{}, false
}

// resolvePublic resolves a claimed asymmetric algorithm against a public key:
// the key's type, not the request, decides what is computed. "" means hs2019.
// The detail explains a refusal.
func resolvePublic(alg string, pub crypto.PublicKey) (m method, detail string) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch alg {
		case AlgRSASHA256:
			return mRSASHA256, ""
		case AlgRSASHA512:
			return mRSASHA512, ""
		case "", AlgHS2019:
			return mRSAPSS, ""
		}
	case *ecdsa.PublicKey:
		switch alg {
		case AlgECDSASHA256:
			return mECDSA256, ""
		case AlgECDSASHA384:
			return mECDSA384, ""
		case AlgECDSASHA512:
			return mECDSA512, ""
		case "", AlgHS2019:
			switch k.Curve {
			case elliptic.P256():
				return mECDSA256, ""
			case elliptic.P384():
				return mECDSA384, ""
			case elliptic.P521():
				return mECDSA512, ""
			}
			return method{}, "unsupported curve for hs2019"
		}
	case ed25519.PublicKey:
		switch alg {
		case AlgEd25519, AlgEd25519SHA512, "", AlgHS2019:
			if len(k) != ed25519.PublicKeySize {
				return method{}, "bad ed25519 public key"
			}
			return mEd25519, ""
		}
	case nil:
		return method{}, "algorithm " + quote(alg) + " needs a public key"
	default:
		return method{}, "unsupported public key type"
	}
	if _, ok := resolveSecret(alg); ok && alg != "" {
		return method{}, "hmac algorithm claimed for a public key"
	}
	return method{}, "algorithm " + quote(alg) + " does not fit the key"
}

// resolve decides the method for key from the claimed algorithm and the key's
// material and policy. It returns a detail for ErrAlgorithm on refusal.
func resolve(alg string, key *signet.Key) (method, string) {
	var m method
	switch alg {
	case AlgHMACSHA1, AlgHMACSHA256, AlgHMACSHA512:
		if len(key.Secrets) == 0 {
			return method{}, "hmac algorithm claimed for a key without a secret"
		}
		m, _ = resolveSecret(alg)
	case "":
		if pub := publicKey(key.PublicKey); pub != nil {
			var d string
			if m, d = resolvePublic(alg, pub); d != "" {
				return m, d
			}
		} else if len(key.Secrets) > 0 {
			m = mHMACSHA256
		} else {
			return method{}, "key has neither secret nor public key"
		}
	case AlgRSASHA256, AlgRSASHA512, AlgRSAPSSSHA512, AlgECDSASHA256, AlgECDSASHA384, AlgECDSASHA512,
		AlgEd25519, AlgEd25519SHA512, AlgHS2019:
		pub := publicKey(key.PublicKey)
		if pub == nil {
			return method{}, "asymmetric algorithm claimed for a key without a public key"
		}
		var d string
		if m, d = resolvePublic(alg, pub); d != "" {
			return m, d
		}
	default:
		return method{}, "unknown algorithm " + quote(alg)
	}
	claimed := alg
	if claimed == "" && m.kind != kindHMAC {
		claimed = AlgHS2019 // no algorithm parameter: the key decides, as hs2019 says
	}
	if !(claimed != "" && key.AllowsAlgorithm(claimed)) && !key.AllowsAlgorithm(m.name) {
		return method{}, "algorithm " + quote(m.name) + " not allowed for this key"
	}
	return m, ""
}

// macSize is the length of an HMAC output, to skip computing macs that cannot
// match.
func (m *method) macSize() int { return m.hash.Size() }

// verifyHMAC tries every secret and returns the index of the one that
// matches, or -1.
func (m *method) verifyHMAC(secrets []string, msg, sig []byte) int {
	if len(sig) != m.macSize() {
		return -1
	}
	match := -1
	for i, s := range secrets {
		if s == "" {
			continue // an empty secret would let anyone sign
		}
		mp := keycache.Keyed(s, m.hash)
		mac := mp.Get()
		mac.Write(msg)
		if hmac.Equal(mac.Hash.Sum(mac.Sum[:0]), sig) && match < 0 {
			match = i
		}
		mp.Put(mac)
	}
	return match
}

// verifyPublic reports whether sig is a valid signature of msg under pub.
func (m *method) verifyPublic(pub crypto.PublicKey, msg, sig []byte) bool {
	if m.kind == kindEd25519 {
		k, ok := pub.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig)
	}
	h := m.newHash()
	h.Write(msg)
	var buf [sha512.Size]byte
	digest := h.Sum(buf[:0])
	switch m.kind {
	case kindRSA:
		k, ok := pub.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(k, m.hash, digest, sig) == nil
	case kindRSAPSS:
		// Any salt length: node signs with the maximum, Go with the hash size.
		k, ok := pub.(*rsa.PublicKey)
		return ok && rsa.VerifyPSS(k, m.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	case kindECDSA:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		// VerifyASN1 lets sig escape; a copy keeps the caller's buffer
		// (on its stack, for every other algorithm) where it is.
		if ecdsa.VerifyASN1(k, digest, bytes.Clone(sig)) {
			return true
		}
		// Some signers send the raw r||s form (as in JWS) instead of DER.
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

// sign signs msg with priv (asymmetric methods).
func (m *method) sign(priv crypto.Signer, msg []byte) ([]byte, error) {
	if m.kind == kindEd25519 {
		return priv.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	h := m.newHash()
	h.Write(msg)
	digest := h.Sum(nil)
	var opts crypto.SignerOpts = m.hash
	if m.kind == kindRSAPSS {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: m.hash}
	}
	return priv.Sign(rand.Reader, digest, opts)
}
