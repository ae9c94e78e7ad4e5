package reqsig

import (
	"crypto/sha256"

	"github.com/signet-dev/signet/internal/keycache"
)

// k1 = HMAC("REQUEST_SIGNER"+secret, apiVersion) depends only on the secret
// and the API version, so the HMAC keyed with k1 is kept per (secret,
// version) in a pool of keyed HMACs (see package keycache). That spares two
// of the four HMAC keyings of a verification.

type k1ID struct{ secret, apiVersion string }

var k1s keycache.Cache[k1ID, *keycache.MACPool]

func newK1Pool(id k1ID) *keycache.MACPool {
	var scratch [256]byte
	key := append(scratch[:0], secretPrefix...)
	key = append(key, id.secret...)
	k1 := hmacSHA256(key, id.apiVersion)
	return keycache.NewMACPool(sha256.New, k1[:])
}

// k2 returns HMAC(k1, timestamp) with the cached k1 of secret and
// apiVersion.
func k2(secret, apiVersion, timestamp string) [sha256.Size]byte {
	kp := k1s.Get(k1ID{secret, apiVersion}, newK1Pool)
	m := kp.Get()
	m.Write(append(m.Scratch[:0], timestamp...))
	var out [sha256.Size]byte
	copy(out[:], m.Hash.Sum(m.Sum[:0]))
	kp.Put(m)
	return out
}
