package reqsig

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

type vectorFile struct {
	KnownAnswers   []vectorCase `json:"known_answers"`
	GeneratedCases []vectorCase `json:"generated_cases"`
}

type vectorCase struct {
	Source string `json:"source"`
	Input  struct {
		Method           string `json:"method"`
		URL              string `json:"url"`
		APIKey           string `json:"api_key"`
		Secret           string `json:"secret"`
		APIVersion       string `json:"api_version"`
		Timestamp        int64  `json:"timestamp"`
		SignedHost       *bool  `json:"signed_host"`
		AuthType         string `json:"auth_type"`
		CanonicalRequest string `json:"canonical_request"`
	} `json:"input"`
	Output struct {
		CanonicalRequest string `json:"canonical_request"`
		Signature        string `json:"signature"`
		Authorization    string `json:"authorization"`
		SigningKey       string `json:"signing_key_b64url"`
		StringToSign     string `json:"string_to_sign"`
	} `json:"output"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile("../testdata/reqsig.json")
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.KnownAnswers) == 0 || len(f.GeneratedCases) == 0 {
		t.Fatal("reqsig.json: no cases")
	}
	return f
}

// caseName names a case by its source and index, e.g.
// "known/2_RequestSignerTest.shouldComputeSigningKey".
func caseName(kind string, i int, c vectorCase) string {
	src := strings.NewReplacer("/", "_", " ", "_", "(", "", ")", "").Replace(c.Source)
	return fmt.Sprintf("%s/%02d_%s", kind, i, src)
}

func (c vectorCase) signer() *Signer {
	s := &Signer{KeyID: c.Input.APIKey, Secret: c.Input.Secret, APIVersion: c.Input.APIVersion, Type: c.Input.AuthType}
	if c.Input.SignedHost != nil && !*c.Input.SignedHost {
		s.DisableSignedHost = true
	}
	return s
}

func (c vectorCase) signedHost() bool { return c.Input.SignedHost == nil || *c.Input.SignedHost }

func (c vectorCase) authType() string {
	if c.Input.AuthType != "" {
		return c.Input.AuthType
	}
	return DefaultType
}

func TestVectors(t *testing.T) {
	f := loadVectors(t)
	run := func(kind string, cases []vectorCase) {
		for i, c := range cases {
			t.Run(caseName(kind, i, c), func(t *testing.T) {
				switch {
				case c.Output.SigningKey != "":
					testSigningKey(t, c)
				case c.Output.StringToSign != "":
					testStringToSign(t, c)
				default:
					testSignature(t, c)
				}
			})
		}
	}
	run("known", f.KnownAnswers)
	run("generated", f.GeneratedCases)
}

func testSigningKey(t *testing.T, c vectorCase) {
	k := signingKey(c.Input.Secret, c.Input.APIVersion, strconv.FormatInt(c.Input.Timestamp, 10))
	if got := base64.RawURLEncoding.EncodeToString(k[:]); got != c.Output.SigningKey {
		t.Errorf("signing key: got %q, want %q", got, c.Output.SigningKey)
	}
}

func testStringToSign(t *testing.T, c vectorCase) {
	got := appendStringToSign(nil, c.authType(), c.Input.APIKey, c.Input.APIVersion,
		strconv.FormatInt(c.Input.Timestamp, 10), []byte(c.Input.CanonicalRequest))
	if string(got) != c.Output.StringToSign {
		t.Errorf("string to sign: got %q, want %q", got, c.Output.StringToSign)
	}
}

func testSignature(t *testing.T, c vectorCase) {
	canon, err := CanonicalRequest(c.Input.Method, c.Input.URL, c.signedHost())
	if err != nil {
		t.Fatalf("CanonicalRequest: %v", err)
	}
	if canon != c.Output.CanonicalRequest {
		t.Errorf("canonical request: got %q, want %q", canon, c.Output.CanonicalRequest)
	}
	ts := time.UnixMilli(c.Input.Timestamp)
	auth, err := c.signer().Authorization(c.Input.Method, c.Input.URL, ts)
	if err != nil {
		t.Fatalf("Authorization: %v", err)
	}
	if c.Output.Authorization != "" && auth != c.Output.Authorization {
		t.Errorf("authorization: got %q, want %q", auth, c.Output.Authorization)
	}
	if !strings.HasSuffix(auth, ",Signature="+c.Output.Signature) {
		t.Errorf("signature: got %q, want suffix %q", auth, c.Output.Signature)
	}

	// The server side: the request as an HTTP client sends it, raw (as
	// the URL was written) and percent-encoded, must verify.
	u, err := parseJavaURL(c.Input.URL)
	if err != nil {
		t.Fatal(err)
	}
	want := c.Output.Authorization
	if want == "" {
		want = auth
	}
	for _, form := range []struct {
		name         string
		path, query  string
		skipIfSpaces bool
	}{
		{"raw", u.path, u.query, true},
		{"encoded", clientEncode(u.path, false), clientEncode(u.query, true), false},
	} {
		t.Run(form.name, func(t *testing.T) {
			if form.skipIfSpaces && strings.ContainsAny(form.path+form.query, " ") {
				// A raw space cannot travel in a request line; the
				// encoded form covers this case.
				return
			}
			r := serverRequest(c.Input.Method, u.host, form.path, form.query)
			r.Header.Set("Authorization", want)
			v := &Verifier{Now: func() time.Time { return ts.Add(time.Minute) }, Types: []string{c.authType()}}
			keys := signet.StaticKeys{c.Input.APIKey: {ID: c.Input.APIKey, Secrets: []string{"other", c.Input.Secret}}}
			ver, err := v.Verify(context.Background(), r, keys)
			if err != nil {
				t.Fatalf("Verify(%s %q %q): %v", r.Method, r.Host, r.RequestURI, err)
			}
			if ver.SecretIndex != 1 || ver.KeyID != c.Input.APIKey || !ver.SignedAt.Equal(ts) {
				t.Errorf("Verified: got %+v", ver)
			}
		})
	}
}

// serverRequest builds the request a server sees for a request line
// "METHOD path?query" with the given Host header.
func serverRequest(method, host, path, query string) *http.Request {
	target := path
	if target == "" {
		target = "/"
	}
	if query != "" {
		target += "?" + query
	}
	r := &http.Request{
		Method:     strings.ToUpper(method),
		URL:        &url.URL{Path: "/placeholder"}, // not used: RequestURI wins
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
		Host:       host,
	}
	r.RequestURI = target
	return r
}

// clientEncode percent-encodes what an HTTP client (java.net.URI, a
// browser) encodes: bytes outside the RFC 3986 unreserved and sub-delimiter
// sets and ":@/" (plus "?" in a query). Like browsers it sends '%' as is.
func clientEncode(s string, query bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0, query && c == '?':
			b.WriteByte(c)
		case c == '%':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
