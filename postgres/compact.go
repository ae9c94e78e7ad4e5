package postgres

import (
	"crypto"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/signet-dev/signet"
)

// entry is a key in compact form on its way into a shard: one byte slice,
// which the garbage collector does not scan, instead of a signet.Key with
// its strings, slices and maps (a million keys: ~6 objects each, marked
// by every collection). Shards pack the records; the signet.Key is built
// on first use (shard.key).
type entry struct {
	id  string
	rec []byte
	key *signet.Key // built already, when moving between shards
}

// newEntry encodes k, a key as decode returns it: already decrypted and
// checked, so that get can only fail on a bug.
func newEntry(k *signet.Key) (*entry, error) {
	rec, err := appendCompact(nil, k)
	if err != nil {
		return nil, err
	}
	return &entry{id: k.ID, rec: rec}, nil
}

// appendCompact appends k's compact record to b. On error b is unchanged.
func appendCompact(b []byte, k *signet.Key) ([]byte, error) {
	var der []byte
	if k.PublicKey != nil {
		var err error
		if der, err = x509.MarshalPKIXPublicKey(k.PublicKey); err != nil {
			return b, err
		}
	}
	b = slices.Grow(b, compactSize(k, der))
	b = appendStr(b, k.ID)
	b = appendStr(b, k.Tenant)
	b = appendList(b, k.Schemes)
	b = appendList(b, k.Algorithms)
	b = binary.AppendVarint(b, int64(k.MaxExpires))
	var flags byte
	if k.SingleUse {
		flags |= 1
	}
	if k.FailOpen {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(k.RateLimit.RequestsPerSecond))
	b = binary.AppendVarint(b, int64(k.RateLimit.Burst))
	b = binary.AppendVarint(b, k.RateLimit.BytesPerMinute)
	b = binary.AppendUvarint(b, uint64(len(der)))
	b = append(b, der...)
	b = appendList(b, k.Secrets)
	b = binary.AppendUvarint(b, uint64(len(k.Upstreams)))
	for _, u := range k.Upstreams {
		b = appendStr(b, u.Origin)
		if u.Headers == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		names := slices.Sorted(maps.Keys(u.Headers))
		b = binary.AppendUvarint(b, uint64(len(names)))
		for _, n := range names {
			b = appendStr(b, n)
			b = appendStr(b, u.Headers[n])
		}
	}
	return b, nil
}

// get builds the entry's key.
func (e *entry) get() (*signet.Key, error) { return decodeCompact(e.rec) }

var errCorrupt = errors.New("postgres: corrupt cache entry")

// decodeCompact is newEntry's inverse: it returns a key equal to the one
// encoded (nil and empty lists as decode makes them).
func decodeCompact(rec []byte) (*signet.Key, error) {
	r := reader{b: rec}
	k := &signet.Key{}
	k.ID = r.str()
	k.Tenant = r.str()
	k.Schemes = r.list(false)
	k.Algorithms = r.list(false)
	k.MaxExpires = time.Duration(r.varint())
	flags := r.byte()
	k.SingleUse, k.FailOpen = flags&1 != 0, flags&2 != 0
	k.RateLimit.RequestsPerSecond = math.Float64frombits(r.uint64())
	k.RateLimit.Burst = int(r.varint())
	k.RateLimit.BytesPerMinute = r.varint()
	if der := r.str(); der != "" && r.err == nil {
		pub, err := x509.ParsePKIXPublicKey([]byte(der))
		if err != nil {
			return nil, err
		}
		k.PublicKey = pub.(crypto.PublicKey)
	}
	k.Secrets = r.list(true)
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		u := signet.Upstream{Origin: r.str()}
		if r.byte() == 1 {
			m := r.uvarint()
			u.Headers = make(map[string]string, min(m, 64))
			for ; m > 0 && r.err == nil; m-- {
				name := r.str()
				u.Headers[name] = r.str()
			}
		}
		k.Upstreams = append(k.Upstreams, u)
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errCorrupt
	}
	return k, nil
}

func compactSize(k *signet.Key, der []byte) int {
	n := 40 + len(k.ID) + len(k.Tenant) + len(der)
	for _, l := range [][]string{k.Schemes, k.Algorithms, k.Secrets} {
		for _, s := range l {
			n += len(s) + 2
		}
	}
	for _, u := range k.Upstreams {
		n += len(u.Origin) + 4
		for name, v := range u.Headers {
			n += len(name) + len(v) + 4
		}
	}
	return n
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendList(b []byte, l []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, s := range l {
		b = appendStr(b, s)
	}
	return b
}

// reader reads newEntry's encoding; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() { r.err, r.b = errCorrupt, nil }

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uint64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// str copies: a decoded key must not keep the whole record alive through
// one of its strings, nor share memory with it.
func (r *reader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// list returns nil for an empty list unless keepEmpty (decode makes
// Secrets with make, never nil).
func (r *reader) list(keepEmpty bool) []string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	if n == 0 && !keepEmpty {
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = r.str()
	}
	return l
}
