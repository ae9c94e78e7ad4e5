package postgres

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MasterKeySize is the length of the master key: AES-256.
const MasterKeySize = 32

// ErrDecrypt means a stored value could not be decrypted: the master key is
// not the one it was encrypted with, or the row was altered (for example a
// ciphertext copied from another key).
var ErrDecrypt = errors.New("postgres: cannot decrypt stored value (wrong SIGNET_MASTER_KEY, or altered data)")

// ParseMasterKey decodes a master key written as 64 hex digits or as
// base64 (standard or URL alphabet, padded or not) of 32 bytes, such as
// SIGNET_MASTER_KEY. The error never repeats the value.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("postgres: master key is empty (set SIGNET_MASTER_KEY to 32 random bytes, hex or base64; e.g. openssl rand -base64 32)")
	}
	if len(s) == 2*MasterKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) == MasterKeySize {
				return b, nil
			}
			return nil, fmt.Errorf("postgres: master key decodes to %d bytes, want %d (32 random bytes, hex or base64)", len(b), MasterKeySize)
		}
	}
	return nil, fmt.Errorf("postgres: master key is neither 64 hex digits nor base64 of %d bytes (got %d characters)", MasterKeySize, len(s))
}

// sealer encrypts values with AES-256-GCM. The stored form is
// format(1) || nonce(12) || ciphertext+tag; the format byte leaves room for
// master key rotation.
type sealer struct{ aead cipher.AEAD }

const sealFormat1 = 1

func newSealer(masterKey []byte) (*sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("postgres: master key must be %d bytes, got %d", MasterKeySize, len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(plaintext, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+s.aead.Overhead())
	out[0] = sealFormat1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[1:1+ns], plaintext, ad), nil
}

func (s *sealer) open(stored, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(stored) < 1+ns+s.aead.Overhead() || stored[0] != sealFormat1 {
		return nil, ErrDecrypt
	}
	pt, err := s.aead.Open(nil, stored[1:1+ns], stored[1+ns:], ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// The additional data binds each ciphertext to its row: a secret to its key
// id and version, a header set to its key id and origin. Copying one into
// another row makes it undecryptable; in particular an upstream's token
// cannot be moved to an origin the attacker controls.
func secretAD(keyID string, version int) []byte {
	return []byte("signet/secret\x00" + keyID + "\x00" + strconv.Itoa(version))
}

func headersAD(keyID, origin string) []byte {
	return []byte("signet/headers\x00" + keyID + "\x00" + origin)
}
