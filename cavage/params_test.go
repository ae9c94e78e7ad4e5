package cavage

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-dev/signet"
)

func TestParseParams(t *testing.T) {
	const sig = `signature="AAEC"` // bytes 0,1,2
	tests := []struct {
		name    string
		in      string
		want    *Params // nil: error
		headers string
	}{
		{"minimal", `keyId="k",` + sig, &Params{KeyID: "k"}, "date"},
		{"full", `keyId="k",algorithm="HMAC-SHA256",created=1,expires=2,headers="(Request-Target) Host  Date",` + sig,
			&Params{KeyID: "k", Algorithm: "hmac-sha256", Created: 1, Expires: 2, HeadersSet: true}, "(request-target) host date"},
		{"spaces around commas", ` keyId="k" , headers="a b" ,` + sig + ` `, &Params{KeyID: "k", HeadersSet: true}, "a b"},
		{"tabs", "keyId=\"k\",\t" + sig, &Params{KeyID: "k"}, "date"},
		{"quoted created", `keyId="k",created="12",` + sig, &Params{KeyID: "k", Created: 12}, "date"},
		{"unknown params ignored", `keyId="k",opaque="x,y",foo=bar,` + sig, &Params{KeyID: "k"}, "date"},
		{"empty headers", `keyId="k",headers="",` + sig, &Params{KeyID: "k"}, "date"},
		{"case-insensitive names", `KEYID="k",Signature="AAEC"`, &Params{KeyID: "k"}, "date"},
		{"unpadded base64", `keyId="k",signature="AAECAw"`, &Params{KeyID: "k"}, "date"},
		{"trailing comma", `keyId="k",` + sig + `,`, &Params{KeyID: "k"}, "date"},
		{"backslash is literal", `keyId="a\",` + sig, &Params{KeyID: `a\`}, "date"},

		{"empty", ``, nil, ""},
		{"missing keyId", sig, nil, ""},
		{"empty keyId", `keyId="",` + sig, nil, ""},
		{"missing signature", `keyId="k"`, nil, ""},
		{"empty signature", `keyId="k",signature=""`, nil, ""},
		{"bad base64", `keyId="k",signature="@@@@"`, nil, ""},
		{"duplicate keyId", `keyId="k",keyId="j",` + sig, nil, ""},
		{"duplicate signature", `keyId="k",` + sig + `,` + sig, nil, ""},
		{"duplicate headers", `keyId="k",headers="a",headers="b",` + sig, nil, ""},
		{"duplicate case-insensitive", `keyId="k",keyid="k",` + sig, nil, ""},
		{"unterminated quote", `keyId="k,` + sig, nil, ""},
		{"no equals", `keyId,` + sig, nil, ""},
		{"no comma", `keyId="k" ` + sig, nil, ""},
		{"unquoted keyId", `keyId=k,` + sig, nil, ""},
		{"unquoted signature", `keyId="k",signature=AAEC`, nil, ""},
		{"negative created", `keyId="k",created=-1,` + sig, nil, ""},
		{"huge created", `keyId="k",created=99999999999999999999,` + sig, nil, ""},
		{"double comma", `keyId="k",,` + sig, nil, ""},
		{"non-zero padding bits", `keyId="k",signature="AAF="`, nil, ""},
		{"non-zero trailing bits unpadded", `keyId="k",signature="AAF"`, nil, ""},
		{"line break in signature", "keyId=\"k\",signature=\"AAEC\n\"", nil, ""},
		{"only line breaks", "keyId=\"k\",signature=\"\n\n\"", nil, ""},
		{"too long", `keyId="k",opaque="` + strings.Repeat("a", MaxHeaderLen) + `",` + sig, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseParams(tt.in)
			if tt.want == nil {
				if !errors.Is(err, signet.ErrMalformed) {
					t.Fatalf("ParseParams = %+v, %v; want ErrMalformed", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.KeyID != tt.want.KeyID || p.Algorithm != tt.want.Algorithm || p.Created != tt.want.Created ||
				p.Expires != tt.want.Expires || p.HeadersSet != tt.want.HeadersSet {
				t.Fatalf("ParseParams = %+v, want %+v", p, tt.want)
			}
			if got := strings.Join(p.Headers, " "); got != tt.headers {
				t.Fatalf("Headers = %q, want %q", got, tt.headers)
			}
			if len(p.Signature) < 3 || p.Signature[0] != 0 || p.Signature[1] != 1 || p.Signature[2] != 2 {
				t.Fatalf("Signature = %v", p.Signature)
			}
		})
	}
}

// TestSigningStringSeed is the example of the scheme's own documentation.
func TestSigningStringSeed(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/protected", nil)
	r.Host = "example.org"
	r.Header.Set("Date", "Tue, 10 Apr 2018 10:30:32 GMT")
	r.Header.Set("x-test", "Hello world")
	r.Header.Add("Cache-Control", "max-age=60")
	r.Header.Add("Cache-Control", "must-revalidate")
	got, err := SigningString(r, []string{"(request-target)", "host", "date", "cache-control", "x-test"}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "(request-target): get /protected\nhost: example.org\ndate: Tue, 10 Apr 2018 10:30:32 GMT\ncache-control: max-age=60, must-revalidate\nx-test: Hello world"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestSigningStringErrors(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Padded", "  v \t")
	tests := []struct {
		name    string
		headers []string
		created int64
		want    error
		out     string
	}{
		{"missing header", []string{"x-absent"}, 0, signet.ErrMissingHeader, ""},
		{"created absent", []string{Created}, 0, signet.ErrMalformed, ""},
		{"expires absent", []string{Expires}, 5, signet.ErrMalformed, ""},
		{"unknown pseudo", []string{"(foo)"}, 0, signet.ErrMalformed, ""},
		{"trimmed", []string{"x-padded", Created}, 5, nil, "x-padded: v\n(created): 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SigningString(r, tt.headers, tt.created, 0)
			if tt.want == nil {
				if err != nil || got != tt.out {
					t.Fatalf("got %q, %v; want %q", got, err, tt.out)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignerErrors(t *testing.T) {
	k := getKeys(t)
	tests := []struct {
		name string
		s    Signer
	}{
		{"no key id", Signer{Secret: "x"}},
		{"no secret", Signer{KeyID: "k"}},
		{"hmac alg with private key", Signer{KeyID: "k", PrivateKey: k.rsa, Algorithm: AlgHMACSHA256}},
		{"rsa alg without private key", Signer{KeyID: "k", Secret: "x", Algorithm: AlgRSASHA256}},
		{"rsa alg with ed25519 key", Signer{KeyID: "k", PrivateKey: k.ed25519, Algorithm: AlgRSASHA256}},
		{"bad header name", Signer{KeyID: "k", Secret: "x", HeaderName: "X-Sig"}},
		{"empty headers", Signer{KeyID: "k", Secret: "x", Headers: []string{}}},
		{"expires without Expires", Signer{KeyID: "k", Secret: "x", Headers: []string{Expires}}},
		{"quote in key id", Signer{KeyID: `a"b`, Secret: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if err := tt.s.SignRequest(r); err == nil {
				t.Fatalf("SignRequest succeeded: %v", r.Header)
			}
		})
	}
}

func TestSignerDefaults(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPost, "http://example.com/a?b", strings.NewReader("hi"))
	s := &Signer{KeyID: "k", Secret: "x", Now: fixedNow(t0)}
	if err := s.SignRequest(r); err != nil {
		t.Fatal(err)
	}
	want := `Signature keyId="k",algorithm="hmac-sha256",headers="(request-target) host date digest",signature=`
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, want) {
		t.Fatalf("Authorization = %q, want prefix %q", got, want)
	}
	if got := r.Header.Get("Date"); got != "Wed, 01 May 2024 12:00:00 GMT" {
		t.Fatalf("Date = %q", got)
	}
	if got := r.Header.Get("Digest"); got != "SHA-256=j0NDRmSPa5bfid2pAcUXaxCm2Dlh3TwayItZstwyeqQ=" {
		t.Fatalf("Digest = %q", got)
	}
	if r.ContentLength != 2 || r.GetBody == nil {
		t.Fatalf("ContentLength = %d", r.ContentLength)
	}
	b, _ := r.GetBody()
	buf := make([]byte, 10)
	n, _ := b.Read(buf)
	if string(buf[:n]) != "hi" {
		t.Fatalf("GetBody = %q", buf[:n])
	}
}

// TestSplitHeadersFields: the byte scan splits as strings.FieldsFunc on
// space and tab does, whatever other bytes (\f, \v, NBSP, invalid UTF-8)
// the list holds.
func TestSplitHeadersFields(t *testing.T) {
	for _, s := range []string{
		"a", " a", "a ", "\ta\t\tb  c", "(request-target) host date", "a\fb c", "a\vb", "a\u00a0b c",
		"a\xffb \xc2", "  \t x", "(created)\t(expires) Digest",
	} {
		names, _, ok := splitHeaders(s)
		want := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
		if !ok {
			continue // a name that is not a token: refused, not split
		}
		if len(names) != len(want) || cap(names) != len(want) {
			t.Fatalf("splitHeaders(%q) = %q (cap %d), want %q", s, names, cap(names), want)
		}
		for i := range want {
			if names[i] != lower(want[i]) {
				t.Fatalf("splitHeaders(%q) = %q, want %q", s, names, want)
			}
		}
	}
}
