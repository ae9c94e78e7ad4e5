package keycache

import (
	"crypto"
	"crypto/hmac"
	_ "crypto/sha1" // link the hashes crypto.Hash.New uses
	"crypto/sha256"
	_ "crypto/sha512"
	"strconv"
	"sync"
	"testing"
)

func TestCacheForgets(t *testing.T) {
	var c Cache[int, int]
	made := 0
	mk := func(k int) int { made++; return k * 2 }
	first, second := c.Get(1, mk), c.Get(1, mk)
	if first != 2 || second != 2 || made != 1 {
		t.Fatalf("made %d values for one key, want 1", made)
	}
	// An entry unused for 2×Rotate lookups is gone.
	for i := 0; i < 2*Rotate+2; i++ {
		c.Get(2, mk)
	}
	made = 0
	c.Get(1, mk)
	if made != 1 {
		t.Error("entry survived 2×Rotate lookups without use")
	}
}

func TestCacheBounded(t *testing.T) {
	var c Cache[int, int]
	for i := range 5 * Max {
		c.Get(i, func(k int) int { return k })
	}
	if n := c.Len(); n > 2*Max {
		t.Errorf("cache holds %d entries, bound is %d", n, 2*Max)
	}
}

func TestKeyedMatchesHMAC(t *testing.T) {
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA512} {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range Max + 10 {
					secret := "secret-" + strconv.Itoa((i+g)%(Max/2+3))
					msg := []byte("message " + strconv.Itoa(i))
					mp := Keyed(secret, h)
					m := mp.Get()
					m.Write(msg)
					got := m.Hash.Sum(m.Sum[:0])
					want := hmac.New(h.New, []byte(secret))
					want.Write(msg)
					if !hmac.Equal(got, want.Sum(nil)) {
						t.Errorf("%v %q: keyed MAC differs from hmac.New", h, secret)
					}
					mp.Put(m)
				}
			}()
		}
		wg.Wait()
	}
}

// TestHMAC256MatchesHMAC: for keys shorter than, as long as and longer than
// a block, and messages around the block size written in pieces, HMAC256
// equals crypto/hmac, also when reused from the pool.
func TestHMAC256MatchesHMAC(t *testing.T) {
	for _, keyLen := range []int{0, 1, 32, 63, 64, 65, 200} {
		key := make([]byte, keyLen)
		for i := range key {
			key[i] = byte(i*13 + keyLen)
		}
		for msgLen := 0; msgLen < 600; msgLen += 37 {
			msg := make([]byte, msgLen)
			for i := range msg {
				msg[i] = byte(i * 7)
			}
			want := hmac.New(sha256.New, key)
			want.Write(msg)
			m := GetHMAC256()
			m.Init(key)
			m.Write(msg[:msgLen/2])
			m.WriteString(string(msg[msgLen/2:]))
			var got [sha256.Size]byte
			m.Sum(&got)
			m.Put()
			if !hmac.Equal(got[:], want.Sum(nil)) {
				t.Fatalf("key %d bytes, message %d bytes: HMAC256 differs from crypto/hmac", keyLen, msgLen)
			}
		}
	}
}
