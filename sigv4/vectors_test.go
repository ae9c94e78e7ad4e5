package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

// vectorFile mirrors testdata/sigv4.json.
type vectorFile struct {
	KnownAnswers   []knownAnswer   `json:"known_answers"`
	GeneratedCases []generatedCase `json:"generated_cases"`
}

type knownAnswer struct {
	Source    string          `json:"source"`
	AccessKey string          `json:"access_key"`
	SecretKey string          `json:"secret_key"`
	Input     json.RawMessage `json:"input"`
	Output    struct {
		Signature     string `json:"signature"`
		Authorization string `json:"authorization"`
		SigningKeyHex string `json:"signing_key_hex"`
	} `json:"output"`
}

type knownInput struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   [][2]string `json:"query"`
	Headers [][2]string `json:"headers"`
	Body    *string     `json:"body"`
	When    string      `json:"when"`
	Region  string      `json:"region"`
	Service string      `json:"service"`
	// derived-key example
	Secret string `json:"secret"`
	Date   string `json:"date"`
}

type generatedCase struct {
	Source string `json:"source"`
	Input  struct {
		Op              string                     `json:"op"`
		Method          string                     `json:"method"`
		Hostname        string                     `json:"hostname"`
		Port            int                        `json:"port"`
		Path            string                     `json:"path"`
		Query           map[string]json.RawMessage `json:"query"`
		Headers         map[string]string          `json:"headers"`
		Body            *string                    `json:"body"`
		AccessKeyID     string                     `json:"accessKeyId"`
		SecretAccessKey string                     `json:"secretAccessKey"`
		SessionToken    string                     `json:"sessionToken"`
		Region          string                     `json:"region"`
		Service         string                     `json:"service"`
		SigningDate     int64                      `json:"signingDate"`
		ExpiresIn       int64                      `json:"expiresIn"`
		URIEscapePath   bool                       `json:"uriEscapePath"`
	} `json:"input"`
	Output struct {
		Authorization string            `json:"authorization"`
		Headers       map[string]string `json:"headers"`
		URL           string            `json:"url"`
	} `json:"output"`
	CanonicalRequest string `json:"canonical_request"`
}

func loadVectors(t testing.TB) *vectorFile {
	t.Helper()
	b, err := os.ReadFile("../testdata/sigv4.json")
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// wirePath percent-encodes what a request line cannot carry, as an HTTP
// client does with a raw path; everything else (including '%') is sent as
// given.
func wirePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if minimal(p[i]) {
			fmt.Fprintf(&b, "%%%02X", p[i])
		} else {
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

// queryString encodes a JS-style query object (string or string array).
func queryString(t testing.TB, q map[string]json.RawMessage) string {
	var pairs []string
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	for k, raw := range q {
		var vs []string
		var one string
		if err := json.Unmarshal(raw, &one); err == nil {
			vs = []string{one}
		} else if err := json.Unmarshal(raw, &vs); err != nil {
			t.Fatalf("query %q: %v", k, err)
		}
		for _, v := range vs {
			pairs = append(pairs, esc(k)+"="+esc(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// newWireRequest builds a server-side request as net/http would parse it.
func newWireRequest(t testing.TB, method, host, target string, headers map[string]string, body *string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(*body)
	}
	r := httptest.NewRequest(method, target, rd)
	if body == nil {
		r.Body = http.NoBody
		r.ContentLength = 0
	}
	r.Host = host
	for k, v := range headers {
		if strings.EqualFold(k, "host") {
			continue
		}
		// net/http trims a value's leading and trailing blanks.
		r.Header.Add(k, strings.Trim(v, " \t"))
	}
	return r
}

func expectedReplayID(id, canonical, amzDate, scope string) string {
	sum := sha256.Sum256([]byte(canonical))
	sts := Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	return signet.ReplayID(signet.SchemeSigV4, id, []byte(sts))
}

func TestVectorsKnownAnswers(t *testing.T) {
	f := loadVectors(t)
	for i, ka := range f.KnownAnswers {
		name := fmt.Sprintf("%d %s", i, ka.Source)
		t.Run(name, func(t *testing.T) {
			var in knownInput
			if err := json.Unmarshal(ka.Input, &in); err != nil {
				t.Fatal(err)
			}
			if ka.Output.SigningKeyHex != "" {
				got := hex.EncodeToString(deriveKey(in.Secret, in.Date, in.Region, in.Service))
				if got != ka.Output.SigningKeyHex {
					t.Errorf("derived key = %s, want %s", got, ka.Output.SigningKeyHex)
				}
				return
			}
			when, err := time.Parse(amzDateFormat, in.When)
			if err != nil {
				t.Fatal(err)
			}
			q := url.Values{}
			for _, p := range in.Query {
				q.Add(p[0], p[1])
			}
			target := in.Path
			if len(q) > 0 {
				target += "?" + q.Encode()
			}
			headers := map[string]string{}
			var names []string
			host := ""
			for _, h := range in.Headers {
				headers[h[0]] = h[1]
				names = append(names, strings.ToLower(h[0]))
				if strings.EqualFold(h[0], "host") {
					host = h[1]
				}
			}
			names = append(names, "x-amz-date")
			sort.Strings(names)
			headers["X-Amz-Date"] = in.When
			auth := ka.Output.Authorization
			if auth == "" {
				auth = fmt.Sprintf("%s Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
					Algorithm, ka.AccessKey, in.When[:8], in.Region, in.Service, strings.Join(names, ";"), ka.Output.Signature)
			}
			headers["Authorization"] = auth
			r := newWireRequest(t, in.Method, host, target, headers, in.Body)
			keys := signet.StaticKeys{ka.AccessKey: {ID: ka.AccessKey, Secrets: []string{"wrong", ka.SecretKey}}}
			v := &Verifier{Now: func() time.Time { return when.Add(time.Minute) }, Region: in.Region, Service: in.Service}
			ver, err := v.Verify(context.Background(), r, keys)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ver.SecretIndex != 1 || ver.Signature != ka.Output.Signature || ver.Algorithm != Algorithm || !ver.SignedAt.Equal(when) {
				t.Errorf("Verified = %+v", ver)
			}
		})
	}
}

func TestVectorsGenerated(t *testing.T) {
	f := loadVectors(t)
	for i, gc := range f.GeneratedCases {
		in := gc.Input
		name := fmt.Sprintf("%02d %s %s %s", i, gc.Source, in.Method, in.Path)
		t.Run(name, func(t *testing.T) {
			signedAt := time.Unix(in.SigningDate, 0).UTC()
			var r *http.Request
			host := in.Headers["host"]
			switch in.Op {
			case "sign":
				target := wirePath(in.Path)
				if qs := queryString(t, in.Query); qs != "" {
					target += "?" + qs
				}
				r = newWireRequest(t, in.Method, host, target, gc.Output.Headers, in.Body)
			case "presign":
				u := gc.Output.URL
				rest := u[strings.Index(u, "://")+3:]
				rest = rest[strings.IndexByte(rest, '/'):]
				p, q, _ := strings.Cut(rest, "?")
				r = newWireRequest(t, in.Method, host, wirePath(p)+"?"+q, in.Headers, in.Body)
			default:
				t.Fatalf("unknown op %q", in.Op)
			}
			keys := signet.StaticKeys{in.AccessKeyID: {ID: in.AccessKeyID, Secrets: []string{in.SecretAccessKey}}}
			v := &Verifier{
				Now:                    func() time.Time { return signedAt.Add(30 * time.Second) },
				Region:                 in.Region,
				Service:                in.Service,
				DisableURIPathEscaping: !in.URIEscapePath,
			}
			ver, err := v.Verify(context.Background(), r, keys)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			amzDate := signedAt.Format(amzDateFormat)
			scope := amzDate[:8] + "/" + in.Region + "/" + in.Service + "/aws4_request"
			if want := expectedReplayID(in.AccessKeyID, gc.CanonicalRequest, amzDate, scope); ver.ReplayID != want {
				t.Errorf("ReplayID does not come from the vector's canonical request")
			}
			if ver.KeyID != in.AccessKeyID || ver.SecretIndex != 0 || !ver.SignedAt.Equal(signedAt) {
				t.Errorf("Verified = %+v", ver)
			}
			if in.Op == "presign" {
				if want := signedAt.Add(time.Duration(in.ExpiresIn) * time.Second); !ver.ExpiresAt.Equal(want) {
					t.Errorf("ExpiresAt = %v, want %v", ver.ExpiresAt, want)
				}
			}
			unsigned := strings.HasSuffix(gc.CanonicalRequest, "\n"+UnsignedPayload)
			if ver.BodySigned == unsigned {
				t.Errorf("BodySigned = %v, payload unsigned = %v", ver.BodySigned, unsigned)
			}
			b, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatalf("reading the verified body: %v", err)
			}
			if in.Body != nil && string(b) != *in.Body {
				t.Errorf("body = %q, want %q", b, *in.Body)
			}
		})
	}
}
