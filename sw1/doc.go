// Package sw1 implements Signway's SW1-HMAC-SHA256 pre-signed URLs.
//
// Entry points:
//   - Presign builds a signed gateway URL from PresignOptions.
//   - Signer (a signet.RequestSigner) rewrites an outgoing request into a
//     pre-signed gateway request whose X-Sw-Proxy is the original URL.
//   - Verifier (a signet.Verifier) checks a pre-signed request.
//
// A signed URL carries X-Sw-Algorithm, X-Sw-Credential (<id>/<YYYYMMDD>),
// X-Sw-Date, X-Sw-Expires, X-Sw-Proxy (the upstream URL),
// X-Sw-SignedHeaders, X-Sw-Body and X-Sw-Signature. The signature is
// HMAC-SHA256 keyed by HMAC-SHA256("SW1-HMAC-SHA256"+secret, YYYYMMDD) over
// a string to sign built from the SHA-256 of the canonical request.
//
// Presign emits the form Signway's Rust gateway computes: the canonical path
// is "/", the proxy URL is WHATWG-serialised, and every byte but
// A-Za-z0-9-._~ is percent-encoded. Signway's Python and JS SDKs differ on
// each of these (space as '+', "!*'()" left alone, the gateway's own path
// signed, a character count as the content-length of a non-ASCII body), so
// Verifier tries each canonical form a genuine client could have produced,
// computing only those that actually differ for the URL at hand. Derived
// signing keys, with their HMAC pad states, are cached per secret and day in
// a bounded cache that forgets an entry at most 2^17 lookups after its last
// use, so a removed secret does not stay in memory for good.
package sw1
