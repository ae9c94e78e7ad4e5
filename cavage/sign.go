package cavage

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet"
)

// Signer signs outgoing requests with a draft-cavage signature. Its fields
// are read-only while it is in use; it is then safe for concurrent use.
type Signer struct {
	// KeyID is sent as keyId. Required.
	KeyID string

	// Secret is the shared secret for the hmac-* algorithms.
	Secret string

	// PrivateKey signs for rsa-sha256, rsa-sha512, ecdsa-sha256/384/512,
	// ed25519 and hs2019 (RSASSA-PSS SHA-512 with an RSA key, ECDSA with the
	// curve's hash, Ed25519). Nil for hmac.
	PrivateKey crypto.Signer

	// Algorithm is the algorithm parameter. "" means "hmac-sha256" with
	// Secret and "hs2019" with PrivateKey.
	Algorithm string

	// Headers lists the names to sign, in order. Nil means
	// "(request-target)", "host", "date", plus "digest" when the request has
	// a body.
	Headers []string

	// HeaderName is where the signature goes: "Authorization" (as
	// `Signature ...`) or "Signature". "" means "Authorization".
	HeaderName string

	// Expires, when positive, adds the created and expires parameters (now
	// and now+Expires); they are signed when Headers lists "(created)" and
	// "(expires)". Zero adds created only when Headers lists "(created)".
	Expires time.Duration

	// Nonce, when set, returns a fresh nonce for each request: sent as the
	// nonce parameter and signed as "(nonce)" (added to Headers when
	// missing). A gateway accepts each nonce once. Nil sends none.
	Nonce func() string

	// Now returns the signing time. Nil means time.Now.
	Now func() time.Time
}

var _ signet.RequestSigner = (*Signer)(nil)

// SignRequest signs r in place. It adds a Date header when date is signed and
// r has none. When digest is signed and r has no Digest header, it reads the
// body (at most 10 MiB), sets `Digest: SHA-256=<base64>`, and replaces r.Body
// with the bytes read, setting ContentLength and GetBody.
func (s *Signer) SignRequest(r *http.Request) error {
	if s.KeyID == "" {
		return errors.New("cavage: sign: empty KeyID")
	}
	if strings.ContainsRune(s.KeyID, '"') {
		return errors.New(`cavage: sign: KeyID contains '"'`)
	}
	alg := lower(s.Algorithm)
	var m method
	if s.PrivateKey == nil {
		var ok bool
		if m, ok = resolveSecret(alg); !ok {
			return fmt.Errorf("cavage: sign: algorithm %q needs a PrivateKey", s.Algorithm)
		}
		if alg == "" {
			alg = AlgHMACSHA256
		}
		if s.Secret == "" {
			return errors.New("cavage: sign: empty Secret")
		}
	} else {
		if alg == "" {
			alg = AlgHS2019
		}
		var detail string
		if m, detail = resolvePublic(alg, publicKey(s.PrivateKey.Public())); detail != "" {
			return fmt.Errorf("cavage: sign: %s", detail)
		}
	}
	header := "Authorization"
	switch {
	case s.HeaderName == "" || strings.EqualFold(s.HeaderName, "Authorization"):
	case strings.EqualFold(s.HeaderName, "Signature"):
		header = "Signature"
	default:
		return fmt.Errorf("cavage: sign: HeaderName %q is neither Authorization nor Signature", s.HeaderName)
	}

	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now()

	headers := s.Headers
	if headers == nil {
		headers = []string{RequestTarget, "host", "date"}
		if r.Body != nil && r.Body != http.NoBody || r.ContentLength > 0 {
			headers = append(headers, "digest")
		}
	} else {
		headers = slices.Clone(headers)
		for i, h := range headers {
			headers[i] = strings.ToLower(strings.TrimSpace(h))
			if headers[i] == "" || strings.ContainsAny(headers[i], " \t\"") {
				return fmt.Errorf("cavage: sign: bad header name %q", h)
			}
		}
		if len(headers) == 0 {
			// An empty list would sign the empty string (COMPAT §2).
			return errors.New("cavage: sign: empty Headers")
		}
	}

	if slices.Contains(headers, "date") && r.Header.Get("Date") == "" {
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		r.Header.Set("Date", t.UTC().Format(http.TimeFormat))
	}
	if slices.Contains(headers, "digest") && r.Header.Get("Digest") == "" {
		if err := setDigest(r); err != nil {
			return err
		}
	}

	var created, expires int64
	if s.Expires > 0 {
		created = t.Unix()
		secs := int64((s.Expires + time.Second - 1) / time.Second)
		expires = created + secs
	} else if slices.Contains(headers, Created) {
		created = t.Unix()
	}

	var nonce string
	if s.Nonce != nil {
		if nonce = s.Nonce(); nonce == "" || strings.ContainsAny(nonce, "\"\\\r\n") {
			return fmt.Errorf("cavage: sign: bad nonce %q", nonce)
		}
		if !slices.Contains(headers, Nonce) {
			headers = append(headers, Nonce)
		}
	}
	msg, _, err := appendSigningString(nil, r, headers, nil, pseudo{created, expires, nonce}, ", ", s.KeyID)
	if err != nil {
		return fmt.Errorf("cavage: sign: %w", err)
	}
	var sig []byte
	if m.kind == kindHMAC {
		mac := hmac.New(m.newHash, []byte(s.Secret))
		mac.Write(msg)
		sig = mac.Sum(nil)
	} else if sig, err = m.sign(s.PrivateKey, msg); err != nil {
		return fmt.Errorf("cavage: sign: %w", err)
	}

	// Parameter order and form follow http-signature: keyId, algorithm,
	// created, expires, headers, signature; numbers unquoted.
	var b strings.Builder
	if header == "Authorization" {
		b.WriteString("Signature ")
	}
	b.WriteString(`keyId="`)
	b.WriteString(s.KeyID)
	b.WriteString(`",algorithm="`)
	b.WriteString(alg)
	b.WriteString(`"`)
	if created != 0 {
		b.WriteString(",created=")
		b.WriteString(strconv.FormatInt(created, 10))
	}
	if expires != 0 {
		b.WriteString(",expires=")
		b.WriteString(strconv.FormatInt(expires, 10))
	}
	if nonce != "" {
		b.WriteString(`,nonce="`)
		b.WriteString(nonce)
		b.WriteString(`"`)
	}
	b.WriteString(`,headers="`)
	b.WriteString(strings.Join(headers, " "))
	b.WriteString(`",signature="`)
	b.WriteString(base64.StdEncoding.EncodeToString(sig))
	b.WriteString(`"`)
	r.Header.Set(header, b.String())
	return nil
}

// setDigest reads r's body (bounded), sets its SHA-256 Digest and restores
// the body.
func setDigest(r *http.Request) error {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, DefaultMaxBody+1))
		r.Body.Close()
		if err != nil {
			return fmt.Errorf("cavage: sign: read body: %w", err)
		}
		if len(body) > DefaultMaxBody {
			return fmt.Errorf("cavage: sign: body longer than %d bytes", DefaultMaxBody)
		}
	}
	sum := sha256.Sum256(body)
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
	r.ContentLength = int64(len(body))
	if len(body) == 0 {
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}
