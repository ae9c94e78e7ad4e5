// Package signet holds Signet's domain types: Key and KeyStore, the Verifier
// and RequestSigner interfaces every scheme implements, the Verified result,
// the error sentinels with their stable reason codes (Code, Status), the
// net/http verification Middleware, and Transport, a signing RoundTripper.
//
// The schemes live in their own packages: sw1 (Signway pre-signed URLs),
// reqsig (REQUEST-SIGNATURE) and cavage (draft-cavage HTTP Signatures).
package signet
