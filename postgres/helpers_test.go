package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testMasterKey is a fixed master key for tests.
var testMasterKey = []byte("0123456789abcdef0123456789abcdef")

// testDB returns the URL of a fresh schema, migrated unless raw, that is
// dropped when the test ends. Without SIGNET_DATABASE_URL the test is
// skipped; with it, an unreachable database fails the test.
func testDB(t testing.TB, migrate bool) string {
	t.Helper()
	base := os.Getenv("SIGNET_DATABASE_URL")
	if base == "" {
		t.Skip("set SIGNET_DATABASE_URL to run the PostgreSQL tests")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "signet_test_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to SIGNET_DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dbURL := u.String()
	if migrate {
		c := connect(t, dbURL)
		if err := Migrate(ctx, c); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	return dbURL
}

// connect opens a connection closed at cleanup.
func connect(t testing.TB, dbURL string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// open opens a Store closed at cleanup.
func open(t testing.TB, dbURL string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dbURL, testMasterKey, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
