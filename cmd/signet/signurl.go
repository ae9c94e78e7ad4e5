package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/signet-dev/signet/sw1"
)

func cmdSignURL(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sign-url", "signet sign-url: print a Signway SW1 pre-signed URL for a target API", stderr)
	var (
		id       = fs.String("id", "", "key id (default $SIGNET_ID or $SW_ID)")
		secret   = fs.String("secret", "", "key secret (default $SIGNET_SECRET or $SW_SECRET)")
		gateway  = fs.String("gateway", "", "base URL of the Signet gateway, e.g. http://localhost:3000 (required)")
		target   = fs.String("target", "", "upstream URL the signed request goes to (required)")
		expires  = fs.Duration("expires", 10*time.Minute, "how long the URL stays valid")
		method   = fs.String("method", "GET", "HTTP method the URL is valid for (signed verbatim)")
		body     = fs.String("body", "", "request body to sign")
		bodyFile = fs.String("body-file", "", "read the request body to sign from this file")
		headers  headerFlags
		at       timeFlag
	)
	fs.Var(&headers, "header", "header to sign, 'Name: value' (repeatable)")
	fs.Var(&at, "at", "signing time instead of now (RFC 3339 or unix seconds)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	kid, sec, err := credentials(*id, *secret, getenv)
	if err != nil {
		return usageError(fs, stderr, err.Error())
	}
	if *gateway == "" || *target == "" {
		return usageError(fs, stderr, "--gateway and --target are required")
	}
	opts := sw1.PresignOptions{
		KeyID: kid, Secret: sec, Gateway: *gateway, Target: *target,
		Method: *method, Expires: *expires, Time: at.now()(),
	}
	if len(headers) > 0 {
		opts.Header = headers.Header()
	}
	switch {
	case *body != "" && *bodyFile != "":
		return usageError(fs, stderr, "give --body or --body-file, not both")
	case *body != "":
		opts.Body = []byte(*body)
	case *bodyFile != "":
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return err
		}
		opts.Body = b
	}
	u, err := sw1.Presign(opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, u)
	return nil
}
