// Package sigv4 implements AWS Signature Version 4 for Signet: the
// `Authorization: AWS4-HMAC-SHA256 ...` header form and the pre-signed
// X-Amz-* query form, so that any AWS SDK can sign requests for Signet.
// Signatures are computed by the AWS SDK for Go's signer
// (aws-sdk-go-v2/aws/signer/v4), not by a copy of it.
//
// Entry points:
//   - Verifier.Verify checks an incoming request against the key its access
//     key id names, within the credential scope (region, service) the route
//     configures. It rebuilds a request holding exactly the signed headers,
//     hands it to the SDK with the credential's time and payload hash, and
//     compares in constant time. A declared X-Amz-Content-Sha256 is checked
//     while the body streams (signet.ErrDigest at EOF).
//   - Signer.SignRequest and Signer.Presign sign outgoing requests (Signer
//     is a signet.RequestSigner for signet.Transport).
//   - ParseAuthorization and ParseCredential expose the parsing, for tests
//     and the CLI.
//
// What real clients send, and what the verifier does about it (COMPAT.md):
//   - Non-S3 services sign the path normalised and escaped once more; the
//     verifier does both itself and passes the result with
//     DisableURIPathEscaping, because the SDK for Go does not normalise.
//     It tries the path as sent (AWS SDK clients pass encoded paths), the
//     raw path an HTTP client would have encoded minimally, the path
//     without normalising (the SDK for Go's own signatures), and the
//     encodeURIComponent escaping of @aws-sdk/signature-v4 3.374. S3-style
//     signatures (the path as sent) need Verifier.DisableURIPathEscaping:
//     trying both families at once would let "/a%2520" stand for "/a%20".
//   - 3.374 sorts the query by raw key and value. The SDK always sorts by the
//     encoded form, and no input changes that, so for that order alone the
//     verifier re-sorts the query line of the SDK's canonical request
//     (captured through its signing log hook) and finishes the HMAC chain
//     itself (legacy.go).
//   - Header values: runs of spaces and tabs become one space (the
//     JavaScript signers); when a signed value holds a tab the SDK for Go's
//     own rule (spaces only) is tried too.
//   - Payload hash: X-Amz-Content-Sha256 (UNSIGNED-PAYLOAD allowed;
//     STREAMING-* refused), else the body's hash, read up to MaxBody. For
//     pre-signed URLs: the hoisted query value, then the body's hash, then
//     UNSIGNED-PAYLOAD.
//   - The query is parsed strictly ("+" is a space, a ';' or bad escape is
//     refused) because the SDK's url.Values parsing drops bad pairs, which
//     would leave them unsigned.
//
// Time: the header form must be within MaxSkew (default 5 min; AWS uses 15)
// of now; a pre-signed URL is valid from X-Amz-Date (less MaxSkew) to
// X-Amz-Date + X-Amz-Expires (at most 7 days, and Key.MaxExpires).
package sigv4
