package cavage

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

// TestEndToEnd signs with signet.Transport and verifies with
// signet.Middleware over a real HTTP connection.
func TestEndToEnd(t *testing.T) {
	k := getKeys(t)
	now := time.Now()
	v := &Verifier{Now: func() time.Time { return now }, RequiredHeaders: []string{RequestTarget, "host", "date", "digest"}}
	srv := httptest.NewServer(signet.Middleware(v, k.store)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ver, _ := signet.FromContext(r.Context())
		body, err := io.ReadAll(r.Body)
		if err != nil {
			signet.WriteError(w, err)
			return
		}
		io.WriteString(w, ver.KeyID+" "+ver.Algorithm+" "+string(body))
	})))
	defer srv.Close()

	tests := []struct {
		name   string
		signer *Signer
		body   string
		want   string
		status int
	}{
		{"hmac", &Signer{KeyID: "hmac", Secret: testSecret}, "hello", "hmac hmac-sha256 hello", 200},
		{"ed25519", &Signer{KeyID: "ed25519", PrivateKey: k.ed25519}, "hi", "ed25519 ed25519 hi", 200},
		{"no body", &Signer{KeyID: "rsa", PrivateKey: k.rsa}, "", "rsa rsa-pss-sha512 ", 200},
		{"wrong secret", &Signer{KeyID: "hmac", Secret: "nope"}, "x", `{"error":"signature_mismatch"`, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.signer.Now = func() time.Time { return now }
			c := &http.Client{Transport: &signet.Transport{Signer: tt.signer}}
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/a/b?c=d%20e", body)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.HasPrefix(string(got), tt.want) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, got, tt.status, tt.want)
			}
		})
	}
}

// TestVerifiersChain checks that a request without a cavage signature falls
// through signet.Verifiers.
func TestVerifiersChain(t *testing.T) {
	k := getKeys(t)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Signature-Input", `sig1=("@method")`)
	r.Header.Set("Signature", `sig1=:AAAA:`)
	_, err := signet.Verifiers{&Verifier{}}.Verify(r.Context(), r, k.store)
	if !errors.Is(err, signet.ErrNoSignature) {
		t.Fatalf("Verify = %v, want ErrNoSignature", err)
	}
}
