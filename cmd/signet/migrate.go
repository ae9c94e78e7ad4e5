package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/signet-dev/signet/postgres"
)

const migrateSummary = `Usage: signet migrate [--database URL]

Creates or upgrades Signet's PostgreSQL schema (the key store) to the
version this binary needs. Safe to run from several replicas at once and
again later: applied migrations are skipped. The database URL defaults to
$SIGNET_DATABASE_URL.`

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", migrateSummary, stderr)
	dbURL := fs.String("database", "", "PostgreSQL URL (default $SIGNET_DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	u, err := databaseURL(*dbURL, getenv)
	if err != nil {
		return err
	}
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer c.Close(context.Background())
	if err := postgres.Migrate(ctx, c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d\n", postgres.SchemaVersion())
	return nil
}

func databaseURL(flagValue string, getenv func(string) string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := getenv("SIGNET_DATABASE_URL"); v != "" {
		return v, nil
	}
	return "", errors.New("missing --database (or SIGNET_DATABASE_URL)")
}
