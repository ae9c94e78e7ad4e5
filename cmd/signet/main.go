// Command signet is Signet's CLI: the gateway (serve), URL and request
// signing (sign-url, sign), offline verification (verify) and key
// generation (keygen).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ex *exitError
		if errors.As(err, &ex) {
			os.Exit(ex.code)
		}
		fmt.Fprintln(os.Stderr, "signet:", err)
		os.Exit(1)
	}
}

// exitError ends the program with code once its message has been printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

const usage = `signet: sign and verify API requests, and proxy them

Usage:
  signet serve     [--config FILE] [<id> <secret>] [flags]   run the gateway
  signet sign-url  --id ID --secret S --gateway URL --target URL [flags]
  signet sign      --scheme sw1|reqsig|cavage|rfc9421|sigv4 --id ID --secret S --method M --url URL [flags]
  signet verify    --id ID --secret S [--at TIME] [--max-skew 5m] (URL | --request FILE)
  signet keygen
  signet migrate   [--database URL]                          create/upgrade the PostgreSQL schema
  signet keys      create|list|show|rotate|revoke|delete [--database URL] ...
  signet usage     [--redis URL] [--key ID] [--day YYYY-MM-DD] [--json]   usage per key and day

Secrets may come from SIGNET_SECRET (or SW_SECRET) and ids from SIGNET_ID
(or SW_ID) instead of flags. TIME is RFC 3339 or unix seconds.
Run "signet <command> --help" for the flags of a command.
`

// run is the whole program; main only wires the process to it, so tests
// call run directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, getenv, stdout, stderr)
	case "sign-url":
		return cmdSignURL(rest, getenv, stdout, stderr)
	case "sign":
		return cmdSign(rest, getenv, stdout, stderr)
	case "verify":
		return cmdVerify(ctx, rest, getenv, stdin, stdout, stderr)
	case "keygen":
		return cmdKeygen(rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, getenv, stdout, stderr)
	case "keys":
		return cmdKeys(ctx, rest, getenv, stdout, stderr)
	case "usage":
		return cmdUsage(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "signet: unknown command %q\n\n%s", cmd, usage)
		return &exitError{code: 2}
	}
}
