package sw1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	testID     = "app-id"
	testSecret = "super-secure-string"
)

func testKeys() signet.StaticKeys {
	return signet.StaticKeys{
		testID:  {ID: testID, Secrets: []string{testSecret}},
		"other": {ID: "other", Secrets: []string{testSecret}},
	}
}

// signedRequest pre-signs a POST with a body and a signed header, and
// returns the request a client would send.
func signedRequest(t *testing.T) (string, *http.Request) {
	t.Helper()
	u, err := Presign(PresignOptions{
		KeyID:   testID,
		Secret:  testSecret,
		Gateway: "https://gw.example.com",
		Target:  "https://api.example.com/v1/chat?x=1",
		Method:  http.MethodPost,
		Header:  http.Header{"X-Foo": {"bar"}},
		Body:    []byte(`{"a":1}`),
		Time:    t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u, newRequest(http.MethodPost, u, map[string]string{"X-Foo": "bar"}, []byte(`{"a":1}`))
}

func newRequest(method, u string, headers map[string]string, body []byte) *http.Request {
	return vectorRequest(method, u, headers, body)
}

// replaceParam sets the raw value of one query parameter.
func replaceParam(u, name, raw string) string {
	base, q, _ := strings.Cut(u, "?")
	parts := strings.Split(q, "&")
	for i, kv := range parts {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			parts[i] = name + "=" + raw
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

func rawParam(u, name string) string {
	_, q, _ := strings.Cut(u, "?")
	for _, kv := range strings.Split(q, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}

func TestVerifyAccepts(t *testing.T) {
	_, r := signedRequest(t)
	v := &Verifier{Now: fixedNow(t0)}
	ver, err := v.Verify(context.Background(), r, testKeys())
	if err != nil {
		t.Fatal(err)
	}
	if ver.KeyID != testID || ver.Target != "https://api.example.com/v1/chat?x=1" || !ver.BodySigned ||
		ver.SecretIndex != 0 || !ver.SignedAt.Equal(t0) || !ver.ExpiresAt.Equal(t0.Add(DefaultExpires)) {
		t.Errorf("Verified = %+v", ver)
	}
	if got, want := strings.Join(ver.SignedHeaders, ";"), "x-foo;content-length"; got != want {
		t.Errorf("SignedHeaders = %q, want %q", got, want)
	}
	// The body is readable again for the proxy.
	b, err := io.ReadAll(r.Body)
	if err != nil || string(b) != `{"a":1}` {
		t.Errorf("body after Verify = %q, %v", b, err)
	}
}

func TestVerifyTamper(t *testing.T) {
	u, _ := signedRequest(t)
	sig := rawParam(u, paramSignature)
	flip := func(c byte) string {
		if c == '0' {
			return "1"
		}
		return "0"
	}
	body := []byte(`{"a":1}`)
	hdr := map[string]string{"X-Foo": "bar"}
	tests := []struct {
		name string
		req  func() *http.Request
		want error
	}{
		{"method", func() *http.Request { return newRequest(http.MethodPut, u, hdr, body) }, signet.ErrMismatch},
		{"method case", func() *http.Request { return newRequest("post", u, hdr, body) }, signet.ErrMismatch},
		{"proxy", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramProxy, "https%3A%2F%2Fevil.example.com%2Fv1%2Fchat%3Fx%3D1"), hdr, body)
		}, signet.ErrMismatch},
		{"expires", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramExpires, "601"), hdr, body)
		}, signet.ErrMismatch},
		{"date", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramDate, "20240102T030406Z"), hdr, body)
		}, signet.ErrMismatch},
		{"date other day", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramDate, "20240101T030405Z"), hdr, body)
		}, signet.ErrMalformed},
		{"credential id", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramCredential, "other%2F20240102"), hdr, body)
		}, signet.ErrMismatch},
		{"credential unknown id", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramCredential, "nobody%2F20240102"), hdr, body)
		}, signet.ErrUnknownKey},
		{"credential day", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramCredential, "app-id%2F20240103"), hdr, body)
		}, signet.ErrMalformed},
		{"credential id with slash", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramCredential, "app-id%2Fx%2F20240102"), hdr, body)
		}, signet.ErrMalformed},
		{"signed headers", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramSignedHeaders, "content-length"), hdr, body)
		}, signet.ErrMismatch},
		{"header value", func() *http.Request { return newRequest(http.MethodPost, u, map[string]string{"X-Foo": "baz"}, body) }, signet.ErrMismatch},
		{"header missing", func() *http.Request { return newRequest(http.MethodPost, u, nil, body) }, signet.ErrMissingHeader},
		{"header control chars", func() *http.Request {
			return newRequest(http.MethodPost, u, map[string]string{"X-Foo": "b\x00a\r\nr\x7f\xff"}, body)
		}, signet.ErrMismatch},
		{"body", func() *http.Request { return newRequest(http.MethodPost, u, hdr, []byte(`{"a":2}`)) }, signet.ErrMismatch},
		{"body longer", func() *http.Request { return newRequest(http.MethodPost, u, hdr, []byte(`{"a":12}`)) }, signet.ErrMismatch},
		{"body not signed", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramBody, "false"), hdr, body)
		}, signet.ErrMismatch},
		{"body flag True", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramBody, "True"), hdr, body)
		}, signet.ErrMismatch},
		{"body not UTF-8", func() *http.Request { return newRequest(http.MethodPost, u, hdr, []byte("{\"a\xff1}")) }, signet.ErrMalformed},
		{"body without content-length", func() *http.Request {
			r := newRequest(http.MethodPost, u, hdr, body)
			r.Header.Del("Content-Length")
			r.ContentLength = -1
			return r
		}, signet.ErrMissingHeader},
		{"signature digit", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramSignature, sig[:10]+flip(sig[10])+sig[11:]), hdr, body)
		}, signet.ErrMismatch},
		{"signature short", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramSignature, sig[:62]), hdr, body)
		}, signet.ErrMalformed},
		{"signature not hex", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramSignature, "zz"+sig[2:]), hdr, body)
		}, signet.ErrMalformed},
		{"algorithm", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramAlgorithm, "SW1-HMAC-SHA1"), hdr, body)
		}, signet.ErrAlgorithm},
		{"expires negative", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramExpires, "-1"), hdr, body)
		}, signet.ErrMalformed},
		{"expires overflow", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramExpires, "4294967296"), hdr, body)
		}, signet.ErrMalformed},
		{"expires empty", func() *http.Request { return newRequest(http.MethodPost, replaceParam(u, paramExpires, ""), hdr, body) }, signet.ErrMalformed},
		{"bad escape", func() *http.Request {
			return newRequest(http.MethodPost, replaceParam(u, paramProxy, "%zz"), hdr, body)
		}, signet.ErrMalformed},
		{"duplicate param", func() *http.Request { return newRequest(http.MethodPost, u+"&X-Sw-Expires=600", hdr, body) }, signet.ErrMalformed},
		{"missing param", func() *http.Request {
			return newRequest(http.MethodPost, strings.Replace(u, "&X-Sw-Body=true", "", 1), hdr, body)
		}, signet.ErrMalformed},
		{"missing signature", func() *http.Request {
			return newRequest(http.MethodPost, strings.Replace(u, "&X-Sw-Signature="+sig, "", 1), hdr, body)
		}, signet.ErrMalformed},
		{"no signature", func() *http.Request {
			return newRequest(http.MethodPost, "https://gw.example.com/?a=b", hdr, body)
		}, signet.ErrNoSignature},
		{"no query", func() *http.Request { return newRequest(http.MethodPost, "https://gw.example.com/", hdr, body) }, signet.ErrNoSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Now: fixedNow(t0)}
			_, err := v.Verify(context.Background(), tt.req(), testKeys())
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var se *signet.Error
			if !errors.As(err, &se) || se.Scheme != signet.SchemeSW1 {
				t.Errorf("error %v is not a *signet.Error for sw1", err)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error text leaks the secret: %v", err)
			}
		})
	}
}

// An upper- or mixed-case signature verifies, and its replay id is the
// lower-case one's: the same request cannot be replayed by changing case.
func TestVerifyUpperCaseSignature(t *testing.T) {
	u, _ := signedRequest(t)
	lower := rawParam(u, paramSignature)
	v := &Verifier{Now: fixedNow(t0)}
	for _, sig := range []string{lower, strings.ToUpper(lower), strings.ToUpper(lower[:1]) + lower[1:]} {
		u := replaceParam(u, paramSignature, sig)
		ver, err := v.Verify(context.Background(), newRequest(http.MethodPost, u, map[string]string{"X-Foo": "bar"}, []byte(`{"a":1}`)), testKeys())
		if err != nil {
			t.Fatalf("%s: %v", sig, err)
		}
		if want := "sw1:" + testID + ":" + strings.ToLower(lower); ver.ReplayID != want {
			t.Errorf("%s: replay id %q, want %q", sig, ver.ReplayID, want)
		}
	}
}

func TestVerifyTimeWindow(t *testing.T) {
	u, err := Presign(PresignOptions{KeyID: testID, Secret: testSecret, Gateway: "http://gw", Target: "http://up/", Expires: 30 * time.Second, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		now     time.Time
		maxSkew time.Duration
		want    error
	}{
		{"at signing", t0, 0, nil},
		{"boundary", t0.Add(30 * time.Second), 0, nil},
		{"expired", t0.Add(31 * time.Second), 0, signet.ErrExpired},
		{"future within default skew", t0.Add(-time.Minute), 0, nil},
		{"future beyond default skew", t0.Add(-time.Minute - time.Second), 0, signet.ErrNotYetValid},
		{"future within skew", t0.Add(-5 * time.Minute), 5 * time.Minute, nil},
		{"no skew allowed", t0.Add(-time.Second), -1, signet.ErrNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Now: fixedNow(tt.now), MaxSkew: tt.maxSkew}
			_, err := v.Verify(context.Background(), newRequest(http.MethodGet, u, nil, nil), testKeys())
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyKeyPolicy(t *testing.T) {
	u, err := Presign(PresignOptions{KeyID: testID, Secret: "old", Gateway: "http://gw", Target: "http://up/", Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	storeErr := errors.New("store down")
	tests := []struct {
		name      string
		keys      signet.KeyStore
		want      error
		wantIndex int
	}{
		{"rotation", signet.StaticKeys{testID: {ID: testID, Secrets: []string{"new", "old"}}}, nil, 1},
		{"first secret", signet.StaticKeys{testID: {ID: testID, Secrets: []string{"old", "new"}}}, nil, 0},
		{"wrong secret", signet.StaticKeys{testID: {ID: testID, Secrets: []string{"new"}}}, signet.ErrMismatch, 0},
		{"scheme not allowed", signet.StaticKeys{testID: {ID: testID, Secrets: []string{"old"}, Schemes: []string{signet.SchemeReqSig}}}, signet.ErrSchemeNotAllowed, 0},
		{"scheme allowed", signet.StaticKeys{testID: {ID: testID, Secrets: []string{"old"}, Schemes: []string{signet.SchemeSW1}}}, nil, 0},
		{"no secret", signet.StaticKeys{testID: {ID: testID}}, signet.ErrSchemeNotAllowed, 0},
		{"max expires", signet.StaticKeys{testID: {ID: testID, Secrets: []string{"old"}, MaxExpires: 5 * time.Minute}}, signet.ErrExpiresTooLong, 0},
		{"max expires equal", signet.StaticKeys{testID: {ID: testID, Secrets: []string{"old"}, MaxExpires: 10 * time.Minute}}, nil, 0},
		{"unknown key", signet.StaticKeys{}, signet.ErrUnknownKey, 0},
		{"store error", signet.KeyStoreFunc(func(context.Context, string) (*signet.Key, error) { return nil, storeErr }), storeErr, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Now: fixedNow(t0)}
			ver, err := v.Verify(context.Background(), newRequest(http.MethodGet, u, nil, nil), tt.keys)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if ver.SecretIndex != tt.wantIndex {
					t.Errorf("SecretIndex = %d, want %d", ver.SecretIndex, tt.wantIndex)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.want == storeErr && (!errors.Is(err, signet.ErrStoreUnavailable) || signet.Code(err) != "store_unavailable") {
				t.Errorf("store error maps to %q, want store_unavailable", signet.Code(err))
			}
		})
	}
}

func TestVerifyBodyLimits(t *testing.T) {
	body := []byte(strings.Repeat("a", 100))
	u, err := Presign(PresignOptions{KeyID: testID, Secret: testSecret, Gateway: "http://gw", Target: "http://up/", Method: "PUT", Body: body, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Now: fixedNow(t0), MaxBody: 99}
	_, err = v.Verify(context.Background(), newRequest("PUT", u, nil, body), testKeys())
	if !errors.Is(err, signet.ErrBodyTooLarge) {
		t.Fatalf("got %v, want ErrBodyTooLarge", err)
	}
	v.MaxBody = 100
	if _, err := v.Verify(context.Background(), newRequest("PUT", u, nil, body), testKeys()); err != nil {
		t.Fatal(err)
	}
	// A body behind http.MaxBytesReader that trips its limit.
	r := newRequest("PUT", u, nil, body)
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 10)
	v.MaxBody = 0
	if _, err := v.Verify(context.Background(), r, testKeys()); !errors.Is(err, signet.ErrBodyTooLarge) {
		t.Fatalf("got %v, want ErrBodyTooLarge", err)
	}
	// Content-Length that lies about a shorter body.
	r = newRequest("PUT", u, nil, body[:50])
	r.Header.Set("Content-Length", "100")
	if _, err := v.Verify(context.Background(), r, testKeys()); !errors.Is(err, signet.ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed", err)
	}
}

// TestVerifyPrefixedGateway checks both canonical paths: "/" for URLs from
// Presign, and the request path for SDK URLs, also behind StripPrefix.
func TestVerifyPrefixedGateway(t *testing.T) {
	u, err := Presign(PresignOptions{KeyID: testID, Secret: testSecret, Gateway: "https://gw.example.com/sw", Target: "http://up/", Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "https://gw.example.com/sw/?X-Sw-Algorithm=") {
		t.Fatalf("Presign = %q", u)
	}
	v := &Verifier{Now: fixedNow(t0)}
	if _, err := v.Verify(context.Background(), newRequest(http.MethodGet, u, nil, nil), testKeys()); err != nil {
		t.Fatal(err)
	}

	// An SDK URL signed with the path /sw/, served behind StripPrefix.
	sdk := sdkSign(t, "python", sdkInput{id: testID, secret: testSecret, host: "http://gw.local/sw", proxy: "https://github.com/", method: "GET", expiry: 600, tm: t0})
	var gotErr error
	h := http.StripPrefix("/sw", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, gotErr = v.Verify(r.Context(), r, testKeys())
	}))
	r := httptest.NewRequest(http.MethodGet, sdk, nil)
	r.RequestURI = strings.TrimPrefix(sdk, "http://gw.local")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if gotErr != nil {
		t.Fatal(gotErr)
	}
}

func TestParseExpires(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"600", 600, true}, {"+600", 600, true}, {"0", 0, true}, {"00010", 10, true},
		{"4294967295", 4294967295, true}, {"4294967296", 0, false}, {"-1", 0, false},
		{"", 0, false}, {"+", 0, false}, {"++1", 0, false}, {" 1", 0, false}, {"1e3", 0, false},
		{"99999999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseExpires(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseExpires(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"20240102T030405Z", true}, {"19700101T000000Z", true}, {"20240229T235959Z", true},
		{"20230229T000000Z", false}, {"20241301T000000Z", false}, {"20240100T000000Z", false},
		{"20240102T240000Z", false}, {"20240102T006000Z", false}, {"20240102T000060Z", false},
		{"20240102 030405Z", false}, {"20240102T030405", false}, {"2024010T030405Z", false}, {"", false},
	} {
		if _, ok := parseDate(tt.in); ok != tt.ok {
			t.Errorf("parseDate(%q) ok = %v, want %v", tt.in, ok, tt.ok)
		}
	}
	// Every day 1-31 of every month of leap, century and plain years: valid
	// exactly when package time keeps the date as written.
	for _, y := range []int{1900, 2000, 2023, 2024, 2100, 9996} {
		for mo := 1; mo <= 12; mo++ {
			for d := 1; d <= 31; d++ {
				in := fmt.Sprintf("%04d%02d%02dT120000Z", y, mo, d)
				tm := time.Date(y, time.Month(mo), d, 12, 0, 0, 0, time.UTC)
				want := tm.Day() == d
				got, ok := parseDate(in)
				if ok != want || ok && !got.Equal(tm) {
					t.Errorf("parseDate(%q) = %v, %v; want %v, %v", in, got, ok, tm, want)
				}
			}
		}
	}
}

func TestPresignErrors(t *testing.T) {
	ok := PresignOptions{KeyID: testID, Secret: testSecret, Gateway: "http://gw", Target: "http://up/", Time: t0}
	if _, err := Presign(ok); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*PresignOptions)
	}{
		{"empty id", func(o *PresignOptions) { o.KeyID = "" }},
		{"id with slash", func(o *PresignOptions) { o.KeyID = "a/b" }},
		{"empty secret", func(o *PresignOptions) { o.Secret = "" }},
		{"relative gateway", func(o *PresignOptions) { o.Gateway = "/gw" }},
		{"ftp gateway", func(o *PresignOptions) { o.Gateway = "ftp://gw" }},
		{"gateway with query", func(o *PresignOptions) { o.Gateway = "http://gw/?a=b" }},
		{"bad gateway", func(o *PresignOptions) { o.Gateway = "http://gw:x/" }},
		{"target scheme", func(o *PresignOptions) { o.Target = "ftp://up/" }},
		{"target no host", func(o *PresignOptions) { o.Target = "http://:80/x" }},
		{"target empty", func(o *PresignOptions) { o.Target = "https://" }},
		{"target bad port", func(o *PresignOptions) { o.Target = "http://up:99999/" }},
		{"target non-ASCII host", func(o *PresignOptions) { o.Target = "http://bücher.de/" }},
		{"target invalid UTF-8", func(o *PresignOptions) { o.Target = "http://up/\xff" }},
		{"method with space", func(o *PresignOptions) { o.Method = "GE T" }},
		{"negative expires", func(o *PresignOptions) { o.Expires = -time.Second }},
		{"fractional expires", func(o *PresignOptions) { o.Expires = 1500 * time.Millisecond }},
		{"expires over u32", func(o *PresignOptions) { o.Expires = (1 << 32) * time.Second }},
		{"year 10000", func(o *PresignOptions) { o.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"header value newline", func(o *PresignOptions) { o.Header = http.Header{"X-A": {"a\nb"}} }},
		{"header name", func(o *PresignOptions) { o.Header = http.Header{"X A": {"a"}} }},
		{"header twice", func(o *PresignOptions) { o.Header = http.Header{"X-A": {"a"}, "x-a": {"b"}} }},
		{"body not UTF-8", func(o *PresignOptions) { o.Body = []byte{0xff} }},
		{"content-length mismatch", func(o *PresignOptions) {
			o.Body = []byte("abc")
			o.Header = http.Header{"Content-Length": {"4"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.mod(&o)
			if u, err := Presign(o); err == nil {
				t.Fatalf("Presign = %q, want an error", u)
			}
		})
	}
}

// TestSignerTransport signs through signet.Transport and verifies behind
// signet.Middleware on a real server, where Go sets Content-Length.
func TestSignerTransport(t *testing.T) {
	keys := testKeys()
	type seen struct {
		target, body string
		signed       []string
	}
	got := make(chan seen, 1)
	v := &Verifier{}
	gw := httptest.NewServer(signet.Middleware(v, keys)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ver, _ := signet.FromContext(r.Context())
		b, _ := io.ReadAll(r.Body)
		got <- seen{ver.Target, string(b), ver.SignedHeaders}
	})))
	defer gw.Close()

	client := &http.Client{Transport: &signet.Transport{Signer: &Signer{
		KeyID: testID, Secret: testSecret, Gateway: gw.URL + "/sw",
		SignBody: true, SignHeaders: []string{"X-Trace", "Host"},
	}}}
	for _, body := range []string{`{"q":"héllo 😀"}`, ""} {
		req, err := http.NewRequest(http.MethodPost, "https://API.example.com:443/v1/x?q=a b", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Trace", " t1 ")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		s := <-got
		if s.target != "https://api.example.com/v1/x?q=a%20b" || s.body != body || strings.Join(s.signed, ",") != "host,x-trace,content-length" {
			t.Errorf("got %+v", s)
		}
	}

	// Without the Signer the gateway refuses.
	resp, err := http.Post(gw.URL+"/sw/?X-Sw-Algorithm=x", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
}

func TestSignerErrors(t *testing.T) {
	s := &Signer{KeyID: testID, Secret: testSecret, Gateway: "http://gw", SignHeaders: []string{"X-Missing"}}
	r, _ := http.NewRequest(http.MethodGet, "http://up/", nil)
	if err := s.SignRequest(r); err == nil {
		t.Error("missing signed header: want an error")
	}
	s = &Signer{KeyID: testID, Secret: testSecret, Gateway: "http://gw", SignBody: true, MaxBody: 3}
	r, _ = http.NewRequest(http.MethodPost, "http://up/", strings.NewReader("abcd"))
	if err := s.SignRequest(r); err == nil {
		t.Error("body over MaxBody: want an error")
	}
	r = &http.Request{Method: "GET", URL: mustParse(t, "/relative"), Header: http.Header{}}
	if err := s.SignRequest(r); err == nil {
		t.Error("relative URL: want an error")
	}
}

func TestSignerNow(t *testing.T) {
	s := &Signer{KeyID: testID, Secret: testSecret, Gateway: "http://gw", Now: fixedNow(t0), Expires: time.Minute}
	r, _ := http.NewRequest(http.MethodGet, "http://up/a", nil)
	if err := s.SignRequest(r); err != nil {
		t.Fatal(err)
	}
	if r.Host != "gw" || r.URL.Query().Get(paramDate) != "20240102T030405Z" || r.URL.Query().Get(paramExpires) != "60" {
		t.Errorf("signed URL %s", r.URL)
	}
	v := &Verifier{Now: fixedNow(t0)}
	sr := newRequest(http.MethodGet, r.URL.String(), nil, nil)
	if _, err := v.Verify(context.Background(), sr, testKeys()); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyConcurrent exercises the state pool and the signing-key cache
// (past its cap) from several goroutines; run with -race.
func TestVerifyConcurrent(t *testing.T) {
	v := &Verifier{Now: fixedNow(t0)}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			var err error
			for i := range 200 {
				secret := testSecret + strconv.Itoa(g*1000+i)
				keys := signet.StaticKeys{testID: {ID: testID, Secrets: []string{secret}}}
				var u string
				u, err = Presign(PresignOptions{KeyID: testID, Secret: secret, Gateway: "http://gw", Target: "http://up/", Time: t0})
				if err == nil {
					_, err = v.Verify(context.Background(), newRequest(http.MethodGet, u, nil, nil), keys)
				}
				if err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
