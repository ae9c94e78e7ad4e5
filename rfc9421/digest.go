package rfc9421

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"io"

	"github.com/dunglas/httpsfv"
	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/bodydigest"
)

// DefaultMaxBody bounds a digested body when Verifier.MaxBody is 0, and the
// body Signer reads to compute a Content-Digest.
const DefaultMaxBody = 10 << 20

// Content-Digest algorithms (RFC 9530 §5).
const (
	DigestSHA256 = "sha-256"
	DigestSHA512 = "sha-512"
)

// digestSpec is a parsed Content-Digest.
type digestSpec = bodydigest.Spec

// parseContentDigest parses `sha-256=:<b64>:, sha-512=:<b64>:`. Unknown
// algorithms are ignored, but at least one supported digest is required; a
// supported one that is not a byte sequence of the right length is an error.
func parseContentDigest(d *digestSpec, values []string, keyID string) error {
	bad := func(detail string) error {
		return signet.NewError(signet.SchemeRFC9421, keyID, signet.ErrDigest, detail)
	}
	if len(values) == 0 {
		return bad("covered Content-Digest is absent")
	}
	dict, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return bad("Content-Digest is not a structured dictionary")
	}
	for _, alg := range dict.Names() {
		mem, _ := dict.Get(alg)
		var want []byte
		switch alg {
		case DigestSHA256:
			want = d.Want256[:]
			d.Has256 = true
		case DigestSHA512:
			want = d.Want512[:]
			d.Has512 = true
		default:
			continue
		}
		it, ok := mem.(httpsfv.Item)
		b, isBytes := it.Value.([]byte)
		if !ok || !isBytes || len(b) != len(want) {
			return bad("Content-Digest " + alg + " is not a digest of the right size")
		}
		copy(want, b)
	}
	if !d.Has256 && !d.Has512 {
		return bad("no supported digest (sha-256 or sha-512) in Content-Digest")
	}
	return nil
}

// CheckContentDigest reads body to its end and checks it against a
// Content-Digest field value (RFC 9530). It returns an error wrapping
// signet.ErrDigest when no supported digest (sha-256, sha-512) is named or
// one does not match. It does not bound the read: it is meant for offline
// checks; servers get the bounded, streaming check from Verifier.Verify.
func CheckContentDigest(header string, body io.Reader) error {
	var d digestSpec
	if err := parseContentDigest(&d, []string{header}, ""); err != nil {
		return err
	}
	ok, err := d.Check(body)
	if err != nil {
		return err
	}
	if !ok {
		return signet.NewError(signet.SchemeRFC9421, "", signet.ErrDigest, "body does not match Content-Digest")
	}
	return nil
}

// contentDigest returns the Content-Digest field value for body.
func contentDigest(alg string, body []byte) string {
	var sum []byte
	if alg == DigestSHA512 {
		s := sha512.Sum512(body)
		sum = s[:]
	} else {
		alg = DigestSHA256
		s := sha256.Sum256(body)
		sum = s[:]
	}
	return alg + "=:" + base64.StdEncoding.EncodeToString(sum) + ":"
}

// newDigestReader checks body against spec while it streams (see
// bodydigest.Reader), with this package's errors.
func newDigestReader(body io.ReadCloser, spec *digestSpec, max int64, keyID string) *bodydigest.Reader {
	return bodydigest.NewReader(body, spec, max, keyID, digestFailure)
}

func digestFailure(keyID string, tooLarge bool) error {
	if tooLarge {
		return signet.NewError(signet.SchemeRFC9421, keyID, signet.ErrBodyTooLarge, "digested body exceeds the size limit")
	}
	return signet.NewError(signet.SchemeRFC9421, keyID, signet.ErrDigest, "body does not match the signed Content-Digest")
}
