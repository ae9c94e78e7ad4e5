package postgres

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

// fullSpec sets every field Create takes: two upstreams with injected
// headers, given in a form validation normalizes.
func fullSpec(id string) KeySpec {
	return KeySpec{
		ID:         id,
		Tenant:     "acme",
		Schemes:    []string{"reqsig", "sw1"},
		Algorithms: []string{"hmac-sha256"},
		MaxExpires: 10 * time.Minute,
		SingleUse:  true,
		RateLimit:  signet.RateLimit{RequestsPerSecond: 2.5, Burst: 5, BytesPerMinute: 1 << 20},
		FailOpen:   true,
		Upstreams: []signet.Upstream{
			{Origin: "HTTPS://API.OpenAI.com:443/", Headers: map[string]string{"authorization": "Bearer sk-test-123", "x-org": "org-9"}},
			{Origin: "https://b.example", Headers: map[string]string{"X-Token": "tok-b"}},
		},
	}
}

// TestImportMatchesCreate imports keys and compares them, as Key and Get
// return them, with keys made by Create (and Rotate for a second secret).
func TestImportMatchesCreate(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{})
	ctx := context.Background()

	_, old, err := s.Create(ctx, fullSpec("created"))
	if err != nil {
		t.Fatal(err)
	}
	newer, err := s.Rotate(ctx, "created")
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(priv.Public())
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	pubSpec := KeySpec{ID: "created-pub", PublicKeyPEM: pemKey, Schemes: []string{"cavage"}}
	if _, _, err := s.Create(ctx, pubSpec); err != nil {
		t.Fatal(err)
	}
	plainSpec := KeySpec{ID: "created-plain"}
	_, plainSecret, err := s.Create(ctx, plainSpec)
	if err != nil {
		t.Fatal(err)
	}

	pubImport := pubSpec
	pubImport.ID = "imported-pub"
	plainImport := plainSpec
	plainImport.ID = "imported-plain"
	n, err := s.Import(ctx, slices.Values([]ImportKey{
		{KeySpec: fullSpec("imported"), Secrets: []string{newer, old}},
		{KeySpec: pubImport},
		{KeySpec: plainImport, Secrets: []string{plainSecret}},
	}), ImportOptions{})
	if err != nil || n != 3 {
		t.Fatalf("Import: %d, %v", n, err)
	}

	for _, c := range []struct{ created, imported string }{
		{"created", "imported"}, {"created-pub", "imported-pub"}, {"created-plain", "imported-plain"},
	} {
		t.Run(c.imported, func(t *testing.T) {
			want, err := s.Key(ctx, c.created)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Key(ctx, c.imported) // at once: Import reloads the cache
			if err != nil {
				t.Fatal(err)
			}
			w := *want
			w.ID = c.imported
			g := *got
			// Field by field, so a failure names the field; then the whole.
			rg, rw := reflect.ValueOf(g), reflect.ValueOf(w)
			for i := range rg.NumField() {
				if !reflect.DeepEqual(rg.Field(i).Interface(), rw.Field(i).Interface()) {
					t.Errorf("%s: got %+v, want %+v", rg.Type().Field(i).Name, rg.Field(i).Interface(), rw.Field(i).Interface())
				}
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got  %+v\nwant %+v", g, w)
			}

			wi, err := s.Get(ctx, c.created)
			if err != nil {
				t.Fatal(err)
			}
			gi, err := s.Get(ctx, c.imported)
			if err != nil {
				t.Fatal(err)
			}
			versions := func(k *KeyInfo) (v []int) {
				for _, s := range k.Secrets {
					v = append(v, s.Version)
				}
				return v
			}
			if !slices.Equal(versions(gi), versions(wi)) {
				t.Errorf("secret versions: got %v, want %v", versions(gi), versions(wi))
			}
			if !reflect.DeepEqual(gi.Upstreams, wi.Upstreams) || gi.PublicKeyPEM != wi.PublicKeyPEM {
				t.Errorf("Get: got %+v, want %+v", gi, wi)
			}
		})
	}

	// Both secrets verify the imported key, the older at index 1, as after
	// a rotation.
	for i, secret := range []string{newer, old} {
		v, err := reqsigVerify(t, s, "imported", secret)
		if err != nil || v.SecretIndex != i {
			t.Errorf("secret %d: %+v, %v", i, v, err)
		}
	}
	k, _ := s.Key(ctx, "imported")
	if h := k.Upstreams[0].Headers; k.Upstreams[0].Origin != "https://api.openai.com" || h["Authorization"] != "Bearer sk-test-123" || h["X-Org"] != "org-9" {
		t.Errorf("upstream 0: %+v", k.Upstreams[0])
	}
}

func TestImportExistingID(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{DisableCache: true})
	ctx := context.Background()
	if _, _, err := s.Create(ctx, KeySpec{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	keys := []ImportKey{
		{KeySpec: KeySpec{ID: "b"}, Secrets: []string{"sb"}},
		{KeySpec: KeySpec{ID: "a"}, Secrets: []string{"sa"}},
		{KeySpec: KeySpec{ID: "c"}, Secrets: []string{"sc"}},
	}
	n, err := s.Import(ctx, slices.Values(keys), ImportOptions{})
	if !errors.Is(err, ErrKeyExists) || !strings.Contains(err.Error(), `"a"`) || n != 0 {
		t.Fatalf("got %d, %v; want ErrKeyExists naming a", n, err)
	}
	assertIDs(t, s, "a")

	n, err = s.Import(ctx, slices.Values(keys), ImportOptions{Replace: true})
	if err != nil || n != 3 {
		t.Fatalf("Replace: %d, %v", n, err)
	}
	assertIDs(t, s, "a", "b", "c")
	if k, err := s.Key(ctx, "a"); err != nil || !slices.Equal(k.Secrets, []string{"sa"}) {
		t.Errorf("replaced key: %+v, %v", k, err)
	}
	// Replace also brings a revoked key back, as the imported one.
	if err := s.Revoke(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, slices.Values(keys[:1]), ImportOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if info, err := s.Get(ctx, "b"); err != nil || !info.RevokedAt.IsZero() {
		t.Errorf("re-imported revoked key: %+v, %v", info, err)
	}
}

func TestImportListedTwice(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{DisableCache: true})
	keys := []ImportKey{
		{KeySpec: KeySpec{ID: "x"}, Secrets: []string{"s1"}},
		{KeySpec: KeySpec{ID: "y"}, Secrets: []string{"s2"}},
		{KeySpec: KeySpec{ID: "x"}, Secrets: []string{"s3"}},
	}
	for _, replace := range []bool{false, true} {
		n, err := s.Import(context.Background(), slices.Values(keys), ImportOptions{Replace: replace})
		var ie *ImportError
		if !errors.As(err, &ie) || ie.Index != 2 || ie.ID != "x" || !errors.Is(err, ErrKeyExists) || n != 0 {
			t.Fatalf("replace=%v: got %d, %v; want an ImportError at keys[2] wrapping ErrKeyExists", replace, n, err)
		}
		if !strings.Contains(err.Error(), "keys[0]") {
			t.Errorf("error %q does not name the first entry", err)
		}
	}
	assertIDs(t, s)
}

func TestImportInvalid(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{DisableCache: true})
	good := ImportKey{KeySpec: KeySpec{ID: "good"}, Secrets: []string{"s"}}
	tests := []struct {
		name string
		key  ImportKey
		want string // in the error
	}{
		{"empty id", ImportKey{Secrets: []string{"s"}}, "key id is empty"},
		{"space in id", ImportKey{KeySpec: KeySpec{ID: "a b"}, Secrets: []string{"s"}}, "printable ASCII"},
		{"slash with sw1", ImportKey{KeySpec: KeySpec{ID: "a/b"}, Secrets: []string{"s"}}, "cannot sign SW1"},
		{"unknown scheme", ImportKey{KeySpec: KeySpec{ID: "k", Schemes: []string{"jwt"}}, Secrets: []string{"s"}}, `unknown scheme "jwt"`},
		{"negative rate", ImportKey{KeySpec: KeySpec{ID: "k", RateLimit: signet.RateLimit{Burst: -1}}, Secrets: []string{"s"}}, "must not be negative"},
		{"path in origin", ImportKey{KeySpec: KeySpec{ID: "k", Upstreams: []signet.Upstream{{Origin: "https://a.example/v1"}}}, Secrets: []string{"s"}}, "is not an origin"},
		{"duplicate origin", ImportKey{KeySpec: KeySpec{ID: "k", Upstreams: []signet.Upstream{{Origin: "https://a.example"}, {Origin: "HTTPS://a.example:443"}}}, Secrets: []string{"s"}}, "duplicate upstream"},
		{"host header", ImportKey{KeySpec: KeySpec{ID: "k", Upstreams: []signet.Upstream{{Origin: "https://a.example", Headers: map[string]string{"host": "evil"}}}}, Secrets: []string{"s"}}, "header Host cannot be injected"},
		{"CR in header", ImportKey{KeySpec: KeySpec{ID: "k", Upstreams: []signet.Upstream{{Origin: "https://a.example", Headers: map[string]string{"X-T": "tok\r\nX: y"}}}}, Secrets: []string{"s"}}, "CR, LF or NUL"},
		{"no secret", ImportKey{KeySpec: KeySpec{ID: "k"}}, "no secrets and no public key"},
		{"empty secret", ImportKey{KeySpec: KeySpec{ID: "k"}, Secrets: []string{"s", ""}}, "secrets[1] is empty"},
		{"bad public key", ImportKey{KeySpec: KeySpec{ID: "k", PublicKeyPEM: "nope"}}, "PUBLIC KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.Import(context.Background(), slices.Values([]ImportKey{good, tt.key}), ImportOptions{})
			var ie *ImportError
			if !errors.As(err, &ie) || ie.Index != 1 || n != 0 {
				t.Fatalf("got %d, %v; want an ImportError at keys[1]", n, err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "postgres: import: keys[1]") {
				t.Errorf("error %q; want it to start with postgres: import: keys[1] and contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "evil") || strings.Contains(err.Error(), "tok") {
				t.Errorf("error %q shows a header value", err)
			}
		})
	}
	assertIDs(t, s)

	// Several mistakes are reported at once, up to maxImportErrors.
	var many []ImportKey
	for range 3 * maxImportErrors {
		many = append(many, ImportKey{KeySpec: KeySpec{ID: "k"}})
	}
	_, err := s.Import(context.Background(), slices.Values(many), ImportOptions{})
	if got := strings.Count(err.Error(), "postgres: import: keys["); got != maxImportErrors {
		t.Errorf("%d errors reported, want %d: %v", got, maxImportErrors, err)
	}
}

// TestImportBatches imports more than a batch: an invalid key at the end
// leaves nothing of the batches already copied.
func TestImportBatches(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{DisableCache: true})
	ctx := context.Background()
	total := 2*importBatch + 3
	keys := func(bad bool) func(func(ImportKey) bool) {
		return func(yield func(ImportKey) bool) {
			for i := range total {
				k := ImportKey{KeySpec: KeySpec{ID: fmt.Sprintf("b%06d", i), Upstreams: []signet.Upstream{{Origin: "https://a.example"}}},
					Secrets: []string{fmt.Sprintf("secret-%d", i)}}
				if bad && i == total-1 {
					k.Secrets = nil
				}
				if !yield(k) {
					return
				}
			}
		}
	}
	if n, err := s.Import(ctx, keys(true), ImportOptions{}); err == nil || n != 0 {
		t.Fatalf("got %d, %v; want an error", n, err)
	}
	var count int
	if err := connect(t, dbURL).QueryRow(ctx, `SELECT (SELECT count(*) FROM signet_keys) + (SELECT count(*) FROM signet_secrets) + (SELECT count(*) FROM signet_upstreams)`).Scan(&count); err != nil || count != 0 {
		t.Fatalf("%d rows left after a failed import (%v)", count, err)
	}
	n, err := s.Import(ctx, keys(false), ImportOptions{})
	if err != nil || n != total {
		t.Fatalf("got %d, %v; want %d", n, err, total)
	}
	if err := connect(t, dbURL).QueryRow(ctx, `SELECT count(*) FROM signet_secrets`).Scan(&count); err != nil || count != total {
		t.Errorf("%d secrets, want %d (%v)", count, total, err)
	}
	last := fmt.Sprintf("b%06d", total-1)
	if k, err := s.Key(ctx, last); err != nil || k.Secrets[0] != fmt.Sprintf("secret-%d", total-1) {
		t.Errorf("Key(%s): %+v, %v", last, k, err)
	}
}

// TestImportStoredEncrypted checks the rows themselves: no plaintext, and
// ciphertexts bound to their key and version or origin.
func TestImportStoredEncrypted(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s := open(t, dbURL, Options{DisableCache: true})
	ctx := context.Background()
	secrets := []string{"import-secret-new-0123456789", "import-secret-old-0123456789"}
	spec := fullSpec("enc")
	if _, err := s.Import(ctx, slices.Values([]ImportKey{{KeySpec: spec, Secrets: secrets}}), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	c := connect(t, dbURL)
	rows, err := c.Query(ctx, `SELECT version, ciphertext FROM signet_secrets WHERE key_id = 'enc' ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var v int
		var ct []byte
		if err := rows.Scan(&v, &ct); err != nil {
			t.Fatal(err)
		}
		for _, p := range secrets {
			if strings.Contains(string(ct), p) {
				t.Errorf("secret version %d stored in clear", v)
			}
		}
		pt, err := s.sealer.open(ct, secretAD("enc", v))
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		got = append(got, string(pt))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{secrets[1], secrets[0]}; !slices.Equal(got, want) {
		t.Errorf("by version: got %q, want %q", got, want)
	}

	rows, err = c.Query(ctx, `SELECT origin, array_to_string(header_names, ','), headers_ciphertext FROM signet_upstreams WHERE key_id = 'enc' ORDER BY origin`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var origin, names string
		var ct []byte
		if err := rows.Scan(&origin, &names, &ct); err != nil {
			t.Fatal(err)
		}
		n++
		for _, v := range []string{"sk-test-123", "org-9", "tok-b"} {
			if strings.Contains(string(ct), v) {
				t.Errorf("%s: header value %q stored in clear", origin, v)
			}
		}
		if _, err := s.sealer.open(ct, headersAD("other", origin)); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: headers decrypt under another key id", origin)
		}
		pt, err := s.sealer.open(ct, headersAD("enc", origin))
		if err != nil {
			t.Fatalf("%s: %v", origin, err)
		}
		var h map[string]string
		if err := json.Unmarshal(pt, &h); err != nil {
			t.Fatal(err)
		}
		wantNames := map[string]string{"https://api.openai.com": "Authorization,X-Org", "https://b.example": "X-Token"}[origin]
		if names != wantNames || len(h) != len(strings.Split(names, ",")) {
			t.Errorf("%s: names %q, headers %d; want %q", origin, names, len(h), wantNames)
		}
	}
	if err := rows.Err(); err != nil || n != 2 {
		t.Fatalf("%d upstreams (%v), want 2", n, err)
	}
}

func TestImportNeedsMasterKey(t *testing.T) {
	t.Parallel()
	dbURL := testDB(t, true)
	s, err := Open(context.Background(), dbURL, nil, Options{DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Import(context.Background(), slices.Values([]ImportKey{{KeySpec: KeySpec{ID: "k"}, Secrets: []string{"s"}}}), ImportOptions{}); err == nil || !strings.Contains(err.Error(), "SIGNET_MASTER_KEY") {
		t.Errorf("got %v, want a hint about SIGNET_MASTER_KEY", err)
	}
}

// assertIDs checks which keys are stored, revoked or not.
func assertIDs(t *testing.T, s *Store, want ...string) {
	t.Helper()
	infos, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range infos {
		got = append(got, k.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("stored ids %q, want %q", got, want)
	}
}
