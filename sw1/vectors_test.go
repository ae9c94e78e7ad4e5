package sw1

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

type vectorInput struct {
	ID       string            `json:"id"`
	Secret   string            `json:"secret"`
	Host     string            `json:"host"`
	ProxyURL string            `json:"proxy_url"`
	Expiry   int64             `json:"expiry"`
	Method   string            `json:"method"`
	Headers  map[string]string `json:"headers"`
	Body     *string           `json:"body"`
	DT       string            `json:"dt"`
	Datetime string            `json:"datetime"`
}

func (in *vectorInput) time(t *testing.T) time.Time {
	t.Helper()
	s := in.Datetime
	if s == "" {
		s = in.DT + "Z"
	}
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad vector time %q: %v", s, err)
	}
	return tm
}

func (in *vectorInput) body() []byte {
	if in.Body == nil {
		return nil
	}
	return []byte(*in.Body)
}

type vectorFile struct {
	KnownAnswers []struct {
		Source string      `json:"source"`
		Input  vectorInput `json:"input"`
		Output struct {
			Signature        string `json:"signature"`
			CanonicalRequest string `json:"canonical_request"`
			URL              string `json:"url"`
		} `json:"output"`
	} `json:"known_answers"`
	DivergenceExamples []struct {
		Note   string      `json:"note"`
		Input  vectorInput `json:"input"`
		Output struct {
			PythonSDKURL  string `json:"python_sdk_url"`
			JSSDKURL      string `json:"js_sdk_url"`
			RustSignerURL string `json:"rust_signer_url"`
		} `json:"output"`
	} `json:"divergence_examples"`
	GeneratedCases []struct {
		Source string      `json:"source"`
		Flavor string      `json:"flavor"`
		Input  vectorInput `json:"input"`
		Output struct {
			URL              string `json:"url"`
			Signature        string `json:"signature"`
			CanonicalRequest string `json:"canonical_request"`
		} `json:"output"`
	} `json:"generated_cases"`
}

func loadVectors(t testing.TB) *vectorFile {
	t.Helper()
	data, err := os.ReadFile("../testdata/sw1.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		t.Fatal(err)
	}
	return &vf
}

// vectorRequest builds the request a client sends for a signed URL: the
// headers it signed, with their values as given, and the body with its
// length in bytes as Content-Length.
func vectorRequest(method, rawURL string, headers map[string]string, body []byte) *http.Request {
	var r *http.Request
	if body != nil {
		r = httptest.NewRequest(method, rawURL, strings.NewReader(string(body)))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	} else {
		r = httptest.NewRequest(method, rawURL, nil)
	}
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

func vectorKeys(id, secret string) signet.KeyStore {
	return signet.StaticKeys{id: {ID: id, Secrets: []string{secret}}}
}

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func presignOptions(in *vectorInput, tm time.Time) PresignOptions {
	o := PresignOptions{
		KeyID:   in.ID,
		Secret:  in.Secret,
		Gateway: in.Host,
		Target:  in.ProxyURL,
		Method:  in.Method,
		Expires: time.Duration(in.Expiry) * time.Second,
		Body:    in.body(),
		Time:    tm,
	}
	if len(in.Headers) > 0 {
		o.Header = http.Header{}
		for k, v := range in.Headers {
			o.Header.Set(k, v)
		}
	}
	return o
}

func TestKnownAnswers(t *testing.T) {
	vf := loadVectors(t)
	if len(vf.KnownAnswers) == 0 {
		t.Fatal("no known answers")
	}
	for i, ka := range vf.KnownAnswers {
		t.Run(fmt.Sprintf("%d/%s", i, ka.Source), func(t *testing.T) {
			in := &ka.Input
			tm := in.time(t)
			got, err := Presign(presignOptions(in, tm))
			if err != nil {
				t.Fatal(err)
			}
			if got != ka.Output.URL {
				t.Errorf("Presign:\n got %q\nwant %q", got, ka.Output.URL)
			}
			v := &Verifier{Now: fixedNow(tm)}
			r := vectorRequest(in.Method, ka.Output.URL, in.Headers, in.body())
			ver, canon, err := v.verify(context.Background(), r, vectorKeys(in.ID, in.Secret), true)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if canon != ka.Output.CanonicalRequest {
				t.Errorf("canonical request:\n got %q\nwant %q", canon, ka.Output.CanonicalRequest)
			}
			if ver.Signature != ka.Output.Signature {
				t.Errorf("signature: got %q, want %q", ver.Signature, ka.Output.Signature)
			}
			if ver.Scheme != signet.SchemeSW1 || ver.Algorithm != Algorithm || ver.KeyID != in.ID ||
				ver.SecretIndex != 0 || !ver.SignedAt.Equal(tm) || !ver.ExpiresAt.Equal(tm.Add(600*time.Second)) ||
				ver.Target != in.ProxyURL || ver.BodySigned {
				t.Errorf("Verified = %+v", ver)
			}
		})
	}
}

func TestDivergenceExamples(t *testing.T) {
	vf := loadVectors(t)
	for i, ex := range vf.DivergenceExamples {
		in := &ex.Input
		name := fmt.Sprintf("%d/%s", i, ex.Note)
		for _, c := range []struct{ client, url string }{
			{"python_sdk", ex.Output.PythonSDKURL},
			{"js_sdk", ex.Output.JSSDKURL},
			{"rust_signer", ex.Output.RustSignerURL},
		} {
			t.Run(name+"/"+c.client, func(t *testing.T) {
				tm := in.time(t)
				v := &Verifier{Now: fixedNow(tm)}
				r := vectorRequest(in.Method, c.url, in.Headers, in.body())
				ver, err := v.Verify(context.Background(), r, vectorKeys(in.ID, in.Secret))
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if ver.BodySigned != (in.Body != nil) {
					t.Errorf("BodySigned = %v", ver.BodySigned)
				}
			})
		}
		t.Run(name+"/presign", func(t *testing.T) {
			o := presignOptions(in, in.time(t))
			// Signway's Rust signer does not add content-length for a body.
			o.DisableContentLength = true
			got, err := Presign(o)
			if err != nil {
				t.Fatal(err)
			}
			v := &Verifier{Now: fixedNow(o.Time)}
			r := vectorRequest(in.Method, got, in.Headers, in.body())
			if _, err := v.Verify(context.Background(), r, vectorKeys(in.ID, in.Secret)); err != nil {
				t.Errorf("Verify(Presign()): %v", err)
			}
			want := ex.Output.RustSignerURL
			if len(in.Headers) > 1 {
				// An http.Header has no order: Presign sorts the names in
				// X-Sw-SignedHeaders, where the Rust signer kept the
				// caller's order; compare the rest and verify.
				got, want = dropParams(t, got, paramSignedHeaders, paramSignature), dropParams(t, want, paramSignedHeaders, paramSignature)
			}
			if got != want {
				t.Errorf("Presign:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// dropParams removes the named parameters from a URL's raw query.
func dropParams(t *testing.T, rawURL string, names ...string) string {
	t.Helper()
	base, q, _ := strings.Cut(rawURL, "?")
	var kept []string
	for _, kv := range strings.Split(q, "&") {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || k == n
		}
		if !drop {
			kept = append(kept, kv)
		}
	}
	return base + "?" + strings.Join(kept, "&")
}

func TestGeneratedCases(t *testing.T) {
	vf := loadVectors(t)
	if len(vf.GeneratedCases) != 40 {
		t.Errorf("got %d generated cases, want 40", len(vf.GeneratedCases))
	}
	for i, gc := range vf.GeneratedCases {
		t.Run(fmt.Sprintf("%02d/%s", i, gc.Flavor), func(t *testing.T) {
			in := &gc.Input
			tm := in.time(t)
			v := &Verifier{Now: fixedNow(tm)}
			r := vectorRequest(in.Method, gc.Output.URL, in.Headers, in.body())
			ver, canon, err := v.verify(context.Background(), r, vectorKeys(in.ID, in.Secret), true)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if canon != gc.Output.CanonicalRequest {
				t.Errorf("canonical request:\n got %q\nwant %q", canon, gc.Output.CanonicalRequest)
			}
			if ver.Signature != gc.Output.Signature {
				t.Errorf("signature: got %q, want %q", ver.Signature, gc.Output.Signature)
			}
			if ver.KeyID != in.ID {
				t.Errorf("KeyID = %q, want %q", ver.KeyID, in.ID)
			}
			u, err := url.Parse(gc.Output.URL)
			if err != nil {
				t.Fatal(err)
			}
			proxy := u.Query().Get(paramProxy)
			if ver.Target != proxy {
				t.Errorf("Target = %q, want %q", ver.Target, proxy)
			}
			if gc.Flavor == "js" {
				// The JS SDK's proxy is the WHATWG serialisation, which
				// Presign must compute the same way.
				norm, err := normalizeTarget(in.ProxyURL)
				if err != nil {
					t.Fatal(err)
				}
				if norm != proxy {
					t.Errorf("normalizeTarget(%q) = %q, want %q", in.ProxyURL, norm, proxy)
				}
			}
		})
	}
}
