package gateway

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"sync/atomic"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
)

// configKeys is the KeyStore of the config's keys. Converting every key up
// front (a signet.Key, a compiled policy and map entries each) made a
// million keys cost many seconds and gigabytes; configKeys only indexes the
// ids (a compact hash table), and converts a key, compiling its policy, the
// first time it is asked for. The result is kept, so a key is always the
// same *signet.Key (caches keyed by it keep working) and the hot path
// allocates nothing.
type configKeys struct {
	keys []config.Key
	// slots is an open-addressing hash table of 1+index into keys (0:
	// empty), at most half full: 8 bytes a key where a map[string]int32
	// took about 50.
	slots []int32
	seed  maphash.Seed
	// conv holds the converted keys in pages made on first use: of a
	// million keys few may sign, and their pointers would be 8 MB.
	conv []atomic.Pointer[convPage]
	// origins are the distinct upstream origins the keys list ("*" left
	// out), each with the first key listing it, found while indexing.
	origins []keyOrigin
}

const (
	convPageBits = 10
	convPageMask = 1<<convPageBits - 1
)

// keyBatch is how many ids newConfigKeys hashes before it inserts them.
const keyBatch = 16

type convPage [1 << convPageBits]atomic.Pointer[configKey]

type configKey struct {
	key    *signet.Key
	policy *keyPolicy
}

type keyOrigin struct{ origin, keyID string }

var _ signet.KeyStore = (*configKeys)(nil)

func newConfigKeys(keys []config.Key) (*configKeys, error) {
	if len(keys) > 1<<29 {
		return nil, errors.New("too many keys")
	}
	size := 8
	for size < 2*len(keys) {
		size *= 2
	}
	s := &configKeys{
		keys:  keys,
		slots: make([]int32, size),
		seed:  maphash.MakeSeed(),
		conv:  make([]atomic.Pointer[convPage], (len(keys)+len(convPage{})-1)>>convPageBits),
	}
	mask := uint64(size - 1)
	var seen map[string]bool
	var last []config.Upstream
	var hs [keyBatch]uint64
	var sink int32
	for i := range keys {
		k := &keys[i]
		if k.ID == "" {
			return nil, errors.New("signet: key with empty id")
		}
		// A slot is a cache (and TLB) miss away: hash a batch of ids
		// and load their slots first, so that the misses overlap.
		b := i % keyBatch
		if b == 0 {
			for j := range min(keyBatch, len(keys)-i) {
				hs[j] = maphash.String(s.seed, keys[i+j].ID) & mask
				sink += s.slots[hs[j]]
			}
		}
		h := hs[b]
		for ; s.slots[h] != 0; h = (h + 1) & mask {
			if keys[s.slots[h]-1].ID == k.ID {
				return nil, fmt.Errorf("signet: duplicate key id %q", k.ID)
			}
		}
		s.slots[h] = int32(i + 1)
		// Keys read from a large file share their upstream lists: one
		// look at each is enough.
		if len(k.Upstreams) == 0 || len(k.Upstreams) == len(last) && &k.Upstreams[0] == &last[0] {
			continue
		}
		last = k.Upstreams
		for _, u := range k.Upstreams {
			if u.Origin != "*" && !seen[u.Origin] {
				if seen == nil {
					seen = map[string]bool{}
				}
				seen[u.Origin] = true
				s.origins = append(s.origins, keyOrigin{u.Origin, k.ID})
			}
		}
	}
	runtime.KeepAlive(sink) // keeps the loads
	return s, nil
}

// find returns the index of the key with id.
func (s *configKeys) find(id string) (int32, bool) {
	mask := uint64(len(s.slots) - 1)
	for h := maphash.String(s.seed, id) & mask; s.slots[h] != 0; h = (h + 1) & mask {
		if i := s.slots[h] - 1; s.keys[i].ID == id {
			return i, true
		}
	}
	return 0, false
}

// Key returns the key with id, or an error wrapping ErrUnknownKey.
func (s *configKeys) Key(_ context.Context, id string) (*signet.Key, error) {
	i, ok := s.find(id)
	if !ok {
		return nil, signet.ErrUnknownKey
	}
	return s.get(i).key, nil
}

func (s *configKeys) get(i int32) *configKey {
	if p := s.conv[i>>convPageBits].Load(); p != nil {
		if ck := p[i&convPageMask].Load(); ck != nil {
			return ck
		}
	}
	return s.convert(i)
}

// convert converts keys[i] on its first use, making its page if need be.
func (s *configKeys) convert(i int32) *configKey {
	pp := &s.conv[i>>convPageBits]
	if pp.Load() == nil {
		pp.CompareAndSwap(nil, new(convPage)) // or another request's is in place
	}
	slot := &pp.Load()[i&convPageMask]
	k := s.keys[i].SignetKey()
	// Validate checked the origins: a policy error cannot happen here,
	// and would only fail that origin closed.
	p, _ := newKeyPolicy(k)
	ck := &configKey{key: k, policy: p}
	if slot.CompareAndSwap(nil, ck) {
		return ck
	}
	return slot.Load() // another request converted it first
}

// policy returns the compiled policy of k when k is one of these keys.
func (s *configKeys) policy(k *signet.Key) (*keyPolicy, bool) {
	i, ok := s.find(k.ID)
	if !ok {
		return nil, false
	}
	p := s.conv[i>>convPageBits].Load()
	if p == nil {
		return nil, false
	}
	if ck := p[i&convPageMask].Load(); ck != nil && ck.key == k {
		return ck.policy, true
	}
	return nil, false
}
