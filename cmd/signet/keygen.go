package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"os"
)

func cmdKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", `signet keygen: make a new key

  signet keygen                      print a random key id and 256-bit secret
  signet keygen --type ed25519 --out app
                                     write app.key (private, PKCS#8 PEM, mode 0600)
                                     and app.pub (public, PKIX PEM)`, stderr)
	typ := fs.String("type", "hmac", "key type: hmac, ed25519, ecdsa-p256, ecdsa-p384 or rsa")
	out := fs.String("out", "", "file name prefix for a key pair (required unless --type hmac)")
	bits := fs.Int("bits", 3072, "rsa: modulus size")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	keyID := "key_" + hex.EncodeToString(id)
	if *typ == "hmac" {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "SIGNET_ID=%s\nSIGNET_SECRET=%s\n", keyID, base64.RawURLEncoding.EncodeToString(secret))
		return nil
	}
	if *out == "" {
		return usageError(fs, stderr, "--out is required for a key pair")
	}
	var priv crypto.Signer
	var err error
	switch *typ {
	case "ed25519":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa-p256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ecdsa-p384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "rsa":
		if *bits < 2048 {
			return usageError(fs, stderr, "--bits must be at least 2048")
		}
		priv, err = rsa.GenerateKey(rand.Reader, *bits)
	default:
		return usageError(fs, stderr, fmt.Sprintf("unknown --type %q", *typ))
	}
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return err
	}
	// O_EXCL: never overwrite an existing key.
	if err := writeNew(*out+".key", 0o600, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		return err
	}
	if err := writeNew(*out+".pub", 0o644, &pem.Block{Type: "PUBLIC KEY", Bytes: pub}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SIGNET_ID=%s\nSIGNET_PRIVATE_KEY_FILE=%s.key\nSIGNET_PUBLIC_KEY_FILE=%s.pub\n", keyID, *out, *out)
	return nil
}

func writeNew(name string, mode os.FileMode, b *pem.Block) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
