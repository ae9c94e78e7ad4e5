package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// The one computation not done by the AWS SDK for Go.
//
// @aws-sdk/signature-v4 3.374 sorts the canonical query by raw key and
// value; SigV4 (and the SDK since it sorts by the encoded form) sort after
// encoding. The SDK builds the query line from a url.Values it sorts itself,
// so no input makes it produce the legacy order (the method, the Opaque path
// and the header values cannot stand in for a line either). When the two
// orders differ, the verifier takes the SDK's canonical request (captured
// through its signing log hook), puts the same encoded pairs in the legacy
// order, and finishes SigV4 here: the string to sign keeps the SDK's first
// three lines, and the signature is the documented HMAC-SHA256 chain
// (deriveKey, checked against AWS's published derived-key example in the
// tests, and against the SDK's signatures wherever the orders agree).

// legacyStringToSign replaces the query line (the third) of the SDK's
// canonical request and the hash line (the fourth) of its string to sign.
func legacyStringToSign(canonical, legacyQuery string, sdkStringToSign string) (string, bool) {
	m, rest, ok1 := strings.Cut(canonical, "\n")
	p, rest, ok2 := strings.Cut(rest, "\n")
	_, rest, ok3 := strings.Cut(rest, "\n")
	i := strings.LastIndexByte(sdkStringToSign, '\n')
	if !ok1 || !ok2 || !ok3 || i < 0 {
		return "", false
	}
	h := sha256.New()
	h.Write([]byte(m))
	h.Write([]byte{'\n'})
	h.Write([]byte(p))
	h.Write([]byte{'\n'})
	h.Write([]byte(legacyQuery))
	h.Write([]byte{'\n'})
	h.Write([]byte(rest))
	return sdkStringToSign[:i+1] + hex.EncodeToString(h.Sum(nil)), true
}

// deriveKey is SigV4's signing key: HMAC chain over date, region, service
// and "aws4_request", keyed first with "AWS4" + secret.
func deriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// legacySignature signs stringToSign with the credential's derived key.
func legacySignature(secret string, c Credential, stringToSign string) []byte {
	return hmacSHA256(deriveKey(secret, c.Date, c.Region, c.Service), stringToSign)
}
