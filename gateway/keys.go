package gateway

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync/atomic"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
)

// configKeys is the KeyStore of the config's keys. Converting every key up
// front (a signet.Key, a compiled policy and map entries each) made a
// million keys cost many seconds and gigabytes; configKeys only indexes the
// ids (a compact hash table), and converts a key, compiling its policy, the first time it is asked
// for. The result is kept, so a key is always the same *signet.Key (caches
// keyed by it keep working) and the hot path allocates nothing.
type configKeys struct {
	keys []config.Key
	// slots is an open-addressing hash table of 1+index into keys (0:
	// empty), at most half full: 8 bytes a key where a map[string]int32
	// took about 50.
	slots []int32
	seed  maphash.Seed
	conv  []atomic.Pointer[configKey]
}

type configKey struct {
	key    *signet.Key
	policy *keyPolicy
}

var _ signet.KeyStore = (*configKeys)(nil)

func newConfigKeys(keys []config.Key) (*configKeys, error) {
	if len(keys) > 1<<29 {
		return nil, errors.New("too many keys")
	}
	size := 8
	for size < 2*len(keys) {
		size *= 2
	}
	s := &configKeys{keys: keys, slots: make([]int32, size), seed: maphash.MakeSeed(), conv: make([]atomic.Pointer[configKey], len(keys))}
	mask := uint64(size - 1)
	for i := range keys {
		id := keys[i].ID
		if id == "" {
			return nil, errors.New("signet: key with empty id")
		}
		h := maphash.String(s.seed, id) & mask
		for ; s.slots[h] != 0; h = (h + 1) & mask {
			if keys[s.slots[h]-1].ID == id {
				return nil, fmt.Errorf("signet: duplicate key id %q", id)
			}
		}
		s.slots[h] = int32(i + 1)
	}
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
	if ck := s.conv[i].Load(); ck != nil {
		return ck
	}
	k := s.keys[i].SignetKey()
	// Validate checked the origins: a policy error cannot happen here,
	// and would only fail that origin closed.
	p, _ := newKeyPolicy(k)
	ck := &configKey{key: k, policy: p}
	if s.conv[i].CompareAndSwap(nil, ck) {
		return ck
	}
	return s.conv[i].Load() // another request converted it first
}

// policy returns the compiled policy of k when k is one of these keys.
func (s *configKeys) policy(k *signet.Key) (*keyPolicy, bool) {
	i, ok := s.find(k.ID)
	if !ok {
		return nil, false
	}
	if ck := s.conv[i].Load(); ck != nil && ck.key == k {
		return ck.policy, true
	}
	return nil, false
}
