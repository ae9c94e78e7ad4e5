package rfc9421

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/signet-dev/signet"
)

// Signer signs outgoing requests with an RFC 9421 signature. Its fields are
// read-only while it is in use; it is then safe for concurrent use.
type Signer struct {
	// KeyID is sent as the keyid parameter. "" omits it (the verifier must
	// then know the key some other way).
	KeyID string

	// Secret is the hmac-sha256 key, used as raw bytes.
	Secret string

	// PrivateKey signs with ed25519, ecdsa-p256-sha256, ecdsa-p384-sha384,
	// rsa-pss-sha512 or rsa-v1_5-sha256. Nil for hmac-sha256.
	PrivateKey crypto.Signer

	// Algorithm is the alg parameter. "" means the key material decides:
	// hmac-sha256 for Secret; ed25519, ecdsa-p256-sha256, ecdsa-p384-sha384
	// or rsa-pss-sha512 by PrivateKey's type. It is always sent.
	Algorithm string

	// Label names the signature in Signature-Input and Signature. "" means
	// "sig1". Signatures already on the request are kept.
	Label string

	// Components lists the covered components, in order: `@method`,
	// `content-type`, `@query-param;name="a"`, `"x-dict";key="b"`... Nil
	// means @method, @authority, @path, @query when the request has a query,
	// and content-digest when it has a body.
	Components []string

	// Expires, when positive, adds expires = created + Expires.
	Expires time.Duration

	// Nonce, when set, returns the nonce parameter. Nil sends no nonce.
	Nonce func() string

	// Tag is the tag parameter. "" sends none.
	Tag string

	// DigestAlgorithm is the Content-Digest algorithm: "sha-256" or
	// "sha-512". "" means "sha-256".
	DigestAlgorithm string

	// Now returns the signing time. Nil means time.Now.
	Now func() time.Time
}

var _ signet.RequestSigner = (*Signer)(nil)

// SignRequest signs r in place: it adds Content-Digest when content-digest is
// covered and r has none (reading the body, at most 10 MiB, and replacing
// r.Body with the bytes read), then Signature-Input and Signature members.
// Components are computed as RFC 9421 says; a @query-param whose name
// occurs several times cannot be signed.
func (s *Signer) SignRequest(r *http.Request) error {
	m, err := methodForSigner(s.Algorithm, s.Secret, s.PrivateKey)
	if err != nil {
		return fmt.Errorf("rfc9421: sign: %w", err)
	}
	switch s.DigestAlgorithm {
	case "", DigestSHA256, DigestSHA512:
	default:
		return fmt.Errorf("rfc9421: sign: unsupported DigestAlgorithm %q", s.DigestAlgorithm)
	}
	label := s.Label
	if label == "" {
		label = "sig1"
	}
	hasBody := r.ContentLength > 0 || (r.Body != nil && r.Body != http.NoBody)
	names := s.Components
	if names == nil {
		names = []string{"@method", "@authority", "@path"}
		if r.URL.RawQuery != "" {
			names = append(names, "@query")
		}
		if hasBody {
			names = append(names, "content-digest")
		}
	}
	il := httpsfv.InnerList{Params: httpsfv.NewParams()}
	digest := false
	for _, n := range names {
		c, err := parseComponentString(n)
		if err != nil {
			return fmt.Errorf("rfc9421: sign: %w", err)
		}
		it, _ := httpsfv.UnmarshalItem([]string{c.id})
		il.Items = append(il.Items, it)
		digest = digest || (c.name == "content-digest" && !c.bs)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now()
	il.Params.Add("created", t.Unix())
	if s.Expires > 0 {
		il.Params.Add("expires", t.Add(s.Expires).Unix())
	}
	if s.KeyID != "" {
		il.Params.Add("keyid", s.KeyID)
	}
	il.Params.Add("alg", m.name)
	if s.Nonce != nil {
		il.Params.Add("nonce", s.Nonce())
	}
	if s.Tag != "" {
		il.Params.Add("tag", s.Tag)
	}
	params, err := httpsfv.Marshal(il)
	if err != nil {
		return fmt.Errorf("rfc9421: sign: parameters: %w", err)
	}

	if digest && len(r.Header["Content-Digest"]) == 0 {
		if err := s.addDigest(r); err != nil {
			return err
		}
	}

	d, err := httpsfv.UnmarshalDictionary([]string{"a=" + params})
	if err != nil {
		return fmt.Errorf("rfc9421: sign: parameters: %w", err)
	}
	mem, _ := d.Get("a")
	var in sigInput
	if err := parseSigInput(label, mem, "", &in); err != nil {
		return fmt.Errorf("rfc9421: sign: %w", err)
	}
	base, err := appendBase(nil, newMessage(r, ""), &in, modeRFC)
	if err != nil {
		return fmt.Errorf("rfc9421: sign: %w", err)
	}
	sig, err := m.sign(s.Secret, s.PrivateKey, base)
	if err != nil {
		return fmt.Errorf("rfc9421: sign: %w", err)
	}

	inputs, err := addMember(r.Header["Signature-Input"], label, params)
	if err != nil {
		return err
	}
	sigs, err := addMember(r.Header["Signature"], label, ":"+base64.StdEncoding.EncodeToString(sig)+":")
	if err != nil {
		return err
	}
	r.Header.Set("Signature-Input", inputs)
	r.Header.Set("Signature", sigs)
	return nil
}

// addMember appends `label=value` to an existing dictionary field.
func addMember(existing []string, label, value string) (string, error) {
	if len(existing) == 0 {
		return label + "=" + value, nil
	}
	d, err := httpsfv.UnmarshalDictionary(existing)
	if err != nil {
		return "", errors.New("rfc9421: sign: the request's existing signature fields are not structured dictionaries")
	}
	if _, dup := d.Get(label); dup {
		return "", fmt.Errorf("rfc9421: sign: the request already has a signature labelled %q", label)
	}
	return strings.Join(existing, ", ") + ", " + label + "=" + value, nil
}

// addDigest reads the body (bounded), sets Content-Digest and restores the
// body so it can still be sent.
func (s *Signer) addDigest(r *http.Request) error {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, DefaultMaxBody+1))
		r.Body.Close()
		if err != nil {
			return fmt.Errorf("rfc9421: sign: read body: %w", err)
		}
		if len(b) > DefaultMaxBody {
			return errors.New("rfc9421: sign: body larger than 10 MiB; set Content-Digest yourself")
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	r.Header.Set("Content-Digest", contentDigest(s.DigestAlgorithm, body))
	return nil
}
