// Package keycache keeps what verifiers derive from secrets: a bounded,
// forgetting cache, pools of HMACs whose keyed states are computed once,
// and a pooled HMAC-SHA256 for keys derived per request (HMAC256).
//
// Keying an HMAC (hmac.New) hashes a block of key ⊕ ipad and another of
// key ⊕ opad and allocates the hash states: more work than the MAC of a
// short signature base. FIPS 198-1 §6 allows precomputing those states once
// (they are as secret as the key); crypto/hmac restores them on Reset, so a
// pool of reset HMACs per secret skips them.
package keycache

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha512"
	"hash"
	"sync"
	"sync/atomic"
)

// Cache is a bounded map with two generations: every Rotate lookups (or
// when the current generation holds Max entries) the current generation
// becomes the old one and the old one is dropped; an entry found in the old
// generation moves back to the current one. So an entry is forgotten at
// most 2×Rotate lookups after its last use: a secret removed from every key
// leaves memory then (lookups are by the keys' current secrets, so it is
// never looked up again). At most 2×Max entries are held. The zero value is
// ready to use and safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu       sync.RWMutex
	cur, old map[K]V
	n        atomic.Uint32 // lookups since the last rotation
}

const (
	Max    = 1024    // entries per generation
	Rotate = 1 << 16 // lookups per generation
)

// Get returns the value for k, made by mk on a miss.
func (c *Cache[K, V]) Get(k K, mk func(K) V) V {
	if c.n.Add(1) >= Rotate {
		c.mu.Lock()
		if c.n.Load() >= Rotate {
			c.rotate()
		}
		c.mu.Unlock()
	}
	c.mu.RLock()
	v, ok := c.cur[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	return c.miss(k, mk)
}

// Len reports how many entries the cache holds.
func (c *Cache[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.cur) + len(c.old)
}

func (c *Cache[K, V]) miss(k K, mk func(K) V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[k]; ok {
		return v
	}
	v, ok := c.old[k]
	if !ok {
		v = mk(k)
	}
	if len(c.cur) >= Max {
		c.rotate()
	}
	if c.cur == nil {
		c.cur = make(map[K]V)
	}
	c.cur[k] = v
	return v
}

func (c *Cache[K, V]) rotate() {
	c.old, c.cur = c.cur, make(map[K]V)
	c.n.Store(0)
}

// MAC is a pooled, keyed HMAC with room for its sum and a small scratch
// buffer (local arrays would escape through the hash.Hash interface).
type MAC struct {
	hash.Hash
	Sum     [sha512.Size]byte
	Scratch [64]byte
}

// MACPool holds HMACs keyed with one key, reset.
type MACPool struct{ p sync.Pool }

// NewMACPool returns a pool of HMACs with hash h keyed with key.
func NewMACPool(h func() hash.Hash, key []byte) *MACPool {
	key = append([]byte(nil), key...)
	mp := &MACPool{}
	mp.p.New = func() any {
		m := hmac.New(h, key)
		m.Reset() // saves the keyed states for the Reset in Get
		return &MAC{Hash: m}
	}
	return mp
}

// Get returns an HMAC ready to write; give it back with Put.
func (mp *MACPool) Get() *MAC {
	m := mp.p.Get().(*MAC)
	m.Reset()
	return m
}

// Put returns m to the pool.
func (mp *MACPool) Put(m *MAC) { mp.p.Put(m) }

type macID struct {
	secret string
	hash   crypto.Hash
}

var macs Cache[macID, *MACPool]

// Keyed returns the shared pool of HMACs with hash h (SHA-1, SHA-256 or
// SHA-512; the caller links it) keyed with secret.
func Keyed(secret string, h crypto.Hash) *MACPool {
	return macs.Get(macID{secret, h}, func(id macID) *MACPool {
		return NewMACPool(id.hash.New, []byte(id.secret))
	})
}
