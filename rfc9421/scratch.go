package rfc9421

import "sync"

// maxPooledComps is how many components a pooled scratch holds; a
// signature covering more allocates its own.
const maxPooledComps = 16

// scratch is per-verification memory, pooled so that the components of
// every request need not be allocated anew.
type scratch struct {
	comps [maxPooledComps]component
	n     int // entries of comps written, to clear
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// note records that up to n components may have been written.
func (s *scratch) note(n int) { s.n = max(s.n, min(n, maxPooledComps)) }

// put drops the request's strings and returns s to the pool.
func (s *scratch) put() {
	clear(s.comps[:s.n])
	s.n = 0
	scratchPool.Put(s)
}
