package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/postgres"
)

// testDatabase returns the URL of a fresh schema dropped at cleanup; it
// skips without SIGNET_DATABASE_URL.
func testDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SIGNET_DATABASE_URL")
	if base == "" {
		t.Skip("set SIGNET_DATABASE_URL to run the PostgreSQL tests")
	}
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "signet_test_" + hex.EncodeToString(b)
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("SIGNET_DATABASE_URL: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

const testMasterKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func TestKeysCLI(t *testing.T) {
	t.Parallel()
	dbURL := testDatabase(t)
	env := map[string]string{"SIGNET_DATABASE_URL": dbURL, "SIGNET_MASTER_KEY": testMasterKeyHex}

	if code, _, errOut := runCLI(t, env, "", "keys", "list"); code == 0 || !strings.Contains(errOut, "signet migrate") {
		t.Errorf("before migrate: exit %d, %q; want a hint to run signet migrate", code, errOut)
	}
	for i := range 2 {
		code, out, errOut := runCLI(t, map[string]string{}, "", "migrate", "--database", dbURL)
		if code != 0 || !strings.HasPrefix(out, "schema at version ") {
			t.Fatalf("migrate #%d: exit %d %q %q", i+1, code, out, errOut)
		}
	}

	const token = "sk-live-0123456789"
	code, out, errOut := runCLI(t, env, "", "keys", "create", "--id", "app", "--tenant", "acme",
		"--scheme", "reqsig", "--scheme", "sw1", "--max-expires", "10m", "--single-use", "--rate", "5", "--burst", "10",
		"--bytes-per-minute", "1000000", "--upstream", "https://api.openai.com", "--header", "Authorization: Bearer "+token,
		"--upstream", "https://b.example", "--header", "X-A: 1", "--header", "X-B: 2")
	if code != 0 {
		t.Fatalf("create: exit %d %q", code, errOut)
	}
	m := regexp.MustCompile(`^SIGNET_ID=app\nSIGNET_SECRET=([A-Za-z0-9_-]{43})\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed %q", out)
	}
	secret := m[1]

	// The gateway's view: a cached Store.
	mk, _ := postgres.ParseMasterKey(testMasterKeyHex)
	s, err := postgres.Open(context.Background(), dbURL, mk, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k, err := s.Key(context.Background(), "app")
	if err != nil || k.Secrets[0] != secret || !k.SingleUse || k.MaxExpires != 10*time.Minute ||
		k.RateLimit != (signet.RateLimit{RequestsPerSecond: 5, Burst: 10, BytesPerMinute: 1000000}) ||
		len(k.Upstreams) != 2 || k.Upstreams[0].Headers["Authorization"] != "Bearer "+token || len(k.Upstreams[1].Headers) != 2 {
		t.Fatalf("created key: %+v %v", k, err)
	}

	code, out, _ = runCLI(t, env, "", "keys", "create", "--tenant", "other")
	if code != 0 || !regexp.MustCompile(`^SIGNET_ID=key_[0-9a-f]{16}\n`).MatchString(out) {
		t.Errorf("create with a random id: %d %q", code, out)
	}

	code, out, errOut = runCLI(t, env, "", "keys", "list", "--tenant", "acme")
	if code != 0 || !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "app") || strings.Contains(out, "key_") {
		t.Errorf("list: %d %q %q", code, out, errOut)
	}
	// Flags after the id; show needs no master key.
	code, out, errOut = runCLI(t, map[string]string{}, "", "keys", "show", "app", "--database", dbURL)
	if code != 0 || !strings.Contains(out, "upstream:    https://api.openai.com (headers: Authorization)") ||
		!strings.Contains(out, "(headers: X-A, X-B)") || !strings.Contains(out, "secret:      version 1") {
		t.Errorf("show: %d %q %q", code, out, errOut)
	}
	for _, args := range [][]string{{"list"}, {"show", "app"}} {
		_, out, errOut := runCLI(t, env, "", append([]string{"keys"}, args...)...)
		if strings.Contains(out+errOut, secret) || strings.Contains(out+errOut, token) {
			t.Errorf("%v reveals a secret: %q", args, out)
		}
	}

	code, out, errOut = runCLI(t, env, "", "keys", "rotate", "app")
	m = regexp.MustCompile(`^SIGNET_ID=app\nSIGNET_SECRET=([A-Za-z0-9_-]{43})\n$`).FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] == secret {
		t.Fatalf("rotate: %d %q %q", code, out, errOut)
	}
	rotated := m[1]
	waitKey(t, s, "app", func(k *signet.Key, err error) bool {
		return err == nil && len(k.Secrets) == 2 && k.Secrets[0] == rotated && k.Secrets[1] == secret
	})
	code, out, _ = runCLI(t, env, "", "keys", "rotate", "--drop-old", "app")
	if code != 0 || out != "removed 1 old secret(s) of app\n" {
		t.Errorf("rotate --drop-old: %d %q", code, out)
	}
	waitKey(t, s, "app", func(k *signet.Key, err error) bool { return err == nil && len(k.Secrets) == 1 })

	start := time.Now()
	code, out, _ = runCLI(t, map[string]string{"SIGNET_DATABASE_URL": dbURL}, "", "keys", "revoke", "app")
	if code != 0 || out != "revoked app\n" {
		t.Errorf("revoke: %d %q", code, out)
	}
	waitKey(t, s, "app", func(k *signet.Key, err error) bool { return errors.Is(err, signet.ErrUnknownKey) })
	t.Logf("revocation through the CLI reached the gateway's cache in %v", time.Since(start))
	if _, out, _ := runCLI(t, env, "", "keys", "show", "app"); !strings.Contains(out, "status:      revoked") {
		t.Errorf("show revoked: %q", out)
	}

	if code, out, _ := runCLI(t, env, "", "keys", "delete", "app"); code != 0 || out != "deleted app\n" {
		t.Errorf("delete: %d %q", code, out)
	}
	if code, _, errOut := runCLI(t, env, "", "keys", "show", "app"); code != 1 || !strings.Contains(errOut, "no such key") {
		t.Errorf("show deleted: %d %q", code, errOut)
	}
}

func waitKey(t *testing.T, s *postgres.Store, id string, ok func(*signet.Key, error) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !ok(s.Key(context.Background(), id)) {
		if time.Now().After(deadline) {
			t.Fatalf("key %s: change not seen within 1s", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKeysCLIErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no subcommand", nil, []string{"keys"}, 2, "Usage: signet keys"},
		{"unknown subcommand", nil, []string{"keys", "frob"}, 2, "unknown command"},
		{"no database", nil, []string{"keys", "list"}, 1, "SIGNET_DATABASE_URL"},
		{"no master key", map[string]string{"SIGNET_DATABASE_URL": "postgres://x"}, []string{"keys", "create"}, 1, "SIGNET_MASTER_KEY"},
		{"bad master key", map[string]string{"SIGNET_DATABASE_URL": "postgres://x", "SIGNET_MASTER_KEY": "hunter2"}, []string{"keys", "create"}, 1, "master key"},
		{"header before upstream", nil, []string{"keys", "create", "--header", "A: b"}, 2, "must follow the --upstream"},
		{"show without id", map[string]string{"SIGNET_DATABASE_URL": "postgres://127.0.0.1:1/x"}, []string{"keys", "show"}, 1, ""},
		{"migrate without database", nil, []string{"migrate"}, 1, "SIGNET_DATABASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.env, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d %q, want %d with %q", code, errOut, tt.code, tt.want)
			}
			if strings.Contains(errOut, "hunter2") {
				t.Errorf("error repeats the master key: %q", errOut)
			}
		})
	}
}

func TestKeysImportCLI(t *testing.T) {
	t.Parallel()
	dbURL := testDatabase(t)
	env := map[string]string{"SIGNET_DATABASE_URL": dbURL, "SIGNET_MASTER_KEY": testMasterKeyHex, "OPENAI_TOKEN": "sk-from-env"}
	if code, out, errOut := runCLI(t, env, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(priv.Public())
	pemKey := strings.ReplaceAll(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "\n", "\n      ")
	dir := t.TempDir()
	file := filepath.Join(dir, "keys.yaml")
	doc := `keys:
  - id: app
    tenant: acme
    secrets: ["new-secret-0123", "old-secret-4567"]
    schemes: [sw1, reqsig]
    algorithms: [hmac-sha256]
    max_expires: 10m
    single_use: true
    fail_open: true
    rate_limit: { requests_per_second: 2.5, burst: 5, bytes_per_minute: 1MiB }
    upstreams:
      - origin: "HTTPS://API.OpenAI.com:443"
        headers: { authorization: "Bearer ${OPENAI_TOKEN}", X-Org: org-9 }
      - origin: "https://b.example"
        headers: { X-Token: tok-b }
  - id: signer
    schemes: [cavage]
    public_key: |
      ` + pemKey + `
  - id: plain
    secrets: [plain-secret]
`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, env, "", "keys", "import", file)
	if code != 0 || !regexp.MustCompile(`^imported 3 keys in \S+ \(reading .*keys\.yaml: \S+\)\n$`).MatchString(out) {
		t.Fatalf("import: exit %d, %q %q", code, out, errOut)
	}
	if strings.Contains(out+errOut, "secret-0123") || strings.Contains(out+errOut, "sk-from") {
		t.Errorf("output shows a secret: %q %q", out, errOut)
	}

	// Each key reads back as the file store would build it from the same file.
	cfg, err := config.Load(file, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	master, _ := hex.DecodeString(testMasterKeyHex)
	s, err := postgres.Open(context.Background(), dbURL, master, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range cfg.Keys {
		want := cfg.Keys[i].SignetKey()
		got, err := s.Key(context.Background(), want.ID)
		if err != nil {
			t.Fatalf("%s: %v", want.ID, err)
		}
		g := *got
		if want.PublicKey != nil {
			if pk, ok := g.PublicKey.(*ecdsa.PublicKey); !ok || !pk.Equal(want.PublicKey) {
				t.Errorf("%s: public key %v, want %v", want.ID, g.PublicKey, want.PublicKey)
			}
			g.PublicKey, want.PublicKey = nil, nil
		}
		// The store sorts upstreams by origin, canonicalizes header names
		// (as the gateway does when it sets them) and returns an empty,
		// not nil, list of secrets for a public key.
		slices.SortFunc(want.Upstreams, func(a, b signet.Upstream) int { return strings.Compare(a.Origin, b.Origin) })
		for _, u := range want.Upstreams {
			for k, v := range u.Headers {
				delete(u.Headers, k)
				u.Headers[http.CanonicalHeaderKey(k)] = v
			}
		}
		if len(g.Secrets) == 0 && want.Secrets == nil {
			g.Secrets = nil
		}
		if !reflect.DeepEqual(&g, want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", want.ID, &g, want)
		}
	}

	// Again: every id exists. Nothing changes, unless --replace.
	code, _, errOut = runCLI(t, env, "", "keys", "import", file)
	if code != 1 || !strings.Contains(errOut, `already exists: "app", "plain", "signer"`) || !strings.Contains(errOut, "--replace") {
		t.Errorf("import again: exit %d %q; want 1 and already exists", code, errOut)
	}
	if code, out, errOut := runCLI(t, env, "", "keys", "import", "--replace", file); code != 0 || !strings.HasPrefix(out, "imported 3 keys") {
		t.Errorf("import --replace: exit %d %q %q", code, out, errOut)
	}
}

func TestKeysImportCLIErrors(t *testing.T) {
	t.Parallel()
	dbURL := testDatabase(t)
	env := map[string]string{"SIGNET_DATABASE_URL": dbURL, "SIGNET_MASTER_KEY": testMasterKeyHex}
	if code, out, errOut := runCLI(t, env, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	dir := t.TempDir()
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"no file", []string{}, env, 2, "want exactly one FILE"},
		{"two files", []string{"a", "b"}, env, 2, "want exactly one FILE"},
		{"missing file", []string{filepath.Join(dir, "nope.yaml")}, env, 1, "no such file"},
		{"no keys", []string{write("empty.yaml", "keys: []\n")}, env, 1, "no keys"},
		{"unknown field", []string{write("field.yaml", "keys:\n  - id: a\n    secrets: [s]\n    secret: t\n")}, env, 1, "field secret not found"},
		{"invalid key", []string{write("bad.yaml", "keys:\n  - id: a\n    secrets: [s]\n  - id: b\n    secrets: [s]\n    schemes: [jwt]\n")}, env, 1, `keys[1] (b): unknown scheme "jwt"`},
		{"duplicate id", []string{write("dup.yaml", "keys:\n  - id: a\n    secrets: [s]\n  - id: a\n    secrets: [t]\n")}, env, 1, "duplicate id"},
		{"unset variable", []string{write("env.yaml", "keys:\n  - id: a\n    secrets: [\"${NOT_SET}\"]\n")}, env, 1, "NOT_SET is not set"},
		{"no master key", []string{write("ok.yaml", "keys:\n  - id: a\n    secrets: [s]\n")}, map[string]string{"SIGNET_DATABASE_URL": dbURL}, 1, "SIGNET_MASTER_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.env, "", append([]string{"keys", "import"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d %q, want %d with %q", code, errOut, tt.code, tt.want)
			}
		})
	}
	if code, out, _ := runCLI(t, env, "", "keys", "list"); code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("after failed imports: exit %d, %q; want no keys", code, out)
	}
}
