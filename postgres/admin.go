package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/signet-dev/signet"
)

// Admin errors, besides signet.ErrUnknownKey for an id that does not exist.
var (
	ErrKeyExists = errors.New("postgres: key id already exists")
	ErrRevoked   = errors.New("postgres: key is revoked")
)

// KeySpec describes a key to create.
type KeySpec struct {
	// ID is the key id; empty means a random "key_" + 16 hex digits.
	ID string
	// Tenant labels the owner; empty means none.
	Tenant string
	// Schemes the key may sign with; empty means every scheme.
	Schemes []string
	// Algorithms restricts signature algorithms; empty means the default
	// (every algorithm except hmac-sha1).
	Algorithms []string
	// MaxExpires bounds pre-signed URL lifetimes; zero means no limit.
	MaxExpires time.Duration
	// SingleUse makes each signature valid once.
	SingleUse bool
	// RateLimit is the key's budget; the zero value means none.
	RateLimit signet.RateLimit
	// FailOpen keeps the key working while a shared store is down.
	FailOpen bool
	// PublicKeyPEM, a PEM "PUBLIC KEY" block, makes an asymmetric key: no
	// secret is generated. Empty means a symmetric key with a new secret.
	PublicKeyPEM string
	// Upstreams the key may reach, with headers injected there (stored
	// encrypted). Empty means the gateway's global policy.
	Upstreams []signet.Upstream
}

// KeyInfo is what the admin API tells about a key: never a secret nor an
// injected header value.
type KeyInfo struct {
	ID           string
	Tenant       string
	Schemes      []string
	Algorithms   []string
	MaxExpires   time.Duration
	SingleUse    bool
	RateLimit    signet.RateLimit
	FailOpen     bool
	PublicKeyPEM string         // public; empty for symmetric keys
	Secrets      []SecretInfo   // newest first, as in signet.Key.Secrets
	Upstreams    []UpstreamInfo // sorted by origin
	RevokedAt    time.Time      // zero unless revoked
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// SecretInfo describes one secret of a key without revealing it.
type SecretInfo struct {
	Version   int // 1 for the first secret, +1 per rotation
	CreatedAt time.Time
}

// UpstreamInfo names an upstream's injected headers, not their values.
type UpstreamInfo struct {
	Origin      string
	HeaderNames []string
}

// newSecret returns 256 random bits, base64url without padding.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Store) needSealer() error {
	if s.sealer == nil {
		return errors.New("postgres: this command needs SIGNET_MASTER_KEY")
	}
	return nil
}

// Create stores a new key and returns its id and secret. The secret is not
// retrievable afterwards; it is empty for a public key.
func (s *Store) Create(ctx context.Context, spec KeySpec) (id, secret string, err error) {
	if err := s.needSealer(); err != nil {
		return "", "", err
	}
	spec.Upstreams = slices.Clone(spec.Upstreams)
	if err := validateSpec(&spec); err != nil {
		return "", "", err
	}
	id = spec.ID
	if id == "" {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return "", "", err
		}
		id = "key_" + hex.EncodeToString(b)
	}
	if err := validateID(id, spec.Schemes); err != nil {
		return "", "", err
	}
	if spec.PublicKeyPEM == "" {
		if secret, err = newSecret(); err != nil {
			return "", "", err
		}
	}
	err = s.pool.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO signet_keys (`+keyInsertColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, keyRowValues(id, &spec)...)
		if isCode(err, "23505") {
			return fmt.Errorf("%w: %q", ErrKeyExists, id)
		}
		if err != nil {
			return err
		}
		if secret != "" {
			if err := s.insertSecret(ctx, tx, id, 1, secret); err != nil {
				return err
			}
		}
		for _, u := range spec.Upstreams {
			if err := s.upsertUpstream(ctx, tx, id, u.Origin, u.Headers); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", "", wrapAdmin("create", err)
	}
	s.reloadAfter(ctx, id)
	return id, secret, nil
}

// keyInsertColumns are the columns of signet_keys that Create and Import
// write, in the order of keyRowValues.
const keyInsertColumns = `id, tenant, schemes, algorithms, max_expires_ms, single_use,
	rate_rps, rate_burst, bytes_per_minute, fail_open, public_key_pem`

// keyRowValues is a validated spec's row in signet_keys.
func keyRowValues(id string, spec *KeySpec) []any {
	var pub *string
	if spec.PublicKeyPEM != "" {
		p := spec.PublicKeyPEM
		pub = &p
	}
	return []any{id, spec.Tenant, emptyIfNil(spec.Schemes), emptyIfNil(spec.Algorithms), spec.MaxExpires.Milliseconds(),
		spec.SingleUse, spec.RateLimit.RequestsPerSecond, spec.RateLimit.Burst, spec.RateLimit.BytesPerMinute,
		spec.FailOpen, pub}
}

func (s *Store) insertSecret(ctx context.Context, tx pgx.Tx, id string, version int, secret string) error {
	ct, err := s.sealSecret(id, version, secret)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO signet_secrets (key_id, version, ciphertext) VALUES ($1, $2, $3)`, id, version, ct)
	return err
}

// sealSecret is the stored form of a key's secret (Create, Rotate, Import).
func (s *Store) sealSecret(id string, version int, secret string) ([]byte, error) {
	return s.sealer.seal([]byte(secret), secretAD(id, version))
}

// sealHeaders returns the stored form of an upstream's injected headers:
// their sorted names in clear, and the sealed JSON object, nil when there
// are none (Create, SetUpstream, Import).
func (s *Store) sealHeaders(id, origin string, headers map[string]string) (names []string, ct []byte, err error) {
	names = emptyIfNil(slices.Sorted(maps.Keys(headers)))
	if len(headers) == 0 {
		return names, nil, nil
	}
	pt, err := json.Marshal(headers)
	if err != nil {
		return nil, nil, err
	}
	if ct, err = s.sealer.seal(pt, headersAD(id, origin)); err != nil {
		return nil, nil, err
	}
	return names, ct, nil
}

func (s *Store) upsertUpstream(ctx context.Context, tx pgx.Tx, id, origin string, headers map[string]string) error {
	names, ct, err := s.sealHeaders(id, origin, headers)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO signet_upstreams (key_id, origin, header_names, headers_ciphertext)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (key_id, origin) DO UPDATE SET header_names = EXCLUDED.header_names,
			headers_ciphertext = EXCLUDED.headers_ciphertext, updated_at = now()`,
		id, origin, names, ct)
	if isCode(err, "23503") { // foreign_key_violation
		return fmt.Errorf("%w: %q", signet.ErrUnknownKey, id)
	}
	return err
}

// Rotate adds a new secret to a key and returns it. The older secrets keep
// verifying until RemoveOldSecrets; the newest secret is Secrets[0], so a
// Verified.SecretIndex above 0 means a client still signs with an old one.
func (s *Store) Rotate(ctx context.Context, id string) (secret string, err error) {
	if err := s.needSealer(); err != nil {
		return "", err
	}
	if secret, err = newSecret(); err != nil {
		return "", err
	}
	err = s.pool.tx(ctx, func(tx pgx.Tx) error {
		if err := lockLiveKey(ctx, tx, id); err != nil {
			return err
		}
		var next int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM signet_secrets WHERE key_id = $1`, id).Scan(&next); err != nil {
			return err
		}
		if err := s.insertSecret(ctx, tx, id, next, secret); err != nil {
			return err
		}
		return touch(ctx, tx, id)
	})
	if err != nil {
		return "", wrapAdmin("rotate", err)
	}
	s.reloadAfter(ctx, id)
	return secret, nil
}

// RemoveOldSecrets deletes every secret of a key but the newest, ending a
// rotation, and returns how many were removed.
func (s *Store) RemoveOldSecrets(ctx context.Context, id string) (int, error) {
	var n int64
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		if err := lockLiveKey(ctx, tx, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM signet_secrets WHERE key_id = $1
			AND version < (SELECT max(version) FROM signet_secrets WHERE key_id = $1)`, id)
		if err != nil {
			return err
		}
		if n = tag.RowsAffected(); n > 0 {
			return touch(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return 0, wrapAdmin("remove old secrets", err)
	}
	s.reloadAfter(ctx, id)
	return int(n), nil
}

// Revoke marks a key revoked: every replica stops accepting it as soon as
// the notification arrives (well under a second), and this Store at once.
// The row stays for the record; revoking twice is not an error.
func (s *Store) Revoke(ctx context.Context, id string) error {
	err := s.pool.with(ctx, false, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, `UPDATE signet_keys SET revoked_at = coalesce(revoked_at, now()), updated_at = now() WHERE id = $1`, id)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("%w: %q", signet.ErrUnknownKey, id)
		}
		return err
	})
	if err != nil {
		return wrapAdmin("revoke", err)
	}
	s.reloadAfter(ctx, id)
	return nil
}

// Delete removes a key with its secrets and upstreams.
func (s *Store) Delete(ctx context.Context, id string) error {
	err := s.pool.with(ctx, false, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, `DELETE FROM signet_keys WHERE id = $1`, id)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("%w: %q", signet.ErrUnknownKey, id)
		}
		return err
	})
	if err != nil {
		return wrapAdmin("delete", err)
	}
	s.reloadAfter(ctx, id)
	return nil
}

// SetUpstream allows a key to reach origin ("*" for any public origin) and
// sets the headers injected there, replacing earlier ones; nil headers
// inject nothing. Header values are stored encrypted.
func (s *Store) SetUpstream(ctx context.Context, id, origin string, headers map[string]string) error {
	if err := s.needSealer(); err != nil {
		return err
	}
	o, err := normalizeOrigin(origin)
	if err != nil {
		return err
	}
	h, err := normalizeHeaders(headers)
	if err != nil {
		return err
	}
	err = s.pool.tx(ctx, func(tx pgx.Tx) error {
		if err := lockLiveKey(ctx, tx, id); err != nil {
			return err
		}
		if err := s.upsertUpstream(ctx, tx, id, o, h); err != nil {
			return err
		}
		return touch(ctx, tx, id)
	})
	if err != nil {
		return wrapAdmin("set upstream", err)
	}
	s.reloadAfter(ctx, id)
	return nil
}

// RemoveUpstream removes origin from a key's upstreams. Removing the last
// one leaves the key under the gateway's global policy.
func (s *Store) RemoveUpstream(ctx context.Context, id, origin string) error {
	o, err := normalizeOrigin(origin)
	if err != nil {
		return err
	}
	err = s.pool.tx(ctx, func(tx pgx.Tx) error {
		if err := lockLiveKey(ctx, tx, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM signet_upstreams WHERE key_id = $1 AND origin = $2`, id, o)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: key %q has no upstream %s", id, o)
		}
		return touch(ctx, tx, id)
	})
	if err != nil {
		return wrapAdmin("remove upstream", err)
	}
	s.reloadAfter(ctx, id)
	return nil
}

// Get returns a key's metadata, revoked or not.
func (s *Store) Get(ctx context.Context, id string) (*KeyInfo, error) {
	infos, err := s.infos(ctx, `WHERE k.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, fmt.Errorf("%w: %q", signet.ErrUnknownKey, id)
	}
	return &infos[0], nil
}

// List returns the metadata of every key of tenant (every key when tenant
// is empty), revoked ones included, sorted by id.
func (s *Store) List(ctx context.Context, tenant string) ([]KeyInfo, error) {
	if tenant == "" {
		return s.infos(ctx, `ORDER BY k.id`)
	}
	return s.infos(ctx, `WHERE k.tenant = $1 ORDER BY k.id`, tenant)
}

func (s *Store) infos(ctx context.Context, where string, args ...any) ([]KeyInfo, error) {
	q := `SELECT k.id, k.tenant, k.schemes, k.algorithms, k.max_expires_ms, k.single_use,
		k.rate_rps, k.rate_burst, k.bytes_per_minute, k.fail_open, coalesce(k.public_key_pem, ''),
		k.revoked_at, k.created_at, k.updated_at,
		ARRAY(SELECT s.version FROM signet_secrets s WHERE s.key_id = k.id ORDER BY s.version DESC),
		ARRAY(SELECT s.created_at FROM signet_secrets s WHERE s.key_id = k.id ORDER BY s.version DESC),
		ARRAY(SELECT u.origin FROM signet_upstreams u WHERE u.key_id = k.id ORDER BY u.origin),
		ARRAY(SELECT array_to_string(u.header_names, ',') FROM signet_upstreams u WHERE u.key_id = k.id ORDER BY u.origin)
	FROM signet_keys k ` + where
	var out []KeyInfo
	err := s.pool.with(ctx, true, func(c *pgx.Conn) error {
		out = out[:0]
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				ki       KeyInfo
				maxMS    int64
				burst    int32
				revoked  *time.Time
				versions []int32
				created  []time.Time
				origins  []string
				names    []string
			)
			if err := rows.Scan(&ki.ID, &ki.Tenant, &ki.Schemes, &ki.Algorithms, &maxMS, &ki.SingleUse,
				&ki.RateLimit.RequestsPerSecond, &burst, &ki.RateLimit.BytesPerMinute, &ki.FailOpen, &ki.PublicKeyPEM,
				&revoked, &ki.CreatedAt, &ki.UpdatedAt, &versions, &created, &origins, &names); err != nil {
				return err
			}
			ki.MaxExpires = time.Duration(maxMS) * time.Millisecond
			ki.RateLimit.Burst = int(burst)
			if revoked != nil {
				ki.RevokedAt = *revoked
			}
			for i, v := range versions {
				ki.Secrets = append(ki.Secrets, SecretInfo{Version: int(v), CreatedAt: created[i]})
			}
			for i, o := range origins {
				u := UpstreamInfo{Origin: o}
				if i < len(names) && names[i] != "" {
					u.HeaderNames = strings.Split(names[i], ",")
				}
				ki.Upstreams = append(ki.Upstreams, u)
			}
			ki.Schemes, ki.Algorithms = nilIfEmpty(ki.Schemes), nilIfEmpty(ki.Algorithms)
			out = append(out, ki)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading keys: %w", err)
	}
	return out, nil
}

// lockLiveKey locks a key's row for the transaction, and refuses a missing
// or revoked key.
func lockLiveKey(ctx context.Context, tx pgx.Tx, id string) error {
	var revoked *time.Time
	err := tx.QueryRow(ctx, `SELECT revoked_at FROM signet_keys WHERE id = $1 FOR UPDATE`, id).Scan(&revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %q", signet.ErrUnknownKey, id)
	}
	if err != nil {
		return err
	}
	if revoked != nil {
		return fmt.Errorf("%w: %q", ErrRevoked, id)
	}
	return nil
}

func touch(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := tx.Exec(ctx, `UPDATE signet_keys SET updated_at = now() WHERE id = $1`, id)
	return err
}

// reloadAfter applies an admin change to this Store's cache at once, not
// waiting for the notification (which will reload the key again).
func (s *Store) reloadAfter(ctx context.Context, id string) {
	if s.opts.DisableCache {
		return
	}
	if err := s.reload(ctx, []string{id}); err != nil {
		s.log.Warn("postgres: reloading key after change; the notification will retry", "key", id, "err", err)
	}
}

func wrapAdmin(op string, err error) error {
	if errors.Is(err, signet.ErrUnknownKey) || errors.Is(err, ErrRevoked) || errors.Is(err, ErrKeyExists) {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
