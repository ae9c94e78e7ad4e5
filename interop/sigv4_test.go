package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/sigv4"
)

// Defaults for the SigV4 run; SIGNET_INTEROP_SEED and
// SIGNET_INTEROP_SIGV4_COUNT override them. Each package signs count
// header-signed and count pre-signed requests.
const (
	sigv4Seed  = 20240612
	sigv4Count = 120
)

// v4Case is one line of sigv4_sign.js's output.
type v4Case struct {
	Name            string      `json:"name"`
	Pkg             string      `json:"pkg"`
	Op              string      `json:"op"`
	Method          string      `json:"method"`
	Target          string      `json:"target"`
	Headers         [][2]string `json:"headers"`
	Body            string      `json:"body"`
	KeyID           string      `json:"key_id"`
	Secret          string      `json:"secret"`
	Region          string      `json:"region"`
	Service         string      `json:"service"`
	URIEscapePath   bool        `json:"uri_escape_path"`
	UnsignedPayload bool        `json:"unsigned_payload"`
	Now             int64       `json:"now"`
}

func requireSigV4Node(t *testing.T) string {
	t.Helper()
	if os.Getenv("SIGNET_INTEROP") != "1" {
		t.Skip(skipMessage)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("SIGNET_INTEROP=1 but node is not on PATH: %v", err)
	}
	for _, pkg := range []string{"@smithy/signature-v4", "@aws-sdk/signature-v4"} {
		if _, err := os.Stat(filepath.Join("node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("SIGNET_INTEROP=1 but interop/node_modules/%s is missing (run `npm ci --prefix interop`): %v", pkg, err)
		}
	}
	return node
}

func runSigV4Signer(t *testing.T, node string, seed, count int) []*v4Case {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	arg := fmt.Sprintf(`{"seed":%d,"count":%d,"now":%d}`, seed, count, signerNow)
	cmd := exec.CommandContext(ctx, node, "sigv4_sign.js", arg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sigv4_sign.js: %v\n%s", err, stderr.String())
	}
	var cases []*v4Case
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var c v4Case
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("decode signer output: %v\n%s", err, sc.Text())
		}
		cases = append(cases, &c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// raw serialises the request as it goes on the wire.
func (c *v4Case) raw() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", c.Method, c.Target)
	for _, h := range c.Headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	b.WriteString(c.Body)
	return b.Bytes()
}

func (c *v4Case) request(t *testing.T) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(c.raw())))
	if err != nil {
		t.Fatalf("http.ReadRequest of %s %q: %v", c.Method, c.Target, err)
	}
	return r
}

func (c *v4Case) verifier() *sigv4.Verifier {
	return &sigv4.Verifier{
		Now:                    func() time.Time { return time.Unix(c.Now+5, 0) },
		Region:                 c.Region,
		Service:                c.Service,
		DisableURIPathEscaping: !c.URIEscapePath,
	}
}

// keys holds the case's secret behind an older one (rotation in progress).
func (c *v4Case) keys() signet.StaticKeys {
	return signet.StaticKeys{c.KeyID: {ID: c.KeyID, Secrets: []string{"previous-" + c.Secret, c.Secret}}}
}

// verifyV4 verifies and reads the body to EOF, where a streamed payload hash
// check reports.
func verifyV4(c *v4Case, r *http.Request) (*signet.Verified, error) {
	ver, err := c.verifier().Verify(context.Background(), r, c.keys())
	if err != nil {
		return nil, err
	}
	if r.Body != nil {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return ver, err
		}
	}
	return ver, nil
}

func TestSigV4NPMSignedVerifiesWithSignet(t *testing.T) {
	node := requireSigV4Node(t)
	seed := envInt(t, "SIGNET_INTEROP_SEED", sigv4Seed)
	count := envInt(t, "SIGNET_INTEROP_SIGV4_COUNT", sigv4Count)
	cases := runSigV4Signer(t, node, seed, count)
	if len(cases) != 4*count {
		t.Fatalf("signer produced %d cases, want %d", len(cases), 4*count)
	}
	tally := map[string]int{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ver, err := verifyV4(c, c.request(t))
			if err != nil {
				t.Fatalf("%s %s: %v", c.Method, c.Target, err)
			}
			if ver.SecretIndex != 1 || ver.KeyID != c.KeyID || ver.Algorithm != sigv4.Algorithm {
				t.Errorf("Verified = %+v", ver)
			}
			if ver.BodySigned == c.UnsignedPayload {
				t.Errorf("BodySigned = %v, unsigned payload = %v", ver.BodySigned, c.UnsignedPayload)
			}
			tally[c.Pkg+" "+c.Op]++
			for _, tm := range v4Tampers(c) {
				r := c.request(t)
				tm.apply(r)
				if _, err := verifyV4(c, r); err == nil {
					t.Errorf("tampered %s: verified", tm.name)
				} else if !errors.As(err, new(*signet.Error)) {
					t.Errorf("tampered %s: %v is not a *signet.Error", tm.name, err)
				}
			}
		})
	}
	t.Logf("seed %d: verified %v", seed, tally)
}

type v4Tamper struct {
	name  string
	apply func(r *http.Request)
}

// v4Tampers changes each signed part of the request in turn.
func v4Tampers(c *v4Case) []v4Tamper {
	ts := []v4Tamper{
		{"method", func(r *http.Request) {
			if r.Method == "PATCH" {
				r.Method = "GET"
			} else {
				r.Method = "PATCH"
			}
		}},
		{"path", func(r *http.Request) {
			r.URL.RawPath = ""
			r.URL.Path += "x"
		}},
		{"query added", func(r *http.Request) { r.URL.RawQuery = strings.TrimPrefix(r.URL.RawQuery+"&zz=1", "&") }},
		{"host", func(r *http.Request) { r.Host = "evil.example:1" }},
	}
	if c.Op == "sign" {
		ts = append(ts, v4Tamper{"signature", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+flipHex(a[len(a)-1:]))
		}}, v4Tamper{"x-amz-date", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", time.Unix(c.Now+1, 0).UTC().Format("20060102T150405Z"))
		}})
	} else {
		ts = append(ts, v4Tamper{"signature", func(r *http.Request) {
			q := r.URL.RawQuery
			r.URL.RawQuery = q[:len(q)-1] + flipHex(q[len(q)-1:])
		}}, v4Tamper{"expires", func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=", "X-Amz-Expires=1", 1)
		}})
	}
	if qi := strings.IndexByte(c.Target, '?'); qi >= 0 && !strings.HasPrefix(c.Target[qi+1:], "X-Amz-") {
		ts = append(ts, v4Tamper{"query value", func(r *http.Request) {
			k, rest, _ := strings.Cut(r.URL.RawQuery, "&")
			r.URL.RawQuery = k + "Q&" + rest
		}})
	}
	signed := signedHeaderNames(c)
	for _, h := range c.Headers {
		name := strings.ToLower(h[0])
		if name == "host" || name == "content-length" || !signed[name] {
			continue
		}
		ts = append(ts, v4Tamper{"header " + name, func(r *http.Request) {
			r.Header.Set(h[0], h[1]+"!")
		}})
	}
	if c.Body != "" && !c.UnsignedPayload {
		ts = append(ts, v4Tamper{"body", func(r *http.Request) {
			b := []byte(c.Body)
			b[0] ^= 1
			r.Body = io.NopCloser(bytes.NewReader(b))
		}})
	}
	return ts
}

func signedHeaderNames(c *v4Case) map[string]bool {
	var list string
	for _, h := range c.Headers {
		if strings.EqualFold(h[0], "authorization") {
			_, list, _ = strings.Cut(h[1], "SignedHeaders=")
			list, _, _ = strings.Cut(list, ",")
		}
	}
	if i := strings.Index(c.Target, "X-Amz-SignedHeaders="); i >= 0 {
		list, _, _ = strings.Cut(c.Target[i+len("X-Amz-SignedHeaders="):], "&")
		list = strings.ReplaceAll(list, "%3B", ";")
	}
	m := map[string]bool{}
	for _, n := range strings.Split(list, ";") {
		m[n] = true
	}
	return m
}

func flipHex(s string) string {
	if s == "0" {
		return "1"
	}
	return "0"
}
