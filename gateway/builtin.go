package gateway

import (
	"fmt"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/reqsig"
	"github.com/signet-dev/signet/rfc9421"
	"github.com/signet-dev/signet/sigv4"
	"github.com/signet-dev/signet/sw1"
)

// builtinVerifier builds the verifier of one of the built-in schemes with the
// config's limits. New schemes plug in here (or through Gateway.NewVerifier).
func builtinVerifier(scheme string, cfg *config.Config, rc *config.Route, now func() time.Time) (signet.Verifier, error) {
	maxBody := int64(cfg.Limits.MaxSignedBody)
	switch scheme {
	case signet.SchemeSW1:
		return &sw1.Verifier{Now: now, MaxSkew: cfg.Schemes.SW1.MaxSkew.D(), MaxBody: maxBody}, nil
	case signet.SchemeReqSig:
		return &reqsig.Verifier{Now: now, MaxSkew: cfg.Schemes.ReqSig.MaxSkew.D()}, nil
	case signet.SchemeCavage:
		v := &cavage.Verifier{Now: now, MaxSkew: cfg.Schemes.Cavage.MaxSkew.D(), MaxBody: maxBody}
		if rc != nil {
			v.RequiredHeaders = rc.RequireHeaders
		}
		return v, nil
	case signet.SchemeRFC9421:
		o := cfg.Schemes.RFC9421
		v := &rfc9421.Verifier{Now: now, MaxAge: o.MaxAge.D(), MaxSkew: o.MaxSkew.D(), MaxBody: maxBody}
		if rc != nil && len(rc.RequireComponents) > 0 {
			v.RequiredComponents = rc.RequireComponents
		}
		return v, nil
	case signet.SchemeSigV4:
		v := &sigv4.Verifier{Now: now, MaxSkew: cfg.Schemes.SigV4.MaxSkew.D(), MaxBody: maxBody}
		if rc != nil {
			v.Region, v.Service = rc.Region, rc.Service
		}
		return v, nil
	}
	return nil, fmt.Errorf("unknown scheme %q", scheme)
}
