package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/postgres"
	"github.com/signet-dev/signet/sw1"
)

// syncBuffer is a log sink the test reads while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// localClient never dials anything but 127.0.0.1.
var localClient = &http.Client{
	Timeout: 10 * time.Second,
	Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			return nil, errors.New("test client: refusing " + addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}},
}

type server struct {
	base string
	logs *syncBuffer
	stop func() error
}

// startServe runs `signet serve args...` through run, as the binary does,
// and waits for the "listening" log line and a healthy /healthz.
func startServe(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	return startServeWith(t, localClient, env, args...)
}

func startServeWith(t *testing.T, client *http.Client, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, logs)
	}()
	s := &server{logs: logs}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(10 * time.Second):
				stopErr = errors.New("serve did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	deadline := time.Now().Add(10 * time.Second)
	for s.base == "" {
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line:\n%s", logs)
		}
		for line := range strings.SplitSeq(logs.String(), "\n") {
			var rec struct {
				Msg, Addr string
				TLS       bool
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				s.base = "http://" + rec.Addr
				if rec.TLS {
					s.base = "https://" + rec.Addr
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	for {
		res, err := client.Get(s.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz never answered: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func echoServer(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "query": r.URL.RawQuery, "auth": r.Header.Values("Authorization"), "body": string(b)})
	}))
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, method, u string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer from-client")
	res, err := localClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestServeQuickStart(t *testing.T) {
	up := echoServer(t)
	s := startServe(t, map[string]string{"SW_ID": "app-id", "SW_SECRET": "super-secure-string"},
		"--listen", "127.0.0.1:0", "--header", "Authorization: Bearer API_KEY", "--allow-origin", up.URL)
	u, err := sw1.Presign(sw1.PresignOptions{KeyID: "app-id", Secret: "super-secure-string", Gateway: s.base,
		Target: up.URL + "/v1/completions?x=1", Method: "POST", Body: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, "POST", u, strings.NewReader(`{"a":1}`))
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var got struct {
		Path, Query, Body string
		Auth              []string
	}
	_ = json.Unmarshal([]byte(body), &got)
	if got.Path != "/v1/completions" || got.Query != "x=1" || got.Body != `{"a":1}` || len(got.Auth) != 1 || got.Auth[0] != "Bearer API_KEY" {
		t.Errorf("upstream saw %+v", got)
	}
	// Tampered: 401 JSON.
	code, body = get(t, "POST", strings.Replace(u, "X-Sw-Expires=600", "X-Sw-Expires=601", 1), strings.NewReader(`{"a":1}`))
	if code != 401 || !strings.Contains(body, `"error":"signature_mismatch"`) {
		t.Errorf("tampered: %d %s", code, body)
	}
	if err := s.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	if !strings.Contains(s.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no stop line:\n%s", s.logs)
	}
}

func TestServeQuickStartPositionalAndWarning(t *testing.T) {
	s := startServe(t, nil, "my-id", "my-secret", "--listen", "127.0.0.1:0", "--header", "X-Token: t")
	if !strings.Contains(s.logs.String(), "may reach any public origin") {
		t.Errorf("no public-origin warning:\n%s", s.logs)
	}
	// A loopback target is refused without --allow-origin.
	up := echoServer(t)
	u, _ := sw1.Presign(sw1.PresignOptions{KeyID: "my-id", Secret: "my-secret", Gateway: s.base, Target: up.URL})
	code, body := get(t, "GET", u, nil)
	if code != 403 || !strings.Contains(body, "forbidden_upstream") {
		t.Errorf("loopback target: %d %s", code, body)
	}
}

func TestServeConfigFileAndReload(t *testing.T) {
	up := echoServer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "signet.yaml")
	write := func(secret string) {
		doc := "listen: 127.0.0.1:0\nkeys:\n  - id: k\n    secrets: [\"${" + secret + "}\"]\n    upstreams:\n      - origin: " + up.URL + "\n        headers: {Authorization: \"Bearer ${TOKEN}\"}\n"
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("S1")
	env := map[string]string{"S1": "first", "S2": "second", "TOKEN": "tok"}
	s := startServe(t, env, "--config", path, "--watch-interval", "20ms")
	sign := func(secret string) string {
		u, err := sw1.Presign(sw1.PresignOptions{KeyID: "k", Secret: secret, Gateway: s.base, Target: up.URL + "/p"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if code, body := get(t, "GET", sign("first"), nil); code != 200 || !strings.Contains(body, "Bearer tok") {
		t.Fatalf("%d %s", code, body)
	}
	// A broken file is refused, the old configuration keeps serving.
	if err := os.WriteFile(path, []byte("keys: [{id: k, secrets: [\"${UNSET}\"]}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s.logs, "config reload failed")
	if !strings.Contains(s.logs.String(), "UNSET") {
		t.Errorf("reload error does not name the variable:\n%s", s.logs)
	}
	if code, _ := get(t, "GET", sign("first"), nil); code != 200 {
		t.Errorf("old config lost: %d", code)
	}
	// A good file replaces it.
	time.Sleep(30 * time.Millisecond) // a distinct modification time
	write("S2")
	waitFor(t, s.logs, "config reloaded")
	if code, _ := get(t, "GET", sign("second"), nil); code != 200 {
		t.Errorf("new secret refused: %d", code)
	}
	if code, _ := get(t, "GET", sign("first"), nil); code != 401 {
		t.Errorf("old secret still accepted: %d", code)
	}
}

func waitFor(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in logs:\n%s", want, logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeExampleConfig(t *testing.T) {
	// README's command: go run ./cmd/signet serve --config examples/signet.yaml
	s := startServe(t, nil, "--config", "../../examples/signet.yaml", "--listen", "127.0.0.1:0")
	res, err := localClient.Get(s.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("readyz = %d", res.StatusCode)
	}
	// The demo key signs; the target is not among its upstreams: 403, and
	// nothing is dialed.
	u, _ := sw1.Presign(sw1.PresignOptions{KeyID: "demo", Secret: "demo-secret", Gateway: s.base, Target: "https://evil.example/"})
	if code, body := get(t, "GET", u, nil); code != 403 {
		t.Errorf("%d %s", code, body)
	}
}

func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("keys: [{id: a}]\nlisen: x\n"), 0o600)
	invalid := filepath.Join(dir, "invalid.yaml")
	_ = os.WriteFile(invalid, []byte("keys: [{id: a}]\n"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"nothing to serve", nil, nil, "nothing to serve"},
		{"one positional", nil, []string{"id"}, "want <id> <secret>"},
		{"config and quick start", nil, []string{"--config", bad, "a", "b"}, "not both"},
		{"unknown field", nil, []string{"--config", bad}, "lisen"},
		{"invalid config", nil, []string{"--config", invalid}, "no secrets"},
		{"header with config", nil, []string{"--config", invalid, "--header", "A: b"}, "--header belongs to the quick start"},
		{"missing secret env", map[string]string{"SW_ID": "x"}, nil, "needs both"},
		{"bad flag", nil, []string{"--nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.env, "", append([]string{"serve"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("code %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// SIGTERM (ctx cancelled) lets an in-flight stream finish.
func TestServeGracefulShutdownFinishesStreams(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "data: last\n\n")
	}))
	defer up.Close()
	path := filepath.Join(t.TempDir(), "signet.yaml")
	doc := "listen: 127.0.0.1:0\nkeys: [{id: k, secrets: [s], upstreams: [{origin: \"" + up.URL + "\"}]}]\nlimits: {shutdown_timeout: 5s}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, nil, "--config", path)
	u, _ := sw1.Presign(sw1.PresignOptions{KeyID: "k", Secret: "s", Gateway: s.base, Target: up.URL + "/events"})
	res, err := localClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := make([]byte, len("data: first\n\n"))
	if _, err := io.ReadFull(res.Body, first); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	waitFor(t, s.logs, "shutting down")
	select {
	case err := <-stopped:
		t.Fatalf("serve stopped with a stream in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	rest, err := io.ReadAll(res.Body)
	if err != nil || string(rest) != "data: last\n\n" {
		t.Errorf("rest of stream = %q, %v", rest, err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v", err)
	}
}

// With tls.cert_file and tls.key_file the gateway serves HTTPS and HTTP/2.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signet test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cfgFile := filepath.Join(dir, "signet.yaml")
	doc := "listen: 127.0.0.1:0\nkeys: [{id: k, secrets: [s]}]\ntls: {cert_file: \"" + certFile + "\", key_file: \"" + keyFile + "\"}\n"
	_ = os.WriteFile(cfgFile, []byte(doc), 0o600)

	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	tr := localClient.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	tr.ForceAttemptHTTP2 = true
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	s := startServeWith(t, c, nil, "--config", cfgFile)
	res, err := c.Get(s.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 2 {
		t.Errorf("status %d over %s, want 200 over HTTP/2", res.StatusCode, res.Proto)
	}
}

func TestServeH2C(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "signet.yaml")
	_ = os.WriteFile(cfgFile, []byte("listen: 127.0.0.1:0\nh2c: true\nkeys: [{id: k, secrets: [s]}]\n"), 0o600)
	tr := localClient.Transport.(*http.Transport).Clone()
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	s := startServeWith(t, c, nil, "--config", cfgFile)
	res, err := c.Get(s.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.ProtoMajor != 2 {
		t.Errorf("proto = %s, want HTTP/2", res.Proto)
	}
}

func TestServeQuickStartCORSFlags(t *testing.T) {
	s := startServe(t, nil, "id", "secret", "--listen", "127.0.0.1:0", "--cors-origin", "https://app.example", "--cors-expose-header", "x-request-id")
	for origin, want := range map[string]string{"https://app.example": "https://app.example", "https://other.example": ""} {
		req, _ := http.NewRequest("OPTIONS", s.base+"/", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := localClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("%s: Access-Control-Allow-Origin = %q, want %q", origin, got, want)
		}
	}
}

// README's "Run it": the run command as written (it listens on
// 127.0.0.1:3000) and its sign-url command, whose URL must answer 200.
func TestServeREADMECommands(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:3000")
	if err != nil {
		t.Skipf("port 3000 is busy: %v", err)
	}
	ln.Close()
	s := startServe(t, nil, "--config", "../../examples/signet.yaml")
	if s.base != "http://127.0.0.1:3000" {
		t.Fatalf("listening on %s", s.base)
	}
	code, out, errOut := runCLI(t, nil, "", "sign-url", "--id", "demo", "--secret", "demo-secret",
		"--gateway", "http://127.0.0.1:3000", "--target", "http://127.0.0.1:3000/healthz")
	if code != 0 {
		t.Fatalf("sign-url: %d %s", code, errOut)
	}
	status, body := get(t, "GET", strings.TrimSpace(out), nil)
	if status != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("signed URL: %d %s", status, body)
	}
}

func TestServeReloadOnSIGHUP(t *testing.T) {
	up := echoServer(t)
	path := filepath.Join(t.TempDir(), "signet.yaml")
	write := func(secret string) {
		doc := "listen: 127.0.0.1:0\nkeys:\n  - id: k\n    secrets: [" + secret + "]\n    upstreams: [{origin: \"" + up.URL + "\"}]\n"
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	// Our own handler keeps a SIGHUP that arrives before serve's is
	// registered from killing the test binary.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// No file watching: only the signal may trigger the reload.
	s := startServe(t, nil, "--config", path, "--watch-interval", "0")
	sign := func(secret string) string {
		u, err := sw1.Presign(sw1.PresignOptions{KeyID: "k", Secret: secret, Gateway: s.base, Target: up.URL + "/p"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if code, body := get(t, "GET", sign("first"), nil); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	write("second")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.logs.String(), `"trigger":"sighup"`) {
		// Repeat: the first signal may come before serve listens for it.
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload on SIGHUP:\n%s", s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(s.logs.String(), `"msg":"config reloaded","trigger":"sighup"`) {
		t.Fatalf("reload on SIGHUP failed:\n%s", s.logs)
	}
	if code, body := get(t, "GET", sign("second"), nil); code != 200 {
		t.Errorf("new secret after SIGHUP: %d %s", code, body)
	}
	if code, _ := get(t, "GET", sign("first"), nil); code != 401 {
		t.Errorf("old secret after SIGHUP: %d, want 401", code)
	}
}

func TestServeStoreErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "signet.yaml")
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:0\nstore: postgres://127.0.0.1:1/none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withKeys := filepath.Join(dir, "keys.yaml")
	if err := os.WriteFile(withKeys, []byte("store: postgres://127.0.0.1:1/none\nkeys: [{id: k, secrets: [s]}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no master key", nil, []string{"--config", path}, 1, "SIGNET_MASTER_KEY"},
		{"bad master key", map[string]string{"SIGNET_MASTER_KEY": "short"}, []string{"--config", path}, 1, "SIGNET_MASTER_KEY"},
		{"keys and store", nil, []string{"--config", withKeys}, 2, "keys come from the store"},
		{"quick start and store", nil, []string{"id", "secret", "--store", "postgres://127.0.0.1:1/x"}, 2, "--store"},
		{"store not postgres", nil, []string{"--config", path, "--store", "mysql://x"}, 2, "postgres:// URL"},
		{"redis not redis", nil, []string{"id", "secret", "--redis", "http://x"}, 2, "must be a redis://"},
		{"database down", map[string]string{"SIGNET_MASTER_KEY": strings.Repeat("ab", 32)}, []string{"--config", path}, 1, "store:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.env, "", append([]string{"serve"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// testSchema returns SIGNET_DATABASE_URL pointing at a fresh, migrated
// schema dropped at cleanup; it skips without SIGNET_DATABASE_URL.
func testSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SIGNET_DATABASE_URL")
	if base == "" {
		t.Skip("set SIGNET_DATABASE_URL to run the PostgreSQL tests")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "signet_serve_" + hex.EncodeToString(b)
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("SIGNET_DATABASE_URL: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	mc, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close(ctx)
	if err := postgres.Migrate(ctx, mc); err != nil {
		t.Fatal(err)
	}
	return u.String()
}

func TestServePostgresStore(t *testing.T) {
	dbURL := testSchema(t)
	master := strings.Repeat("0f", 32)
	mk, err := postgres.ParseMasterKey(master)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin, err := postgres.Open(ctx, dbURL, mk, postgres.Options{DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	up := echoServer(t)
	id, secret, err := admin.Create(ctx, postgres.KeySpec{ID: "pg-key", SingleUse: true,
		Upstreams: []signet.Upstream{{Origin: up.URL, Headers: map[string]string{"Authorization": "Bearer from-db"}}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signet.yaml")
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, map[string]string{"SIGNET_MASTER_KEY": master}, "--config", path, "--store", dbURL)
	u, err := sw1.Presign(sw1.PresignOptions{KeyID: id, Secret: secret, Gateway: s.base, Target: up.URL + "/db"})
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, "GET", u, nil)
	if code != 200 || !strings.Contains(body, "Bearer from-db") {
		t.Fatalf("store key: %d %s", code, body)
	}
	if code, body := get(t, "GET", u, nil); code != 409 || !strings.Contains(body, `"replayed"`) {
		t.Errorf("single-use replay: %d %s", code, body)
	}
	code, body = get(t, "GET", s.base+"/readyz", nil)
	if code != 200 || !strings.Contains(body, `"postgres":"ok"`) {
		t.Errorf("readyz: %d %s", code, body)
	}
	if err := admin.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		u, _ := sw1.Presign(sw1.PresignOptions{KeyID: id, Secret: secret, Gateway: s.base, Target: up.URL + "/after"})
		code, body := get(t, "GET", u, nil)
		if code == 401 && strings.Contains(body, "unknown_key") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked key still answered %d after 1s: %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGCPercent(t *testing.T) {
	tests := []struct {
		live, roots uint64
		want        int
	}{
		{0, 0, 400}, // the runtime's 4 MB heap minimum × 4: a 16 MB goal
		{1 << 20, 0, 425},
		{3 << 20, 1 << 20, 400}, // a gateway with a few keys: 16 MB of headroom, not 4
		{3 << 20, 0, 475},       // the heap minimum, not 533% of live
		{8 << 20, 0, 200},
		{16 << 20, 0, 100}, // gcMinHeadroom
		{50 << 20, 0, 100},
		{50 << 20, 50 << 20, 50}, // many connections' stacks: still grows by as much as is live
		{100 << 20, 0, 100},      // gcHeadroom: the default grows the heap by as much
		{200 << 20, 0, 50},
		{230 << 20, 1 << 20, 43}, // a million keys
		{400 << 20, 0, 25},
		{8 << 30, 0, 25}, // never below 25
	}
	for _, tt := range tests {
		if got := gcPercent(tt.live, tt.roots); got != tt.want {
			t.Errorf("gcPercent(%d MB live, %d MB roots) = %d, want %d", tt.live>>20, tt.roots>>20, got, tt.want)
		}
	}
}

// tuneGC leaves the collector to GOGC and GOMEMLIMIT when the environment
// sets them, and sizes it to the live heap otherwise.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tests := []struct {
		name string
		env  map[string]string
		set  bool
	}{
		{"GOGC set", map[string]string{"GOGC": "200"}, false},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, false},
		{"neither", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(77)
			pct, live, changed := tuneGC(func(k string) string { return tt.env[k] })
			got := debug.SetGCPercent(100)
			if !tt.set {
				if got != 77 || changed {
					t.Errorf("GC percent %d (changed %v), want 77 left alone", got, changed)
				}
				return
			}
			if got != pct || !changed || pct < 25 {
				t.Errorf("GC percent %d, tuneGC said %d (changed %v) for %d MB live", got, pct, changed, live>>20)
			}
			if live < gcMinHeadroom && pct <= 100 {
				t.Errorf("%d MB live: GC percent %d, want the heap to grow by gcMinHeadroom (> 100%%)", live>>20, pct)
			}
			// The runtime's goal is what gcPercent aimed for: live heap
			// plus the headroom (gcPercent's model of the runtime holds).
			// (A collection in between changes the live heap: try again.)
			ms := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/heap/live:bytes"}}
			for range 10 {
				debug.SetGCPercent(77)
				pct, live, _ = tuneGC(func(string) string { return "" })
				metrics.Read(ms)
				if ms[1].Value.Uint64() == live {
					break
				}
			}
			want := float64(live + min(max(live, gcMinHeadroom), gcHeadroom))
			if g := float64(ms[0].Value.Uint64()); g < 0.95*want || g > 1.05*want {
				t.Errorf("heap goal %.1f MB at GC percent %d, want about %.1f MB (live %.1f MB + headroom)", g/(1<<20), pct, want/(1<<20), float64(live)/(1<<20))
			}
		})
	}
}

// tuneGCLoop sizes the collector at once and returns when its context ends.
func TestTuneGCLoop(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	debug.SetGCPercent(77)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		tuneGCLoop(ctx, func(string) string { return "" }, slog.New(slog.DiscardHandler))
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := debug.SetGCPercent(77)
		if got != 77 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("tuneGCLoop did not set the GC percent within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("tuneGCLoop did not return after its context ended")
	}
}

// A file of many keys (read by config's fast path, validated once, by the
// gateway) is served, refused whole when a reload brings a bad key, and
// replaced by a good one.
func TestServeManyKeysAndReload(t *testing.T) {
	up := echoServer(t)
	path := filepath.Join(t.TempDir(), "signet.yaml")
	write := func(secret, dupID string) {
		var b strings.Builder
		b.WriteString("listen: 127.0.0.1:0\nkeys:\n")
		for i := range 3000 {
			id := fmt.Sprintf("k%04d", i)
			if i == 2999 && dupID != "" {
				id = dupID
			}
			fmt.Fprintf(&b, "  - id: %s\n    secrets: [\"%s-%d\"]\n    schemes: [sw1]\n    upstreams: [{origin: %q}]\n", id, secret, i, up.URL)
		}
		// Write and rename, as deploy tools do: the watcher polls every
		// 20 ms and would otherwise read a half-written file.
		if err := os.WriteFile(path+".tmp", []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
	write("old", "k0001")
	if code, _, errOut := runCLI(t, nil, "", "serve", "--config", path); code != 2 || !strings.Contains(errOut, "keys[2999] (k0001): duplicate id") {
		t.Fatalf("bad file: exit %d, stderr %q", code, errOut)
	}
	write("old", "")
	s := startServe(t, nil, "--config", path, "--watch-interval", "20ms")
	sign := func(secret string) string {
		u, err := sw1.Presign(sw1.PresignOptions{KeyID: "k1500", Secret: secret, Gateway: s.base, Target: up.URL + "/p"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if code, body := get(t, "GET", sign("old-1500"), nil); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	time.Sleep(30 * time.Millisecond) // a distinct modification time
	write("new", "k0001")
	waitFor(t, s.logs, "config reload failed")
	if !strings.Contains(s.logs.String(), "duplicate id") {
		t.Errorf("reload error does not name the problem:\n%s", s.logs)
	}
	if code, _ := get(t, "GET", sign("old-1500"), nil); code != 200 {
		t.Errorf("old config lost: %d", code)
	}
	time.Sleep(30 * time.Millisecond)
	write("new", "")
	waitFor(t, s.logs, "config reloaded")
	if code, _ := get(t, "GET", sign("new-1500"), nil); code != 200 {
		t.Errorf("new secret refused: %d", code)
	}
	if code, _ := get(t, "GET", sign("old-1500"), nil); code != 401 {
		t.Errorf("old secret still accepted: %d", code)
	}
}
