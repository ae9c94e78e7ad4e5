package signet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
func ReplayID(scheme, keyID string, content []byte) string {
	h := sha256.New()
	h.Write([]byte(scheme))
	h.Write([]byte{0})
	h.Write([]byte(keyID))
	h.Write([]byte{0})
	h.Write(content)
	return scheme + ":" + hex.EncodeToString(h.Sum(nil))
}

// NonceReplayID returns the ReplayID of a request that carries a nonce.
func NonceReplayID(scheme, keyID, nonce string) string {
	return ReplayID(scheme, keyID, []byte("nonce\x00"+nonce))
}
