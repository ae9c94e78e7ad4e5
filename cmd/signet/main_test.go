package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runCLI runs the CLI as the binary would and returns its exit code.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	var ex *exitError
	switch {
	case err == nil:
		code = 0
	case errors.As(err, &ex):
		code = ex.code
	default:
		code = 1
		errOut.WriteString(err.Error())
	}
	return code, out.String(), errOut.String()
}

// The Signway Rust signer's known answer (testdata/sw1.json).
const (
	knownSW1URL = "http://localhost:3000/?X-Sw-Algorithm=SW1-HMAC-SHA256&X-Sw-Credential=foo%2F19700101&X-Sw-Date=19700101T000000Z&X-Sw-Expires=600&X-Sw-Proxy=https%3A%2F%2Fgithub.com%2F&X-Sw-SignedHeaders=&X-Sw-Body=false&X-Sw-Signature=ed15db76d806155fd5119e093a0f030063c90d943dfdd27e011a9044a77a90a6"
	knownSW1Sig = "ed15db76d806155fd5119e093a0f030063c90d943dfdd27e011a9044a77a90a6"
)

func TestSignURLKnownAnswer(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "", "sign-url", "--id", "foo", "--secret", "secret",
		"--gateway", "http://localhost:3000", "--target", "https://github.com/",
		"--expires", "10m", "--method", "POST", "--at", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != knownSW1URL+"\n" {
		t.Errorf("got %q, want %q", out, knownSW1URL+"\n")
	}
}

func TestSignURLSecretFromEnv(t *testing.T) {
	for _, name := range []string{"SIGNET_SECRET", "SW_SECRET"} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, map[string]string{name: "secret", "SW_ID": "foo"}, "", "sign-url",
				"--gateway", "http://localhost:3000", "--target", "https://github.com/",
				"--expires", "600s", "--method", "POST", "--at", "1970-01-01T00:00:00Z")
			if code != 0 || out != knownSW1URL+"\n" {
				t.Errorf("exit %d, got %q (stderr %s)", code, out, errOut)
			}
		})
	}
}

func TestVerifyURL(t *testing.T) {
	tampered := strings.Replace(knownSW1URL, "github.com", "evil.example", 1)
	tests := []struct {
		name   string
		url    string
		at     string
		method string
		code   int
		want   string
	}{
		{"valid", knownSW1URL, "300", "POST", 0, "ok id=foo scheme=sw1\n"},
		{"boundary", knownSW1URL, "600", "POST", 0, "ok id=foo scheme=sw1\n"},
		{"expired", knownSW1URL, "601", "POST", 1, "fail reason=expired\n"},
		{"wrong method", knownSW1URL, "300", "GET", 1, "fail reason=signature_mismatch\n"},
		{"tampered target", tampered, "300", "POST", 1, "fail reason=signature_mismatch\n"},
		{"not signed", "http://localhost:3000/x", "300", "GET", 1, "fail reason=no_signature\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, "", "verify", "--id", "foo", "--secret", "secret",
				"--at", tt.at, "--method", tt.method, tt.url)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.code, out, errOut)
			}
			if !strings.HasPrefix(out, tt.want) {
				t.Errorf("got %q, want prefix %q", out, tt.want)
			}
			if tt.code != 0 && len(strings.TrimSpace(strings.TrimPrefix(out, tt.want))) == 0 {
				t.Errorf("no explanation after the reason: %q", out)
			}
			for _, secret := range []string{"secret\n", "=secret", knownSW1Sig} {
				if tt.name == "tampered target" && strings.Contains(out+errOut, secret) {
					t.Errorf("output reveals %q: %q", secret, out+errOut)
				}
			}
		})
	}
}

// reqsig known answer from the Java request-signer's tests.
func TestSignReqSigKnownAnswer(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "", "sign", "--scheme", "reqsig", "--id", "aaa-bbb-ccc",
		"--secret", "secret-aaa-bbb-ccc", "--method", "GET", "--url", "https://api.com/search?product_id=prd1",
		"--at", "2020-04-01T09:23:59.477Z")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "Authorization: REQUEST-SIGNATURE ApiKey=aaa-bbb-ccc,ApiVersion=v1,SignedHost=true,Timestamp=1585733039477,Signature=kqZmfo4_lfLoAhmlg0XNFWbygQ7GRnTbjBBOcAVu_po\n"
	if out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// cavage known answer (testdata/cavage.json).
const cavageKnownSig = `signature="g+GNqWOXhigFV9ujbZN50J54HDeNZa1L4Bom+HIozqE="`

func TestSignCavageKnownAnswer(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "", "sign", "--scheme", "cavage", "--id", "kids",
		"--secret", "PennyLunaLuka", "--method", "GET",
		"--url", "http://example.org/signature-prototype-1.0-SNAPSHOT/api/colors/preferred",
		"--header", "Date: Tue, 07 Jun 2014 20:51:35 GMT", "--sign-headers", "(request-target) date")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "Authorization: Signature ") || !strings.Contains(out, cavageKnownSig) ||
		!strings.Contains(out, `keyId="kids"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("got %q, want one Authorization line with %s", out, cavageKnownSig)
	}
}

func TestSignThenVerifyRequest(t *testing.T) {
	for _, scheme := range []string{"reqsig", "cavage"} {
		t.Run(scheme, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, "", "sign", "--scheme", scheme, "--id", "app", "--secret", "s3cr3t",
				"--method", "POST", "--url", "http://api.example/v1/items?limit=2", "--body", `{"a":1}`,
				"--at", "1700000000")
			if code != 0 {
				t.Fatalf("sign exit %d: %s", code, errOut)
			}
			raw := "POST /v1/items?limit=2 HTTP/1.1\r\nHost: api.example\r\nContent-Length: 7\r\n" +
				strings.ReplaceAll(out, "\n", "\r\n") + "\r\n" + `{"a":1}`
			code, vout, verr := runCLI(t, nil, raw, "verify", "--id", "app", "--secret", "s3cr3t",
				"--at", "1700000060", "--request", "-")
			if code != 0 || vout != "ok id=app scheme="+scheme+"\n" {
				t.Fatalf("verify exit %d: %q %q\nrequest:\n%s", code, vout, verr, raw)
			}
			// A different body must fail for cavage (digest) and pass for
			// reqsig, which does not sign the body.
			bad := strings.Replace(raw, `{"a":1}`, `{"a":2}`, 1)
			code, vout, _ = runCLI(t, nil, bad, "verify", "--id", "app", "--secret", "s3cr3t",
				"--at", "1700000060", "--request", "-")
			if scheme == "cavage" && (code != 1 || !strings.HasPrefix(vout, "fail reason=digest_mismatch")) {
				t.Errorf("tampered body: exit %d %q, want digest_mismatch", code, vout)
			}
			if strings.Contains(vout, "s3cr3t") {
				t.Errorf("secret printed: %q", vout)
			}
			// Late verification fails.
			code, vout, _ = runCLI(t, nil, raw, "verify", "--id", "app", "--secret", "s3cr3t",
				"--at", "1700001000", "--request", "-")
			if code != 1 || !strings.HasPrefix(vout, "fail reason=expired") {
				t.Errorf("late: exit %d %q, want expired", code, vout)
			}
		})
	}
}

func TestSignCurl(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "", "sign", "--scheme", "reqsig", "--id", "app", "--secret", "s",
		"--method", "POST", "--url", "https://api.example/it's", "--body", "x'y", "--at", "1700000000", "--curl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := regexp.MustCompile(`^curl -X 'POST' -H 'Authorization: REQUEST-SIGNATURE ApiKey=app,[^']+' --data-binary 'x'\\''y' 'https://api.example/it'\\''s'\n$`)
	if !want.MatchString(out) {
		t.Errorf("got %q", out)
	}
}

func TestSignSW1PrintsURL(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "", "sign", "--scheme", "sw1", "--id", "foo", "--secret", "secret",
		"--gateway", "http://localhost:3000", "--method", "POST", "--url", "https://github.com/", "--expires", "10m", "--at", "0")
	if code != 0 || out != knownSW1URL+"\n" {
		t.Errorf("exit %d, got %q (stderr %s)", code, out, errOut)
	}
}

func TestKeygen(t *testing.T) {
	line := regexp.MustCompile(`^SIGNET_ID=key_[0-9a-f]{16}\nSIGNET_SECRET=[A-Za-z0-9_-]{43}\n$`)
	_, first, _ := runCLI(t, nil, "", "keygen")
	_, second, _ := runCLI(t, nil, "", "keygen")
	if !line.MatchString(first) {
		t.Errorf("got %q", first)
	}
	if first == second {
		t.Error("two keygen runs printed the same key")
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{},
		{"frobnicate"},
		{"sign-url", "--id", "x", "--secret", "y"},
		{"sign", "--id", "x", "--secret", "y", "--url", "http://a/"},
		{"sign", "--scheme", "rot13", "--id", "x", "--secret", "y", "--url", "http://a/"},
		{"verify", "--id", "x"},
		{"verify", "--id", "x", "--secret", "y"},
		{"sign-url", "--at", "yesterday"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, nil, "", args...)
			if code != 2 || errOut == "" {
				t.Errorf("exit %d, stderr %q; want exit 2 with a message", code, errOut)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"sign-url", "sign", "verify", "keygen"} {
		code, _, errOut := runCLI(t, nil, "", cmd, "--help")
		if code != 0 || !strings.Contains(errOut, "signet "+cmd) {
			t.Errorf("%s --help: exit %d, %q", cmd, code, errOut)
		}
	}
}

// signRaw signs a POST with the CLI and returns the raw HTTP/1.1 request.
func signRaw(t *testing.T, args ...string) string {
	t.Helper()
	base := []string{"sign", "--id", "app", "--method", "POST", "--url", "http://api.example/v1/items?limit=2",
		"--body", `{"a":1}`, "--at", "1700000000"}
	code, out, errOut := runCLI(t, nil, "", append(base, args...)...)
	if code != 0 {
		t.Fatalf("sign exit %d: %s", code, errOut)
	}
	return "POST /v1/items?limit=2 HTTP/1.1\r\nHost: api.example\r\nContent-Length: 7\r\n" +
		strings.ReplaceAll(out, "\n", "\r\n") + "\r\n" + `{"a":1}`
}

func TestSignVerifyRFC9421(t *testing.T) {
	raw := signRaw(t, "--scheme", "rfc9421", "--secret", "s3cr3t")
	if !strings.Contains(raw, "Signature-Input: sig1=") || !strings.Contains(raw, "Content-Digest: sha-256=") {
		t.Fatalf("missing RFC 9421 fields:\n%s", raw)
	}
	verify := func(req string, at string) (int, string) {
		code, out, _ := runCLI(t, nil, req, "verify", "--id", "app", "--secret", "s3cr3t", "--at", at, "--request", "-")
		return code, out
	}
	if code, out := verify(raw, "1700000030"); code != 0 || out != "ok id=app scheme=rfc9421\n" {
		t.Errorf("verify: exit %d %q", code, out)
	}
	if code, out := verify(strings.Replace(raw, `{"a":1}`, `{"a":2}`, 1), "1700000030"); code != 1 || !strings.HasPrefix(out, "fail reason=digest_mismatch") {
		t.Errorf("tampered body: exit %d %q", code, out)
	}
	if code, out := verify(strings.Replace(raw, "limit=2", "limit=3", 1), "1700000030"); code != 1 || !strings.HasPrefix(out, "fail reason=signature_mismatch") {
		t.Errorf("tampered query: exit %d %q", code, out)
	}
	if code, out := verify(raw, "1700001000"); code != 1 || !strings.HasPrefix(out, "fail reason=expired") {
		t.Errorf("late: exit %d %q", code, out)
	}
}

func TestSignVerifyWithKeyPair(t *testing.T) {
	for _, typ := range []string{"ed25519", "ecdsa-p256", "rsa"} {
		for _, scheme := range []string{"cavage", "rfc9421"} {
			t.Run(typ+"/"+scheme, func(t *testing.T) {
				prefix := filepath.Join(t.TempDir(), "k")
				if code, _, errOut := runCLI(t, nil, "", "keygen", "--type", typ, "--out", prefix, "--bits", "2048"); code != 0 {
					t.Fatalf("keygen: %s", errOut)
				}
				raw := signRaw(t, "--scheme", scheme, "--private-key", prefix+".key")
				code, out, errOut := runCLI(t, nil, raw, "verify", "--id", "app", "--public-key", prefix+".pub",
					"--at", "1700000030", "--request", "-")
				if code != 0 || out != "ok id=app scheme="+scheme+"\n" {
					t.Fatalf("verify: exit %d %q %q\n%s", code, out, errOut, raw)
				}
				// Another key pair's public key must not verify it.
				other := filepath.Join(t.TempDir(), "o")
				runCLI(t, nil, "", "keygen", "--type", typ, "--out", other, "--bits", "2048")
				code, out, _ = runCLI(t, nil, raw, "verify", "--id", "app", "--public-key", other+".pub",
					"--at", "1700000030", "--request", "-")
				if code != 1 || !strings.HasPrefix(out, "fail reason=signature_mismatch") {
					t.Errorf("wrong key: exit %d %q", code, out)
				}
			})
		}
	}
}

func TestSignVerifySigV4(t *testing.T) {
	raw := signRaw(t, "--scheme", "sigv4", "--secret", "s3cr3t", "--region", "eu-west-1", "--service", "signet")
	if !strings.Contains(raw, "Authorization: AWS4-HMAC-SHA256 Credential=app/20231114/eu-west-1/signet/aws4_request") {
		t.Fatalf("unexpected request:\n%s", raw)
	}
	verify := func(req string, args ...string) (int, string) {
		code, out, _ := runCLI(t, nil, req, append([]string{"verify", "--id", "app", "--secret", "s3cr3t",
			"--at", "1700000030", "--request", "-"}, args...)...)
		return code, out
	}
	if code, out := verify(raw, "--region", "eu-west-1", "--service", "signet"); code != 0 || out != "ok id=app scheme=sigv4\n" {
		t.Errorf("verify: exit %d %q", code, out)
	}
	if code, out := verify(raw); code != 1 || strings.HasPrefix(out, "ok") {
		t.Errorf("other scope accepted: exit %d %q", code, out)
	}
	if code, out := verify(strings.Replace(raw, "limit=2", "limit=3", 1), "--region", "eu-west-1", "--service", "signet"); code != 1 || !strings.HasPrefix(out, "fail reason=signature_mismatch") {
		t.Errorf("tampered query: exit %d %q", code, out)
	}

	code, u, errOut := runCLI(t, nil, "", "sign", "--scheme", "sigv4", "--id", "app", "--secret", "s3cr3t",
		"--url", "http://api.example/v1/items?limit=2", "--presign", "--expires", "5m", "--at", "1700000000")
	if code != 0 || !strings.Contains(u, "X-Amz-Signature=") {
		t.Fatalf("presign: exit %d %q %s", code, u, errOut)
	}
	u = strings.TrimSpace(u)
	code, out, _ := runCLI(t, nil, "", "verify", "--id", "app", "--secret", "s3cr3t", "--at", "1700000200", u)
	if code != 0 || out != "ok id=app scheme=sigv4\n" {
		t.Errorf("presigned verify: exit %d %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "", "verify", "--id", "app", "--secret", "s3cr3t", "--at", "1700000400", u)
	if code != 1 || !strings.HasPrefix(out, "fail reason=expired") {
		t.Errorf("presigned after expiry: exit %d %q", code, out)
	}
}
