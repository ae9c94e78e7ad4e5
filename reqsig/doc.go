// Package reqsig implements the REQUEST-SIGNATURE Authorization scheme of the
// Java library adelehedde/request-signer (1.0.0), an AWS-inspired HMAC-SHA256
// scheme:
//
//	Authorization: REQUEST-SIGNATURE ApiKey=<id>,ApiVersion=<v>,SignedHost=<true|false>,Timestamp=<unix ms>,Signature=<b64url>
//
// Entry points:
//
//   - Signer signs outgoing requests: Signer.SignRequest sets the
//     Authorization header of an *http.Request, Signer.Authorization returns
//     the header value for a method and URL exactly as the Java library does.
//   - Verifier checks incoming requests: Verifier.Verify looks the ApiKey up in
//     a signet.KeyStore, checks the time window and recomputes the signature
//     from the request it received. It implements signet.Verifier.
//   - CanonicalRequest exposes the canonical request the Java library builds
//     for a method and URL, with java.net.URL's parsing rules.
//
// # Compatibility
//
// The Java signer parses the URL with java.net.URL: the host keeps its case
// and loses its port and user info, the path and query are signed raw (no
// normalisation, no decoding), "https://api.com" signs the path "", and raw
// spaces or non-ASCII characters are signed unencoded. HTTP clients send such
// URLs percent-encoded and with "/" for an empty path, so Verify tries, besides
// the path and query as received, the path "" when the path is "/" and the
// percent-decoded path and query. Each candidate is compared in constant time.
// Only escapes a client adds are decoded (non-ASCII, space, controls and
// characters such as `"<>{|}`); escapes of '/', '?', '#', '%', '&', '=', '+',
// ';' and of unreserved characters stay as sent, so that a signature for
// "/a/b" cannot verify "/a%2Fb", which an upstream may route elsewhere.
//
// The header has no escaping, so an ApiKey containing ',' is ambiguous in
// general. The parser therefore splits on the component names themselves
// (",ApiVersion=", ",SignedHost=", ",Timestamp=", ",Signature="), in the
// order the Java library writes them: an ApiKey may contain ',' but not one
// of those markers; a header in which a marker appears twice is rejected as
// malformed.
//
// k1 = HMAC("REQUEST_SIGNER"+secret, apiVersion), as an HMAC keyed state, is
// cached per secret and version in a bounded cache that forgets an entry at
// most 2^17 lookups after its last use, so a removed secret does not stay in
// memory for good.
package reqsig
