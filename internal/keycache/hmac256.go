package keycache

import (
	"crypto/sha256"
	"hash"
	"sync"
)

// HMAC256 computes HMAC-SHA256 (RFC 2104) under keys that change with
// every use, such as keys derived per request: no cache can hold their
// keyed states, and crypto/hmac.New would allocate two hash states, two
// pads and a wrapper for each. HMAC256 reuses one SHA-256 and copies what
// it hashes through its own buffer, so that callers' stack buffers do not
// escape through the hash.Hash interface. Take one with GetHMAC256, give it
// back with Put; it is not safe for concurrent use.
type HMAC256 struct {
	h    hash.Hash
	opad [sha256.BlockSize]byte
	buf  [256]byte
	sum  []byte
}

var hmac256s = sync.Pool{New: func() any {
	return &HMAC256{h: sha256.New(), sum: make([]byte, 0, sha256.Size)}
}}

// GetHMAC256 returns an HMAC256; call Init before writing.
func GetHMAC256() *HMAC256 { return hmac256s.Get().(*HMAC256) }

// Put returns m to the pool, its key state wiped.
func (m *HMAC256) Put() {
	m.h.Reset()
	clear(m.opad[:])
	clear(m.buf[:])
	hmac256s.Put(m)
}

// Init starts a MAC under key. A key longer than a block is hashed first.
func (m *HMAC256) Init(key []byte) {
	if len(key) > sha256.BlockSize {
		m.h.Reset()
		m.Write(key)
		m.sum = m.h.Sum(m.sum[:0])
		key = m.sum
	}
	pad := m.buf[:sha256.BlockSize]
	clear(pad)
	copy(pad, key)
	for i, c := range pad {
		pad[i] = c ^ 0x36
		m.opad[i] = c ^ 0x5c
	}
	m.h.Reset()
	m.h.Write(pad)
}

// Write adds p to the message.
func (m *HMAC256) Write(p []byte) {
	for len(p) > 0 {
		n := copy(m.buf[:], p)
		m.h.Write(m.buf[:n])
		p = p[n:]
	}
}

// WriteString adds s to the message.
func (m *HMAC256) WriteString(s string) {
	for len(s) > 0 {
		n := copy(m.buf[:], s)
		m.h.Write(m.buf[:n])
		s = s[n:]
	}
}

// Sum writes the MAC of the message to out. Init starts the next one.
func (m *HMAC256) Sum(out *[sha256.Size]byte) {
	m.sum = m.h.Sum(m.sum[:0])
	m.h.Reset()
	m.h.Write(m.opad[:])
	m.h.Write(m.sum)
	m.sum = m.h.Sum(m.sum[:0])
	copy(out[:], m.sum)
}
