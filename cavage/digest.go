package cavage

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	"strings"

	"github.com/signet-dev/signet"
)

// DefaultMaxBody bounds a digested body when Verifier.MaxBody is 0, and the
// body Signer reads to compute a Digest.
const DefaultMaxBody = 10 << 20

// digestSpec is a parsed RFC 3230 Digest header: the supported digests it
// names. Every one of them must match. It holds the values inline, sparing
// allocations on the verify path.
type digestSpec struct {
	has256, has512 bool
	conflict       bool // the same algorithm named twice with different values
	want256        [sha256.Size]byte
	want512        [sha512.Size]byte
}

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
			dst, has = buf[:], &d.has256
			if err := decodeDigest(dst, val); err != nil {
				return signet.NewError(signet.SchemeCavage, keyID, signet.ErrDigest, "Digest SHA-256 value is not a base64 digest")
			}
			if d.has256 && buf != d.want256 {
				d.conflict = true
			}
			d.want256 = buf
		case strings.EqualFold(alg, "SHA-512"):
			var buf [sha512.Size]byte
			dst, has = buf[:], &d.has512
			if err := decodeDigest(dst, val); err != nil {
				return signet.NewError(signet.SchemeCavage, keyID, signet.ErrDigest, "Digest SHA-512 value is not a base64 digest")
			}
			if d.has512 && buf != d.want512 {
				d.conflict = true
			}
			d.want512 = buf
		default:
			continue
		}
		*has = true
	}
	if !d.has256 && !d.has512 {
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

// hashes returns fresh hashes for the digests d names (nil when unused).
func (d *digestSpec) hashes() (h256, h512 hash.Hash) {
	if d.has256 {
		h256 = sha256.New()
	}
	if d.has512 {
		h512 = sha512.New()
	}
	return h256, h512
}

// match compares in constant time every named digest with the computed
// ones (nil when not computed).
func (d *digestSpec) match(h256, h512 hash.Hash) bool {
	var b256 [sha256.Size]byte
	var b512 [sha512.Size]byte
	var s256, s512 []byte
	if h256 != nil {
		s256 = h256.Sum(b256[:0])
	}
	if h512 != nil {
		s512 = h512.Sum(b512[:0])
	}
	return d.matchSums(s256, s512)
}

func (d *digestSpec) matchSums(s256, s512 []byte) bool {
	ok := 1
	if d.conflict {
		ok = 0
	}
	if d.has256 {
		ok &= subtle.ConstantTimeCompare(s256, d.want256[:])
	}
	if d.has512 {
		ok &= subtle.ConstantTimeCompare(s512, d.want512[:])
	}
	return ok == 1
}

// Digests of the empty body, for a signed Digest on a request without one.
var (
	emptySHA256 = sha256.Sum256(nil)
	emptySHA512 = sha512.Sum512(nil)
)

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
	h256, h512 := d.hashes()
	var w io.Writer
	switch {
	case h256 != nil && h512 != nil:
		w = io.MultiWriter(h256, h512)
	case h256 != nil:
		w = h256
	default:
		w = h512
	}
	if body != nil {
		if _, err := io.Copy(w, body); err != nil {
			return err
		}
	}
	if !d.match(h256, h512) {
		return signet.NewError(signet.SchemeCavage, "", signet.ErrDigest, "body does not match the Digest header")
	}
	return nil
}

// digestReader hashes a request body as it streams. At EOF it returns an
// error wrapping signet.ErrDigest instead of io.EOF when the body does not
// match; past max bytes it returns one wrapping signet.ErrBodyTooLarge. Both
// errors are sticky, so a proxy reading the body aborts the upstream request.
type digestReader struct {
	body       io.ReadCloser
	spec       digestSpec
	h256, h512 hash.Hash
	n, max     int64
	keyID      string
	err        error
}

func newDigestReader(body io.ReadCloser, spec *digestSpec, max int64, keyID string) *digestReader {
	d := &digestReader{body: body, spec: *spec, max: max, keyID: keyID}
	d.h256, d.h512 = spec.hashes()
	return d
}

func (d *digestReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte past the limit to tell "exactly max" from "more".
	if rem := d.max - d.n; rem < int64(len(p))-1 { // no rem+1 overflow for a huge max
		p = p[:rem+1]
	}
	n, err := d.body.Read(p)
	if n < 0 || n > len(p) {
		n, err = 0, io.ErrNoProgress // a broken reader must not make us slice out of range
	}
	if d.n+int64(n) > d.max {
		n = int(d.max - d.n)
		d.err = signet.NewError(signet.SchemeCavage, d.keyID, signet.ErrBodyTooLarge, "digested body exceeds the size limit")
	}
	d.n += int64(n)
	if d.h256 != nil {
		d.h256.Write(p[:n])
	}
	if d.h512 != nil {
		d.h512.Write(p[:n])
	}
	if d.err != nil {
		return n, d.err
	}
	if err == io.EOF {
		if !d.spec.match(d.h256, d.h512) {
			d.err = signet.NewError(signet.SchemeCavage, d.keyID, signet.ErrDigest, "body does not match the signed Digest header")
			return n, d.err
		}
		d.err = io.EOF
	}
	return n, err
}

func (d *digestReader) Close() error {
	if d.body == nil {
		return nil
	}
	return d.body.Close()
}
