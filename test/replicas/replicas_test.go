package replicas_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/signet-dev/signet/sw1"
)

// The test needs the machine's PostgreSQL and a redis-server binary. It uses
// SIGNET_DATABASE_URL for the keys (in a schema of its own) and starts a
// private Redis on a free loopback port, never touching the machine's
// (SIGNET_REDIS_URL only gates the test), so that it can stop and restart
// Redis mid-run.
func env(t *testing.T) (dbBase string) {
	t.Helper()
	dbBase, redisURL := os.Getenv("SIGNET_DATABASE_URL"), os.Getenv("SIGNET_REDIS_URL")
	if dbBase == "" || redisURL == "" {
		t.Skip("set SIGNET_REDIS_URL and SIGNET_DATABASE_URL to run the multi-replica test")
	}
	return dbBase
}

var client = &http.Client{
	Timeout: 10 * time.Second,
	Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			return nil, fmt.Errorf("test client: refusing %s", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}},
}

func TestReplicas(t *testing.T) {
	dbBase := env(t)
	dir := t.TempDir()
	bin := buildSignet(t, dir)
	dbURL := newSchema(t, dbBase)
	rd := startRedis(t, dir)
	master := randomHex(32)
	cliEnv := append(os.Environ(), "SIGNET_MASTER_KEY="+master, "SIGNET_DATABASE_URL="+dbURL)

	runCLI(t, bin, cliEnv, "migrate", "--database", dbURL)
	secrets := map[string]string{}
	for _, k := range []struct {
		id    string
		flags []string
	}{
		{"single", []string{"--single-use"}},
		{"limited", []string{"--rate", "4", "--burst", "4"}},
		{"plain", nil},
		{"revoked", nil},
	} {
		out := runCLI(t, bin, cliEnv, append([]string{"keys", "create", "--database", dbURL, "--id", k.id}, k.flags...)...)
		secrets[k.id] = field(t, out, "SIGNET_SECRET")
	}

	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	t.Cleanup(up.Close)

	cfgPath := filepath.Join(dir, "signet.yaml")
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\nstore: %q\nredis: %q\nallow_origins: [%q]\n", dbURL, rd.url(), up.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var replicas []*replica
	for i := range 3 {
		replicas = append(replicas, startReplica(t, bin, cliEnv, cfgPath, i))
	}
	sign := func(r *replica, id, path string) string {
		u, err := sw1.Presign(sw1.PresignOptions{KeyID: id, Secret: secrets[id], Gateway: r.base, Target: up.URL + path})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	// The same URL on another replica: only the gateway part differs, and
	// it is not signed.
	on := func(u string, r *replica) string {
		pu, _ := url.Parse(u)
		rb, _ := url.Parse(r.base)
		pu.Host = rb.Host
		return pu.String()
	}

	t.Run("single-use once across replicas", func(t *testing.T) {
		u := sign(replicas[0], "single", "/once")
		codes := make([]int, len(replicas))
		var wg sync.WaitGroup
		for i, r := range replicas {
			wg.Go(func() { codes[i], _ = get(t, on(u, r)) })
		}
		wg.Wait()
		ok, replayed := 0, 0
		for _, c := range codes {
			switch c {
			case 200:
				ok++
			case 409:
				replayed++
			}
		}
		if ok != 1 || replayed != 2 {
			t.Errorf("statuses %v, want one 200 and two 409", codes)
		}
		// And again afterwards, on each.
		for i, r := range replicas {
			if c, b := get(t, on(u, r)); c != 409 {
				t.Errorf("replica %d: replay got %d %s", i, c, b)
			}
		}
	})

	t.Run("rate limit holds in total", func(t *testing.T) {
		// 4/s with a burst of 4: per replica, 24 quick requests would get
		// 12 or more through; shared, about 4 plus 4 per elapsed second.
		start := time.Now()
		ok := 0
		for i := range 24 {
			r := replicas[i%3]
			c, b := get(t, sign(r, "limited", fmt.Sprintf("/rl/%d", i)))
			switch c {
			case 200:
				ok++
			case 429:
			default:
				t.Fatalf("request %d: %d %s", i, c, b)
			}
		}
		elapsed := time.Since(start)
		max := 4 + int(4*elapsed.Seconds()) + 1
		if ok < 4 || ok > max {
			t.Errorf("%d requests allowed in %v, want between 4 and %d", ok, elapsed, max)
		}
	})

	t.Run("revocation reaches every replica within 1s", func(t *testing.T) {
		for i, r := range replicas {
			if c, b := get(t, sign(r, "revoked", "/before")); c != 200 {
				t.Fatalf("replica %d before revoke: %d %s", i, c, b)
			}
		}
		runCLI(t, bin, cliEnv, "keys", "revoke", "--database", dbURL, "revoked")
		revokedAt := time.Now()
		var wg sync.WaitGroup
		for i, r := range replicas {
			wg.Go(func() {
				for {
					c, _ := get(t, sign(r, "revoked", "/after"))
					if c == 401 {
						return
					}
					if time.Since(revokedAt) > time.Second {
						t.Errorf("replica %d still answers %d more than 1s after the revocation", i, c)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			})
		}
		wg.Wait()
	})

	t.Run("redis outage and recovery", func(t *testing.T) {
		rd.stop(t)
		for i, r := range replicas {
			if c, b := get(t, sign(r, "single", fmt.Sprintf("/down/%d", i))); c != 503 || !strings.Contains(b, "store_unavailable") {
				t.Errorf("replica %d, single-use key while Redis is down: %d %s", i, c, b)
			}
			if c, b := get(t, sign(r, "plain", fmt.Sprintf("/down/%d", i))); c != 200 {
				t.Errorf("replica %d, plain key while Redis is down: %d %s", i, c, b)
			}
			if c, b := get(t, r.base+"/readyz"); c != 503 || !strings.Contains(b, "redis") {
				t.Errorf("replica %d readyz while Redis is down: %d %s", i, c, b)
			}
		}
		rd.start(t)
		deadline := time.Now().Add(15 * time.Second)
		for i, r := range replicas {
			for {
				c, b := get(t, sign(r, "single", fmt.Sprintf("/up/%d", i)))
				if c == 200 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("replica %d did not recover after Redis came back: %d %s", i, c, b)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if c, b := get(t, r.base+"/readyz"); c != 200 {
				t.Errorf("replica %d readyz after recovery: %d %s", i, c, b)
			}
		}
	})
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := client.Get(u)
	if err != nil {
		t.Errorf("GET: %v", err)
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func buildSignet(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "signet")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/signet")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runCLI(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("signet %s: %v\n%s", strings.Join(args[:2], " "), err, out)
	}
	return string(out)
}

// field returns NAME's value from "NAME=value" output lines.
func field(t *testing.T, out, name string) string {
	t.Helper()
	for line := range strings.SplitSeq(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s= in output:\n%s", name, out)
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newSchema creates a schema dropped at cleanup, so that runs never
// collide, and returns base pointing at it.
func newSchema(t *testing.T, base string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("SIGNET_DATABASE_URL: %v", err)
	}
	defer c.Close(ctx)
	schema := "signet_replicas_" + randomHex(6)
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
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// privateRedis is a redis-server of this test, on its own port.
type privateRedis struct {
	port string
	cmd  *exec.Cmd
	dir  string
}

func (r *privateRedis) url() string { return "redis://127.0.0.1:" + r.port + "/0" }

func startRedis(t *testing.T, dir string) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server not found: the multi-replica test starts its own Redis")
	}
	_ = bin
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	r := &privateRedis{port: port, dir: dir}
	r.start(t)
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *privateRedis) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", r.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+r.port, 200*time.Millisecond)
		if err == nil {
			fmt.Fprint(c, "PING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start", r.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *privateRedis) stop(t *testing.T) {
	t.Helper()
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

type replica struct {
	base string
	cmd  *exec.Cmd
	logs *logBuffer
}

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startReplica(t *testing.T, bin string, env []string, cfgPath string, n int) *replica {
	t.Helper()
	r := &replica{logs: &logBuffer{}}
	r.cmd = exec.Command(bin, "serve", "--config", cfgPath, "--watch-interval", "0")
	r.cmd.Env = env
	r.cmd.Stderr = r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = r.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = r.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("replica %d logs:\n%s", n, r.logs)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for r.base == "" {
		for line := range strings.SplitSeq(r.logs.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				r.base = "http://" + rec.Addr
			}
		}
		if r.cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("replica %d did not start:\n%s", n, r.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}
