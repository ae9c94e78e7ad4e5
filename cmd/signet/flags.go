package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// headerFlags collects repeated --header 'Name: value' flags.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, ", ") }

func (h *headerFlags) Set(v string) error {
	name, _, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want 'Name: value', got %q", v)
	}
	if strings.ContainsAny(v, "\r\n") {
		return errors.New("header must not contain CR or LF")
	}
	*h = append(*h, v)
	return nil
}

// Header returns the collected headers in order.
func (h headerFlags) Header() http.Header {
	out := make(http.Header)
	for _, v := range h {
		name, value, _ := strings.Cut(v, ":")
		out.Add(textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value))
	}
	return out
}

// timeFlag parses RFC 3339 or unix seconds.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(v string) error {
	t, err := parseTime(v)
	if err != nil {
		return err
	}
	f.t = t
	return nil
}

func parseTime(v string) (time.Time, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("want RFC 3339 (2024-01-02T03:04:05Z) or unix seconds, got %q", v)
}

// now returns the fixed time when --at was given, else the clock.
func (f *timeFlag) now() func() time.Time {
	if f.t.IsZero() {
		return time.Now
	}
	t := f.t
	return func() time.Time { return t }
}

// newFlagSet returns a flag set whose --help prints the summary first.
func newFlagSet(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nFlags:\n", summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns flag errors into exit code 2.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitError{code: 0}
		}
		return &exitError{code: 2}
	}
	return nil
}

// credentials fills id and secret from the environment when the flags are
// empty: SIGNET_ID/SIGNET_SECRET, then Signway's SW_ID/SW_SECRET.
func credentials(id, secret string, getenv func(string) string) (string, string, error) {
	return keyCredentials(id, secret, false, getenv)
}

// keyCredentials is credentials where a key file may stand in for the
// secret (asymmetric schemes).
func keyCredentials(id, secret string, haveKeyFile bool, getenv func(string) string) (string, string, error) {
	if id == "" {
		id = firstEnv(getenv, "SIGNET_ID", "SW_ID")
	}
	if secret == "" {
		secret = firstEnv(getenv, "SIGNET_SECRET", "SW_SECRET")
	}
	switch {
	case id == "":
		return "", "", errors.New("missing --id (or SIGNET_ID)")
	case secret == "" && !haveKeyFile:
		return "", "", errors.New("missing --secret (or SIGNET_SECRET / SW_SECRET)")
	}
	return id, secret, nil
}

// readKeyFile reads a PEM or JWK key file for --private-key/--public-key.
func readKeyFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

func firstEnv(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// usageError prints msg and the flag set's usage, and exits with 2.
func usageError(fs *flag.FlagSet, stderr io.Writer, msg string) error {
	fmt.Fprintf(stderr, "signet %s: %s\n", fs.Name(), msg)
	return &exitError{code: 2}
}
