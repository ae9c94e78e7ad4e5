package postgres

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/reqsig"
)

func TestMigrateTwiceIsNoOp(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, false)
	c := connect(t, dbURL)
	ctx := context.Background()
	for i := range 2 {
		if err := Migrate(ctx, c); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	var n, max int
	if err := c.QueryRow(ctx, `SELECT count(*), max(version) FROM signet_schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if want := len(mustMigrations(t)); n != want || max != SchemaVersion() {
		t.Errorf("got %d migrations up to %d, want %d up to %d", n, max, want, SchemaVersion())
	}
}

func mustMigrations(t *testing.T) []migration {
	m, err := migrations()
	if err != nil || len(m) == 0 {
		t.Fatalf("migrations: %v (%d)", err, len(m))
	}
	return m
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, false)
	conns := []*pgx.Conn{connect(t, dbURL), connect(t, dbURL), connect(t, dbURL)}
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	for i, c := range conns {
		wg.Go(func() { errs[i] = Migrate(context.Background(), c) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	var n int
	if err := conns[0].QueryRow(context.Background(), `SELECT count(*) FROM signet_schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(mustMigrations(t)) {
		t.Errorf("%d migration rows, want %d", n, len(mustMigrations(t)))
	}
}

func TestOpenNeedsMigration(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, false)
	_, err := Open(context.Background(), dbURL, testMasterKey, Options{})
	if err == nil || !strings.Contains(err.Error(), "signet migrate") {
		t.Fatalf("got %v, want an error telling to run signet migrate", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	testDB(t, false) // skip without a database, like the others
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", testMasterKey, Options{}); err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
}

// reqsigVerify signs a request with secret and verifies it against keys.
func reqsigVerify(t *testing.T, keys signet.KeyStore, id, secret string) (*signet.Verified, error) {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	r := httptest.NewRequest("GET", "http://api.example/v1/items?limit=2", nil)
	if err := (&reqsig.Signer{KeyID: id, Secret: secret, Now: func() time.Time { return now }}).SignRequest(r); err != nil {
		t.Fatal(err)
	}
	return (&reqsig.Verifier{Now: func() time.Time { return now }}).Verify(context.Background(), r, keys)
}

func TestCreateThenKey(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{})
	ctx := context.Background()
	spec := KeySpec{
		ID:         "app-1",
		Tenant:     "acme",
		Schemes:    []string{"reqsig", "sw1"},
		Algorithms: []string{"hmac-sha256"},
		MaxExpires: 10 * time.Minute,
		SingleUse:  true,
		RateLimit:  signet.RateLimit{RequestsPerSecond: 2.5, Burst: 5, BytesPerMinute: 1 << 20},
		FailOpen:   true,
		Upstreams: []signet.Upstream{
			{Origin: "HTTPS://API.OpenAI.com:443/", Headers: map[string]string{"authorization": "Bearer sk-test-123"}},
			{Origin: "*"},
		},
	}
	id, secret, err := s.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if id != "app-1" {
		t.Errorf("id %q", id)
	}
	if b, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(b) != 32 {
		t.Errorf("secret %q is not 256 bits of base64url", secret)
	}
	k, err := s.Key(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := &signet.Key{
		ID: "app-1", Secrets: []string{secret}, Schemes: spec.Schemes, Algorithms: spec.Algorithms,
		MaxExpires: spec.MaxExpires, SingleUse: true, RateLimit: spec.RateLimit, FailOpen: true, Tenant: "acme",
		Upstreams: []signet.Upstream{
			{Origin: "*"},
			{Origin: "https://api.openai.com", Headers: map[string]string{"Authorization": "Bearer sk-test-123"}},
		},
	}
	if !reflect.DeepEqual(k, want) {
		t.Errorf("got  %+v\nwant %+v", k, want)
	}
	v, err := reqsigVerify(t, s, id, secret)
	if err != nil || v.SecretIndex != 0 {
		t.Fatalf("verify: %v, %+v", err, v)
	}
	if _, err := reqsigVerify(t, s, id, secret+"x"); !errors.Is(err, signet.ErrMismatch) {
		t.Errorf("wrong secret: got %v, want ErrMismatch", err)
	}
	if _, err := reqsigVerify(t, s, "nope", secret); !errors.Is(err, signet.ErrUnknownKey) {
		t.Errorf("unknown id: got %v, want ErrUnknownKey", err)
	}

	// Random ids; a public key gets no secret.
	id2, secret2, err := s.Create(ctx, KeySpec{})
	if err != nil || !strings.HasPrefix(id2, "key_") || len(id2) != 20 || secret2 == "" {
		t.Errorf("random id: %q %q %v", id2, secret2, err)
	}
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(priv.Public())
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	id3, secret3, err := s.Create(ctx, KeySpec{PublicKeyPEM: pemKey, Schemes: []string{"cavage"}})
	if err != nil || secret3 != "" {
		t.Fatalf("public key: %q %v", secret3, err)
	}
	k3, err := s.Key(ctx, id3)
	if err != nil || len(k3.Secrets) != 0 || !priv.PublicKey.Equal(k3.PublicKey) {
		t.Errorf("public key: %+v %v", k3, err)
	}
	if s.Len() != 3 {
		t.Errorf("Len %d, want 3", s.Len())
	}
	info, err := s.Get(ctx, id3)
	if err != nil || info.PublicKeyPEM != pemKey {
		t.Errorf("Get public key: %v", err)
	}
}

func TestAdminErrors(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{})
	ctx := context.Background()
	if _, _, err := s.Create(ctx, KeySpec{ID: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(ctx, KeySpec{ID: "k"}); !errors.Is(err, ErrKeyExists) {
		t.Errorf("duplicate: got %v, want ErrKeyExists", err)
	}
	for name, op := range map[string]func() error{
		"rotate":          func() error { _, err := s.Rotate(ctx, "missing"); return err },
		"remove old":      func() error { _, err := s.RemoveOldSecrets(ctx, "missing"); return err },
		"revoke":          func() error { return s.Revoke(ctx, "missing") },
		"delete":          func() error { return s.Delete(ctx, "missing") },
		"get":             func() error { _, err := s.Get(ctx, "missing"); return err },
		"set upstream":    func() error { return s.SetUpstream(ctx, "missing", "https://a.example", nil) },
		"remove upstream": func() error { return s.RemoveUpstream(ctx, "missing", "https://a.example") },
	} {
		if err := op(); !errors.Is(err, signet.ErrUnknownKey) {
			t.Errorf("%s: got %v, want ErrUnknownKey", name, err)
		}
	}
	if err := s.Revoke(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "k"); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if _, err := s.Rotate(ctx, "k"); !errors.Is(err, ErrRevoked) {
		t.Errorf("rotate revoked: got %v, want ErrRevoked", err)
	}
	invalid := []KeySpec{
		{ID: "a/b"},
		{ID: "has space"},
		{ID: strings.Repeat("x", 257)},
		{Schemes: []string{"sw2"}},
		{Algorithms: []string{"HMAC SHA"}},
		{MaxExpires: -time.Second},
		{RateLimit: signet.RateLimit{Burst: -1}},
		{PublicKeyPEM: "not pem"},
		{Upstreams: []signet.Upstream{{Origin: "ftp://x.example"}}},
		{Upstreams: []signet.Upstream{{Origin: "https://x.example/path"}}},
		{Upstreams: []signet.Upstream{{Origin: "https://x.example"}, {Origin: "https://X.example:443"}}},
		{Upstreams: []signet.Upstream{{Origin: "https://x.example", Headers: map[string]string{"X-Token": "a\r\nEvil: 1"}}}},
		{Upstreams: []signet.Upstream{{Origin: "https://x.example", Headers: map[string]string{"Host": "y"}}}},
		{Upstreams: []signet.Upstream{{Origin: "https://x.example", Headers: map[string]string{"Bad Name": "y"}}}},
	}
	for i, spec := range invalid {
		if _, _, err := s.Create(ctx, spec); err == nil {
			t.Errorf("invalid spec %d (%+v) accepted", i, spec)
		} else if strings.Contains(err.Error(), "Evil: 1") {
			t.Errorf("error repeats a header value: %v", err)
		}
	}
	// A slash is fine for a key that cannot sign SW1 URLs.
	if _, _, err := s.Create(ctx, KeySpec{ID: "team/app", Schemes: []string{"reqsig"}}); err != nil {
		t.Errorf("id with / for reqsig: %v", err)
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{})
	ctx := context.Background()
	id, oldSecret, err := s.Create(ctx, KeySpec{ID: "rot"})
	if err != nil {
		t.Fatal(err)
	}
	newSecret, err := s.Rotate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Key(ctx, id)
	if err != nil || !reflect.DeepEqual(k.Secrets, []string{newSecret, oldSecret}) {
		t.Fatalf("Secrets after rotate: %v %v, want [new old]", len(k.Secrets), err)
	}
	for _, tt := range []struct {
		name   string
		secret string
		index  int
	}{{"new", newSecret, 0}, {"old", oldSecret, 1}} {
		v, err := reqsigVerify(t, s, id, tt.secret)
		if err != nil || v.SecretIndex != tt.index {
			t.Errorf("%s secret: %v, index %v, want %d", tt.name, err, v, tt.index)
		}
	}
	info, err := s.Get(ctx, id)
	if err != nil || len(info.Secrets) != 2 || info.Secrets[0].Version != 2 || info.Secrets[1].Version != 1 {
		t.Errorf("Get: %+v %v", info, err)
	}
	n, err := s.RemoveOldSecrets(ctx, id)
	if err != nil || n != 1 {
		t.Fatalf("RemoveOldSecrets: %d %v", n, err)
	}
	if _, err := reqsigVerify(t, s, id, oldSecret); !errors.Is(err, signet.ErrMismatch) {
		t.Errorf("old secret after removal: got %v, want ErrMismatch", err)
	}
	if v, err := reqsigVerify(t, s, id, newSecret); err != nil || v.SecretIndex != 0 {
		t.Errorf("new secret after removal: %v", err)
	}
	if n, err := s.RemoveOldSecrets(ctx, id); err != nil || n != 0 {
		t.Errorf("second RemoveOldSecrets: %d %v", n, err)
	}
}

// TestStoredEncrypted reads every column of every table as text: no secret
// or header value may appear, in any usual encoding.
func TestStoredEncrypted(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{})
	ctx := context.Background()
	const token = "sk-live-abcdef0123456789"
	id, secret, err := s.Create(ctx, KeySpec{Upstreams: []signet.Upstream{{Origin: "https://api.example", Headers: map[string]string{"Authorization": "Bearer " + token}}}})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := s.Rotate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetUpstream(ctx, id, "https://other.example", map[string]string{"X-Api-Key": token + "2"}); err != nil {
		t.Fatal(err)
	}
	c := connect(t, dbURL)
	var dump strings.Builder
	for _, table := range []string{"signet_keys", "signet_secrets", "signet_upstreams"} {
		rows, err := c.Query(ctx, "SELECT t::text FROM "+table+" t")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				t.Fatal(err)
			}
			dump.WriteString(row + "\n")
		}
		rows.Close()
	}
	text := dump.String()
	if !strings.Contains(text, id) || !strings.Contains(text, "Authorization") {
		t.Fatalf("dump looks empty: %s", text)
	}
	for _, plain := range []string{secret, rotated, token} {
		for _, enc := range []string{plain, hex.EncodeToString([]byte(plain)), base64.StdEncoding.EncodeToString([]byte(plain))} {
			if strings.Contains(text, enc) {
				t.Errorf("raw tables reveal a secret value (%d chars)", len(plain))
			}
		}
	}
}

func TestWrongMasterKey(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{})
	if _, _, err := s.Create(context.Background(), KeySpec{ID: "k"}); err != nil {
		t.Fatal(err)
	}
	other := []byte("ffffffffffffffffffffffffffffffff")
	_, err := Open(context.Background(), dbURL, other, Options{})
	if !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "SIGNET_MASTER_KEY") {
		t.Fatalf("got %v, want ErrDecrypt naming SIGNET_MASTER_KEY", err)
	}
	if _, err := Open(context.Background(), dbURL, []byte("short"), Options{}); err == nil {
		t.Error("Open accepted a 5-byte master key")
	}
	if _, err := Open(context.Background(), dbURL, nil, Options{}); err == nil {
		t.Error("Open accepted no master key without DisableCache")
	}
}

// A ciphertext copied to another key does not decrypt there: that key
// leaves the cache instead of verifying with the other key's secret.
func TestCopiedCiphertextFails(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{})
	ctx := context.Background()
	_, secretA, err := s.Create(ctx, KeySpec{ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(ctx, KeySpec{ID: "b"}); err != nil {
		t.Fatal(err)
	}
	c := connect(t, dbURL)
	if _, err := c.Exec(ctx, `UPDATE signet_secrets SET ciphertext = (SELECT ciphertext FROM signet_secrets WHERE key_id = 'a') WHERE key_id = 'b'`); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "key b dropped", func() bool {
		_, err := s.Key(ctx, "b")
		return errors.Is(err, signet.ErrUnknownKey)
	})
	if _, err := reqsigVerify(t, s, "b", secretA); !errors.Is(err, signet.ErrUnknownKey) {
		t.Errorf("b with a's secret: got %v, want ErrUnknownKey", err)
	}
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Errorf("key a: %v", err)
	}
	if _, err := Open(ctx, dbURL, testMasterKey, Options{}); !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("Open with an altered row: got %v, want ErrDecrypt naming b", err)
	}
}

// Changes made through one Store (replica A) reach another (replica B)
// through NOTIFY within one second: the bound.
func TestReplicaSeesChanges(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	a := open(t, dbURL, Options{RefreshInterval: -1})
	b := open(t, dbURL, Options{RefreshInterval: -1}) // no safety net: NOTIFY only
	ctx := context.Background()
	seen := func(id string, want func(*signet.Key, error) bool) func() bool {
		return func() bool { return want(b.Key(ctx, id)) }
	}
	const within = time.Second

	id, secret, err := a.Create(ctx, KeySpec{ID: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "create", seen(id, func(k *signet.Key, err error) bool { return err == nil }))
	if _, err := reqsigVerify(t, b, id, secret); err != nil {
		t.Fatalf("verify on B: %v", err)
	}

	rotated, err := a.Rotate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "rotate", seen(id, func(k *signet.Key, err error) bool { return err == nil && len(k.Secrets) == 2 }))
	if v, err := reqsigVerify(t, b, id, rotated); err != nil || v.SecretIndex != 0 {
		t.Errorf("new secret on B: %v", err)
	}

	if err := a.SetUpstream(ctx, id, "https://api.example", map[string]string{"X-Token": "t"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "set upstream", seen(id, func(k *signet.Key, err error) bool {
		return err == nil && len(k.Upstreams) == 1 && k.Upstreams[0].Headers["X-Token"] == "t"
	}))

	start := time.Now()
	if err := a.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Key(ctx, id); !errors.Is(err, signet.ErrUnknownKey) {
		t.Errorf("revoked key still in A's cache: %v", err)
	}
	eventually(t, within, "revoke", seen(id, func(k *signet.Key, err error) bool { return errors.Is(err, signet.ErrUnknownKey) }))
	t.Logf("revocation seen by replica B after %v", time.Since(start))
	if _, err := reqsigVerify(t, b, id, rotated); !errors.Is(err, signet.ErrUnknownKey) {
		t.Errorf("revoked key on B: got %v, want ErrUnknownKey", err)
	}

	id2, _, err := a.Create(ctx, KeySpec{ID: "doomed"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "create 2", seen(id2, func(k *signet.Key, err error) bool { return err == nil }))
	if err := a.Delete(ctx, id2); err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "delete", seen(id2, func(k *signet.Key, err error) bool { return errors.Is(err, signet.ErrUnknownKey) }))

	// A change made in SQL by an operator notifies too.
	if _, _, err := a.Create(ctx, KeySpec{ID: "sql"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "create 3", seen("sql", func(k *signet.Key, err error) bool { return err == nil }))
	if _, err := connect(t, dbURL).Exec(ctx, `UPDATE signet_keys SET revoked_at = now() WHERE id = 'sql'`); err != nil {
		t.Fatal(err)
	}
	eventually(t, within, "revoke in SQL", seen("sql", func(k *signet.Key, err error) bool { return errors.Is(err, signet.ErrUnknownKey) }))
	if err := b.Ready(ctx); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

// The periodic reload catches a change that sent no notification.
func TestPeriodicRefreshCatchesSilentChange(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	ctx := context.Background()
	s := open(t, dbURL, Options{RefreshInterval: 100 * time.Millisecond})
	if _, _, err := s.Create(ctx, KeySpec{ID: "quiet"}); err != nil {
		t.Fatal(err)
	}
	tx, err := connect(t, dbURL).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Replica mode skips ordinary triggers: no NOTIFY.
	for _, q := range []string{`SET LOCAL session_replication_role = replica`, `UPDATE signet_keys SET revoked_at = now() WHERE id = 'quiet'`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "silent revoke", func() bool {
		_, err := s.Key(ctx, "quiet")
		return errors.Is(err, signet.ErrUnknownKey)
	})
}

// When the LISTEN connection dies, the store reconnects and reloads
// everything, since notifications sent meanwhile are lost. The periodic
// reload is off, so only that reload can see the silent change.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	ctx := context.Background()
	s := open(t, dbURL, Options{RefreshInterval: -1, PingInterval: 200 * time.Millisecond})
	if _, _, err := s.Create(ctx, KeySpec{ID: "k"}); err != nil {
		t.Fatal(err)
	}
	c := connect(t, dbURL)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`SET LOCAL session_replication_role = replica`, `UPDATE signet_keys SET revoked_at = now() WHERE id = 'k'`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Key(ctx, "k"); err != nil {
		t.Fatalf("a silent change reached the cache without a reload: %v", err)
	}
	pid := s.listenPID.Load()
	if _, err := c.Exec(ctx, `SELECT pg_terminate_backend($1)`, int64(pid)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "revoked key gone after reconnect", func() bool {
		_, err := s.Key(ctx, "k")
		return errors.Is(err, signet.ErrUnknownKey)
	})
	eventually(t, 5*time.Second, "ready again", func() bool { return s.listenPID.Load() != pid && s.Ready(ctx) == nil })
	// The new feed delivers notifications.
	other := open(t, dbURL, Options{RefreshInterval: -1})
	if _, _, err := other.Create(ctx, KeySpec{ID: "after"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "change after reconnect", func() bool {
		_, err := s.Key(ctx, "after")
		return err == nil
	})
}

func TestListAndGet(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{})
	ctx := context.Background()
	for _, spec := range []KeySpec{
		{ID: "b", Tenant: "acme", Upstreams: []signet.Upstream{{Origin: "https://api.example", Headers: map[string]string{"x-token": "v", "Authorization": "w"}}}},
		{ID: "a", Tenant: "acme"},
		{ID: "c", Tenant: "other"},
	} {
		if _, _, err := s.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Revoke(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	all, err := s.List(ctx, "")
	if err != nil || len(all) != 3 || all[0].ID != "a" || all[2].ID != "c" {
		t.Fatalf("List all: %+v %v", all, err)
	}
	if all[0].RevokedAt.IsZero() || !all[1].RevokedAt.IsZero() {
		t.Errorf("RevokedAt: %v %v", all[0].RevokedAt, all[1].RevokedAt)
	}
	acme, err := s.List(ctx, "acme")
	if err != nil || len(acme) != 2 {
		t.Fatalf("List acme: %+v %v", acme, err)
	}
	b, err := s.Get(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	wantUp := []UpstreamInfo{{Origin: "https://api.example", HeaderNames: []string{"Authorization", "X-Token"}}}
	if !reflect.DeepEqual(b.Upstreams, wantUp) || len(b.Secrets) != 1 || b.Secrets[0].Version != 1 {
		t.Errorf("Get: %+v", b)
	}
	if err := s.RemoveUpstream(ctx, "b", "https://api.example/"); err != nil {
		t.Fatal(err)
	}
	if k, err := s.Key(ctx, "b"); err != nil || len(k.Upstreams) != 0 {
		t.Errorf("after RemoveUpstream: %+v %v", k, err)
	}
	// Admin without the cache and without a master key: metadata only.
	adm, err := Open(ctx, dbURL, nil, Options{DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if got, err := adm.List(ctx, "other"); err != nil || len(got) != 1 {
		t.Errorf("admin List: %v", err)
	}
	if _, _, err := adm.Create(ctx, KeySpec{}); err == nil || !strings.Contains(err.Error(), "SIGNET_MASTER_KEY") {
		t.Errorf("Create without master key: %v", err)
	}
	if err := adm.Revoke(ctx, "c"); err != nil {
		t.Errorf("admin Revoke: %v", err)
	}
	if err := adm.Ready(ctx); err != nil {
		t.Errorf("admin Ready: %v", err)
	}
	// With a master key and no cache, Key reads the database.
	direct, err := Open(ctx, dbURL, testMasterKey, Options{DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if _, err := direct.Key(ctx, "b"); err != nil {
		t.Errorf("direct Key: %v", err)
	}
	if _, err := direct.Key(ctx, "c"); !errors.Is(err, signet.ErrUnknownKey) {
		t.Errorf("direct Key of a revoked key: %v", err)
	}
}

// The cache keeps answering while the store is closed or the database gone.
func TestCloseKeepsCache(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{})
	if _, _, err := s.Create(context.Background(), KeySpec{ID: "k"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if _, err := s.Key(context.Background(), "k"); err != nil {
		t.Errorf("Key after Close: %v", err)
	}
	if err := s.Ready(context.Background()); err == nil {
		t.Error("Ready after Close")
	}
}

// bulkKeys inserts n keys (one secret each) with COPY, bypassing Create for
// speed.
func bulkKeys(t testing.TB, dbURL string, n int) {
	t.Helper()
	ctx := context.Background()
	c := connect(t, dbURL)
	sl, err := newSealer(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([][]any, n)
	secrets := make([][]any, n)
	for i := range n {
		id := fmt.Sprintf("bulk_%07d", i)
		keys[i] = []any{id, "tenant"}
		ct, err := sl.seal([]byte("secret-"+id), secretAD(id, 1))
		if err != nil {
			t.Fatal(err)
		}
		secrets[i] = []any{id, 1, ct}
	}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"signet_keys"}, []string{"id", "tenant"}, pgx.CopyFromRows(keys)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"signet_secrets"}, []string{"key_id", "version", "ciphertext"}, pgx.CopyFromRows(secrets)); err != nil {
		t.Fatal(err)
	}
}

func TestLoadManyKeys(t *testing.T) {
	sizes := []int{1000}
	if testing.Short() {
		sizes = []int{100}
	}
	if os.Getenv("SIGNET_PG_100K") != "" {
		sizes = append(sizes, 100_000)
	}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dbURL := testDB(t, true)
			bulkKeys(t, dbURL, n)
			start := time.Now()
			s := open(t, dbURL, Options{})
			elapsed := time.Since(start)
			t.Logf("Open loaded %d keys in %v (%.1f µs/key)", s.Len(), elapsed, float64(elapsed.Microseconds())/float64(n))
			if s.Len() != n {
				t.Fatalf("Len %d, want %d", s.Len(), n)
			}
			id := fmt.Sprintf("bulk_%07d", n/2)
			if k, err := s.Key(context.Background(), id); err != nil || k.Secrets[0] != "secret-"+id {
				t.Fatalf("Key(%s): %v", id, err)
			}
			start = time.Now()
			if err := s.refreshAll(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			t.Logf("full reload of %d keys: %v", n, time.Since(start))
			start = time.Now()
			if err := s.Revoke(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			t.Logf("revoke + local reload among %d keys: %v", n, time.Since(start))
		})
	}
}

func BenchmarkKeyLookup(b *testing.B) {
	dbURL := testDB(b, true)
	bulkKeys(b, dbURL, 1000)
	s := open(b, dbURL, Options{})
	ctx := context.Background()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("bulk_%07d", i)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Key(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.Key(ctx, ids[i%len(ids)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Key(ctx, "absent"); err == nil {
				b.Fatal("found")
			}
		}
	})
}

// BenchmarkVerifyReqSig is a whole reqsig verification against the store.
func BenchmarkVerifyReqSig(b *testing.B) {
	dbURL := testDB(b, true)
	s := open(b, dbURL, Options{})
	id, secret, err := s.Create(context.Background(), KeySpec{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	r := httptest.NewRequest("GET", "http://api.example/v1/items?limit=2", nil)
	if err := (&reqsig.Signer{KeyID: id, Secret: secret, Now: func() time.Time { return now }}).SignRequest(r); err != nil {
		b.Fatal(err)
	}
	v := &reqsig.Verifier{Now: func() time.Time { return now }}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), r, s); err != nil {
			b.Fatal(err)
		}
	}
}

// The periodic safety net reloads only when the tables changed: a million
// keys cost seconds to load, a fingerprint one row.
func TestPeriodicRefreshSkipsUnchanged(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	ctx := context.Background()
	s := open(t, dbURL, Options{RefreshInterval: 20 * time.Millisecond})
	if _, _, err := s.Create(ctx, KeySpec{ID: "steady"}); err != nil {
		t.Fatal(err)
	}
	// Create's own reload is per key; let a periodic check record the
	// state after it, then count.
	eventually(t, 2*time.Second, "a full load after Create", func() bool { return s.fullLoads.Load() >= 2 })
	before := s.fullLoads.Load()
	checked := s.lastRefresh.Load()
	eventually(t, 2*time.Second, "periodic checks", func() bool { return s.lastRefresh.Load() > checked })
	time.Sleep(200 * time.Millisecond) // about ten more checks
	if n := s.fullLoads.Load(); n != before {
		t.Errorf("%d full loads with nothing changed", n-before)
	}
	// A change that bypasses the triggers (no NOTIFY) still gets through.
	tx, err := connect(t, dbURL).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`SET LOCAL session_replication_role = replica`, `UPDATE signet_keys SET tenant = 'moved' WHERE id = 'steady'`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "reload after a change", func() bool {
		k, err := s.Key(ctx, "steady")
		return err == nil && k.Tenant == "moved" && s.fullLoads.Load() > before
	})
}

// A full load merges the three tables by key id, across batch boundaries,
// past revoked keys and keys without secrets or upstreams, and gives every
// key exactly its own rows.
func TestFullLoadMerges(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	ctx := context.Background()
	admin := open(t, dbURL, Options{DisableCache: true})
	type want struct {
		origins   []string
		revoked   bool
		rotations int
	}
	plan := map[string]want{
		"a": {origins: []string{"https://a.example", "https://b.example"}},
		"b": {revoked: true, origins: []string{"https://revoked.example"}, rotations: 2},
		"c": {},
		"d": {rotations: 3, origins: []string{"https://d.example"}},
		"e": {revoked: true},
		"f": {origins: []string{"https://f.example"}},
	}
	secrets := map[string][]string{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		w := plan[id]
		spec := KeySpec{ID: id}
		for _, o := range w.origins {
			spec.Upstreams = append(spec.Upstreams, signet.Upstream{Origin: o, Headers: map[string]string{"X-Key": "for-" + id}})
		}
		_, secret, err := admin.Create(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		secrets[id] = []string{secret}
		for range w.rotations {
			s2, err := admin.Rotate(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			secrets[id] = append([]string{s2}, secrets[id]...)
		}
		if w.revoked {
			if err := admin.Revoke(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, batch := range []int{1, 2, 3, 10000} {
		s := open(t, dbURL, Options{loadBatch: batch, RefreshInterval: -1})
		for id, w := range plan {
			k, err := s.Key(ctx, id)
			if w.revoked {
				if !errors.Is(err, signet.ErrUnknownKey) {
					t.Errorf("batch %d: revoked key %s: %v", batch, id, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("batch %d: key %s: %v", batch, id, err)
			}
			if !reflect.DeepEqual(k.Secrets, secrets[id]) {
				t.Errorf("batch %d: key %s secrets %q, want %q", batch, id, k.Secrets, secrets[id])
			}
			var origins []string
			for _, u := range k.Upstreams {
				origins = append(origins, u.Origin)
				if u.Headers["X-Key"] != "for-"+id {
					t.Errorf("batch %d: key %s has headers %v", batch, id, u.Headers)
				}
			}
			if !reflect.DeepEqual(origins, w.origins) {
				t.Errorf("batch %d: key %s origins %q, want %q", batch, id, origins, w.origins)
			}
		}
		if s.Len() != 4 {
			t.Errorf("batch %d: Len %d, want 4", batch, s.Len())
		}
	}
}

func TestRefreshWait(t *testing.T) {
	for _, tt := range []struct{ interval, cost, want time.Duration }{
		{30 * time.Second, 0, 30 * time.Second},
		{30 * time.Second, time.Second, 30 * time.Second},      // 20 s < 30 s
		{30 * time.Second, 8 * time.Second, 160 * time.Second}, // a million keys
		{time.Second, 100 * time.Millisecond, 2 * time.Second}, // tests' short intervals still scale
		{30 * time.Second, 1500 * time.Millisecond, 30 * time.Second},
	} {
		if got := refreshWait(tt.interval, tt.cost); got != tt.want {
			t.Errorf("refreshWait(%v, %v) = %v, want %v", tt.interval, tt.cost, got, tt.want)
		}
	}
}
