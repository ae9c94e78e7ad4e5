package postgres

import (
	"encoding/binary"
	"hash/maphash"
	"sync/atomic"

	"github.com/signet-dev/signet"
)

// idSeed hashes key ids in shard indexes.
var idSeed = maphash.MakeSeed()

// shard is an immutable part of the cache: its keys' compact records in
// one byte slice and an index of hashes to positions, none of which the
// garbage collector has to scan (a map of strings to pointers costs it
// two pointers and an object per key). Only keys built on first use are
// pointers. Changing a key builds a new shard.
type shard struct {
	arena []byte
	offs  []uint32 // record i is arena[offs[i]:offs[i+1]]
	idx   map[uint64]int32
	more  map[string]int32 // ids whose hash another id took first: rare
	keys  []atomic.Pointer[signet.Key]
}

// buildShard builds a shard of entries.
func buildShard(entries map[string]*entry) *shard {
	n := 0
	for _, e := range entries {
		n += len(e.rec)
	}
	arena := make([]byte, 0, n)
	offs := make([]uint32, 0, len(entries)+1)
	keys := make([]atomic.Pointer[signet.Key], len(entries))
	for _, e := range entries {
		if e.key != nil {
			keys[len(offs)].Store(e.key)
		}
		offs = append(offs, uint32(len(arena)))
		arena = append(arena, e.rec...)
	}
	return indexShard(arena, append(offs, uint32(len(arena))), keys)
}

// indexShard makes the shard of packed records (record i is
// arena[offs[i]:offs[i+1]], ids unique) with keys already built.
func indexShard(arena []byte, offs []uint32, keys []atomic.Pointer[signet.Key]) *shard {
	sh := &shard{arena: arena, offs: offs, keys: keys, idx: make(map[uint64]int32, len(keys))}
	for i := range int32(len(keys)) {
		id := recIDBytes(sh.rec(i))
		h := maphash.Bytes(idSeed, id) // equal to maphash.String of the id
		if _, taken := sh.idx[h]; taken {
			if sh.more == nil {
				sh.more = map[string]int32{}
			}
			sh.more[string(id)] = i
			continue
		}
		sh.idx[h] = i
	}
	return sh
}

// shardBuilder packs a shard's records as a full load decodes its keys,
// so that a key is encoded once, straight into the shard's storage (an
// entry per key, copied into a shard afterwards, held every key twice at
// the end of a load).
type shardBuilder struct {
	arena []byte
	offs  []uint32
}

func (b *shardBuilder) add(k *signet.Key) error {
	arena, err := appendCompact(b.arena, k)
	if err != nil {
		return err
	}
	b.offs = append(b.offs, uint32(len(b.arena)))
	b.arena = arena
	return nil
}

// build returns the shard of the records added; b is spent.
func (b *shardBuilder) build() *shard {
	arena := b.arena
	if cap(arena)-len(arena) > len(arena)/16 {
		// Growing by appends left up to a fifth of it unused: keep what is used.
		arena = append(make([]byte, 0, len(arena)), arena...)
	}
	offs := append(b.offs, uint32(len(arena)))
	return indexShard(arena, offs, make([]atomic.Pointer[signet.Key], len(b.offs)))
}

func (sh *shard) len() int { return len(sh.keys) }

func (sh *shard) rec(i int32) []byte { return sh.arena[sh.offs[i]:sh.offs[i+1]] }

// find returns the position of id, or -1.
func (sh *shard) find(id string) int32 {
	if i, ok := sh.idx[maphash.String(idSeed, id)]; ok && recHasID(sh.rec(i), id) {
		return i
	}
	if i, ok := sh.more[id]; ok {
		return i
	}
	return -1
}

// key returns id's key, built from its record on first use.
func (sh *shard) key(id string) (*signet.Key, bool, error) {
	i := sh.find(id)
	if i < 0 {
		return nil, false, nil
	}
	if k := sh.keys[i].Load(); k != nil {
		return k, true, nil
	}
	k, err := decodeCompact(sh.rec(i))
	if err != nil {
		return nil, true, err
	}
	if !sh.keys[i].CompareAndSwap(nil, k) {
		k = sh.keys[i].Load()
	}
	return k, true, nil
}

// entry returns id's record as an entry, for building another shard.
func (sh *shard) entry(id string) (*entry, bool) {
	i := sh.find(id)
	if i < 0 {
		return nil, false
	}
	return &entry{id: id, rec: sh.rec(i), key: sh.keys[i].Load()}, true
}

// entries returns every record as an entry, for building another shard.
func (sh *shard) entries() map[string]*entry {
	m := make(map[string]*entry, sh.len()+1)
	for i := range int32(sh.len()) {
		rec := sh.rec(i)
		id := recID(rec)
		m[id] = &entry{id: id, rec: rec, key: sh.keys[i].Load()}
	}
	return m
}

// recID is the id a record starts with.
func recID(rec []byte) string { return string(recIDBytes(rec)) }

// recIDBytes is the id a record starts with, in place.
func recIDBytes(rec []byte) []byte {
	n, w := binary.Uvarint(rec)
	if w <= 0 || n > uint64(len(rec)-w) {
		return nil
	}
	return rec[w : w+int(n)]
}

// recHasID reports whether rec is id's, without copying.
func recHasID(rec []byte, id string) bool {
	n, w := binary.Uvarint(rec)
	return w > 0 && n == uint64(len(id)) && n <= uint64(len(rec)-w) && string(rec[w:w+int(n)]) == id
}
