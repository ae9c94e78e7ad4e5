package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/signet-dev/signet/redis"
	metering "github.com/signet-dev/signet/usage"
)

func cmdUsage(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("usage", `signet usage: print what keys used on a UTC day (requests, bytes in and out),
as metered in Redis by every replica

  signet usage [--redis URL] [--key ID] [--day YYYY-MM-DD] [--json]`, stderr)
	var (
		redisURL = fs.String("redis", "", "Redis URL (default $SIGNET_REDIS_URL)")
		key      = fs.String("key", "", "only this key id (default: every key that was used)")
		day      = fs.String("day", "", "UTC day, YYYY-MM-DD (default today)")
		prefix   = fs.String("prefix", redis.DefaultPrefix, "prefix of Signet's keys in Redis")
		asJSON   = fs.Bool("json", false, "print a JSON array instead of a table")
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *redisURL == "" {
		*redisURL = getenv("SIGNET_REDIS_URL")
	}
	if *redisURL == "" {
		return usageError(fs, stderr, "missing --redis (or SIGNET_REDIS_URL)")
	}
	if *day == "" {
		*day = metering.Day(time.Now())
	} else if _, err := metering.ParseDay(*day); err != nil {
		return usageError(fs, stderr, err.Error())
	}
	c, err := redis.Open(*redisURL)
	if err != nil {
		return err
	}
	defer c.Close()
	store := &redis.Usage{Client: c, Prefix: *prefix}
	var rows []metering.Totals
	if *key != "" {
		t, err := store.Get(ctx, *key, *day)
		if err != nil {
			return err
		}
		rows = []metering.Totals{t}
	} else if rows, err = store.List(ctx, *day); err != nil {
		return err
	}
	if *asJSON {
		if rows == nil {
			rows = []metering.Totals{} // [] rather than null
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tDAY\tREQUESTS\tBYTES_IN\tBYTES_OUT")
	for _, t := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", printable(t.KeyID), t.Day, t.Requests, t.BytesIn, t.BytesOut)
	}
	return tw.Flush()
}

// printable quotes a key id that holds tabs, newlines or other control
// characters, which would break the table or the terminal.
func printable(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}
