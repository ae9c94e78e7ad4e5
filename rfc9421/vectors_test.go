package rfc9421

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

// rfcKeys is the key store of RFC 9421 Appendix B.1.
func rfcKeys(t testing.TB, v *vectorFile) signet.StaticKeys {
	t.Helper()
	keys := signet.StaticKeys{}
	for id, raw := range v.TestKeys {
		k := &signet.Key{ID: id}
		if raw[0] == '"' {
			var s string
			if err := jsonUnmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			secret, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				t.Fatal(err)
			}
			k.Secrets = []string{"an-older-secret", string(secret)}
		} else {
			k.PublicKey, _ = parseJWK(t, raw)
		}
		keys[id] = k
	}
	return keys
}

var sigLabel = regexp.MustCompile(`sig-b2(\d)`)

// TestAppendixB runs the RFC 9421 Appendix B.2 signatures as named cases.
func TestAppendixB(t *testing.T) {
	v := loadVectors(t)
	keys := rfcKeys(t, v)
	if len(v.KnownAnswers) != 6 {
		t.Fatalf("got %d known answers, want 6", len(v.KnownAnswers))
	}
	for _, ka := range v.KnownAnswers {
		m := sigLabel.FindStringSubmatch(ka.Source)
		if m == nil {
			t.Fatalf("source %q names no B.2 case", ka.Source)
		}
		name := "B.2." + m[1]
		t.Run(name, func(t *testing.T) {
			label, params := member(t, ka.SignatureInput)
			_, sigField := member(t, ka.Signature)
			sig, err := base64.StdEncoding.DecodeString(strings.Trim(sigField, ":"))
			if err != nil {
				t.Fatal(err)
			}
			r := serverRequest(t, v.TestRequest)
			if ka.Message == "response" {
				// B.2.4 signs a response (@status): a request verifier must
				// refuse it, and the signature must hold over its base.
				if _, err := SignatureBase(r, params); !errors.Is(err, signet.ErrMalformed) {
					t.Errorf("SignatureBase of a response signature on a request: err = %v, want ErrMalformed", err)
				}
				m := methodByName(ka.Alg)
				if !m.verifyPublic(publicKey(keys[ka.KeyID].PublicKey), []byte(ka.SignatureBase), sig) {
					t.Errorf("%s signature does not verify over the RFC's signature base", ka.Alg)
				}
				return
			}
			base, err := SignatureBase(r, params)
			if err != nil {
				t.Fatalf("SignatureBase: %v", err)
			}
			if string(base) != ka.SignatureBase {
				t.Fatalf("signature base:\ngot:\n%s\nwant:\n%s", base, ka.SignatureBase)
			}
			if ka.Deterministic {
				key := keys[ka.KeyID]
				var secret string
				if len(key.Secrets) > 0 {
					secret = key.Secrets[1]
				}
				_, priv := parseJWKOrNil(t, v, ka.KeyID)
				got, err := methodByName(ka.Alg).sign(secret, priv, base)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(sig) {
					t.Errorf("signature = %s, want %s", base64.StdEncoding.EncodeToString(got), base64.StdEncoding.EncodeToString(sig))
				}
			}
			r.Header.Set("Signature-Input", ka.SignatureInput)
			r.Header.Set("Signature", ka.Signature)
			created := time.Unix(1618884473, 0)
			ver := &Verifier{Now: func() time.Time { return created.Add(30 * time.Second) }, RequiredComponents: []string{}, Label: label}
			got, err := ver.Verify(context.Background(), r, keys)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Algorithm != ka.Alg || got.KeyID != ka.KeyID || !got.SignedAt.Equal(created) {
				t.Errorf("Verified = %s %s %v, want %s %s %v", got.Algorithm, got.KeyID, got.SignedAt, ka.Alg, ka.KeyID, created)
			}
			wantIdx := -1
			if ka.Alg == AlgHMACSHA256 {
				wantIdx = 1
			}
			if got.SecretIndex != wantIdx {
				t.Errorf("SecretIndex = %d, want %d", got.SecretIndex, wantIdx)
			}
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				t.Errorf("reading the body: %v", err)
			}
			if strings.Contains(ka.SignatureInput, `"content-digest"`) != got.BodySigned {
				t.Errorf("BodySigned = %v", got.BodySigned)
			}
			if strings.Contains(ka.SignatureInput, "nonce=") {
				if got.Nonce == "" || got.ReplayID != signet.NonceReplayID(signet.SchemeRFC9421, ka.KeyID, got.Nonce) {
					t.Errorf("nonce %q, ReplayID %q", got.Nonce, got.ReplayID)
				}
			} else if got.ReplayID != signet.ReplayID(signet.SchemeRFC9421, ka.KeyID, base) {
				t.Errorf("ReplayID %q is not that of the signature base", got.ReplayID)
			}
		})
	}
}

func parseJWKOrNil(t *testing.T, v *vectorFile, id string) (any, interfaceSigner) {
	raw := v.TestKeys[id]
	if raw[0] == '"' {
		return nil, nil
	}
	pub, priv := parseJWK(t, raw)
	return pub, priv
}

// TestDerivedComponents checks the RFC's §2.2 examples value by value.
func TestDerivedComponents(t *testing.T) {
	v := loadVectors(t)
	for i, ex := range v.DerivedComponentExamples {
		r := serverRequest(t, ex.Message)
		for _, c := range ex.Components {
			t.Run(fmt.Sprintf("%d/%s", i, c[0]), func(t *testing.T) {
				id := normalizeComponent(c[0])
				base, err := SignatureBase(r, "("+id+")")
				if err != nil {
					t.Fatalf("SignatureBase: %v", err)
				}
				line, _, _ := strings.Cut(string(base), "\n")
				if want := id + ": " + c[1]; line != want {
					t.Errorf("got %q, want %q", line, want)
				}
			})
		}
	}
}

func TestContentDigestExamples(t *testing.T) {
	v := loadVectors(t)
	for i, ex := range v.ContentDigestExamples {
		t.Run(fmt.Sprintf("%d/%s", i, ex.Alg), func(t *testing.T) {
			if got := contentDigest(ex.Alg, []byte(ex.Body)); got != ex.Value {
				t.Errorf("contentDigest = %q, want %q", got, ex.Value)
			}
			if err := CheckContentDigest(ex.Value, strings.NewReader(ex.Body)); err != nil {
				t.Errorf("CheckContentDigest: %v", err)
			}
			if err := CheckContentDigest(ex.Value, strings.NewReader(ex.Body+" ")); !errors.Is(err, signet.ErrDigest) {
				t.Errorf("CheckContentDigest of another body: err = %v, want ErrDigest", err)
			}
		})
	}
	// The request of Appendix B carries a sha-512 Content-Digest.
	tr := v.TestRequest
	for _, h := range tr.Headers {
		if h[0] == "Content-Digest" {
			if err := CheckContentDigest(h[1], strings.NewReader(tr.Body)); err != nil {
				t.Errorf("Appendix B request Content-Digest: %v", err)
			}
		}
	}
}

// TestGeneratedCases verifies the requests http-message-signatures 1.0.6
// signed, and checks that one of the two bases (RFC, node) is the one it
// computed.
func TestGeneratedCases(t *testing.T) {
	v := loadVectors(t)
	for i, gc := range v.GeneratedCases {
		in := gc.Input
		t.Run(fmt.Sprintf("generated/%02d/%s", i, in.Alg), func(t *testing.T) {
			key := &signet.Key{ID: "default"}
			var created, expires int64
			for _, p := range in.Params {
				switch p[0] {
				case "keyid":
					key.ID = p[1].(string)
				case "created":
					created = int64(p[1].(float64))
				case "expires":
					expires = int64(p[1].(float64))
				}
			}
			if in.KeyEncoding == "base64" {
				var s string
				if err := jsonUnmarshal(in.Key, &s); err != nil {
					t.Fatal(err)
				}
				secret, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					t.Fatal(err)
				}
				key.Secrets = []string{string(secret)}
			} else {
				key.PublicKey, _ = parseJWK(t, in.Key)
			}
			keys := signet.StaticKeys{key.ID: key}
			now := time.Unix(1618884473, 0)
			switch {
			case created != 0:
				now = time.Unix(created, 0)
			case expires != 0:
				now = time.Unix(expires-1, 0)
			}

			r := serverRequest(t, in.vectorMessage)
			_, params := member(t, gc.Output.SignatureInput)
			var si sigInput
			if err := parseSigInputString(params, &si); err != nil {
				t.Fatal(err)
			}
			msg := newMessage(r, "")
			rfcBase, rfcErr := appendBase(nil, msg, &si, modeRFC)
			nodeBase, nodeErr := appendBase(nil, msg, &si, modeNode)
			if !(rfcErr == nil && string(rfcBase) == gc.Output.SignatureBase) && !(nodeErr == nil && string(nodeBase) == gc.Output.SignatureBase) {
				t.Errorf("neither base is the signer's:\nRFC (%v):\n%s\nnode (%v):\n%s\nwant:\n%s", rfcErr, rfcBase, nodeErr, nodeBase, gc.Output.SignatureBase)
			}

			r.Header.Set("Signature-Input", gc.Output.SignatureInput)
			r.Header.Set("Signature", gc.Output.Signature)
			ver := &Verifier{
				Now:                   func() time.Time { return now },
				RequiredComponents:    []string{},
				Label:                 in.Label,
				KeyID:                 "default",
				DisableRequireCreated: created == 0,
			}
			got, err := ver.Verify(context.Background(), r, keys)
			if err != nil {
				t.Fatalf("Verify: %v\n%s %s\nbase:\n%s", err, in.Method, in.URL, gc.Output.SignatureBase)
			}
			if got.Algorithm != in.Alg {
				t.Errorf("Algorithm = %q, want %q", got.Algorithm, in.Alg)
			}
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				t.Errorf("reading the body: %v", err)
			}
		})
	}
}
