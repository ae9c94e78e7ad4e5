package failures_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/sw1"
)

// The slow-client and reload tests need the real http.Server and file
// watcher of `signet serve`: they run the binary.

func buildSignet(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "signet")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/signet")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type proc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	base string
}

func startSignet(t *testing.T, bin, cfgPath string) *proc {
	t.Helper()
	p := &proc{logs: &syncBuffer{}}
	p.cmd = exec.Command(bin, "serve", "--config", cfgPath, "--watch-interval", "0")
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("signet logs:\n%s", p.logs)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for p.base == "" {
		for line := range strings.SplitSeq(p.logs.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				p.base = "http://" + rec.Addr
			}
		}
		if p.cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("signet did not start:\n%s", p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

func writeConfig(t *testing.T, path, doc string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

func serveConfig(upstream string, keys ...string) string {
	doc := "listen: 127.0.0.1:0\nlimits:\n  read_header_timeout: 500ms\nkeys:\n"
	for _, k := range keys {
		doc += "  - id: " + k + "\n    secrets: [\"" + secret + "-" + k + "\"]\n    upstreams:\n      - origin: \"" + upstream + "\"\n"
	}
	return doc
}

func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildSignet(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer up.Close()
	cfgPath := filepath.Join(t.TempDir(), "signet.yaml")
	writeConfig(t, cfgPath, serveConfig(up.URL, "a", "b"))
	p := startSignet(t, bin, cfgPath)
	client := newClient()
	defer client.CloseIdleConnections()
	get := func(key string) int {
		t.Helper()
		u, err := sw1.Presign(sw1.PresignOptions{KeyID: key, Secret: secret + "-" + key, Gateway: p.base, Target: up.URL + "/x"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}

	t.Run("slowloris headers are cut by read_header_timeout", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		var cut time.Duration
		for i := range 40 { // one header line every 100ms: never finishing
			time.Sleep(100 * time.Millisecond)
			if _, err := io.WriteString(conn, "X-Slow-"+itoa(int64(i))+": y\r\n"); err != nil {
				cut = time.Since(start)
				break
			}
			_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				cut = time.Since(start)
				break
			}
		}
		if cut == 0 {
			t.Fatal("the server kept a connection trickling headers for 4s (read_header_timeout is 500ms)")
		}
		t.Logf("slow header connection cut after %v", cut.Round(time.Millisecond))
		if cut > 3*time.Second {
			t.Errorf("cut after %v, want about 500ms", cut)
		}
	})

	t.Run("reload with an invalid file keeps the old config", func(t *testing.T) {
		if s := get("a"); s != 200 {
			t.Fatalf("before: %d", s)
		}
		writeConfig(t, cfgPath, "keys: [this is: not valid\n")
		_ = p.cmd.Process.Signal(syscall.SIGHUP)
		waitFor(t, p.logs, "config reload failed")
		if s := get("a"); s != 200 {
			t.Errorf("after a bad reload: %d, want the old config serving", s)
		}
		if s := get("b"); s != 200 {
			t.Errorf("after a bad reload, key b: %d", s)
		}
	})

	t.Run("reload that removes a key rejects its next request", func(t *testing.T) {
		writeConfig(t, cfgPath, serveConfig(up.URL, "a"))
		_ = p.cmd.Process.Signal(syscall.SIGHUP)
		waitFor(t, p.logs, "config reloaded")
		if s := get("b"); s != 401 {
			t.Errorf("removed key b: %d, want 401", s)
		}
		if s := get("a"); s != 200 {
			t.Errorf("kept key a: %d", s)
		}
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func waitFor(t *testing.T, logs *syncBuffer, msg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), msg) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the logs", msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
