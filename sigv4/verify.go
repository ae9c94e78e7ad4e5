package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"

	"github.com/signet-dev/signet"
)

// DefaultMaxSkew is the allowed X-Amz-Date skew of the header form when
// Verifier.MaxSkew is 0: 5 minutes, as Signet's other schemes. AWS allows
// 15 minutes; set MaxSkew to match it.
const DefaultMaxSkew = 5 * time.Minute

// Verifier verifies SigV4 requests: the Authorization header form and the
// pre-signed X-Amz-* query form. Signatures are computed by the AWS SDK for
// Go's signer (see canon.go for what is handed to it). Its zero value is
// ready to use; it is safe for concurrent use. Do not copy it after use.
type Verifier struct {
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// MaxSkew bounds how far X-Amz-Date of a header-signed request may be
	// from now, either way, and how far in the future a pre-signed URL's
	// X-Amz-Date may be. 0 means DefaultMaxSkew (5 min).
	MaxSkew time.Duration

	// Region and Service are the credential scope this verifier accepts
	// (configured per route). Empty means DefaultRegion ("us-east-1") and
	// DefaultService ("execute-api"), never "any": a signature made for
	// another service must not verify here.
	Region, Service string

	// DisableURIPathEscaping verifies S3-style signatures, which sign the
	// path as sent, instead of the normalised, escaped-again path of every
	// other AWS service. The two cannot be tried together safely.
	DisableURIPathEscaping bool

	// MaxBody bounds the body hashed to check the payload hash: read here
	// when no X-Amz-Content-Sha256 names the hash, or while streaming when
	// one does. Beyond it verification (or reading the body) fails with
	// signet.ErrBodyTooLarge. 0 means DefaultMaxBody (10 MiB).
	MaxBody int64

	signers signerCache
}

var _ signet.Verifier = (*Verifier)(nil)

// Verify checks r's SigV4 signature against the key its access key id names.
//
// When X-Amz-Content-Sha256 (or its pre-signed query copy) gives the body's
// hash, the signature is checked first and r.Body is replaced by a reader
// that fails at EOF with signet.ErrDigest when the body does not match, or
// past MaxBody with signet.ErrBodyTooLarge: read it to the end before
// trusting it. Without a hash the body is read here (up to MaxBody) and
// r.Body replaced by the bytes read.
//
// A request without a SigV4 signature gets an error wrapping
// signet.ErrNoSignature. Verification failures are *signet.Error values
// wrapping a sentinel; a key store failure wraps ErrStoreUnavailable and
// the store's error (signet.LookupKey).
func (v *Verifier) Verify(ctx context.Context, r *http.Request, keys signet.KeyStore) (*signet.Verified, error) {
	var req request
	if err := v.parse(r, &req); err != nil {
		return nil, err
	}
	id := req.cred.KeyID
	key, err := signet.LookupKey(ctx, keys, signet.SchemeSigV4, id)
	if err != nil {
		return nil, err
	}
	if !key.AllowsScheme(signet.SchemeSigV4) {
		return nil, signet.NewError(signet.SchemeSigV4, id, signet.ErrSchemeNotAllowed, "key may not sign SigV4 requests")
	}
	// SigV4 is HMAC-SHA256 throughout, so a key restricted to other
	// algorithms may not use it.
	if len(key.Secrets) == 0 || !key.AllowsAlgorithm(signet.AlgHMACSHA256) {
		return nil, signet.NewError(signet.SchemeSigV4, id, signet.ErrAlgorithm, "key has no secret allowed for HMAC-SHA256")
	}
	if err := v.checkTime(&req, key); err != nil {
		return nil, err
	}
	if err := v.reconstruct(r, &req); err != nil {
		return nil, err
	}
	m, err := v.match(ctx, r, &req, key)
	if err != nil {
		return nil, err
	}

	ver := &signet.Verified{
		Scheme:        signet.SchemeSigV4,
		KeyID:         id,
		Key:           key,
		SecretIndex:   m.secret,
		Algorithm:     Algorithm,
		SignedAt:      req.date,
		ExpiresAt:     req.expiresAt,
		SignedHeaders: req.signed,
		Signature:     req.sig,
		ReplayID:      signet.ReplayID(signet.SchemeSigV4, id, m.stringToSign),
	}
	switch m.payload.kind {
	case payloadDeclared:
		ver.BodySigned = true
		if hasBody(r) {
			r.Body = &hashReader{r: r.Body, want: m.payload.hash, max: v.maxBody(), id: id, h: sha256.New()}
		} else if m.payload.hash != emptySHA256 {
			return nil, signet.NewError(signet.SchemeSigV4, id, signet.ErrDigest, "the request has no body but the signed payload hash is not that of an empty body")
		}
	case payloadRead:
		ver.BodySigned = true
	}
	return ver, nil
}

// request is what parse and reconstruct gather from the incoming request.
type request struct {
	presigned bool
	cred      Credential
	signed    []string
	sig       string
	sigBytes  [32]byte
	amzDate   string
	date      time.Time
	expires   int64 // X-Amz-Expires seconds (pre-signed)
	expiresAt time.Time
	region    string
	service   string

	query    []param // the query, minus X-Amz-Signature when pre-signed
	declared string  // X-Amz-Content-Sha256 (header; or query when pre-signed)
	declHdr  string  // pre-signed: an X-Amz-Content-Sha256 header too

	recon     *http.Request // exactly the signed headers, as the SDK wants them
	reconRaw  *http.Request // same, values as received (nil unless they differ)
	paths     []string
	rawQuery  string // encoded for the SDK
	legacyQry string // the 3.374 canonical query, when it differs
}

// parse finds and checks the signature parameters of either form.
func (v *Verifier) parse(r *http.Request, req *request) error {
	var auth string
	for _, a := range r.Header["Authorization"] {
		if strings.HasPrefix(a, Algorithm) {
			if auth != "" {
				return malformed("", "several "+Algorithm+" Authorization headers")
			}
			auth = a
		}
	}
	ps, ok := parseQuery(r.URL.RawQuery)
	presigned := !ok && (strings.Contains(r.URL.RawQuery, "X-Amz-Signature") || strings.Contains(r.URL.RawQuery, "X-Amz-Algorithm"))
	for _, p := range ps {
		if p.key == "X-Amz-Signature" || p.key == "X-Amz-Algorithm" {
			presigned = true
			break
		}
	}
	if auth == "" && !presigned {
		return signet.NewError(signet.SchemeSigV4, "", signet.ErrNoSignature, "no "+Algorithm+" Authorization header or X-Amz-Signature parameter")
	}
	if auth != "" && presigned {
		return malformed("", "both an Authorization header and a pre-signed query")
	}
	if !ok {
		return malformed("", "the query string has an invalid escape or a ';'")
	}
	req.presigned = presigned
	var err error
	if presigned {
		err = req.parsePresigned(ps)
		if hs := r.Header["X-Amz-Content-Sha256"]; err == nil && len(hs) > 0 {
			if len(hs) > 1 {
				return malformed(req.cred.KeyID, "several X-Amz-Content-Sha256 headers")
			}
			req.declHdr = hs[0]
		}
	} else {
		err = req.parseHeaderForm(r, auth, ps)
	}
	if err != nil {
		return err
	}
	id := req.cred.KeyID
	req.region, req.service = v.Region, v.Service
	if req.region == "" {
		req.region = DefaultRegion
	}
	if req.service == "" {
		req.service = DefaultService
	}
	if req.cred.Region != req.region || req.cred.Service != req.service {
		return signet.NewError(signet.SchemeSigV4, id, signet.ErrMismatch,
			fmt.Sprintf("credential scope is %s/%s, this route accepts %s/%s", clip(req.cred.Region), clip(req.cred.Service), req.region, req.service))
	}
	if req.date, err = parseAmzDate(req.amzDate, id); err != nil {
		return err
	}
	if req.cred.Date != req.amzDate[:8] {
		return malformed(id, "credential date is not the day of X-Amz-Date")
	}
	if !slices.Contains(req.signed, "host") {
		return signet.NewError(signet.SchemeSigV4, id, signet.ErrRequiredHeader, "the signature must cover host")
	}
	if !presigned && !slices.Contains(req.signed, "x-amz-date") {
		return signet.NewError(signet.SchemeSigV4, id, signet.ErrRequiredHeader, "the signature must cover x-amz-date")
	}
	for _, h := range req.signed {
		// The AWS signers never sign these, so the SDK cannot reproduce a
		// signature over them.
		switch h {
		case "authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding":
			return malformed(id, "SignedHeaders lists "+h+", which SigV4 signers never sign")
		}
	}
	if _, err := hex.Decode(req.sigBytes[:], []byte(req.sig)); err != nil {
		return malformed(id, "Signature is not 64 hex digits")
	}
	if req.declared != "" {
		if err := checkPayloadHash(req.declared, id); err != nil {
			return err
		}
	}
	if req.declHdr != "" {
		if err := checkPayloadHash(req.declHdr, id); err != nil {
			return err
		}
	}
	return nil
}

func (req *request) parseHeaderForm(r *http.Request, auth string, ps []param) error {
	a, err := ParseAuthorization(auth)
	if err != nil {
		return err
	}
	req.cred, req.signed, req.sig = a.Credential, a.SignedHeaders, a.Signature
	id := a.Credential.KeyID
	for _, p := range ps {
		if strings.EqualFold(p.key, "X-Amz-Signature") {
			return malformed(id, "X-Amz-Signature in the query of a header-signed request")
		}
	}
	req.query = ps
	switch ds := r.Header["X-Amz-Date"]; len(ds) {
	case 0:
		return signet.NewError(signet.SchemeSigV4, id, signet.ErrMissingHeader, "X-Amz-Date header is absent")
	case 1:
		req.amzDate = ds[0]
	default:
		return malformed(id, "several X-Amz-Date headers")
	}
	switch hs := r.Header["X-Amz-Content-Sha256"]; len(hs) {
	case 0:
	case 1:
		req.declared = hs[0]
		if req.declared == "" {
			return malformed(id, "X-Amz-Content-Sha256 is empty")
		}
	default:
		return malformed(id, "several X-Amz-Content-Sha256 headers")
	}
	return nil
}

// presignedParams are the query parameters of the pre-signed form that may
// appear at most once: the SDK sets some of them itself, so a second copy
// would go unsigned.
var presignedParams = [...]string{
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Content-Sha256",
}

func (req *request) parsePresigned(ps []param) error {
	var vals [len(presignedParams)]string
	var seen [len(presignedParams)]bool
	query := make([]param, 0, len(ps))
	for _, p := range ps {
		i := slices.Index(presignedParams[:], p.key)
		if i < 0 {
			if strings.EqualFold(p.key, "X-Amz-Signature") {
				return malformed("", "X-Amz-Signature parameter in another case")
			}
			query = append(query, p)
			continue
		}
		if seen[i] {
			return malformed("", "repeated "+p.key+" parameter")
		}
		if len(p.value) > maxAuthorization {
			return malformed("", p.key+" too long")
		}
		seen[i], vals[i] = true, p.value
		if p.key != "X-Amz-Signature" {
			query = append(query, p)
		}
	}
	for i, name := range presignedParams[:6] {
		if !seen[i] {
			return malformed("", "pre-signed URL without "+name)
		}
	}
	if vals[0] != Algorithm {
		return malformed("", "X-Amz-Algorithm is not "+Algorithm)
	}
	c, err := ParseCredential(vals[1])
	if err != nil {
		return err
	}
	id := c.KeyID
	req.cred, req.amzDate, req.query = c, vals[2], query
	exp := vals[3]
	if exp == "" || len(exp) > 6 || strings.Trim(exp, "0123456789") != "" {
		return malformed(id, "X-Amz-Expires is not a number of seconds")
	}
	req.expires, _ = strconv.ParseInt(exp, 10, 64)
	if req.expires > int64(MaxExpires/time.Second) {
		return malformed(id, "X-Amz-Expires is longer than 7 days")
	}
	if req.signed, err = parseSignedHeaders(vals[4], id); err != nil {
		return err
	}
	if req.sig, err = parseSignature(vals[5], id); err != nil {
		return err
	}
	if seen[7] {
		req.declared = vals[7]
		if req.declared == "" {
			return malformed(id, "X-Amz-Content-Sha256 is empty")
		}
	}
	return nil
}

// checkPayloadHash accepts a lower- or upper-case hex SHA-256 or
// UNSIGNED-PAYLOAD. aws-chunked streaming payloads carry per-chunk
// signatures Signet does not check, so they are refused rather than passed
// on unverified.
func checkPayloadHash(h, id string) error {
	if h == UnsignedPayload {
		return nil
	}
	if strings.HasPrefix(h, "STREAMING-") {
		return malformed(id, "streaming (aws-chunked) payloads are not supported")
	}
	var b [32]byte
	if len(h) != 64 {
		return malformed(id, "X-Amz-Content-Sha256 is not a hex SHA-256 or UNSIGNED-PAYLOAD")
	}
	if _, err := hex.Decode(b[:], []byte(h)); err != nil {
		return malformed(id, "X-Amz-Content-Sha256 is not a hex SHA-256 or UNSIGNED-PAYLOAD")
	}
	return nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

func (v *Verifier) maxBody() int64 {
	if v.MaxBody > 0 {
		return v.MaxBody
	}
	return DefaultMaxBody
}

// checkTime applies the skew (header form) or expiry (pre-signed) window.
func (v *Verifier) checkTime(req *request, key *signet.Key) error {
	id := req.cred.KeyID
	now := v.now()
	skew := v.maxSkew()
	if req.date.After(now.Add(skew)) {
		return signet.NewError(signet.SchemeSigV4, id, signet.ErrNotYetValid, "X-Amz-Date is in the future")
	}
	if !req.presigned {
		if req.date.Before(now.Add(-skew)) {
			return signet.NewError(signet.SchemeSigV4, id, signet.ErrExpired, "X-Amz-Date is too old")
		}
		req.expiresAt = req.date.Add(skew)
		return nil
	}
	lifetime := time.Duration(req.expires) * time.Second
	if key.MaxExpires > 0 && lifetime > key.MaxExpires {
		return signet.NewError(signet.SchemeSigV4, id, signet.ErrExpiresTooLong, "X-Amz-Expires is longer than the key allows")
	}
	req.expiresAt = req.date.Add(lifetime)
	if now.After(req.expiresAt) {
		return signet.NewError(signet.SchemeSigV4, id, signet.ErrExpired, "the pre-signed URL has expired")
	}
	return nil
}

// reconstruct builds the request handed to the SDK: the method, exactly the
// signed headers with their values, the query, and the path candidates.
func (v *Verifier) reconstruct(r *http.Request, req *request) error {
	id := req.cred.KeyID
	h := make(http.Header, len(req.signed))
	var raw http.Header // values as received, when normalising changed one
	recon := &http.Request{Method: r.Method, Host: r.Host, Header: h, URL: &url.URL{}}
	for _, name := range req.signed {
		switch name {
		case "host":
			if r.Host == "" {
				return signet.NewError(signet.SchemeSigV4, id, signet.ErrMissingHeader, "signed header host is absent")
			}
			continue
		case "content-length":
			// The SDK signs Content-Length from the request's length, and
			// only when it is positive.
			if r.ContentLength <= 0 {
				if r.ContentLength == 0 {
					return signet.NewError(signet.SchemeSigV4, id, signet.ErrMismatch, "a signed content-length of 0 cannot be verified")
				}
				return signet.NewError(signet.SchemeSigV4, id, signet.ErrMissingHeader, "signed header content-length is absent")
			}
			recon.ContentLength = r.ContentLength
			continue
		}
		ck := http.CanonicalHeaderKey(name)
		vs := r.Header[ck]
		if len(vs) == 0 {
			if vs = headerValues(r.Header, name); len(vs) == 0 {
				return signet.NewError(signet.SchemeSigV4, id, signet.ErrMissingHeader, "signed header "+name+" is absent")
			}
		}
		norm := vs // shared until a value changes: the SDK only reads them
		shared, changed := true, false
		for i, s := range vs {
			if c := collapseSpace(s); c != s {
				if shared {
					norm, shared = slices.Clone(vs), false
				}
				norm[i] = c
			}
			if strings.IndexByte(s, '\t') >= 0 {
				changed = true
			}
		}
		h[ck] = norm
		if changed && raw == nil {
			raw = make(http.Header, len(req.signed))
		}
		if raw != nil {
			raw[ck] = vs
		}
	}
	if raw != nil {
		// Fill the names normalised before the first difference showed.
		for k, vs := range h {
			if _, ok := raw[k]; !ok {
				raw[k] = vs
			}
		}
		rr := *recon
		rr.Header = raw
		req.reconRaw = &rr
	}
	req.recon = recon
	req.rawQuery = encodeQuery(req.query)
	_, req.legacyQry = canonicalQueries(req.query)
	req.paths = pathCandidates(make([]string, 0, 5), r.URL.EscapedPath(), v.DisableURIPathEscaping)
	return nil
}

// headerValues finds a header whose name was not stored in canonical form.
func headerValues(h http.Header, name string) []string {
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			return vs
		}
	}
	return nil
}

// collapseSpace turns runs of spaces and tabs into one space and trims, as
// the JavaScript signers do; the SDK for Go only collapses spaces.
func collapseSpace(s string) string {
	s = strings.Trim(s, " \t")
	if !strings.Contains(s, "  ") && strings.IndexByte(s, '\t') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteByte(c)
	}
	return b.String()
}

// Payload hash kinds.
const (
	payloadDeclared = iota // a hex hash the client declared: checked while streaming
	payloadRead            // the hash of the body, read here
	payloadUnsigned        // UNSIGNED-PAYLOAD
)

type payload struct {
	hash string
	kind int
}

type matched struct {
	secret       int
	stringToSign string
	payload      payload
}

// match tries the payload hashes, canonical forms and secrets in turn and
// returns the first that reproduces the signature.
func (v *Verifier) match(ctx context.Context, r *http.Request, req *request, key *signet.Key) (matched, error) {
	id := req.cred.KeyID
	var tried [4]payload
	n := 0
	next := func(p payload) bool {
		for _, t := range tried[:n] {
			if t.hash == p.hash {
				return false
			}
		}
		tried[n] = p
		n++
		return true
	}
	// A declared hash is signed as written.
	declared := func(h string) payload {
		if h == UnsignedPayload {
			return payload{h, payloadUnsigned}
		}
		return payload{h, payloadDeclared}
	}
	try := func(p payload) (matched, bool) {
		if !next(p) {
			return matched{}, false
		}
		return v.tryPayload(ctx, req, key, p)
	}
	if req.declared != "" {
		if m, ok := try(declared(req.declared)); ok {
			return m, nil
		}
	}
	if req.presigned && req.declHdr != "" {
		if m, ok := try(declared(req.declHdr)); ok {
			return m, nil
		}
	}
	if req.declared == "" || req.presigned {
		h, err := v.hashBody(r, id)
		if err != nil {
			return matched{}, err
		}
		if m, ok := try(payload{h, payloadRead}); ok {
			return m, nil
		}
	}
	if req.presigned {
		if m, ok := try(payload{UnsignedPayload, payloadUnsigned}); ok {
			return m, nil
		}
	}
	return matched{}, signet.NewError(signet.SchemeSigV4, id, signet.ErrMismatch, "signature does not match the request")
}

// hashBody reads the body (bounded), replaces it by the bytes read and
// returns their hex SHA-256.
func (v *Verifier) hashBody(r *http.Request, id string) (string, error) {
	if !hasBody(r) {
		return emptySHA256, nil
	}
	max := v.maxBody()
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return "", signet.NewError(signet.SchemeSigV4, id, signet.ErrMalformed, "cannot read the body")
	}
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if int64(len(body)) > max {
		return "", signet.NewError(signet.SchemeSigV4, id, signet.ErrBodyTooLarge, "body longer than the payload hashing limit")
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody
}

// tryPayload computes the signature for payload hash p with every canonical
// form and secret.
func (v *Verifier) tryPayload(ctx context.Context, req *request, key *signet.Key, p payload) (matched, bool) {
	recons := [2]*http.Request{req.recon, req.reconRaw}
	for _, recon := range recons {
		if recon == nil {
			continue
		}
		for _, path := range req.paths {
			for i, secret := range key.Secrets {
				if sts, ok := v.try(ctx, req, recon, path, secret, p.hash); ok {
					return matched{secret: i, stringToSign: sts, payload: p}, true
				}
			}
		}
	}
	return matched{}, false
}

// capture receives the SDK's canonical request and string to sign through
// its signing log hook (no text is formatted).
type capture struct{ canonical, stringToSign string }

func (c *capture) Logf(_ logging.Classification, _ string, v ...any) {
	if len(v) >= 2 {
		c.canonical, _ = v[0].(string)
		c.stringToSign, _ = v[1].(string)
	}
}

// try computes one signature with the SDK and compares it in constant time.
// With a legacy query order it also checks the SDK's canonical request with
// the query line put in that order (the only part computed here: see
// legacy.go).
func (v *Verifier) try(ctx context.Context, req *request, recon *http.Request, path, secret, payloadHash string) (string, bool) {
	var c capture
	signer := v.signers.get(req.cred.KeyID, secret)
	creds := aws.Credentials{AccessKeyID: req.cred.KeyID, SecretAccessKey: secret}
	withLog := func(o *v4.SignerOptions) { o.Logger = &c }
	// Opaque carries the path verbatim: GetURIPath takes what follows
	// "//host", and DisableURIPathEscaping keeps it as it is.
	recon.URL.Opaque = "//h" + path
	recon.URL.RawQuery = req.rawQuery
	var got string
	if req.presigned {
		u, _, err := signer.PresignHTTP(ctx, creds, recon, payloadHash, req.service, req.region, req.date, withLog)
		if err != nil {
			return "", false
		}
		got = u
	} else {
		delete(recon.Header, "Authorization")
		if err := signer.SignHTTP(ctx, creds, recon, payloadHash, req.service, req.region, req.date, withLog); err != nil {
			return "", false
		}
		got = recon.Header.Get("Authorization")
	}
	if c.canonical == "" || !signedHeadersMatch(c.canonical, req.signed) {
		return "", false
	}
	if len(got) >= 64 && equalHex(got[len(got)-64:], &req.sigBytes) {
		return c.stringToSign, true
	}
	if req.legacyQry != "" {
		if sts, ok := legacyStringToSign(c.canonical, req.legacyQry, c.stringToSign); ok {
			sig := legacySignature(secret, req.cred, sts)
			if hmac.Equal(sig, req.sigBytes[:]) {
				return sts, true
			}
		}
	}
	return "", false
}

// signedHeadersMatch reports whether the SDK signed exactly the headers the
// client listed (the line before the payload hash in the canonical request).
func signedHeadersMatch(canonical string, signed []string) bool {
	i := strings.LastIndexByte(canonical, '\n')
	if i < 0 {
		return false
	}
	j := strings.LastIndexByte(canonical[:i], '\n')
	line := canonical[j+1 : i]
	for k, h := range signed {
		if k > 0 {
			if line == "" || line[0] != ';' {
				return false
			}
			line = line[1:]
		}
		rest, ok := strings.CutPrefix(line, h)
		if !ok {
			return false
		}
		line = rest
	}
	return line == ""
}

// equalHex compares hex text with want in constant time.
func equalHex(s string, want *[32]byte) bool {
	var got [32]byte
	if _, err := hex.Decode(got[:], []byte(s)); err != nil {
		return false
	}
	return hmac.Equal(got[:], want[:])
}

// signerCache holds one SDK signer per access key id and secret. The SDK
// caches derived keys by access key id, region, service and day, not by
// secret: one signer shared by two secrets of a key would compute both with
// the first secret's key, and would go on accepting a removed secret until
// the day changes. Keying by secret avoids both.
type signerCache struct {
	mu sync.Mutex
	m  map[signerKey]*v4.Signer
}

type signerKey struct{ id, secret string }

const maxSigners = 4096

func (c *signerCache) get(id, secret string) *v4.Signer {
	k := signerKey{id, secret}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[k]; ok {
		return s
	}
	if c.m == nil || len(c.m) >= maxSigners {
		c.m = make(map[signerKey]*v4.Signer) // bounded: start over
	}
	s := v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = true // the path candidates are escaped already
		o.DisableHeaderHoisting = true  // pre-signed: the query already holds what was hoisted
		o.DisableSessionToken = true    // a signed token is an ordinary header or parameter here
		o.LogSigning = true             // to capture the canonical request (see capture)
	})
	c.m[k] = s
	return s
}

// clip shortens client text quoted in an error detail.
func clip(s string) string {
	const n = 64
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strconv.Quote(s)
}
