package postgres_test

import (
	"context"
	"fmt"
	"os"

	"github.com/signet-dev/signet/postgres"
)

func ExampleParseMasterKey() {
	// 32 bytes, written as 64 hex digits (openssl rand -hex 32) or base64.
	key, err := postgres.ParseMasterKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	fmt.Println(len(key), err)
	_, err = postgres.ParseMasterKey("too short")
	fmt.Println(err)
	// Output:
	// 32 <nil>
	// postgres: master key is neither 64 hex digits nor base64 of 32 bytes (got 9 characters)
}

// Open serves a gateway's key lookups from memory; the admin methods back
// the signet keys command.
func ExampleOpen() {
	ctx := context.Background()
	master, err := postgres.ParseMasterKey(os.Getenv("SIGNET_MASTER_KEY"))
	if err != nil {
		fmt.Println(err)
		return
	}
	store, err := postgres.Open(ctx, os.Getenv("SIGNET_DATABASE_URL"), master, postgres.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	id, secret, err := store.Create(ctx, postgres.KeySpec{Tenant: "acme", Schemes: []string{"reqsig"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	key, _ := store.Key(ctx, id) // from the cache; every replica sees it within a second
	fmt.Println(key.Secrets[0] == secret)
}
