package rfc9421

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

func FuzzParseSignatureInput(f *testing.F) {
	v := loadVectors(f)
	for _, ka := range v.KnownAnswers {
		f.Add(ka.SignatureInput)
	}
	for _, gc := range v.GeneratedCases {
		f.Add(gc.Output.SignatureInput)
	}
	f.Add(`sig1=("x";key="a" "y";bs "@query-param";name="q");created=1;expires=2`)
	f.Fuzz(func(t *testing.T, header string) {
		ins, err := ParseSignatureInput(header)
		if err != nil {
			if !errors.Is(err, signet.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			return
		}
		// The serialization re-parses to itself.
		for _, in := range ins {
			again, err := ParseSignatureInput("a=" + in.Params)
			if err != nil || len(again) != 1 || again[0].Params != in.Params {
				t.Fatalf("%q does not round-trip: %v", in.Params, err)
			}
		}
	})
}

// FuzzVerify feeds arbitrary signature fields and request parts: Verify must
// never panic, and every failure is a *signet.Error.
func FuzzVerify(f *testing.F) {
	v := loadVectors(f)
	for _, gc := range v.GeneratedCases {
		f.Add(gc.Output.SignatureInput, gc.Output.Signature, gc.Input.URL, gc.Input.Body)
	}
	for _, ka := range v.KnownAnswers {
		f.Add(ka.SignatureInput, ka.Signature, v.TestRequest.URL, v.TestRequest.Body)
	}
	keys := signet.KeyStoreFunc(func(_ context.Context, id string) (*signet.Key, error) {
		return &signet.Key{ID: id, Secrets: []string{"secret"}}, nil
	})
	f.Fuzz(func(t *testing.T, input, sig, target, body string) {
		r, err := http.NewRequest("POST", "https://example.com/", strings.NewReader(body))
		if err != nil {
			return
		}
		if i := strings.Index(target, "://"); i >= 0 {
			target = target[i+3:]
			if j := strings.IndexByte(target, '/'); j >= 0 {
				target = target[j:]
			}
		}
		r.RequestURI = "/" + strings.TrimPrefix(target, "/")
		r.Header.Set("Signature-Input", input)
		r.Header.Set("Signature", sig)
		r.Header.Set("Content-Digest", sig)
		r.Header.Set("X-Dict", input)
		ver := &Verifier{Now: func() time.Time { return time.Unix(1618884473, 0) }, KeyID: "k", DisableRequireCreated: true, RequiredComponents: []string{}}
		got, err := ver.Verify(context.Background(), r, keys)
		if err != nil {
			var se *signet.Error
			if !errors.As(err, &se) {
				t.Fatalf("err %v is not a *signet.Error", err)
			}
			return
		}
		if got == nil {
			t.Fatal("nil Verified without error")
		}
		io.Copy(io.Discard, r.Body)
	})
}

// FuzzSignVerify: what Signer signs verifies, and a one-byte change of the
// signature does not.
func FuzzSignVerify(f *testing.F) {
	f.Add("GET", "/a/b", "q=1&r=%20", "x", "", byte(0), uint8(0))
	f.Add("POST", "/~.", "a=it's+(ok)", "v;a=1", `{"hello": "world"}`, byte(5), uint8(3))
	f.Add("PUT", "/%7E", "", "  spaced  ", "body", byte(60), uint8(7))
	key := &signet.Key{ID: "k", Secrets: []string{"secret"}}
	keys := signet.StaticKeys{"k": key}
	now := func() time.Time { return time.Unix(1700000000, 0) }
	f.Fuzz(func(t *testing.T, method, path, query, hv, body string, pos byte, bit uint8) {
		url := "https://example.com" + "/" + strings.TrimLeft(path, "/")
		if query != "" {
			url += "?" + query
		}
		var br io.Reader
		if body != "" {
			br = strings.NewReader(body)
		}
		r, err := http.NewRequest(method, url, br)
		if err != nil || r.URL.Host != "example.com" || r.URL.Fragment != "" || strings.ContainsAny(r.URL.RawQuery, "#") {
			return
		}
		r.Header.Set("X-Value", hv)
		if r.Header.Get("X-Value") != hv || strings.ContainsAny(hv, "\r\n\x00") {
			return
		}
		s := &Signer{KeyID: "k", Secret: "secret", Now: now, Components: []string{"@method", "@target-uri", "@authority", "@path", "@query", "x-value", "content-digest"}}
		if err := s.SignRequest(r); err != nil {
			return // e.g. a method or header the HTTP grammar refuses
		}
		sr := httptest.NewRequest("POST", "/", nil)
		*sr = *r
		sr.RequestURI = r.URL.RequestURI()
		sr.Body = http.NoBody
		if body != "" {
			sr.Body = io.NopCloser(strings.NewReader(body))
		}
		v := &Verifier{Now: now}
		if _, err := v.Verify(context.Background(), sr, keys); err != nil {
			t.Fatalf("Verify of a signed request: %v\n%s", err, sr.Header.Get("Signature-Input"))
		}
		if b, err := io.ReadAll(sr.Body); err != nil || string(b) != body {
			t.Fatalf("body %q, %v", b, err)
		}
		// One changed byte of the signature.
		_, val, _ := strings.Cut(r.Header.Get("Signature"), "=")
		raw, _ := base64.StdEncoding.DecodeString(strings.Trim(val, ":"))
		raw[int(pos)%len(raw)] ^= 1 << (bit % 8)
		sr.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(raw)+":")
		if _, err := v.Verify(context.Background(), sr, keys); !errors.Is(err, signet.ErrMismatch) {
			t.Fatalf("a changed signature: err = %v, want ErrMismatch", err)
		}
	})
}
