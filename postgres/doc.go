// Package postgres is Signet's key store for many keys and tenants, in
// PostgreSQL (github.com/jackc/pgx/v5).
//
// Entry points:
//
//   - Migrate applies the embedded, versioned migrations
//     (migrations/NNNN_*.sql), each in one transaction under an advisory
//     lock, recorded in signet_schema_migrations. "signet migrate" runs it.
//   - Open returns a Store, a signet.KeyStore that answers Key from memory.
//     The cache is loaded by Open, follows LISTEN signet_keys (the schema's
//     triggers NOTIFY the key id on every change to a key, its secrets or
//     its upstreams) and, in case a notification was missed, is fully
//     reloaded when a fingerprint of the tables checked every
//     Options.RefreshInterval (30s) has changed. The cache holds each
//     key in a compact form the garbage collector does not scan
//     (compact.go, shard.go) and builds its signet.Key on first use. A
//     revoked or deleted key leaves the cache when its notification
//     arrives, within milliseconds on every replica. Store.Ready serves
//     /readyz.
//   - The admin API behind "signet keys": Store.Create, List, Get, Rotate,
//     RemoveOldSecrets, Revoke, Delete, SetUpstream, RemoveUpstream.
//   - ParseMasterKey decodes SIGNET_MASTER_KEY.
//
// # Encryption at rest
//
// Secrets and injected header values (API tokens) are sealed with AES-256-GCM
// under a 32-byte master key that is never stored in the database. Each value
// has a random 12-byte nonce, stored with it, and additional data naming its
// row (key id and secret version, or key id and upstream origin): a
// ciphertext copied to another key or origin does not decrypt. The database
// alone reveals key ids, tenants, policies, upstream origins and injected
// header names, never a secret or a header value.
//
// # Rotation
//
// Rotate adds a secret; signet.Key.Secrets lists the newest first, so
// Verified.SecretIndex > 0 tells that a client still signs with an older
// secret. RemoveOldSecrets ends the rotation.
//
// # Tables
//
// signet_keys (one row per key, revoked_at set by Revoke), signet_secrets
// (key_id, version, ciphertext) and signet_upstreams (key_id, origin,
// header_names, headers_ciphertext), in the connection's current schema.
package postgres
