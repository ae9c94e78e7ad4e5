package cavage

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/bodydigest"
)

// DefaultMaxBody bounds a digested body when Verifier.MaxBody is 0, and the
// body Signer reads to compute a Digest.
const DefaultMaxBody = 10 << 20

// digestSpec is a parsed RFC 3230 Digest header.
type digestSpec = bodydigest.Spec

// parseDigest parses `SHA-256=<b64>, SHA-512=<b64>` into d. Algorithm tokens
// are case-insensitive; unknown algorithms are ignored, but at least one
// supported digest is required. A supported digest that is not base64 of the
// right length can never match, so it is an error too.
func parseDigest(d *digestSpec, header, keyID string) error {
	for rest := header; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		alg, val, ok := strings.Cut(trimOWS(part), "=")
		if !ok {
			continue
		}
		var dst []byte
		var has *bool
		switch {
		case strings.EqualFold(alg, "SHA-256"):
			var buf [sha256.Size]byte
			dst, has = buf[:], &d.Has256
			if err := decodeDigest(dst, val); err != nil {
				return signet.NewError(signet.SchemeCavage, keyID, signet.ErrDigest, "Digest SHA-256 value is not a base64 digest")
			}
			if d.Has256 && buf != d.Want256 {
				d.Conflict = true
			}
			d.Want256 = buf
		case strings.EqualFold(alg, "SHA-512"):
			var buf [sha512.Size]byte
			dst, has = buf[:], &d.Has512
			if err := decodeDigest(dst, val); err != nil {
				return signet.NewError(signet.SchemeCavage, keyID, signet.ErrDigest, "Digest SHA-512 value is not a base64 digest")
			}
			if d.Has512 && buf != d.Want512 {
				d.Conflict = true
			}
			d.Want512 = buf
		default:
			continue
		}
		*has = true
	}
	if !d.Has256 && !d.Has512 {
		return signet.NewError(signet.SchemeCavage, keyID, signet.ErrDigest, "no supported digest (SHA-256 or SHA-512) in the Digest header")
	}
	return nil
}

// decodeDigest decodes base64 val into dst, which it must fill exactly.
func decodeDigest(dst []byte, val string) error {
	if base64.StdEncoding.DecodedLen(len(val)) < len(dst) || len(val) != base64.StdEncoding.EncodedLen(len(dst)) {
		return errors.New("bad length")
	}
	var buf [sha512.Size + 2]byte // room for the padding bytes of a decode
	n, err := base64.StdEncoding.Decode(buf[:], []byte(val))
	if err != nil || n != len(dst) {
		return errors.New("bad digest")
	}
	copy(dst, buf[:n])
	return nil
}

// CheckDigest reads body to its end and checks it against an RFC 3230
// Digest header value. It returns an error wrapping signet.ErrDigest when no
// supported digest is named or one does not match. It does not bound the
// read: it is meant for offline checks (the CLI); servers get the bounded,
// streaming check from Verifier.Verify.
func CheckDigest(header string, body io.Reader) error {
	d := new(digestSpec)
	if err := parseDigest(d, header, ""); err != nil {
		return err
	}
	ok, err := d.Check(body)
	if err != nil {
		return err
	}
	if !ok {
		return signet.NewError(signet.SchemeCavage, "", signet.ErrDigest, "body does not match the Digest header")
	}
	return nil
}

// newDigestReader checks body against spec while it streams (see
// bodydigest.Reader), with cavage's errors.
func newDigestReader(body io.ReadCloser, spec *digestSpec, max int64, keyID string) *bodydigest.Reader {
	return bodydigest.NewReader(body, spec, max, keyID, digestFailure)
}

func digestFailure(keyID string, tooLarge bool) error {
	if tooLarge {
		return signet.NewError(signet.SchemeCavage, keyID, signet.ErrBodyTooLarge, "digested body exceeds the size limit")
	}
	return signet.NewError(signet.SchemeCavage, keyID, signet.ErrDigest, "body does not match the signed Digest header")
}
