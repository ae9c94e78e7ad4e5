package signet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// ReplayStore remembers signed requests that may be used once.
type ReplayStore interface {
	// Use records id until expires. It returns an error wrapping ErrReplay
	// when id is already recorded and has not expired; other errors mean
	// the store itself failed.
	Use(ctx context.Context, id string, expires time.Time) error
}

// ReplayID returns the ReplayID of a request whose signature covers
// content (the string to sign, or the signature base): a hash of scheme,
// key id and content, so that equal requests share an id across replicas.
// It allocates only the string it returns.
func ReplayID[T string | []byte](scheme, keyID string, content T) string {
	bp := replayBufs.Get().(*[]byte)
	b := append((*bp)[:0], scheme...)
	b = append(b, 0)
	b = append(b, keyID...)
	b = append(b, 0)
	b = append(b, content...)
	sum := sha256.Sum256(b)
	if cap(b) <= 64<<10 { // do not keep a huge buffer alive
		*bp = b[:0]
		replayBufs.Put(bp)
	}
	var out [96]byte
	o := append(out[:0], scheme...)
	o = append(o, ':')
	return string(hex.AppendEncode(o, sum[:]))
}

var replayBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// NonceReplayID returns the ReplayID of a request that carries a nonce.
func NonceReplayID(scheme, keyID, nonce string) string {
	return ReplayID(scheme, keyID, "nonce\x00"+nonce)
}
