package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, c := range loadVectors(f).GeneratedCases {
		if c.Output.Authorization != "" {
			f.Add(c.Output.Authorization)
		}
	}
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request,SignedHeaders=host,Signature=" + strings.Repeat("0", 64))
	f.Add("AWS4-HMAC-SHA256 Credential=x/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=, Signature=")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAuthorization(s)
		if err != nil {
			if !errors.Is(err, signet.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if a.Credential.KeyID == "" || len(a.Signature) != 64 || len(a.SignedHeaders) == 0 {
			t.Fatalf("accepted %q as %+v", s, a)
		}
	})
}

// FuzzVerify signs a fuzzed request with Signer (header or pre-signed form)
// and checks that it verifies and that changing one byte of the signature,
// or of the path, fails.
func FuzzVerify(f *testing.F) {
	for _, c := range loadVectors(f).GeneratedCases {
		q, _ := json.Marshal(c.Input.Query)
		f.Add(c.Input.Method, wirePath(c.Input.Path), string(q), c.Input.Headers["X-Custom"], "body", c.Input.Op == "presign")
	}
	f.Add("GET", "/", "a=1&b=%20", "x", "", false)
	f.Fuzz(func(t *testing.T, method, path, query, hval, body string, pre bool) {
		target := "/" + strings.TrimLeft(path, "/")
		if query != "" {
			target += "?" + query
		}
		if !validMethod(method) {
			return
		}
		r, ok := safeRequest(method, target, body)
		if !ok {
			return
		}
		if hval = strings.Trim(hval, " \t"); hval != "" && validHeaderValue(hval) {
			r.Header.Set("X-Custom", hval)
		}
		now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		s := &Signer{KeyID: "AKID", Secret: "s3cr3t", Now: func() time.Time { return now }}
		v := &Verifier{Now: func() time.Time { return now }}
		keys := signet.StaticKeys{"AKID": {ID: "AKID", Secrets: []string{"s3cr3t"}}}
		if _, err := v.Verify(context.Background(), r.Clone(context.Background()), keys); err != nil && !errors.As(err, new(*signet.Error)) {
			t.Fatalf("unsigned request: %v is not a *signet.Error", err)
		}
		var sr = r
		if pre {
			if _, hasAmz := r.URL.Query()["X-Amz-Signature"]; hasAmz {
				return
			}
			u, err := s.Presign(r, time.Hour)
			if err != nil {
				return
			}
			sr, ok = safeRequest(method, u[strings.Index(u, "://")+3+len(r.Host):], body)
			if !ok {
				t.Fatalf("presigned URL %q is not a valid request", u)
			}
			sr.Host = r.Host
			sr.Header = r.Header.Clone()
		} else if err := s.SignRequest(r); err != nil {
			return
		}
		ver, err := v.Verify(context.Background(), sr.Clone(context.Background()), keys)
		if err != nil {
			if errors.Is(err, signet.ErrMalformed) {
				return // e.g. a query the strict parser refuses
			}
			t.Fatalf("sign then verify of %s %q: %v", method, target, err)
		}
		sig := ver.Signature
		flipped := sig[:10] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", sig[10])+1)%16]) + sig[11:]
		bad := sr.Clone(context.Background())
		if pre {
			bad.URL.RawQuery = strings.Replace(bad.URL.RawQuery, sig, flipped, 1)
		} else {
			bad.Header.Set("Authorization", strings.Replace(bad.Header.Get("Authorization"), sig, flipped, 1))
		}
		if _, err := v.Verify(context.Background(), bad, keys); !errors.Is(err, signet.ErrMismatch) {
			t.Fatalf("flipped signature: got %v, want ErrMismatch", err)
		}
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 && s[i] != '\t' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// safeRequest builds a server-side request, refusing targets httptest
// would panic on.
func safeRequest(method, target, body string) (r *http.Request, ok bool) {
	defer func() {
		if recover() != nil {
			r, ok = nil, false
		}
	}()
	r = httptest.NewRequest(method, "http://api.example.com"+target, strings.NewReader(body))
	if body == "" {
		r.Body = http.NoBody
	}
	return r, r.URL.Opaque == "" && strings.HasPrefix(r.URL.Path, "/")
}
