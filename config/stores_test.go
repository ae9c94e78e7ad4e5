package config

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
)

func TestPublicKeyForms(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	x := base64.RawURLEncoding.EncodeToString(pub)
	tests := []struct {
		name, value, wantErr string
	}{
		{"PEM block", "|\n      " + strings.ReplaceAll(strings.TrimSpace(pemText), "\n", "\n      "), ""},
		{"JWK JSON", `'{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}'`, ""},
		{"JWK mapping", `{kty: OKP, crv: Ed25519, x: "` + x + `"}`, ""},
		{"private JWK", `{kty: OKP, crv: Ed25519, x: "` + x + `", d: "` + x + `"}`, "private key"},
		{"private PEM", "|\n      -----BEGIN PRIVATE KEY-----\n      AAAA\n      -----END PRIVATE KEY-----", "private key"},
		{"garbage", `"hello"`, "no PEM block or JWK"},
		{"symmetric JWK", `{kty: oct, k: abc}`, "secrets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "keys:\n  - id: k\n    schemes: [rfc9421]\n    public_key: " + tt.value + "\n"
			c, err := Parse([]byte(doc), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			k := c.SignetKeys()[0]
			got, ok := k.PublicKey.(ed25519.PublicKey)
			if !ok || !got.Equal(pub) || k.Secrets != nil {
				t.Errorf("key = %#v", k)
			}
		})
	}
}

func TestStoreAndKeyPolicyValidation(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"store without keys", "store: postgres://db/x\nroutes: [{path: /a, upstream: 'http://127.0.0.1:1', keys: [from-db]}]\n", ""},
		{"store and keys", "store: postgres://db/x\nkeys: [{id: k, secrets: [s]}]\n", "keys come from the store"},
		{"store not postgres", "store: mysql://x\n", "postgres:// URL"},
		{"redis URL", "redis: http://x\nkeys: [{id: k, secrets: [s]}]\n", "must be a redis://"},
		{"negative rate", "keys: [{id: k, secrets: [s], rate_limit: {requests_per_second: -1}}]\n", "must not be negative"},
		{"public key with sw1", "keys: [{id: k, schemes: [sw1], public_key: {kty: OKP, crv: Ed25519, x: 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo}}]\n", "needs secrets"},
		{"no secret no key", "keys: [{id: k}]\n", "no secrets and no public_key"},
		{"max_age on cavage", "keys: [{id: k, secrets: [s]}]\nschemes: {cavage: {max_age: 1m}}\n", "only rfc9421"},
		{"region without sigv4", "keys: [{id: k, secrets: [s]}]\nroutes: [{path: /a, upstream: 'http://x', schemes: [cavage], region: eu-west-1}]\n", "sigv4"},
		{"new route schemes", "keys: [{id: k, secrets: [s]}]\nroutes: [{path: /a, upstream: 'http://x', schemes: [rfc9421, sigv4], require_components: ['@method'], region: eu-west-1}]\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), nil)
			if err == nil {
				err = c.Validate()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSignetKeysCarryPolicy(t *testing.T) {
	c, err := Parse([]byte(`keys:
  - id: k
    secrets: [s]
    single_use: true
    fail_open: true
    tenant: acme
    rate_limit: {requests_per_second: 2.5, burst: 5, bytes_per_minute: 1MiB}
    upstreams: [{origin: "HTTPS://API.Example.com:443/", headers: {Authorization: x}}, {origin: "*"}]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	k := c.SignetKeys()[0]
	if !k.SingleUse || !k.FailOpen || k.Tenant != "acme" || k.RateLimit.RequestsPerSecond != 2.5 || k.RateLimit.Burst != 5 || k.RateLimit.BytesPerMinute != 1<<20 {
		t.Errorf("key = %+v", k)
	}
	if len(k.Upstreams) != 2 || k.Upstreams[0].Origin != "https://api.example.com" || k.Upstreams[0].Headers["Authorization"] != "x" || k.Upstreams[1].Origin != "*" {
		t.Errorf("upstreams = %+v", k.Upstreams)
	}
}
