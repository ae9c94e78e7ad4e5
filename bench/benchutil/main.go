// Command benchutil is the bench script's helper: it signs the requests the
// load generator replays, writes the key lists of large key stores, and turns
// the raw measurements into the results tables.
//
//	benchutil sign -scheme sw1 -id ID -secret S -gateway URL -target URL [-expires 24h] [-tamper]
//	    prints a pre-signed URL
//	benchutil sign -scheme cavage|rfc9421 -id ID -secret S -url URL [-tamper]
//	    prints the signing headers, one "Name: value" per line
//	benchutil securelink -secret S -uri /small -expires UNIX [-tamper]
//	    prints the nginx secure_link query: md5=...&expires=...
//	benchutil keys -n N -origin URL
//	    prints N YAML key entries (ids k0000000..., secret "secret-<id>")
//	benchutil report results.tsv
//	    prints the medians and ratios as Markdown tables
//
// -tamper changes one character of the signature, for the rejection path.
// Signatures are made at "now": the bench config widens the gateway's clock
// windows (max_skew, max_age) so that one signature can be replayed by wrk
// for the whole run.
package main

import (
	"bufio"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/cavage"
	"github.com/signet-dev/signet/rfc9421"
	"github.com/signet-dev/signet/sw1"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "sign":
		err = cmdSign(os.Args[2:], os.Stdout)
	case "securelink":
		err = cmdSecureLink(os.Args[2:], os.Stdout)
	case "keys":
		err = cmdKeys(os.Args[2:], os.Stdout)
	case "report":
		err = cmdReport(os.Args[2:], os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchutil:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchutil sign|securelink|keys|report ... (see go doc ./bench/benchutil)")
	os.Exit(2)
}

func cmdSign(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ExitOnError)
	scheme := fs.String("scheme", "", "sw1, cavage or rfc9421")
	id := fs.String("id", "", "key id")
	secret := fs.String("secret", "", "key secret")
	gw := fs.String("gateway", "", "sw1: gateway base URL")
	target := fs.String("target", "", "sw1: upstream URL")
	expires := fs.Duration("expires", 24*time.Hour, "sw1: URL lifetime")
	rawURL := fs.String("url", "", "cavage, rfc9421: request URL")
	tamper := fs.Bool("tamper", false, "change one character of the signature")
	_ = fs.Parse(args)
	switch *scheme {
	case signet.SchemeSW1:
		u, err := sw1.Presign(sw1.PresignOptions{KeyID: *id, Secret: *secret, Gateway: *gw, Target: *target, Expires: *expires})
		if err != nil {
			return err
		}
		if *tamper {
			if u, err = tamperAfter(u, "X-Sw-Signature="); err != nil {
				return err
			}
		}
		_, err = fmt.Fprintln(out, u)
		return err
	case signet.SchemeCavage, signet.SchemeRFC9421:
		req, err := http.NewRequest(http.MethodGet, *rawURL, nil)
		if err != nil {
			return err
		}
		var s signet.RequestSigner = &cavage.Signer{KeyID: *id, Secret: *secret}
		sigHeader, marker := "Authorization", `signature="`
		if *scheme == signet.SchemeRFC9421 {
			s = &rfc9421.Signer{KeyID: *id, Secret: *secret}
			sigHeader, marker = "Signature", "=:"
		}
		if err := s.SignRequest(req); err != nil {
			return err
		}
		if *tamper {
			v, err := tamperAfter(req.Header.Get(sigHeader), marker)
			if err != nil {
				return err
			}
			req.Header.Set(sigHeader, v)
		}
		for name, vs := range req.Header {
			for _, v := range vs {
				if _, err := fmt.Fprintf(out, "%s: %s\n", name, v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("sign: unknown -scheme %q (sw1, cavage, rfc9421)", *scheme)
}

// tamperAfter changes the first character after marker in s to another
// character of the same alphabet (hex and base64 both contain 0-9a-f).
func tamperAfter(s, marker string) (string, error) {
	i := strings.Index(s, marker)
	if i < 0 || i+len(marker) >= len(s) {
		return "", fmt.Errorf("tamper: %q not found", marker)
	}
	i += len(marker)
	c := byte('0')
	if s[i] == '0' {
		c = '1'
	}
	return s[:i] + string(c) + s[i+1:], nil
}

// cmdSecureLink computes nginx's secure_link_md5 "$secure_link_expires$uri
// <secret>": base64url(md5(expires + uri + " " + secret)), unpadded.
func cmdSecureLink(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("securelink", flag.ExitOnError)
	secret := fs.String("secret", "", "secret in the nginx config")
	uri := fs.String("uri", "/small", "request path ($uri)")
	expires := fs.Int64("expires", 0, "expiry, Unix seconds")
	tamper := fs.Bool("tamper", false, "change one character of the hash")
	_ = fs.Parse(args)
	if *secret == "" || *expires == 0 {
		return errors.New("securelink: -secret and -expires are required")
	}
	sum := md5.Sum([]byte(fmt.Sprintf("%d%s %s", *expires, *uri, *secret)))
	h := base64.RawURLEncoding.EncodeToString(sum[:])
	if *tamper {
		c := byte('A')
		if h[0] == 'A' {
			c = 'B'
		}
		h = string(c) + h[1:]
	}
	_, err := fmt.Fprintf(out, "md5=%s&expires=%d\n", h, *expires)
	return err
}

func cmdKeys(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("keys", flag.ExitOnError)
	n := fs.Int("n", 1000, "number of keys")
	origin := fs.String("origin", "", "upstream origin every key may reach")
	_ = fs.Parse(args)
	if *origin == "" || *n <= 0 {
		return errors.New("keys: -n > 0 and -origin are required")
	}
	w := bufio.NewWriterSize(out, 1<<20)
	for i := 0; i < *n; i++ {
		id := KeyID(i)
		fmt.Fprintf(w, "  - id: %s\n    secrets: [\"secret-%s\"]\n    schemes: [sw1, cavage]\n    upstreams: [{origin: %q}]\n", id, id, *origin)
	}
	return w.Flush()
}

// KeyID is the id of the i-th generated key.
func KeyID(i int) string { return fmt.Sprintf("k%07d", i) }
