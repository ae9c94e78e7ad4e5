// Package bodydigest checks a request body against the SHA-256 and SHA-512
// digests a header names (RFC 3230 Digest, RFC 9530 Content-Digest), either
// at once or while the body streams. The schemes parse their own header
// syntax into a Spec.
package bodydigest

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"
	"io"
)

// Spec is the set of supported digests a header names; every one of them
// must match. Values are held inline, sparing allocations on the verify path.
type Spec struct {
	Has256, Has512 bool
	Conflict       bool // the same algorithm named twice with different values: never matches
	Want256        [sha256.Size]byte
	Want512        [sha512.Size]byte
}

// Hashes returns fresh hashes for the digests d names (nil when unused).
func (d *Spec) Hashes() (h256, h512 hash.Hash) {
	if d.Has256 {
		h256 = sha256.New()
	}
	if d.Has512 {
		h512 = sha512.New()
	}
	return h256, h512
}

// Match compares in constant time every named digest with the computed ones
// (nil when not computed).
func (d *Spec) Match(h256, h512 hash.Hash) bool {
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

// Digests of the empty body, for a signed digest on a request without one.
var (
	emptySHA256 = sha256.Sum256(nil)
	emptySHA512 = sha512.Sum512(nil)
)

// MatchEmpty reports whether d is the digest of an empty body.
func (d *Spec) MatchEmpty() bool { return d.matchSums(emptySHA256[:], emptySHA512[:]) }

func (d *Spec) matchSums(s256, s512 []byte) bool {
	ok := 1
	if d.Conflict {
		ok = 0
	}
	if d.Has256 {
		ok &= subtle.ConstantTimeCompare(s256, d.Want256[:])
	}
	if d.Has512 {
		ok &= subtle.ConstantTimeCompare(s512, d.Want512[:])
	}
	return ok == 1
}

// Check reads body (nil means empty) to its end, unbounded, and reports
// whether it matches d: for offline checks, not for servers.
func (d *Spec) Check(body io.Reader) (bool, error) {
	h256, h512 := d.Hashes()
	var w io.Writer
	switch {
	case h256 != nil && h512 != nil:
		w = io.MultiWriter(h256, h512)
	case h256 != nil:
		w = h256
	default:
		w = h512
	}
	if body != nil && w != nil {
		if _, err := io.Copy(w, body); err != nil {
			return false, err
		}
	}
	return d.Match(h256, h512), nil
}

// Reader hashes a body as it streams. At EOF it returns its Failure's
// mismatch error instead of io.EOF when the body does not match; past max
// bytes, its too-large error. Both errors are sticky, so a proxy reading
// the body aborts the upstream request.
type Reader struct {
	body       io.ReadCloser
	spec       Spec
	h256, h512 hash.Hash
	n, max     int64
	keyID      string
	fail       Failure
	err        error
}

// Failure builds the scheme's own error for keyID: the body is larger than
// the limit (tooLarge), or does not match. A package-level function rather
// than a closure over the key id spares an allocation per request.
type Failure func(keyID string, tooLarge bool) error

// NewReader wraps body; fail builds its errors, for keyID.
func NewReader(body io.ReadCloser, spec *Spec, max int64, keyID string, fail Failure) *Reader {
	d := &Reader{body: body, spec: *spec, max: max, keyID: keyID, fail: fail}
	d.h256, d.h512 = spec.Hashes()
	return d
}

func (d *Reader) Read(p []byte) (int, error) {
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
		d.err = d.fail(d.keyID, true)
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
		if !d.spec.Match(d.h256, d.h512) {
			d.err = d.fail(d.keyID, false)
			return n, d.err
		}
		d.err = io.EOF
	}
	return n, err
}

// Close closes the wrapped body.
func (d *Reader) Close() error {
	if d.body == nil {
		return nil
	}
	return d.body.Close()
}
