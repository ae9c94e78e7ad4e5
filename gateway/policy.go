package gateway

import (
	"context"
	"sync"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
)

type upstream struct {
	origin  string
	headers []header
}

// keyPolicy says which origins a key's pre-signed URLs may reach, derived
// from Key.Upstreams so that keys from any store follow the same rules.
type keyPolicy struct {
	upstreams map[string]*upstream // by normalized origin
	anyPublic *upstream            // origin "*"
	useGlobal bool                 // no upstreams: the top-level allow_origins
}

// newKeyPolicy compiles k.Upstreams. An origin that does not parse is an
// error (config keys are validated before; store keys are checked when
// written, and a bad one only loses that origin: see policyFor).
func newKeyPolicy(k *signet.Key) (*keyPolicy, error) {
	p := &keyPolicy{upstreams: make(map[string]*upstream, len(k.Upstreams)), useGlobal: len(k.Upstreams) == 0}
	var firstErr error
	for _, u := range k.Upstreams {
		up := &upstream{origin: u.Origin, headers: headersOf(u.Headers)}
		if u.Origin == "*" {
			p.anyPublic = up
			continue
		}
		n, err := config.NormalizeOrigin(u.Origin)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		up.origin = n
		p.upstreams[n] = up
	}
	return p, firstErr
}

// allow returns the upstream entry (for its headers) of origin, whether the
// origin is explicitly allowed (private addresses may be dialed), and
// whether it is allowed at all.
func (p *keyPolicy) allow(origin string, st *state) (up *upstream, explicit, ok bool) {
	switch {
	case p == nil:
		return nil, false, false
	case !p.useGlobal:
		if u := p.upstreams[origin]; u != nil {
			return u, true, true
		}
		if p.anyPublic != nil {
			return p.anyPublic, false, true
		}
		return nil, false, false
	case st.allowOrigins[origin]:
		return nil, true, true
	case st.allowAnyPublic:
		return nil, false, true
	}
	return nil, false, false
}

// maxCachedPolicies bounds the policy cache of store keys. A store hands
// out a new *Key when the key changes, so old entries accumulate; clearing
// the whole cache now and then is cheaper than tracking them.
const maxCachedPolicies = 4096

// policyCache maps store keys (by pointer: a changed key is a new pointer)
// to their compiled policy.
type policyCache struct {
	mu sync.RWMutex
	m  map[*signet.Key]*keyPolicy
}

// policyFor returns k's policy: precompiled for config keys, cached per
// *Key for keys from Gateway.Keys.
func (g *Gateway) policyFor(st *state, k *signet.Key) *keyPolicy {
	if k == nil {
		return nil
	}
	if st.cfgKeys != nil {
		if p, ok := st.cfgKeys.policy(k); ok {
			return p
		}
	}
	c := &g.policies
	c.mu.RLock()
	p, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return p
	}
	p, err := newKeyPolicy(k)
	if err != nil {
		// Fail closed for that origin only, and say so once per key version.
		g.logger().Warn("key has an invalid upstream origin; it is ignored", "key_id", k.ID, "err", err.Error())
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedPolicies {
		c.m = make(map[*signet.Key]*keyPolicy)
	}
	c.m[k] = p
	c.mu.Unlock()
	return p
}

// explicitAddrFrom returns, from an upstream request's context, the
// "host:port" of an origin the key or route lists explicitly: the explicit
// transport may dial it even on a private address. Keys from a store are
// not known when the transport is built, hence the context.
func explicitAddrFrom(ctx context.Context) string {
	if ex := exchangeFrom(ctx); ex != nil {
		return ex.explicitAddr
	}
	return ""
}
