package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/reqsig"
	"github.com/signet-dev/signet/rfc9421"
	"github.com/signet-dev/signet/sigv4"
)

// storeInternals is what a failing key store's error says: where the
// database is and who logs in. It must reach the logs, never a client.
const storeInternals = "dial tcp 10.9.8.7:5432: connect: connection refused (user=signet_admin)"

// TestKeyStoreDown: when Gateway.Keys fails (PostgreSQL down), every
// scheme answers 503 store_unavailable, names nothing of the store to the
// client, forwards nothing, and logs the cause. FailOpen plays no part: a
// key that cannot be read cannot pass.
func TestKeyStoreDown(t *testing.T) {
	up := echoUpstream(t)
	upURL := up.URL
	cfg, err := config.Parse([]byte(`
routes:
  - path: /rs/
    upstream: "`+upURL+`/rs/"
    schemes: [reqsig]
  - path: /cav/
    upstream: "`+upURL+`/cav/"
    schemes: [cavage]
  - path: /msg/
    upstream: "`+upURL+`/msg/"
    schemes: [rfc9421]
  - path: /aws/
    upstream: "`+upURL+`/aws/"
    schemes: [sigv4]
    region: eu-west-1
    service: execute-api
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.KeysExternal = true
	down := signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) {
		return nil, errors.New(storeInternals)
	})
	gw := startWith(t, cfg, func(g *Gateway) { g.Keys = down })
	now := func() time.Time { return t0 }
	sign := func(s interface{ SignRequest(*http.Request) error }) func(*http.Request) error {
		return s.SignRequest
	}
	tests := []struct {
		name string
		url  func() string
		sign func(*http.Request) error
	}{
		{"sw1", func() string { return presign(t, gw.URL, upURL+"/x", "GET", nil, nil) }, nil},
		{"reqsig", func() string { return gw.URL + "/rs/x" }, sign(&reqsig.Signer{KeyID: testKey, Secret: testSecret, Now: now})},
		{"cavage", func() string { return gw.URL + "/cav/x" }, sign(&cavage.Signer{KeyID: testKey, Secret: testSecret, Now: now})},
		{"rfc9421", func() string { return gw.URL + "/msg/x" }, sign(&rfc9421.Signer{KeyID: testKey, Secret: testSecret, Now: now})},
		{"sigv4", func() string { return gw.URL + "/aws/x" }, sign(&sigv4.Signer{KeyID: testKey, Secret: testSecret, Region: "eu-west-1", Service: "execute-api", Now: now})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, "GET", tt.url(), nil)
			req.Header.Set("X-Request-Id", "keystore-down-"+tt.name)
			if tt.sign != nil {
				if err := tt.sign(req); err != nil {
					t.Fatal(err)
				}
			}
			res, b := do(t, req)
			wantError(t, res, b, http.StatusServiceUnavailable, "store_unavailable")
			for _, s := range []string{"10.9.8.7", "5432", "signet_admin", "connection refused"} {
				if strings.Contains(string(b), s) {
					t.Errorf("the answer names the store's internals (%q): %s", s, b)
				}
			}
			logs := gw.waitLog(t, `"request_id":"keystore-down-`+tt.name+`"`)
			if !strings.Contains(logs, "connection refused (user=signet_admin)") {
				t.Errorf("the store's error is not logged:\n%s", logs)
			}
		})
	}
	if d := gw.dials.list(); len(d) > 0 {
		t.Errorf("dialed %q with the key store down", d)
	}
	if m, want := scrape(t, gw.URL), `signet_store_errors_total{action="refused",store="keys"} 5`; !strings.Contains(m, want) {
		t.Errorf("metrics lack %s", want)
	}
}

// TestKeyStoreDownForVerifierWithoutKey: a verifier that leaves
// Verified.Key nil makes the gateway look the key up itself; a store
// failure there is 503 too, not 500 and not a pass.
func TestKeyStoreDownForVerifierWithoutKey(t *testing.T) {
	up := echoUpstream(t)
	cfg := config.Default()
	cfg.KeysExternal = true
	cfg.Routes = []config.Route{{Path: "/internal/", Upstream: up.URL + "/base/"}}
	g := &Gateway{
		Now: func() time.Time { return t0 },
		Keys: signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) {
			return nil, errors.New(storeInternals)
		}),
		NewVerifier: func(string, *config.Config, *config.Route) (signet.Verifier, error) {
			return nonceVerifier{key: &signet.Key{ID: testKey, FailOpen: true}, signedAt: t0, scheme: "fake", withoutKey: true}, nil
		},
	}
	if err := g.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	rec := newRecorderRequest(g, "/internal/x", map[string]string{"X-Fake": "sig"})
	wantError(t, rec.res, rec.body, http.StatusServiceUnavailable, "store_unavailable")
	if strings.Contains(string(rec.body), "10.9.8.7") {
		t.Errorf("the answer names the store: %s", rec.body)
	}
}
