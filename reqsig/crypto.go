package reqsig

import (
	"crypto/sha256"
	"encoding/base64"

	"github.com/signet-dev/signet/internal/keycache"
)

const (
	// Algorithm is the signature algorithm of the scheme, as reported in
	// signet.Verified.Algorithm.
	Algorithm = "HMAC-SHA256"

	secretPrefix   = "REQUEST_SIGNER"         // prepended to the secret (k1's key)
	requestTerm    = "REQUEST_SIGNER_REQUEST" // data of the last derivation step
	signatureChars = 43                       // base64url, no padding, of 32 bytes
)

// signingKey derives the key the string to sign is signed with:
//
//	k1 = HMAC("REQUEST_SIGNER"+secret, apiVersion)
//	k2 = HMAC(k1, timestamp)
//	k3 = HMAC(k2, "REQUEST_SIGNER_REQUEST")
//
// timestamp is the decimal milliseconds exactly as written in the header.
//
// k1 comes from a bounded cache (see keycache.Cache).
func signingKey(secret, apiVersion, timestamp string) [sha256.Size]byte {
	k := k2(secret, apiVersion, timestamp)
	return hmacSHA256(k[:], requestTerm)
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) over msg. k2, k3 and the
// signature are keyed by values that change with every request, so it uses
// keycache's pooled HMAC256: crypto/hmac.New would allocate six times per
// key.
func hmacSHA256[M string | []byte](key []byte, msg M) [sha256.Size]byte {
	m := keycache.GetHMAC256()
	m.Init(key)
	switch v := any(msg).(type) {
	case string:
		m.WriteString(v)
	case []byte:
		m.Write(v)
	}
	var out [sha256.Size]byte
	m.Sum(&out)
	m.Put()
	return out
}

// appendStringToSign appends
//
//	TYPE " " apiKey " " apiVersion " " timestamp " " b64url(sha256(canonical))
func appendStringToSign(b []byte, typ, apiKey, apiVersion, timestamp string, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	b = appendSTSPrefix(b, typ, apiKey, apiVersion, timestamp)
	return base64.RawURLEncoding.AppendEncode(b, sum[:])
}

// appendSTSPrefix appends the part of the string to sign that does not
// depend on the canonical request.
func appendSTSPrefix(b []byte, typ, apiKey, apiVersion, timestamp string) []byte {
	b = append(b, typ...)
	b = append(b, ' ')
	b = append(b, apiKey...)
	b = append(b, ' ')
	b = append(b, apiVersion...)
	b = append(b, ' ')
	b = append(b, timestamp...)
	return append(b, ' ')
}

// appendSignature appends b64url(HMAC(key, sts)).
func appendSignature(b []byte, key *[sha256.Size]byte, sts []byte) []byte {
	sum := hmacSHA256(key[:], sts)
	return base64.RawURLEncoding.AppendEncode(b, sum[:])
}
