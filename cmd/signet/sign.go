package main

import (
	"bytes"
	"crypto"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/keyfile"
	"github.com/signet-dev/signet/reqsig"
	"github.com/signet-dev/signet/rfc9421"
	"github.com/signet-dev/signet/sigv4"
	"github.com/signet-dev/signet/sw1"
)

func cmdSign(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sign", "signet sign: print the headers that sign a request (or a curl command with --curl)", stderr)
	var (
		scheme      = fs.String("scheme", "", "signature scheme: sw1, reqsig, cavage, rfc9421 or sigv4 (required)")
		id          = fs.String("id", "", "key id (default $SIGNET_ID or $SW_ID)")
		secret      = fs.String("secret", "", "key secret (default $SIGNET_SECRET or $SW_SECRET)")
		method      = fs.String("method", "GET", "HTTP method")
		rawURL      = fs.String("url", "", "URL of the request (required); for sw1, the target API URL")
		body        = fs.String("body", "", "request body (cavage signs it through a Digest header)")
		algorithm   = fs.String("algorithm", "", "cavage, rfc9421: signature algorithm (default hmac-sha256 with a secret, chosen by the key type with --private-key)")
		signHeaders = fs.String("sign-headers", "", "cavage: headers to sign, space-separated (default \"(request-target) host date\", plus digest with a body);\nrfc9421: components to cover (default \"@method @authority @path\", plus @query and content-digest when present)")
		region      = fs.String("region", sigv4.DefaultRegion, "sigv4: region of the credential scope")
		service     = fs.String("service", sigv4.DefaultService, "sigv4: service of the credential scope")
		presign     = fs.Bool("presign", false, "sigv4: print a pre-signed URL (X-Amz-* query) valid for --expires (default 15m) instead of headers")
		privateKey  = fs.String("private-key", "", "cavage, rfc9421: sign with this private key (PEM or JWK file) instead of a secret")
		headerName  = fs.String("header-name", "Authorization", "cavage: put the signature in Authorization or Signature")
		apiVersion  = fs.String("api-version", "v1", "reqsig: API version")
		signedHost  = fs.Bool("signed-host", true, "reqsig: sign the host")
		gateway     = fs.String("gateway", "", "sw1: base URL of the Signet gateway")
		expires     = fs.Duration("expires", 0, "sw1: URL lifetime (default 10m); cavage, rfc9421: add an expiry this far ahead; sigv4 --presign: URL lifetime (default 15m)")
		curl        = fs.Bool("curl", false, "print a ready curl command instead of headers")
		headers     headerFlags
		at          timeFlag
	)
	fs.Var(&headers, "header", "request header, 'Name: value' (repeatable); signed where the scheme signs headers")
	fs.Var(&at, "at", "signing time instead of now (RFC 3339 or unix seconds)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	kid, sec, err := keyCredentials(*id, *secret, *privateKey != "", getenv)
	if err != nil {
		return usageError(fs, stderr, err.Error())
	}
	if *rawURL == "" {
		return usageError(fs, stderr, "--url is required")
	}
	var priv crypto.Signer
	if *privateKey != "" {
		if *scheme != signet.SchemeCavage && *scheme != signet.SchemeRFC9421 {
			return usageError(fs, stderr, "--private-key works with --scheme cavage or rfc9421")
		}
		b, err := readKeyFile(*privateKey)
		if err != nil {
			return err
		}
		if priv, err = keyfile.ParsePrivateKey(b); err != nil {
			return err
		}
		sec = ""
	}
	var signer signet.RequestSigner
	switch *scheme {
	case signet.SchemeSW1:
		if *gateway == "" {
			return usageError(fs, stderr, "--gateway is required with --scheme sw1")
		}
		s := &sw1.Signer{KeyID: kid, Secret: sec, Gateway: *gateway, Expires: *expires, Now: at.now(), SignBody: *body != ""}
		for name := range headers.Header() {
			s.SignHeaders = append(s.SignHeaders, name)
		}
		slices.Sort(s.SignHeaders)
		signer = s
	case signet.SchemeReqSig:
		signer = &reqsig.Signer{KeyID: kid, Secret: sec, APIVersion: *apiVersion, DisableSignedHost: !*signedHost, Now: at.now()}
	case signet.SchemeCavage:
		s := &cavage.Signer{KeyID: kid, Secret: sec, PrivateKey: priv, Algorithm: *algorithm, HeaderName: *headerName, Expires: *expires, Now: at.now()}
		if *signHeaders != "" {
			s.Headers = strings.Fields(strings.ToLower(*signHeaders))
		}
		signer = s
	case signet.SchemeRFC9421:
		s := &rfc9421.Signer{KeyID: kid, Secret: sec, PrivateKey: priv, Algorithm: *algorithm, Expires: *expires, Now: at.now()}
		if *signHeaders != "" {
			s.Components = strings.Fields(*signHeaders)
		}
		signer = s
	case signet.SchemeSigV4:
		signer = &sigv4.Signer{KeyID: kid, Secret: sec, Region: *region, Service: *service, Now: at.now()}
	case "":
		return usageError(fs, stderr, "--scheme is required (sw1, reqsig, cavage, rfc9421 or sigv4)")
	default:
		return usageError(fs, stderr, fmt.Sprintf("unknown scheme %q (want sw1, reqsig, cavage, rfc9421 or sigv4)", *scheme))
	}

	var rd io.Reader
	if *body != "" {
		rd = strings.NewReader(*body)
	}
	req, err := http.NewRequest(*method, *rawURL, rd)
	if err != nil {
		return fmt.Errorf("bad request: %w", err)
	}
	for name, vs := range headers.Header() {
		req.Header[name] = vs
	}
	if *presign {
		s, ok := signer.(*sigv4.Signer)
		if !ok {
			return usageError(fs, stderr, "--presign works with --scheme sigv4")
		}
		life := *expires
		if life == 0 {
			life = 15 * time.Minute
		}
		u, err := s.Presign(req, life)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, u)
		return nil
	}
	before := req.Header.Clone()
	if err := signer.SignRequest(req); err != nil {
		return err
	}

	if *curl {
		fmt.Fprintln(stdout, curlCommand(req, *body))
		return nil
	}
	if *scheme == signet.SchemeSW1 {
		// A pre-signed URL carries its signature in the URL itself.
		fmt.Fprintln(stdout, req.URL.String())
		return nil
	}
	for _, name := range sortedKeys(req.Header) {
		if slices.Equal(before[name], req.Header[name]) {
			continue
		}
		for _, v := range req.Header[name] {
			fmt.Fprintf(stdout, "%s: %s\n", name, v)
		}
	}
	return nil
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// curlCommand renders req as a curl command line, quoted for POSIX shells.
func curlCommand(req *http.Request, body string) string {
	var b bytes.Buffer
	b.WriteString("curl")
	if req.Method != http.MethodGet || body != "" {
		b.WriteString(" -X " + shellQuote(req.Method))
	}
	for _, name := range sortedKeys(req.Header) {
		for _, v := range req.Header[name] {
			b.WriteString(" -H " + shellQuote(name+": "+v))
		}
	}
	if body != "" {
		b.WriteString(" --data-binary " + shellQuote(body))
	}
	b.WriteString(" " + shellQuote(req.URL.String()))
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
