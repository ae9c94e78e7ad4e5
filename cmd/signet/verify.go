package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/keyfile"
	"github.com/signet-dev/signet/reqsig"
	"github.com/signet-dev/signet/rfc9421"
	"github.com/signet-dev/signet/sigv4"
	"github.com/signet-dev/signet/sw1"
)

// maxRequestFile bounds what verify reads from a request file or stdin.
const maxRequestFile = 64 << 20

func cmdVerify(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", `signet verify: check a signed URL or a raw HTTP/1.1 request offline

  signet verify --id ID --secret S [--at TIME] [--max-skew 5m] URL
  signet verify --id ID --secret S --request FILE   (FILE "-" reads stdin)

Exit 0 and print "ok id=<id> scheme=<scheme>" when the signature holds;
otherwise exit 1 and print the reason code and what did not match.`, stderr)
	var (
		id      = fs.String("id", "", "key id (default $SIGNET_ID or $SW_ID)")
		secret  = fs.String("secret", "", "key secret (default $SIGNET_SECRET or $SW_SECRET)")
		maxSkew = fs.Duration("max-skew", 0, "allowed clock skew (default: each scheme's own, 5m for reqsig and cavage, 1m into the future for sw1)")
		reqFile = fs.String("request", "", "read a raw HTTP/1.1 request from FILE (- for stdin)")
		region  = fs.String("region", sigv4.DefaultRegion, "sigv4: expected region of the credential scope")
		service = fs.String("service", sigv4.DefaultService, "sigv4: expected service of the credential scope")
		pubKey  = fs.String("public-key", "", "verify with this public key (PEM or JWK file) instead of a secret (cavage, rfc9421)")
		method  = fs.String("method", "GET", "URL form: the method the request is sent with")
		body    = fs.String("body", "", "URL form: the request body")
		headers headerFlags
		at      timeFlag
	)
	fs.Var(&headers, "header", "URL form: a request header, 'Name: value' (repeatable)")
	fs.Var(&at, "at", "verification time instead of now (RFC 3339 or unix seconds)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	kid, sec, err := keyCredentials(*id, *secret, *pubKey != "", getenv)
	if err != nil {
		return usageError(fs, stderr, err.Error())
	}
	var req *http.Request
	switch {
	case *reqFile != "" && fs.NArg() > 0:
		return usageError(fs, stderr, "give a URL or --request, not both")
	case *reqFile != "":
		req, err = readRequest(*reqFile, stdin)
		if err != nil {
			return err
		}
	case fs.NArg() == 1:
		req, err = urlRequest(*method, fs.Arg(0), *body, headers)
		if err != nil {
			return err
		}
	default:
		return usageError(fs, stderr, "want exactly one URL, or --request FILE")
	}

	// The operator holds the secret and asks what a request proves, so every
	// algorithm is allowed here; the gateway applies the key's policy.
	key := &signet.Key{ID: kid}
	if sec != "" {
		key.Secrets = []string{sec}
		key.Algorithms = []string{signet.AlgHMACSHA1, signet.AlgHMACSHA256, signet.AlgHMACSHA512}
	}
	if *pubKey != "" {
		b, err := readKeyFile(*pubKey)
		if err != nil {
			return err
		}
		if key.PublicKey, err = keyfile.ParsePublicKey(b); err != nil {
			return err
		}
		key.Algorithms = nil // the key's type decides
	}
	keys := signet.StaticKeys{kid: key}
	now := at.now()
	verifier := signet.Verifiers{
		&sw1.Verifier{Now: now, MaxSkew: *maxSkew},
		&reqsig.Verifier{Now: now, MaxSkew: *maxSkew},
		&cavage.Verifier{Now: now, MaxSkew: *maxSkew},
		&rfc9421.Verifier{Now: now, MaxSkew: *maxSkew, MaxAge: *maxSkew},
		&sigv4.Verifier{Now: now, MaxSkew: *maxSkew, Region: *region, Service: *service},
	}
	ver, err := verifier.Verify(ctx, req, keys)
	if err == nil && req.Body != nil {
		// Digests are checked while the body streams: drain it.
		_, err = io.Copy(io.Discard, req.Body)
	}
	if err != nil {
		fmt.Fprintf(stdout, "fail reason=%s\n%s\n", signet.Code(err), explain(err))
		return &exitError{code: 1}
	}
	fmt.Fprintf(stdout, "ok id=%s scheme=%s\n", ver.KeyID, ver.Scheme)
	return nil
}

// explain turns err into one human sentence. *signet.Error never carries the
// secret or the expected signature, so its text is safe to print.
func explain(err error) string {
	var se *signet.Error
	if errors.As(err, &se) {
		return se.Error()
	}
	return "verification failed: " + err.Error()
}

func readRequest(name string, stdin io.Reader) (*http.Request, error) {
	var src io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src = f
	}
	raw, err := io.ReadAll(io.LimitReader(src, maxRequestFile+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxRequestFile {
		return nil, fmt.Errorf("request file larger than %d bytes", maxRequestFile)
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(raw))))
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	// Keep the body readable after ReadRequest's reader is gone.
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	req.Body = io.NopCloser(strings.NewReader(string(b)))
	return req, nil
}

// urlRequest builds the request a server would see for rawURL, with
// RequestURI set as net/http's server sets it.
func urlRequest(method, rawURL, body string, headers headerFlags) (*http.Request, error) {
	if !strings.HasPrefix(rawURL, "http://") && !strings.HasPrefix(rawURL, "https://") {
		return nil, fmt.Errorf("want an http(s) URL, got %q", rawURL)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %w", err)
	}
	req.RequestURI = req.URL.RequestURI()
	for name, vs := range headers.Header() {
		req.Header[name] = vs
	}
	if body != "" && req.Header.Get("Content-Length") == "" {
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return req, nil
}
