// Package interop holds Signet's interoperability tests against real
// third-party draft-cavage implementations from npm; it has no API.
//
// The tests (interop_test.go) run only with SIGNET_INTEROP=1, after
// `npm ci --prefix interop`:
//
//   - TestHTTPSignatureSignedVerifiesWithSignet: requests signed by
//     http-signature (http_signature_sign.js) verify with cavage.Verifier,
//     and every tampered copy fails with the right sentinel.
//   - TestSignetSignedAcceptedByAPISignature: requests signed by
//     cavage.Signer are accepted by the api-signature Express middleware
//     (api_signature_server.js); tampered and unsigned ones are refused.
//   - TestAPISignatureLimitations: pins down what api-signature cannot
//     verify (see README.md).
package interop
