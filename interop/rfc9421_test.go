package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/rfc9421"
)

const rfc9421Now = 1700000000 // the node signer's and verifier's frozen clock

// rfc9421Node skips unless SIGNET_INTEROP=1; once asked for, a missing node
// or a missing http-message-signatures is a failure.
func rfc9421Node(t *testing.T) string {
	t.Helper()
	if os.Getenv("SIGNET_INTEROP") != "1" {
		t.Skip("set SIGNET_INTEROP=1 after `npm ci --prefix interop` to run the npm interop tests")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("SIGNET_INTEROP=1 but node is not on PATH: %v", err)
	}
	if _, err := os.Stat(filepath.Join("node_modules", "http-message-signatures", "package.json")); err != nil {
		t.Fatalf("SIGNET_INTEROP=1 but interop/node_modules/http-message-signatures is missing (run `npm ci --prefix interop`): %v", err)
	}
	return node
}

func rfc9421Env(t *testing.T, name string, def int) int {
	t.Helper()
	if s := os.Getenv(name); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", name, s, err)
		}
		return n
	}
	return def
}

// rfc9421Case is one line of rfc9421_sign.js's output.
type rfc9421Case struct {
	Name         string      `json:"name"`
	Alg          string      `json:"alg"`
	KeyID        string      `json:"key_id"`
	Secret       *string     `json:"secret"`
	PublicKeyPEM string      `json:"public_key_pem"`
	Method       string      `json:"method"`
	Target       string      `json:"target"`
	Host         string      `json:"host"`
	HTTPS        bool        `json:"https"`
	Headers      [][2]string `json:"headers"`
	Body         string      `json:"body"`
	Fields       []string    `json:"fields"`
	Now          int64       `json:"now"`
}

func (c *rfc9421Case) request(t *testing.T) *http.Request {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", c.Method, c.Target)
	for _, h := range c.Headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	b.WriteString(c.Body)
	r, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		t.Fatalf("http.ReadRequest: %v", err)
	}
	if c.HTTPS {
		r.TLS = &tls.ConnectionState{}
	}
	return r
}

func (c *rfc9421Case) keys(t *testing.T) signet.StaticKeys {
	t.Helper()
	k := &signet.Key{ID: c.KeyID}
	if c.Secret != nil {
		s, err := base64.StdEncoding.DecodeString(*c.Secret)
		if err != nil {
			t.Fatal(err)
		}
		k.Secrets = []string{"previous", string(s)}
	} else {
		block, _ := pem.Decode([]byte(c.PublicKeyPEM))
		if block == nil {
			t.Fatal("no PEM block")
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		k.PublicKey = pub
	}
	return signet.StaticKeys{k.ID: k}
}

func (c *rfc9421Case) covers(field string) bool {
	for _, f := range c.Fields {
		if f == field {
			return true
		}
	}
	return false
}

// TestRFC9421NodeSignedVerifiesWithSignet: requests signed by
// http-message-signatures verify with rfc9421.Verifier (default policy),
// and every tampered part fails with its sentinel.
func TestRFC9421NodeSignedVerifiesWithSignet(t *testing.T) {
	node := rfc9421Node(t)
	seed := rfc9421Env(t, "SIGNET_INTEROP_SEED", 20240611)
	count := rfc9421Env(t, "SIGNET_INTEROP_COUNT", 300)
	out, err := exec.Command(node, "rfc9421_sign.js", strconv.Itoa(seed), strconv.Itoa(count), strconv.Itoa(rfc9421Now)).Output()
	if err != nil {
		t.Fatalf("rfc9421_sign.js: %v", err)
	}
	var cases []rfc9421Case
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var c rfc9421Case
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		cases = append(cases, c)
	}
	if len(cases) < 100 {
		t.Fatalf("got %d cases, want at least 100", len(cases))
	}
	perAlg := map[string]int{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			keys := c.keys(t)
			v := &rfc9421.Verifier{Now: func() time.Time { return time.Unix(c.Now, 0) }}
			verify := func(r *http.Request) error {
				ver, err := v.Verify(context.Background(), r, keys)
				if err != nil {
					return err
				}
				if ver.Algorithm != c.Alg || ver.KeyID != c.KeyID {
					t.Errorf("Verified %s %s, want %s %s", ver.Algorithm, ver.KeyID, c.Alg, c.KeyID)
				}
				_, err = io.Copy(io.Discard, r.Body)
				return err
			}
			r := c.request(t)
			if err := verify(r); err != nil {
				t.Fatalf("Verify: %v\n%s %s\n%v\nbody %q", err, c.Method, c.Target, c.Headers, c.Body)
			}
			perAlg[c.Alg]++

			type tamper struct {
				name    string
				apply   func(r *http.Request)
				want    error
				applies bool
			}
			flip := func(r *http.Request) {
				label, val, _ := strings.Cut(r.Header.Get("Signature"), "=")
				raw, _ := base64.StdEncoding.DecodeString(strings.Trim(val, ":"))
				raw[len(raw)/2] ^= 0x10
				r.Header.Set("Signature", label+"=:"+base64.StdEncoding.EncodeToString(raw)+":")
			}
			for _, tt := range []tamper{
				{"signature", flip, signet.ErrMismatch, true},
				{"method", func(r *http.Request) { r.Method = map[bool]string{true: "PUT", false: "GET"}[r.Method == "GET"] }, signet.ErrMismatch, true},
				{"path", func(r *http.Request) { r.RequestURI = "/tampered" + r.RequestURI }, signet.ErrMismatch, true},
				{"authority", func(r *http.Request) { r.Host = "evil.example" }, signet.ErrMismatch, true},
				{"query", func(r *http.Request) { r.RequestURI += "&z=1" }, signet.ErrMismatch, strings.Contains(c.Target, "?")},
				{"x-custom", func(r *http.Request) { r.Header.Set("X-Custom", "changed") }, signet.ErrMismatch, c.covers(`"x-custom"`) || c.covers(`"x-custom";bs`)},
				{"date removed", func(r *http.Request) { r.Header.Del("Date") }, signet.ErrMissingHeader, c.covers(`"date"`)},
				{"body", func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(c.Body + "x")) }, signet.ErrDigest, c.Body != ""},
				{"keyid", func(r *http.Request) {
					r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), c.KeyID, "nobody", 1))
				}, signet.ErrUnknownKey, true},
				{"expired", func(*http.Request) {}, signet.ErrExpired, true},
			} {
				if !tt.applies {
					continue
				}
				r := c.request(t)
				tt.apply(r)
				vv := v
				if tt.name == "expired" {
					vv = &rfc9421.Verifier{Now: func() time.Time { return time.Unix(c.Now+301, 0) }}
				}
				ver, err := vv.Verify(context.Background(), r, keys)
				if err == nil && ver != nil {
					_, err = io.Copy(io.Discard, r.Body)
				}
				if !errors.Is(err, tt.want) {
					t.Errorf("tampered %s: err = %v, want %v", tt.name, err, tt.want)
				}
			}
		})
	}
	t.Logf("verified per algorithm: %v", perAlg)
}

type rfc9421VerifyReq struct {
	ID           int         `json:"id"`
	Method       string      `json:"method"`
	URL          string      `json:"url"`
	Headers      [][2]string `json:"headers"`
	Alg          string      `json:"alg"`
	KeyID        string      `json:"key_id"`
	Secret       *string     `json:"secret,omitempty"`
	PublicKeyPEM string      `json:"public_key_pem,omitempty"`
	Now          int64       `json:"now"`
	want         bool
	desc         string
}

type rfc9421VerifyResult struct {
	ID    int    `json:"id"`
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// TestRFC9421SignetSignedVerifiesWithNode: requests signed by rfc9421.Signer
// verify with http-message-signatures' verifyMessage; tampered copies fail.
func TestRFC9421SignetSignedVerifiesWithNode(t *testing.T) {
	node := rfc9421Node(t)
	seed := rfc9421Env(t, "SIGNET_INTEROP_SEED", 20240611)
	count := rfc9421Env(t, "SIGNET_INTEROP_COUNT", 300)
	rng := mrand.New(mrand.NewPCG(uint64(seed), 9421))
	pick := func(a []string) string { return a[rng.IntN(len(a))] }

	type keyPair struct {
		signer *rfc9421.Signer
		req    rfc9421VerifyReq
	}
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	secret := "0123456789abcdef0123456789abcdef"
	secretB64 := base64.StdEncoding.EncodeToString([]byte(secret))
	pemOf := func(pub crypto.PublicKey) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	pairs := []keyPair{
		{&rfc9421.Signer{Secret: secret, Algorithm: rfc9421.AlgHMACSHA256}, rfc9421VerifyReq{Secret: &secretB64}},
		{&rfc9421.Signer{PrivateKey: edPriv, Algorithm: rfc9421.AlgEd25519}, rfc9421VerifyReq{PublicKeyPEM: pemOf(edPriv.Public())}},
		{&rfc9421.Signer{PrivateKey: p256, Algorithm: rfc9421.AlgECDSAP256SHA256}, rfc9421VerifyReq{PublicKeyPEM: pemOf(p256.Public())}},
		{&rfc9421.Signer{PrivateKey: p384, Algorithm: rfc9421.AlgECDSAP384SHA384}, rfc9421VerifyReq{PublicKeyPEM: pemOf(p384.Public())}},
		{&rfc9421.Signer{PrivateKey: rsaKey, Algorithm: rfc9421.AlgRSAPSSSHA512}, rfc9421VerifyReq{PublicKeyPEM: pemOf(rsaKey.Public())}},
		{&rfc9421.Signer{PrivateKey: rsaKey, Algorithm: rfc9421.AlgRSAV15SHA256}, rfc9421VerifyReq{PublicKeyPEM: pemOf(rsaKey.Public())}},
	}

	var reqs []rfc9421VerifyReq
	for i := 0; i < count; i++ {
		kp := pairs[i%len(pairs)]
		s := *kp.signer
		s.KeyID = "k-" + s.Algorithm
		s.Now = func() time.Time { return time.Unix(rfc9421Now, 0) }
		s.Label = pick([]string{"sig1", "sig", "a"})
		s.Expires = 5 * time.Minute
		if rng.IntN(2) == 0 {
			s.Nonce = func() string { return "n" + strconv.Itoa(i) }
		}
		if rng.IntN(3) == 0 {
			s.Tag = "app"
		}
		s.DigestAlgorithm = pick([]string{"sha-256", "sha-512"})
		method := pick([]string{"GET", "POST", "PUT", "DELETE", "PATCH"})
		scheme := pick([]string{"http", "https"})
		host := pick([]string{"api.example.com", "localhost:8080", "127.0.0.1:8443", "example.org"})
		path := pick([]string{"/", "/v1/items", "/a/b%20c", "/~user/x.json", "/caf%C3%A9", "/a;b=c/d:e@f"})
		query := pick([]string{"", "a=1", "a=1&b=two", "q=x%20y&Pet=dog", "limit=10&offset=20"})
		u := scheme + "://" + host + path
		if query != "" {
			u += "?" + query
		}
		var body io.Reader
		if method != "GET" && method != "DELETE" && rng.IntN(4) != 0 {
			body = strings.NewReader(`{"n":` + strconv.Itoa(i) + `,"s":"caf` + "\u00e9" + `"}`)
		}
		r, err := http.NewRequest(method, u, body)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Custom", "v "+strconv.Itoa(i))
		r.Header.Set("X-Dict", `a=1, b="two";p=?0`)
		var comps []string
		if rng.IntN(3) != 0 {
			comps = []string{"@method", "@authority", "@path"}
			for _, c := range []string{"@query", "@target-uri", "@scheme", "@request-target", "content-type", "x-custom", `x-dict;key="b"`, "x-dict;sf", "x-custom;bs"} {
				if (c != "@query" || query != "") && rng.IntN(3) == 0 {
					comps = append(comps, c)
				}
			}
			if query != "" {
				name, _, _ := strings.Cut(query, "=")
				if rng.IntN(2) == 0 {
					comps = append(comps, `@query-param;name="`+name+`"`)
				}
			}
			if body != nil {
				comps = append(comps, "content-digest")
			}
		}
		s.Components = comps
		if err := s.SignRequest(r); err != nil {
			t.Fatal(err)
		}
		vr := kp.req
		vr.Method, vr.URL, vr.Alg, vr.KeyID, vr.Now, vr.want = r.Method, scheme+"://"+host+r.URL.RequestURI(), s.Algorithm, s.KeyID, rfc9421Now, true
		vr.Headers = [][2]string{{"Host", host}}
		for name, vs := range r.Header {
			for _, v := range vs {
				vr.Headers = append(vr.Headers, [2]string{name, v})
			}
		}
		vr.desc = fmt.Sprintf("%s %s %s components %q", s.Algorithm, method, vr.URL, comps)
		vr.ID = len(reqs)
		reqs = append(reqs, vr)
		// Tampered copies: one signature bit, the path, a signed header.
		bad := vr
		bad.Headers = append([][2]string(nil), vr.Headers...)
		for j, h := range bad.Headers {
			if h[0] == "Signature" {
				label, val, _ := strings.Cut(h[1], "=")
				raw, _ := base64.StdEncoding.DecodeString(strings.Trim(val, ":"))
				raw[0] ^= 1
				bad.Headers[j][1] = label + "=:" + base64.StdEncoding.EncodeToString(raw) + ":"
			}
		}
		bad.ID, bad.want, bad.desc = len(reqs), false, vr.desc+" (signature bit)"
		reqs = append(reqs, bad)
		bad2 := vr
		bad2.URL = scheme + "://" + host + "/tampered" + r.URL.RequestURI()
		bad2.ID, bad2.want, bad2.desc = len(reqs), false, vr.desc+" (path)"
		reqs = append(reqs, bad2)
	}

	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, r := range reqs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, "rfc9421_verify.js")
	cmd.Stdin = &in
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rfc9421_verify.js: %v", err)
	}
	results := map[int]rfc9421VerifyResult{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var res rfc9421VerifyResult
		if err := json.Unmarshal(line, &res); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		results[res.ID] = res
	}
	accepted := 0
	for _, r := range reqs {
		res, ok := results[r.ID]
		if !ok {
			t.Errorf("no result for %d: %s", r.ID, r.desc)
			continue
		}
		if res.OK != r.want {
			t.Errorf("http-message-signatures ok=%v (%s), want %v: %s", res.OK, res.Error, r.want, r.desc)
		}
		if res.OK && r.want {
			accepted++
		}
	}
	t.Logf("http-message-signatures accepted %d of %d Signet-signed requests and refused their %d tampered copies", accepted, count, 2*count)
}
