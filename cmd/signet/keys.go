package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/postgres"
)

const keysSummary = `Usage: signet keys create [--id ID] [--tenant T] [--scheme S]... [--algorithm A]...
                         [--max-expires D] [--single-use] [--fail-open]
                         [--rate RPS] [--burst N] [--bytes-per-minute N]
                         [--upstream ORIGIN [--header 'Name: value']...]... [--public-key FILE]
       signet keys list   [--tenant T]
       signet keys show   ID
       signet keys rotate [--drop-old] ID
       signet keys revoke ID
       signet keys delete ID
       signet keys import [--replace] FILE

Manages the keys in PostgreSQL (every command takes --database URL, default
$SIGNET_DATABASE_URL; run "signet migrate" first). Secrets and injected header
values are encrypted with SIGNET_MASTER_KEY (32 bytes, hex or base64), which
create and rotate need. create prints SIGNET_ID and SIGNET_SECRET once: the
secret cannot be shown again. rotate adds a new secret and prints it; the old
ones keep verifying until "rotate --drop-old", which removes every secret but
the newest. revoke stops the key on every gateway within a second (the row is
kept); delete removes it. list and show never print secrets or header values.
import stores every key of FILE, a YAML file with a top-level "keys:" list
written as in the config file (id, secrets, schemes, upstreams, ...; ${VAR}
expanded), in one transaction: all of them or none. An id that already exists
fails the import, unless --replace, which overwrites it.`

func cmdKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, keysSummary)
		if len(args) == 0 {
			return &exitError{code: 2}
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet("keys "+sub, keysSummary, stderr)
	dbURL := fs.String("database", "", "PostgreSQL URL (default $SIGNET_DATABASE_URL)")
	var run func(*postgres.Store, []string) error
	needsMaster := false
	switch sub {
	case "create":
		needsMaster = true
		spec, upstreams, pubFile := keyFlags(fs)
		run = func(s *postgres.Store, pos []string) error {
			if len(pos) > 0 {
				return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", pos[0]))
			}
			spec.Upstreams = upstreams.list
			if *pubFile != "" {
				b, err := os.ReadFile(*pubFile)
				if err != nil {
					return err
				}
				spec.PublicKeyPEM = string(b)
			}
			id, secret, err := s.Create(ctx, *spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "SIGNET_ID=%s\n", id)
			if secret != "" {
				fmt.Fprintf(stdout, "SIGNET_SECRET=%s\n", secret)
				fmt.Fprintln(stderr, "signet: the secret is shown once; store it now")
			}
			return nil
		}
	case "import":
		needsMaster = true
		replace := fs.Bool("replace", false, "overwrite keys whose id already exists (default: fail, importing nothing)")
		run = func(s *postgres.Store, pos []string) error {
			if len(pos) != 1 {
				return usageError(fs, stderr, "want exactly one FILE")
			}
			return importKeys(ctx, s, pos[0], postgres.ImportOptions{Replace: *replace}, getenv, stdout)
		}
	case "list":
		tenant := fs.String("tenant", "", "only the keys of this tenant")
		run = func(s *postgres.Store, pos []string) error {
			if len(pos) > 0 {
				return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", pos[0]))
			}
			keys, err := s.List(ctx, *tenant)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tTENANT\tSTATUS\tSCHEMES\tSECRETS\tUPSTREAMS\tCREATED")
			for _, k := range keys {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", k.ID, orDash(k.Tenant), status(k),
					orDash(strings.Join(k.Schemes, ",")), len(k.Secrets), len(k.Upstreams), k.CreatedAt.UTC().Format(time.RFC3339))
			}
			return w.Flush()
		}
	case "show":
		run = func(s *postgres.Store, pos []string) error {
			id, err := oneID(fs, stderr, pos)
			if err != nil {
				return err
			}
			k, err := s.Get(ctx, id)
			if err != nil {
				return err
			}
			printKey(stdout, k)
			return nil
		}
	case "rotate":
		dropOld := fs.Bool("drop-old", false, "remove every secret but the newest (ends a rotation) instead of adding one")
		run = func(s *postgres.Store, pos []string) error {
			id, err := oneID(fs, stderr, pos)
			if err != nil {
				return err
			}
			if *dropOld {
				n, err := s.RemoveOldSecrets(ctx, id)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "removed %d old secret(s) of %s\n", n, id)
				return nil
			}
			secret, err := s.Rotate(ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "SIGNET_ID=%s\nSIGNET_SECRET=%s\n", id, secret)
			fmt.Fprintln(stderr, "signet: the old secret keeps verifying until: signet keys rotate --drop-old "+id)
			return nil
		}
	case "revoke", "delete":
		run = func(s *postgres.Store, pos []string) error {
			id, err := oneID(fs, stderr, pos)
			if err != nil {
				return err
			}
			if sub == "revoke" {
				err = s.Revoke(ctx, id)
			} else {
				err = s.Delete(ctx, id)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%sd %s\n", sub, id)
			return nil
		}
	default:
		fmt.Fprintf(stderr, "signet keys: unknown command %q\n\n%s\n", sub, keysSummary)
		return &exitError{code: 2}
	}

	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	u, err := databaseURL(*dbURL, getenv)
	if err != nil {
		return err
	}
	var master []byte
	if mk := getenv("SIGNET_MASTER_KEY"); mk != "" || needsMaster {
		if master, err = postgres.ParseMasterKey(mk); err != nil {
			return err
		}
	}
	s, err := postgres.Open(ctx, u, master, postgres.Options{DisableCache: true})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := run(s, pos); err != nil {
		if errors.Is(err, signet.ErrUnknownKey) {
			return fmt.Errorf("no such key (%w)", err)
		}
		return err
	}
	return nil
}

// keyFlags registers the flags of keys create.
func keyFlags(fs *flag.FlagSet) (*postgres.KeySpec, *upstreamFlags, *string) {
	spec := &postgres.KeySpec{}
	ups := &upstreamFlags{}
	fs.StringVar(&spec.ID, "id", "", "key id (default: random key_<16 hex>)")
	fs.StringVar(&spec.Tenant, "tenant", "", "owner label")
	fs.Var((*stringList)(&spec.Schemes), "scheme", "scheme the key may use (repeatable; default all): sw1, reqsig, cavage, rfc9421, sigv4")
	fs.Var((*stringList)(&spec.Algorithms), "algorithm", "allowed algorithm (repeatable; default all but hmac-sha1)")
	fs.DurationVar(&spec.MaxExpires, "max-expires", 0, "longest pre-signed URL lifetime (0: no limit)")
	fs.BoolVar(&spec.SingleUse, "single-use", false, "each signature is valid once")
	fs.BoolVar(&spec.FailOpen, "fail-open", false, "keep working without replay/rate checks while Redis is down")
	fs.Float64Var(&spec.RateLimit.RequestsPerSecond, "rate", 0, "requests per second (0: unlimited)")
	fs.IntVar(&spec.RateLimit.Burst, "burst", 0, "burst size (0: max(1, rate))")
	fs.Int64Var(&spec.RateLimit.BytesPerMinute, "bytes-per-minute", 0, "request+response bytes per minute (0: unlimited)")
	fs.Var(ups, "upstream", "origin the key may reach, scheme://host[:port] or * (repeatable)")
	fs.Var(upstreamHeader{ups}, "header", "'Name: value' injected at the last --upstream (repeatable)")
	pub := fs.String("public-key", "", "PEM PUBLIC KEY file: an asymmetric key (no secret)")
	return spec, ups, pub
}

// upstreamFlags collects --upstream, and --header for the last of them.
type upstreamFlags struct{ list []signet.Upstream }

func (u *upstreamFlags) String() string { return "" }

func (u *upstreamFlags) Set(v string) error {
	u.list = append(u.list, signet.Upstream{Origin: v})
	return nil
}

type upstreamHeader struct{ u *upstreamFlags }

func (h upstreamHeader) String() string { return "" }

func (h upstreamHeader) Set(v string) error {
	if h.u == nil || len(h.u.list) == 0 {
		return errors.New("--header must follow the --upstream it applies to")
	}
	name, value, ok := strings.Cut(v, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return errors.New("want 'Name: value'") // never echo: the value is a credential
	}
	last := &h.u.list[len(h.u.list)-1]
	if last.Headers == nil {
		last.Headers = map[string]string{}
	}
	last.Headers[name] = strings.TrimSpace(value)
	return nil
}

// parseInterspersed parses flags placed before or after positional
// arguments ("keys show ID --database URL").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func oneID(fs *flag.FlagSet, stderr io.Writer, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", usageError(fs, stderr, "want exactly one key id")
	}
	return pos[0], nil
}

func status(k postgres.KeyInfo) string {
	if !k.RevokedAt.IsZero() {
		return "revoked"
	}
	return "active"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printKey prints metadata: origins and header names, never values.
func printKey(w io.Writer, k *postgres.KeyInfo) {
	fmt.Fprintf(w, "id:          %s\n", k.ID)
	fmt.Fprintf(w, "tenant:      %s\n", orDash(k.Tenant))
	fmt.Fprintf(w, "status:      %s\n", status(*k))
	if !k.RevokedAt.IsZero() {
		fmt.Fprintf(w, "revoked at:  %s\n", k.RevokedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "schemes:     %s\n", orDefault(strings.Join(k.Schemes, ", "), "all"))
	fmt.Fprintf(w, "algorithms:  %s\n", orDefault(strings.Join(k.Algorithms, ", "), "default"))
	if k.MaxExpires > 0 {
		fmt.Fprintf(w, "max expires: %s\n", k.MaxExpires)
	}
	fmt.Fprintf(w, "single use:  %t\n", k.SingleUse)
	fmt.Fprintf(w, "fail open:   %t\n", k.FailOpen)
	if !k.RateLimit.IsZero() || k.RateLimit.Burst > 0 {
		fmt.Fprintf(w, "rate limit:  %g/s burst %d, %d bytes/min\n", k.RateLimit.RequestsPerSecond, k.RateLimit.Burst, k.RateLimit.BytesPerMinute)
	}
	if k.PublicKeyPEM != "" {
		fmt.Fprintf(w, "public key:  yes\n")
	}
	for _, s := range k.Secrets {
		fmt.Fprintf(w, "secret:      version %d, created %s\n", s.Version, s.CreatedAt.UTC().Format(time.RFC3339))
	}
	for _, u := range k.Upstreams {
		fmt.Fprintf(w, "upstream:    %s", u.Origin)
		if len(u.HeaderNames) > 0 {
			fmt.Fprintf(w, " (headers: %s)", strings.Join(u.HeaderNames, ", "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "created:     %s\n", k.CreatedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "updated:     %s\n", k.UpdatedAt.UTC().Format(time.RFC3339))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// importKeys reads the keys of a YAML file with the config file's reader
// and rules, and imports them.
func importKeys(ctx context.Context, s *postgres.Store, path string, opts postgres.ImportOptions, getenv func(string) string, stdout io.Writer) error {
	start := time.Now()
	cfg, err := config.Load(path, getenv)
	if err != nil {
		return err
	}
	if len(cfg.Keys) == 0 {
		return fmt.Errorf("%s: no keys (want a top-level keys: list)", path)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// The store takes PEM; the file may give a JWK or a certificate.
	pems := map[int]string{}
	for i := range cfg.Keys {
		if k := cfg.Keys[i].PublicKey.Key; k != nil {
			der, err := x509.MarshalPKIXPublicKey(k)
			if err != nil {
				return fmt.Errorf("%s: keys[%d] (id %q): public_key: %w", path, i, cfg.Keys[i].ID, err)
			}
			pems[i] = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		}
	}
	read := time.Since(start)
	// Converted one at a time as Import asks, so that a million keys are
	// not held twice.
	keys := func(yield func(postgres.ImportKey) bool) {
		for i := range cfg.Keys {
			if !yield(importKey(&cfg.Keys[i], pems[i])) {
				return
			}
		}
	}
	n, err := s.Import(ctx, keys, opts)
	var ie *postgres.ImportError
	if errors.Is(err, postgres.ErrKeyExists) && !errors.As(err, &ie) {
		return fmt.Errorf("%w; nothing imported (--replace overwrites existing keys)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d keys in %s (reading %s: %s)\n", n,
		time.Since(start).Round(time.Millisecond), path, read.Round(time.Millisecond))
	return nil
}

// importKey maps a config file's key, converted as the gateway converts
// it, to what the store imports.
func importKey(k *config.Key, publicKeyPEM string) postgres.ImportKey {
	sk := k.SignetKey()
	return postgres.ImportKey{
		KeySpec: postgres.KeySpec{
			ID:           sk.ID,
			Tenant:       sk.Tenant,
			Schemes:      sk.Schemes,
			Algorithms:   sk.Algorithms,
			MaxExpires:   sk.MaxExpires,
			SingleUse:    sk.SingleUse,
			RateLimit:    sk.RateLimit,
			FailOpen:     sk.FailOpen,
			PublicKeyPEM: publicKeyPEM,
			Upstreams:    sk.Upstreams,
		},
		Secrets: sk.Secrets,
	}
}
