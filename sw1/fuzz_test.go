package sw1

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

// FuzzVerifyURL feeds any query string (and body) to Verify: it must never
// panic, and only a verification error or success may come out.
func FuzzVerifyURL(f *testing.F) {
	vf := loadVectors(f)
	for _, gc := range vf.GeneratedCases {
		_, q, _ := strings.Cut(gc.Output.URL, "?")
		body := ""
		if gc.Input.Body != nil {
			body = *gc.Input.Body
		}
		f.Add(q, body, "/")
	}
	for _, ex := range vf.DivergenceExamples {
		_, q, _ := strings.Cut(ex.Output.PythonSDKURL, "?")
		f.Add(q, "", "/sw/")
	}
	f.Add("X-Sw-Signature=&X-Sw-Algorithm=%zz", "", "/")
	keys := signet.KeyStoreFunc(func(_ context.Context, id string) (*signet.Key, error) {
		return &signet.Key{ID: id, Secrets: []string{"secret", "other"}}, nil
	})
	f.Fuzz(func(t *testing.T, query, body, path string) {
		r := &http.Request{
			Method:        http.MethodPost,
			URL:           &url.URL{Path: path, RawQuery: query},
			Header:        http.Header{"Content-Length": {strconv.Itoa(len(body))}, "X-Custom-Header": {"\x00\r\n\xff"}},
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		v := &Verifier{Now: func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }, MaxBody: 1 << 16}
		ver, err := v.Verify(context.Background(), r, keys)
		if err == nil {
			if ver == nil || ver.Scheme != signet.SchemeSW1 {
				t.Fatalf("nil error with %+v", ver)
			}
			return
		}
		if signet.Code(err) == "internal" {
			t.Fatalf("error %v wraps no sentinel", err)
		}
	})
}

// FuzzPresignVerify: whatever Presign accepts verifies, and a one-byte
// change of the signature does not.
func FuzzPresignVerify(f *testing.F) {
	vf := loadVectors(f)
	for _, gc := range vf.GeneratedCases {
		in := gc.Input
		var body []byte
		if in.Body != nil {
			body = []byte(*in.Body)
		}
		f.Add(in.ID, in.Secret, in.Host, in.ProxyURL, in.Method, body, in.Body != nil, uint32(in.Expiry), int64(0), byte(7))
	}
	f.Fuzz(func(t *testing.T, id, secret, gateway, target, method string, body []byte, hasBody bool, expires uint32, unix int64, at byte) {
		if !hasBody {
			body = nil
		} else if body == nil {
			body = []byte{}
		}
		tm := time.Unix(unix%(1<<35), 0).UTC()
		o := PresignOptions{KeyID: id, Secret: secret, Gateway: gateway, Target: target, Method: method,
			Expires: time.Duration(expires) * time.Second, Body: body, Time: tm}
		u, err := Presign(o)
		if err != nil {
			return
		}
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatalf("Presign made an unparsable URL %q: %v", u, err)
		}
		if method == "" {
			method = http.MethodGet
		}
		req := func(u *url.URL) *http.Request {
			r := &http.Request{Method: method, URL: u, Header: http.Header{}}
			if body != nil {
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.ContentLength = int64(len(body))
				r.Header.Set("Content-Length", strconv.Itoa(len(body)))
			}
			return r
		}
		keyID, _, _ := strings.Cut(id, "/")
		keys := signet.StaticKeys{keyID: {ID: keyID, Secrets: []string{secret}}}
		v := &Verifier{Now: func() time.Time { return tm }}
		if _, err := v.Verify(context.Background(), req(pu), keys); err != nil {
			t.Fatalf("Verify(Presign()) = %v\nURL %s", err, u)
		}
		sig := rawParam(u, paramSignature)
		i := int(at) % len(sig)
		c := sig[i] + 1
		if c == 'g' || c == ':' {
			c = '0'
		}
		bad, _ := url.Parse(replaceParam(u, paramSignature, sig[:i]+string(c)+sig[i+1:]))
		if _, err := v.Verify(context.Background(), req(bad), keys); !errors.Is(err, signet.ErrMismatch) {
			t.Fatalf("tampered signature: got %v, want ErrMismatch", err)
		}
	})
}
