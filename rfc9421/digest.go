package rfc9421

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"io"

	"github.com/dunglas/httpsfv"
	"github.com/signet-dev/signet"
)

// DefaultMaxBody bounds a digested body when Verifier.MaxBody is 0, and the
// body Signer reads to compute a Content-Digest.
const DefaultMaxBody = 10 << 20

// Content-Digest algorithms (RFC 9530 §5).
const (
	DigestSHA256 = "sha-256"
	DigestSHA512 = "sha-512"
)

// digestSpec is a parsed Content-Digest: the supported digests it names,
// every one of which must match.
type digestSpec struct {
	has256, has512 bool
	want256        [sha256.Size]byte
	want512        [sha512.Size]byte
}

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
			want = d.want256[:]
			d.has256 = true
		case DigestSHA512:
			want = d.want512[:]
			d.has512 = true
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
	if !d.has256 && !d.has512 {
		return bad("no supported digest (sha-256 or sha-512) in Content-Digest")
	}
	return nil
}

func (d *digestSpec) hashes() (h256, h512 hash.Hash) {
	if d.has256 {
		h256 = sha256.New()
	}
	if d.has512 {
		h512 = sha512.New()
	}
	return h256, h512
}

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
	if d.has256 {
		ok &= subtle.ConstantTimeCompare(s256, d.want256[:])
	}
	if d.has512 {
		ok &= subtle.ConstantTimeCompare(s512, d.want512[:])
	}
	return ok == 1
}

var (
	emptySHA256 = sha256.Sum256(nil)
	emptySHA512 = sha512.Sum512(nil)
)

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

// digestReader hashes a request body as it streams. At EOF it returns an
// error wrapping signet.ErrDigest instead of io.EOF when the body does not
// match; past max bytes one wrapping signet.ErrBodyTooLarge. Both are
// sticky, so a proxy reading the body aborts the upstream request.
type digestReader struct {
	body       io.ReadCloser
	spec       digestSpec
	h256, h512 hash.Hash
	n, max     int64
	keyID      string
	err        error
}

func (d *digestReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte past the limit to tell "exactly max" from "more".
	if rem := d.max - d.n; rem < int64(len(p))-1 {
		p = p[:rem+1]
	}
	n, err := d.body.Read(p)
	if n < 0 || n > len(p) {
		n, err = 0, io.ErrNoProgress
	}
	if d.n+int64(n) > d.max {
		n = int(d.max - d.n)
		d.err = signet.NewError(signet.SchemeRFC9421, d.keyID, signet.ErrBodyTooLarge, "digested body exceeds the size limit")
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
			d.err = signet.NewError(signet.SchemeRFC9421, d.keyID, signet.ErrDigest, "body does not match the signed Content-Digest")
			return n, d.err
		}
		d.err = io.EOF
	}
	return n, err
}

func (d *digestReader) Close() error { return d.body.Close() }
