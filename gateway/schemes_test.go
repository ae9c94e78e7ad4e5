package gateway

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/rfc9421"
	"github.com/signet-dev/signet/sigv4"
)

// newSchemesConfig has an HMAC key, a public key given as PEM in YAML and
// routes for rfc9421 and sigv4, parsed from YAML as users write them.
func newSchemesConfig(t *testing.T, upstream string, pub ed25519.PublicKey) *config.Config {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	doc := `
keys:
  - id: app
    secrets: ["app-secret"]
    single_use: true
  - id: edkey
    schemes: [rfc9421, cavage]
    public_key: |
` + indent(pemText, "      ") + `
routes:
  - path: /msg/
    upstream: "` + upstream + `/m/"
    schemes: [rfc9421]
    require_components: ["@method", "@authority", "@path"]
  - path: /cav/
    upstream: "` + upstream + `/c/"
    schemes: [cavage]
  - path: /aws/
    upstream: "` + upstream + `/a/"
    schemes: [sigv4]
    region: eu-west-1
    service: execute-api
`
	cfg, err := config.Parse([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

func TestNewSchemesEndToEnd(t *testing.T) {
	up := echoUpstream(t)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, newSchemesConfig(t, up.URL, pub))
	now := func() time.Time { return t0 }

	rfcHMAC := func(r *http.Request) error {
		return (&rfc9421.Signer{KeyID: testKey, Secret: testSecret, Now: now}).SignRequest(r)
	}
	rfcEd := func(r *http.Request) error {
		return (&rfc9421.Signer{KeyID: "edkey", PrivateKey: priv, Now: now}).SignRequest(r)
	}
	cavEd := func(r *http.Request) error {
		return (&cavage.Signer{KeyID: "edkey", PrivateKey: priv, Now: now}).SignRequest(r)
	}
	aws := func(region string) func(r *http.Request) error {
		return func(r *http.Request) error {
			return (&sigv4.Signer{KeyID: testKey, Secret: testSecret, Region: region, Service: "execute-api", Now: now}).SignRequest(r)
		}
	}
	tests := []struct {
		name     string
		path     string
		sign     func(*http.Request) error
		tamper   func(*http.Request)
		status   int
		code     string
		wantPath string
	}{
		{"rfc9421 hmac", "/msg/x?q=1", rfcHMAC, nil, 200, "", "/m/x"},
		{"rfc9421 ed25519 public key", "/msg/y", rfcEd, nil, 200, "", "/m/y"},
		{"rfc9421 tampered path", "/msg/x", rfcHMAC, func(r *http.Request) { r.URL.Path = "/msg/z" }, 401, "signature_mismatch", ""},
		{"cavage ed25519 public key", "/cav/k", cavEd, nil, 200, "", "/c/k"},
		{"sigv4 header", "/aws/r?b=2&a=1", aws("eu-west-1"), nil, 200, "", "/a/r"},
		{"sigv4 wrong region", "/aws/r", aws("us-east-1"), nil, 0, "", ""},
		{"sigv4 tampered query", "/aws/r?a=1", aws("eu-west-1"), func(r *http.Request) { r.URL.RawQuery = "a=2" }, 401, "signature_mismatch", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, "GET", gw.URL+tt.path, nil)
			if err := tt.sign(req); err != nil {
				t.Fatal(err)
			}
			if tt.tamper != nil {
				tt.tamper(req)
			}
			res, b := do(t, req)
			switch {
			case tt.status == 0:
				if res.StatusCode < 400 || res.StatusCode >= 500 {
					t.Errorf("status %d, want a 4xx: %s", res.StatusCode, b)
				}
			case tt.status != 200:
				wantError(t, res, b, tt.status, tt.code)
			case res.StatusCode != 200:
				t.Fatalf("status %d: %s", res.StatusCode, b)
			default:
				e := decodeEcho(t, b)
				if e.Path != tt.wantPath {
					t.Errorf("upstream path %q, want %q", e.Path, tt.wantPath)
				}
				for _, h := range []string{"Signature", "Signature-Input", "Authorization"} {
					if v := e.Header.Get(h); v != "" {
						t.Errorf("%s forwarded upstream: %q", h, v)
					}
				}
			}
		})
	}

	// The single-use key is single-use in every scheme.
	req := newRequest(t, "GET", gw.URL+"/msg/once", nil)
	if err := rfcHMAC(req); err != nil {
		t.Fatal(err)
	}
	replayReq := req.Clone(req.Context())
	if res, b := do(t, req); res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	res, b := do(t, replayReq)
	wantError(t, res, b, http.StatusConflict, "replayed")
}

func TestSigV4PresignedEndToEnd(t *testing.T) {
	up := echoUpstream(t)
	pub, _, _ := ed25519.GenerateKey(nil)
	cfg := newSchemesConfig(t, up.URL, pub)
	cfg.Keys[0].SingleUse = false
	gw := startGateway(t, cfg)
	s := &sigv4.Signer{KeyID: testKey, Secret: testSecret, Region: "eu-west-1", Service: "execute-api", Now: func() time.Time { return t0 }}
	req := newRequest(t, "GET", gw.URL+"/aws/p?keep=1", nil)
	u, err := s.Presign(req, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res, b := do(t, newRequest(t, "GET", u, nil))
	if res.StatusCode != 200 {
		t.Fatalf("%d %s\n%s", res.StatusCode, b, gw.waitLog(t, "detail"))
	}
	if e := decodeEcho(t, b); e.Query != "keep=1" {
		t.Errorf("upstream query %q, want the signing parameters stripped", e.Query)
	}
	res, b = do(t, newRequest(t, "GET", strings.Replace(u, "keep=1", "keep=2", 1), nil))
	wantError(t, res, b, 401, "signature_mismatch")
}
