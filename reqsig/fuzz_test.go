package reqsig

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

func FuzzParseAuthorization(f *testing.F) {
	v := loadVectors(f)
	for _, c := range append(v.KnownAnswers, v.GeneratedCases...) {
		if c.Output.Authorization != "" {
			f.Add(c.Output.Authorization)
		}
	}
	f.Add(testAuth)
	f.Add("REQUEST-SIGNATURE ApiKey=a,b,ApiVersion=v,SignedHost=false,Timestamp=0,Signature=" + testSig)
	f.Add("REQUEST-SIGNATURE ApiKey=,ApiVersion=,SignedHost=,Timestamp=,Signature=")
	f.Add("REQUEST-SIGNATURE ")
	f.Add("Bearer x")
	types := []string{DefaultType, "X Y"}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h, types)
		if err != nil {
			return
		}
		// A parsed header reads back to exactly the same text: nothing is
		// dropped or reinterpreted.
		back := a.Type + " ApiKey=" + a.APIKey + markAPIVersion + a.APIVersion + markSignedHost +
			strconv.FormatBool(a.SignedHost) + markTimestamp + a.Timestamp + markSignature + a.Signature
		if back != h {
			t.Errorf("round trip: got %q, want %q", back, h)
		}
		if a.APIKey == "" || a.APIVersion == "" || len(a.Signature) != signatureChars || a.Millis < 0 {
			t.Errorf("accepted invalid components: %+v", a)
		}
	})
}

func FuzzCanonicalRequest(f *testing.F) {
	v := loadVectors(f)
	for _, c := range append(v.KnownAnswers, v.GeneratedCases...) {
		if c.Input.URL != "" {
			f.Add(c.Input.Method, c.Input.URL, c.signedHost())
		}
	}
	f.Add("GET", "http://[::1%eth0]:+80/a?b#c", true)
	f.Add("get", "url: HTTP:////x?y", false)
	f.Fuzz(func(t *testing.T, method, rawURL string, signedHost bool) {
		got, err := CanonicalRequest(method, rawURL, signedHost)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, upperMethod(method)+" ") {
			t.Errorf("canonical %q does not start with the method", got)
		}
		u, err := parseJavaURL(rawURL)
		if err != nil {
			t.Fatalf("CanonicalRequest accepted what parseJavaURL refuses: %v", err)
		}
		if strings.ContainsAny(u.host, "/") || strings.Contains(u.path, "?") || strings.Contains(u.path, "#") || strings.Contains(u.query, "#") {
			t.Errorf("split leaks delimiters: %+v", u)
		}
	})
}

// FuzzSignVerify: what the Signer signs verifies, and changing one byte
// of the signature makes it fail.
func FuzzSignVerify(f *testing.F) {
	v := loadVectors(f)
	for _, c := range append(v.KnownAnswers, v.GeneratedCases...) {
		if c.Input.URL != "" {
			f.Add(c.Input.APIKey, c.Input.Secret, c.Input.APIVersion, c.Input.AuthType, c.Input.Method, c.Input.URL, c.Input.Timestamp, !c.signedHost(), uint8(c.Input.Timestamp))
		}
	}
	f.Fuzz(func(t *testing.T, keyID, secret, version, typ, method, rawURL string, ms int64, noHost bool, pos uint8) {
		if ms < 0 {
			ms = -ms
		}
		ms %= 1e15
		u, err := parseJavaURL(rawURL)
		if err != nil || (u.path != "" && u.path[0] != '/') || method == "" {
			return // not a request an HTTP client could send as such
		}
		s := &Signer{KeyID: keyID, Secret: secret, APIVersion: version, Type: typ, DisableSignedHost: noHost}
		at := time.UnixMilli(ms)
		auth, err := s.Authorization(method, rawURL, at)
		if err != nil {
			return
		}
		if typ == "" {
			typ = DefaultType
		}
		r := serverRequest(upperMethod(method), u.host, u.path, u.query)
		r.Header.Set("Authorization", auth)
		ver := &Verifier{Now: func() time.Time { return at }, Types: []string{typ}}
		keys := signet.StaticKeys{keyID: {ID: keyID, Secrets: []string{secret}}}
		if _, err := ver.Verify(context.Background(), r, keys); err != nil {
			t.Fatalf("sign then verify: %v (header %q)", err, auth)
		}
		// Change one character of the signature.
		i := len(auth) - signatureChars + int(pos)%signatureChars
		b := []byte(auth)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		r.Header.Set("Authorization", string(b))
		if _, err := ver.Verify(context.Background(), r, keys); !errors.Is(err, signet.ErrMismatch) {
			t.Fatalf("one-byte change: got %v, want ErrMismatch", err)
		}
	})
}
