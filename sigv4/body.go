package sigv4

import (
	"crypto/hmac"
	"encoding/hex"
	"hash"
	"io"

	"github.com/signet-dev/signet"
)

// hashReader passes the body through SHA-256 and, at EOF, fails with
// signet.ErrDigest when it does not match the signed payload hash; past max
// bytes it fails with signet.ErrBodyTooLarge. So a body that does not match
// its signed hash is never read to a clean EOF.
type hashReader struct {
	r    io.ReadCloser
	want string // hex, either case
	max  int64
	n    int64
	id   string
	h    hash.Hash
	err  error // sticky
}

func (h *hashReader) Read(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	n, err := h.r.Read(p)
	h.n += int64(n)
	if h.n > h.max {
		h.err = signet.NewError(signet.SchemeSigV4, h.id, signet.ErrBodyTooLarge, "body longer than the payload hashing limit")
		return 0, h.err
	}
	h.h.Write(p[:n])
	if err == io.EOF {
		var want [32]byte
		_, derr := hex.Decode(want[:], []byte(h.want))
		if derr != nil || !hmac.Equal(h.h.Sum(nil), want[:]) {
			h.err = signet.NewError(signet.SchemeSigV4, h.id, signet.ErrDigest, "body does not match X-Amz-Content-Sha256")
			return n, h.err
		}
		h.err = io.EOF
	} else if err != nil {
		h.err = err
	}
	return n, err
}

func (h *hashReader) Close() error { return h.r.Close() }
