package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
)

func cmdKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", "signet keygen: print a new random key id and 256-bit secret", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	id := make([]byte, 8)
	secret := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SIGNET_ID=key_%s\nSIGNET_SECRET=%s\n",
		hex.EncodeToString(id), base64.RawURLEncoding.EncodeToString(secret))
	return nil
}
