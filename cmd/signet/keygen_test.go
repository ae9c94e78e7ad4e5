package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestKeygenPair(t *testing.T) {
	for _, typ := range []string{"ed25519", "ecdsa-p256", "ecdsa-p384", "rsa"} {
		t.Run(typ, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "app")
			code, out, errOut := runCLI(t, nil, "", "keygen", "--type", typ, "--out", prefix, "--bits", "2048")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !regexp.MustCompile(`^SIGNET_ID=key_[0-9a-f]{16}\nSIGNET_PRIVATE_KEY_FILE=.*app\.key\nSIGNET_PUBLIC_KEY_FILE=.*app\.pub\n$`).MatchString(out) {
				t.Errorf("got %q", out)
			}
			st, err := os.Stat(prefix + ".key")
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("private key mode %v, want 0600", st.Mode().Perm())
			}
			priv := readPEM(t, prefix+".key", "PRIVATE KEY")
			k, err := x509.ParsePKCS8PrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := x509.ParsePKIXPublicKey(readPEM(t, prefix+".pub", "PUBLIC KEY"))
			if err != nil {
				t.Fatal(err)
			}
			if !k.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Error("public key does not match the private key")
			}
			switch typ {
			case "ed25519":
				_, ok := pub.(ed25519.PublicKey)
				assertTrue(t, ok, "ed25519 public key")
			case "rsa":
				_, ok := pub.(*rsa.PublicKey)
				assertTrue(t, ok, "rsa public key")
			default:
				_, ok := pub.(*ecdsa.PublicKey)
				assertTrue(t, ok, "ecdsa public key")
			}
			// Never overwrite an existing key.
			if code, _, _ := runCLI(t, nil, "", "keygen", "--type", typ, "--out", prefix, "--bits", "2048"); code == 0 {
				t.Error("keygen overwrote an existing key pair")
			}
		})
	}
}

func TestKeygenPairErrors(t *testing.T) {
	for _, args := range [][]string{
		{"keygen", "--type", "ed25519"},
		{"keygen", "--type", "dsa", "--out", filepath.Join(t.TempDir(), "x")},
		{"keygen", "--type", "rsa", "--bits", "1024", "--out", filepath.Join(t.TempDir(), "x")},
	} {
		if code, _, _ := runCLI(t, nil, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func readPEM(t *testing.T, name, typ string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		t.Fatalf("%s: no %s PEM block", name, typ)
	}
	return blk.Bytes
}

func assertTrue(t *testing.T, ok bool, what string) {
	t.Helper()
	if !ok {
		t.Errorf("want %s", what)
	}
}
