package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/ratelimit"
	"github.com/signet-dev/signet/replay"
	"github.com/signet-dev/signet/reqsig"
)

// Default windows (how long a signature stays valid after SignedAt) of
// schemes whose Verified carries no ExpiresAt, when the config leaves them
// zero. They match the scheme packages' defaults.
const (
	defaultRFC9421MaxAge = 5 * time.Minute
	defaultSigV4MaxSkew  = 5 * time.Minute
)

func (g *Gateway) initDefaults() {
	g.defaultsOnce.Do(func() {
		// The in-memory stores share the verifiers' clock, so that what
		// a signature's time says and what the stores keep agree.
		g.memReplay = &replay.Memory{Now: g.now}
		g.memLimiter = &ratelimit.Memory{Now: g.now}
		g.memUsage = newDefaultUsage()
	})
}

func (g *Gateway) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Gateway) replayStore() signet.ReplayStore {
	if g.Replay != nil {
		return g.Replay
	}
	g.initDefaults()
	return g.memReplay
}

func (g *Gateway) limiter() signet.RateLimiter {
	if g.Limiter != nil {
		return g.Limiter
	}
	g.initDefaults()
	return g.memLimiter
}

// UsageRecorder returns the recorder proxied requests are metered with:
// Usage, or the in-memory default.
func (g *Gateway) UsageRecorder() signet.UsageRecorder {
	if g.Usage != nil {
		return g.Usage
	}
	g.initDefaults()
	return g.memUsage
}

func (g *Gateway) storeTimeout() time.Duration {
	if g.StoreTimeout > 0 {
		return g.StoreTimeout
	}
	return 2 * time.Second
}

// admit runs the checks that follow a good signature, in DESIGN order:
// replay, then rate limit. ver.Key is set (ensureKey). Store failures refuse the request (503
// store_unavailable) unless the key fails open.
func (ex *exchange) admit(ver *signet.Verified) error {
	g, key := ex.g, ver.Key
	m := g.getMetrics()
	if ver.SecretIndex >= 0 && key != nil && len(key.Secrets) > 0 {
		m.secretUsed.WithLabelValues(ver.KeyID, strconv.Itoa(ver.SecretIndex)).Inc()
	}
	if key.SingleUse || ver.Nonce != "" {
		if err := ex.checkReplay(ver); err != nil {
			return err
		}
	}
	if !key.RateLimit.IsZero() {
		ctx, cancel := context.WithTimeout(ex.r.Context(), g.storeTimeout())
		err := g.limiter().Allow(ctx, ver.KeyID, key.RateLimit)
		cancel()
		var rl *signet.RateLimitError
		switch {
		case err == nil:
		case errors.As(err, &rl):
			return rl
		case errors.Is(err, signet.ErrRateLimited):
			return err
		default:
			if err := ex.storeFailed("ratelimit", ver, err); err != nil {
				return err
			}
		}
	}
	ex.admitted = ver
	return nil
}

// ensureKey fills ver.Key when a (custom) verifier left it nil, so that the
// key's policies apply whatever verified the request.
func (ex *exchange) ensureKey(ver *signet.Verified) error {
	if ver.Key != nil {
		return nil
	}
	k, err := signet.LookupKey(ex.r.Context(), ex.st.keys, ver.Scheme, ver.KeyID)
	switch {
	case err == nil:
		ver.Key = k
	case errors.Is(err, signet.ErrUnknownKey):
		ver.Key = &signet.Key{ID: ver.KeyID}
	default:
		return err
	}
	return nil
}

func (ex *exchange) checkReplay(ver *signet.Verified) error {
	expires := ex.st.replayExpiry(ver)
	if expires.IsZero() {
		// Remembering it forever is not possible; accepting it twice is
		// what single use forbids.
		return signet.NewError(ver.Scheme, ver.KeyID, signet.ErrRequiredHeader,
			"a single-use or nonce signature must cover its time (a date, created or expires)")
	}
	id := ver.ReplayID
	if id == "" {
		id = signet.ReplayID(ver.Scheme, ver.KeyID, []byte(ver.Signature))
	}
	ctx, cancel := context.WithTimeout(ex.r.Context(), ex.g.storeTimeout())
	err := ex.g.replayStore().Use(ctx, id, expires)
	cancel()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, signet.ErrReplay):
		return signet.NewError(ver.Scheme, ver.KeyID, signet.ErrReplay, "this signature was already used")
	}
	return ex.storeFailed("replay", ver, err)
}

// storeFailed handles a shared store's failure: logged and counted; nil
// (go on without the check) when the key fails open, else a 503.
func (ex *exchange) storeFailed(store string, ver *signet.Verified, err error) error {
	action := "refused"
	if ver.Key.FailOpen {
		action = "fail_open"
	}
	ex.g.getMetrics().storeErrors.WithLabelValues(store, action).Inc()
	ex.g.logger().Warn("shared store failed", "request_id", ex.reqID, "store", store, "key_id", ver.KeyID,
		"action", action, "err", sanitize(err.Error()))
	if ver.Key.FailOpen {
		return nil
	}
	return signet.NewError(ver.Scheme, ver.KeyID, signet.ErrStoreUnavailable, "the "+store+" store is unavailable; retry later")
}

// replayExpiry is how long a signature must be remembered: until it
// expires, or until its scheme's window after SignedAt closes. Zero when
// the signature carries no time at all.
func (st *state) replayExpiry(ver *signet.Verified) time.Time {
	if !ver.ExpiresAt.IsZero() {
		return ver.ExpiresAt
	}
	if ver.SignedAt.IsZero() {
		return time.Time{}
	}
	s := st.cfg.Schemes
	var w time.Duration
	switch ver.Scheme {
	case signet.SchemeReqSig:
		w = or(s.ReqSig.MaxSkew.D(), reqsig.DefaultMaxSkew)
	case signet.SchemeCavage:
		w = or(s.Cavage.MaxSkew.D(), cavage.DefaultMaxSkew)
	case signet.SchemeRFC9421:
		w = or(s.RFC9421.MaxAge.D(), defaultRFC9421MaxAge)
	case signet.SchemeSigV4:
		w = or(s.SigV4.MaxSkew.D(), defaultSigV4MaxSkew)
	default:
		// SW1 and unknown schemes: the longest window of the built-ins.
		w = max(or(s.SW1.MaxSkew.D(), time.Minute), 5*time.Minute)
	}
	// A signature dated in the future stays valid for the window after
	// its date: keep it that long.
	return ver.SignedAt.Add(w)
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// account charges a finished exchange's bytes to the key's byte budget and
// records its usage. Failures are logged: the response has been sent.
func (ex *exchange) account(in, out int64) {
	g, ver := ex.g, ex.admitted
	ctx := context.Background()
	if g.Usage != nil || g.Limiter != nil && ver.Key.RateLimit.BytesPerMinute > 0 {
		// Only shared stores can hang; the in-memory defaults ignore
		// the context, and a deadline costs a timer per request.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.storeTimeout())
		defer cancel()
	}
	if ver.Key.RateLimit.BytesPerMinute > 0 && in+out > 0 {
		if err := g.limiter().AddBytes(ctx, ver.KeyID, ver.Key.RateLimit, in+out); err != nil {
			g.getMetrics().storeErrors.WithLabelValues("ratelimit", "logged").Inc()
			g.logger().Warn("could not charge bytes to the rate limit", "request_id", ex.reqID, "key_id", ver.KeyID, "err", sanitize(err.Error()))
		}
	}
	u := signet.Usage{KeyID: ver.KeyID, At: g.now().UTC(), Requests: 1, BytesIn: in, BytesOut: out}
	if rec := g.UsageRecorder(); rec != nil {
		if err := rec.Record(ctx, u); err != nil {
			g.getMetrics().storeErrors.WithLabelValues("usage", "logged").Inc()
			g.logger().Warn("could not record usage", "request_id", ex.reqID, "key_id", ver.KeyID, "err", sanitize(err.Error()))
		}
	}
}

// readyBody is /readyz's answer.
type readyBody struct {
	Status string            `json:"status"`           // "ready" or "unavailable"
	Stores map[string]string `json:"stores,omitempty"` // name -> "ok" or "unavailable"
	Failed []string          `json:"failed,omitempty"` // names of failing checks, in Checks order
}

// serveReady answers /readyz: 503 until configured, and while a Check
// fails (naming it). Check errors are logged, not shown: they may hold
// addresses.
func (g *Gateway) serveReady(w http.ResponseWriter, r *http.Request, st *state) {
	if st == nil {
		writeStatus(w, http.StatusServiceUnavailable, "not configured")
		return
	}
	body := readyBody{Status: "ready"}
	if len(g.Checks) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), g.storeTimeout())
		defer cancel()
		errs := make([]error, len(g.Checks))
		var wg sync.WaitGroup
		for i, c := range g.Checks {
			wg.Go(func() { errs[i] = c.Check(ctx) })
		}
		wg.Wait()
		body.Stores = make(map[string]string, len(g.Checks))
		for i, c := range g.Checks {
			body.Stores[c.Name] = "ok"
			if errs[i] != nil {
				body.Stores[c.Name] = "unavailable"
				body.Failed = append(body.Failed, c.Name)
				g.logger().Warn("readiness check failed", "store", c.Name, "err", sanitize(errs[i].Error()))
			}
		}
	}
	status := http.StatusOK
	if len(body.Failed) > 0 {
		body.Status = "unavailable"
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
