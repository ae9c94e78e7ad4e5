package cavage

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/signet-dev/signet"
)

// seedParams adds every recorded signature header to f's corpus.
func seedParams(f *testing.F, add func(params string)) {
	vf := loadVectors(f)
	for _, c := range vf.GeneratedCases {
		add(paramsOf(c.Output.HeaderName, c.Output.HeaderValue))
	}
	add(`keyId="k",headers="",signature="AAEC"`)
	add(`keyId="k" , created="1",opaque="x",signature="AAEC",`)
}

func FuzzParseParams(f *testing.F) {
	seedParams(f, func(p string) { f.Add(p) })
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseParams(s)
		if err != nil {
			var se *signet.Error
			if !errors.As(err, &se) || !errors.Is(err, signet.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if p.KeyID == "" || len(p.Signature) == 0 || len(p.Headers) == 0 {
			t.Fatalf("accepted incomplete params %+v", p)
		}
		for _, h := range p.Headers {
			if h != lower(h) || h == "" || strings.ContainsAny(h, " \t\"") {
				t.Fatalf("header name %q", h)
			}
		}
	})
}

// FuzzVerify feeds arbitrary signature and header values to Verify: it must
// never panic, and it must never accept a signature made without the secret.
func FuzzVerify(f *testing.F) {
	vf := loadVectors(f)
	for _, c := range vf.GeneratedCases {
		f.Add(c.Input.Method, c.Input.Target, c.Output.HeaderName, c.Output.HeaderValue, headerValue(c.Input.Headers, "Date"), headerValue(c.Input.Headers, "Digest"), "body")
	}
	keys := mustKeys(f, &signet.Key{ID: "k", Secrets: []string{"secret"}})
	f.Fuzz(func(t *testing.T, method, target, name, value, date, digest, body string) {
		r := &http.Request{
			Method:     method,
			RequestURI: target,
			Host:       "example.com",
			Header:     http.Header{},
			Body:       io.NopCloser(strings.NewReader(body)),
		}
		r.Header[http.CanonicalHeaderKey(name)] = []string{value}
		r.Header["Date"] = []string{date}
		r.Header["Digest"] = []string{digest}
		v := &Verifier{Now: fixedNow(t0), RequiredHeaders: []string{"digest"}, MaxBody: 64}
		ver, err := v.Verify(context.Background(), r, keys)
		if err == nil {
			t.Fatalf("accepted a forged signature: %+v", ver)
		}
	})
}

// FuzzSignVerify signs arbitrary requests: what Signer signs verifies, and
// any one-byte change of the signature fails.
func FuzzSignVerify(f *testing.F) {
	vf := loadVectors(f)
	for _, c := range vf.GeneratedCases {
		f.Add(c.Input.Target, headerValue(c.Input.Headers, "X-Custom"), strings.Join(c.Input.HeaderNames, " "), "body", uint8(3))
	}
	f.Add("/", "", "", "", uint8(0))
	keys := mustKeys(f, &signet.Key{ID: "k", Secrets: []string{"secret"}})
	f.Fuzz(func(t *testing.T, target, custom, names, body string, flip uint8) {
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.ContainsAny(target, " \r\n\t") || !validValue(custom) {
			t.Skip()
		}
		headers := []string{RequestTarget, "host", "date", "digest", "x-custom"}
		for n := range strings.FieldsSeq(names) {
			if n != "" && n[0] != '(' && validName(n) && !reserved[strings.ToLower(n)] {
				headers = append(headers, strings.ToLower(n))
			}
		}
		path, query, _ := strings.Cut(target, "?")
		r, err := http.NewRequest(http.MethodPost, "http://example.com/", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.URL.Opaque, r.URL.RawQuery = path, query
		r.Header.Set("X-Custom", custom)
		for _, h := range headers[5:] {
			if r.Header.Get(h) == "" {
				r.Header.Set(h, "v")
			}
		}
		s := &Signer{KeyID: "k", Secret: "secret", Headers: headers, Now: fixedNow(t0)}
		if err := s.SignRequest(r); err != nil {
			t.Skip()
		}
		var buf strings.Builder
		if err := r.Write(&buf); err != nil {
			t.Skip()
		}
		wire := buf.String()
		sr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
		if err != nil {
			t.Skip() // net/http refuses the target (bad percent-escape)
		}
		v := &Verifier{Now: fixedNow(t0)}
		if _, err := v.Verify(context.Background(), sr, keys); err != nil {
			t.Fatalf("Verify(signed) = %v\n%s", err, wire)
		}
		if _, err := io.ReadAll(sr.Body); err != nil {
			t.Fatalf("read body: %v", err)
		}

		// One byte of the signature changed.
		auth := r.Header.Get("Authorization")
		i := strings.Index(auth, `signature="`) + len(`signature="`)
		j := i + int(flip)%(len(auth)-i-1)
		c := auth[j]
		nc := byte('A')
		if c == 'A' {
			nc = 'B'
		}
		sr, _ = http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
		sr.Header.Set("Authorization", auth[:j]+string(nc)+auth[j+1:])
		if _, err := v.Verify(context.Background(), sr, keys); err == nil {
			t.Fatalf("Verify accepted a changed signature %q", sr.Header.Get("Authorization"))
		}
	})
}

// reserved names are set by the signer or by net/http itself.
var reserved = map[string]bool{
	"host": true, "date": true, "digest": true, "content-length": true, "transfer-encoding": true,
	"authorization": true, "signature": true, "signature-input": true, "connection": true,
	"te": true, "trailer": true, "upgrade": true, "keep-alive": true, "proxy-connection": true, "x-custom": true,
}

func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}
