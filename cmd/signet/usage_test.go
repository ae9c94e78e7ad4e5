package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/redis"
	metering "github.com/signet-dev/signet/usage"
)

func TestUsageCommand(t *testing.T) {
	redisURL := os.Getenv("SIGNET_REDIS_URL")
	if redisURL == "" {
		t.Skip("set SIGNET_REDIS_URL to run the Redis tests")
	}
	c, err := redis.Open(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "signet-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() { deleteKeys(t, redisURL, prefix) })
	// A short retention too, in case the cleanup does not run.
	store := &redis.Usage{Client: c, Prefix: prefix, Retention: time.Minute}
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, u := range []signet.Usage{
		{KeyID: "key_b", At: at, Requests: 2, BytesIn: 10, BytesOut: 2048},
		{KeyID: "key_a", At: at, Requests: 1, BytesOut: 5},
		{KeyID: "key_a", At: at.Add(24 * time.Hour), Requests: 7},
		{KeyID: "tab\tkey", At: at, Requests: 1},
	} {
		if err := store.Record(context.Background(), u); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	env := map[string]string{"SIGNET_REDIS_URL": redisURL}

	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"table", env, []string{"--day", "2024-01-02"}, `
KEY         DAY         REQUESTS  BYTES_IN  BYTES_OUT
key_a       2024-01-02  1         0         5
key_b       2024-01-02  2         10        2048
"tab\tkey"  2024-01-02  1         0         0
`},
		{"one key", env, []string{"--day", "2024-01-03", "--key", "key_a"}, `
KEY    DAY         REQUESTS  BYTES_IN  BYTES_OUT
key_a  2024-01-03  7         0         0
`},
		{"unused key", env, []string{"--day", "2024-01-03", "--key", "key_b"}, `
KEY    DAY         REQUESTS  BYTES_IN  BYTES_OUT
key_b  2024-01-03  0         0         0
`},
		{"empty day", env, []string{"--day", "2024-01-04"}, `
KEY  DAY  REQUESTS  BYTES_IN  BYTES_OUT
`},
		{"--redis flag", nil, []string{"--redis", redisURL, "--day", "2024-01-03"}, `
KEY    DAY         REQUESTS  BYTES_IN  BYTES_OUT
key_a  2024-01-03  7         0         0
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"usage", "--prefix", prefix}, tt.args...)
			code, out, errOut := runCLI(t, tt.env, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if want := strings.TrimPrefix(tt.want, "\n"); out != want {
				t.Errorf("got\n%s\nwant\n%s", out, want)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		code, out, errOut := runCLI(t, env, "", "usage", "--prefix", prefix, "--day", "2024-01-02", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got []metering.Totals
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		want := []metering.Totals{
			{KeyID: "key_a", Day: "2024-01-02", Requests: 1, BytesOut: 5},
			{KeyID: "key_b", Day: "2024-01-02", Requests: 2, BytesIn: 10, BytesOut: 2048},
			{KeyID: "tab\tkey", Day: "2024-01-02", Requests: 1},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if !strings.Contains(out, `"bytes_out": 2048`) {
			t.Errorf("JSON field names: %s", out)
		}
		code, out, _ = runCLI(t, env, "", "usage", "--prefix", prefix, "--day", "1999-01-01", "--json")
		if code != 0 || out != "[]\n" {
			t.Errorf("empty day: exit %d, %q; want []", code, out)
		}
	})

	t.Run("default day is today", func(t *testing.T) {
		today := metering.Day(time.Now())
		if err := store.Record(context.Background(), signet.Usage{KeyID: "today", At: time.Now(), Requests: 3}); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCLI(t, env, "", "usage", "--prefix", prefix, "--key", "today")
		if code != 0 || !strings.Contains(out, "today  "+today+"  3 ") {
			t.Errorf("exit %d, got %q (stderr %s); want today's row", code, out, errOut)
		}
	})
}

// deleteKeys removes every key that starts with prefix.
func deleteKeys(t *testing.T, redisURL, prefix string) {
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// Errors that need no Redis.
func TestUsageCommandErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "redis://user:s3cret@" + ln.Addr().String() + "/0"
	ln.Close()
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		code    int
		wantErr string
	}{
		{"no URL", nil, nil, 2, "missing --redis (or SIGNET_REDIS_URL)"},
		{"bad day", nil, []string{"--redis", closed, "--day", "2024-13-01"}, 2, `invalid day "2024-13-01"`},
		{"argument", nil, []string{"--redis", closed, "extra"}, 2, `unexpected argument "extra"`},
		{"bad URL", nil, []string{"--redis", "http://user:s3cret@x"}, 1, "redis: invalid URL"},
		{"unreachable", map[string]string{"SIGNET_REDIS_URL": closed}, []string{"--day", "2024-01-02"}, 1, "shared store unavailable"},
		{"unreachable, one key", nil, []string{"--redis", closed, "--key", "k"}, 1, "shared store unavailable"},
		{"help", nil, []string{"--help"}, 0, "signet usage:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.env, "", append([]string{"usage"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.wantErr)
			}
			if strings.Contains(errOut+out, "s3cret") {
				t.Errorf("output reveals the password: %s", errOut)
			}
		})
	}
}
