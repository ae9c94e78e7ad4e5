// Package cavage implements draft-cavage HTTP Signatures (drafts 09 to 12)
// with RFC 3230 Digest checks of request bodies.
//
// Entry points:
//   - Verifier.Verify checks the signature of an incoming request carried in
//     `Authorization: Signature ...` or in a `Signature:` header, looking the
//     key up by keyId and deciding the algorithm from the key (never from the
//     request alone). A signed Digest is checked while the body streams.
//   - Signer.SignRequest signs an outgoing request (it is a
//     signet.RequestSigner, so it plugs into signet.Transport).
//   - ParseParams, SigningString and CheckDigest expose the parts, for tests
//     and the CLI's offline verification.
//
// Algorithms: hmac-sha256, hmac-sha512, hmac-sha1 (only when the key lists
// it); with a public key rsa-sha256, rsa-sha512, ecdsa-sha256/384/512,
// ed25519 (alias ed25519-sha512, http-signature's name) and hs2019, which
// means RSASSA-PSS SHA-512 (any salt length) for an RSA key, ECDSA with the
// curve's hash (P-256: SHA-256) and Ed25519 for an Ed25519 key. A request
// without an algorithm parameter is verified as hmac-sha256 for a secret key
// and as hs2019 for a public key. Verified.Algorithm reports the concrete
// algorithm (for hs2019: rsa-pss-sha512, ecdsa-sha256, ..., ed25519).
//
// Choices where the drafts and the clients differ (see COMPAT.md):
//   - An absent or empty headers parameter means "date", as in drafts up to
//     09 and in both Node libraries. http-signature emits headers="" when told
//     to sign nothing; such a signature covers the empty string and would be
//     valid for any request, so it is deliberately not honoured.
//   - Repeated header values are joined with ", " (the draft); when a signed
//     header has several values the verifier also tries ",", which is what
//     http-signature's signer does.
//   - Header names in the headers parameter are lower-cased; when some were
//     sent in upper case the verifier also tries lines labelled as sent,
//     which is what api-signature's signer signs.
//   - Parameters may be separated by commas with optional whitespace;
//     created and expires may be quoted or not; unknown parameters such as
//     opaque are ignored; a repeated known parameter is an error.
//   - Date may be an IMF-fixdate, RFC 850 or ANSI C date, and may end in
//     "UTC" instead of "GMT" as the scheme's Python example sends it.
//   - A Signature header next to a Signature-Input header belongs to RFC 9421
//     and is reported as signet.ErrNoSignature, so verifiers can be chained.
//
// HMAC keyed states (the hashed key pads) are cached per secret and hash in
// a bounded cache that forgets an entry at most 2^17 lookups after its last
// use, so a removed secret does not stay in memory for good.
package cavage
