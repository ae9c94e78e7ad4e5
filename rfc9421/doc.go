// Package rfc9421 implements RFC 9421 HTTP Message Signatures for requests,
// with RFC 9530 Content-Digest checks of request bodies.
//
// Entry points:
//   - Verifier.Verify checks the signature carried by the Signature-Input
//     and Signature fields of an incoming request: it picks a signature (by
//     Label, else the first whose keyid resolves), looks the key up, lets the
//     key decide the algorithm, applies the policy (required components,
//     created/expires window) and, when content-digest is covered, checks
//     the body against Content-Digest while it streams.
//   - Signer.SignRequest signs an outgoing request (a signet.RequestSigner,
//     so it plugs into signet.Transport).
//   - ParseSignatureInput, SignatureBase and CheckContentDigest expose the
//     parts, for tests and the CLI's offline checks.
//
// Algorithms: hmac-sha256 (Key.Secrets), and with Key.PublicKey ed25519,
// ecdsa-p256-sha256, ecdsa-p384-sha384 (signatures as r||s), rsa-pss-sha512
// (any salt length) and rsa-v1_5-sha256. An RSA key without an alg
// parameter is tried with both RSA algorithms its Algorithms allow.
//
// Derived components for requests: @method, @target-uri, @authority,
// @scheme, @request-target, @path, @query, @query-param;name=...; field
// parameters sf, key and bs. The req and tr parameters, @status and unknown
// derived components are refused (signet.ErrMalformed).
//
// Choices where the RFC and clients differ (COMPAT.md): when the RFC base
// does not verify, the verifier tries the base npm http-message-signatures
// 1.0.6 computes: @path/@query/@request-target with the WHATWG URL
// percent-encoding, @query-param values with encodeURIComponent and one line
// per repeated name. That library upper-cases @method; node's HTTP clients
// send it upper-cased too, so the method is always signed as sent (a
// lower-case method never matches an upper-case signature). Signer always
// signs the RFC form.
//
// The signature-params line and the component identifiers are taken from
// the wire when they are already in serialized form, else re-serialized.
// HMAC keyed states are cached per secret in a bounded cache that forgets
// an entry at most 2^17 lookups after its last use, so a removed secret does
// not stay in memory for good.
package rfc9421
