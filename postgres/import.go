package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ImportKey is a key for Import: a KeySpec whose ID and secrets are given
// rather than generated.
type ImportKey struct {
	KeySpec
	// Secrets verify signatures, newest first as in signet.Key.Secrets.
	// They are stored as if the key had been created with the last one and
	// rotated to the first: Secrets[0] is version len(Secrets). Empty only
	// with PublicKeyPEM.
	Secrets []string
}

// ImportOptions tune Import. The zero value refuses existing ids.
type ImportOptions struct {
	// Replace deletes any existing key with an imported id (revoked or
	// not, with its secrets and upstreams) and stores the imported one in
	// its place. False makes an existing id fail the import with
	// ErrKeyExists.
	Replace bool
}

// ImportError is an imported key that is invalid, or listed twice
// (wrapping ErrKeyExists). Import reports up to maxImportErrors of them,
// joined with errors.Join; errors.As finds the first.
type ImportError struct {
	Index int    // position in the imported sequence, from 0
	ID    string // as given
	Err   error
}

func (e *ImportError) Error() string {
	// The validators' messages carry the package prefix already.
	msg := strings.ReplaceAll(e.Err.Error(), "postgres: ", "")
	return fmt.Sprintf("postgres: import: keys[%d] (id %q): %s", e.Index, e.ID, strings.ReplaceAll(msg, "\n", "; "))
}

func (e *ImportError) Unwrap() error { return e.Err }

const (
	// importBatch keys are sealed and copied at a time, so that memory does
	// not grow with the import (about 3 rows of 100-200 bytes per key).
	importBatch = 10_000
	// maxImportErrors bounds the invalid keys reported: a file with a
	// systematic mistake would otherwise print it a million times.
	maxImportErrors = 10
)

var (
	importKeyColumns      = strings.Fields(strings.ReplaceAll(keyInsertColumns, ",", " "))
	importSecretColumns   = []string{"key_id", "version", "ciphertext"}
	importUpstreamColumns = []string{"key_id", "origin", "header_names", "headers_ciphertext"}
)

// Import stores many keys in one transaction: either all of them or, on
// any error, none. Each key is validated as Create validates it, and its
// secrets and injected header values are sealed as Create seals them, so
// Key returns it as if it had been created (and rotated) one by one. Rows
// are written with COPY, importBatch keys at a time, so keys may be a
// stream of any length; a million keys take about a minute
// (bench/pg1m.sh), about half of it in the schema's per-row NOTIFY
// triggers.
//
// Import returns how many keys it stored. An invalid key, or an id listed
// twice, fails with *ImportError before anything is committed; an id that
// already exists fails with ErrKeyExists naming it, unless opts.Replace.
//
// Every row fires the schema's change notification as usual, so running
// gateways reload: when 10,000 keys or more change at once, each replica
// reloads its whole cache once.
func (s *Store) Import(ctx context.Context, keys iter.Seq[ImportKey], opts ImportOptions) (int, error) {
	if err := s.needSealer(); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		var (
			b       importRows
			invalid []error
			// seen maps each id to its index: a duplicate is reported
			// with both places, before the database would refuse it.
			seen = map[string]int{}
			i    = -1
		)
		for k := range keys {
			i++
			// One error per key: an invalid key is not also a duplicate.
			if first, dup := seen[k.ID]; dup {
				invalid = append(invalid, &ImportError{Index: i, ID: k.ID,
					Err: fmt.Errorf("%w: listed twice (first at keys[%d])", ErrKeyExists, first)})
			} else if err := s.addImport(&b, &k); err != nil {
				var ie *ImportError
				if !errors.As(err, &ie) {
					return err
				}
				ie.Index = i
				invalid = append(invalid, ie)
			} else {
				seen[k.ID] = i
			}
			if len(invalid) >= maxImportErrors {
				break
			}
			// After an invalid key nothing more is written: the rest is
			// only validated, to report every mistake at once.
			if len(invalid) == 0 && len(b.ids) >= importBatch {
				if err := b.write(ctx, tx, opts); err != nil {
					return err
				}
				n += len(b.ids)
				b.reset()
			}
		}
		if len(invalid) > 0 {
			return errors.Join(invalid...)
		}
		if len(b.ids) > 0 {
			if err := b.write(ctx, tx, opts); err != nil {
				return err
			}
			n += len(b.ids)
		}
		return nil
	})
	if err != nil {
		var ie *ImportError
		if errors.As(err, &ie) || errors.Is(err, ErrKeyExists) {
			return 0, err
		}
		return 0, fmt.Errorf("postgres: import: %w", err)
	}
	if !s.opts.DisableCache {
		// The notifications will do it too; this makes Key answer at once.
		if err := s.refreshAll(ctx, false); err != nil {
			s.log.Warn("postgres: reloading keys after import; the notifications will retry", "err", err)
		}
	}
	return n, nil
}

// importRows are the rows of a batch of keys, sealed and ready to copy.
type importRows struct {
	ids                      []string
	keys, secrets, upstreams [][]any
}

func (b *importRows) reset() {
	b.ids, b.keys, b.secrets, b.upstreams = b.ids[:0], b.keys[:0], b.secrets[:0], b.upstreams[:0]
}

// addImport validates k as Create does and appends its sealed rows to b.
// An invalid key is an *ImportError (its Index is for the caller to set),
// and adds nothing.
func (s *Store) addImport(b *importRows, k *ImportKey) error {
	spec := k.KeySpec
	spec.Upstreams = slices.Clone(spec.Upstreams) // validateSpec normalizes in place
	err := validateSpec(&spec)
	if err == nil {
		err = validateID(spec.ID, spec.Schemes)
	}
	if err == nil {
		err = validateSecrets(k.Secrets, spec.PublicKeyPEM != "")
	}
	if err != nil {
		return &ImportError{ID: k.ID, Err: err}
	}
	id := spec.ID
	b.ids = append(b.ids, id)
	b.keys = append(b.keys, keyRowValues(id, &spec))
	for i, secret := range k.Secrets {
		version := len(k.Secrets) - i
		ct, err := s.sealSecret(id, version, secret)
		if err != nil {
			return err
		}
		b.secrets = append(b.secrets, []any{id, version, ct})
	}
	for _, u := range spec.Upstreams {
		names, ct, err := s.sealHeaders(id, u.Origin, u.Headers)
		if err != nil {
			return err
		}
		b.upstreams = append(b.upstreams, []any{id, u.Origin, names, ct})
	}
	return nil
}

// validateSecrets checks what Create generates itself: a symmetric key
// needs a secret, and no secret may be empty. Errors never show a secret.
func validateSecrets(secrets []string, public bool) error {
	if len(secrets) == 0 && !public {
		return errors.New("postgres: no secrets and no public key")
	}
	for i, s := range secrets {
		if s == "" {
			return fmt.Errorf("postgres: secrets[%d] is empty", i)
		}
	}
	return nil
}

// write copies a batch into the three tables. Existing ids are deleted
// first with Replace, and refused (by name) without it.
func (b *importRows) write(ctx context.Context, tx pgx.Tx, opts ImportOptions) error {
	if opts.Replace {
		if _, err := tx.Exec(ctx, `DELETE FROM signet_keys WHERE id = ANY($1)`, b.ids); err != nil {
			return err
		}
	} else if err := refuseExisting(ctx, tx, b.ids); err != nil {
		return err
	}
	for _, c := range []struct {
		table   string
		columns []string
		rows    [][]any
	}{
		{"signet_keys", importKeyColumns, b.keys},
		{"signet_secrets", importSecretColumns, b.secrets},
		{"signet_upstreams", importUpstreamColumns, b.upstreams},
	} {
		if len(c.rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, pgx.CopyFromRows(c.rows)); err != nil {
			// A key created meanwhile by someone else.
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" && c.table == "signet_keys" {
				return fmt.Errorf("%w: %s", ErrKeyExists, pgErr.Detail)
			}
			return fmt.Errorf("copying into %s: %w", c.table, err)
		}
	}
	return nil
}

// refuseExisting fails with ErrKeyExists naming (some of) the ids that
// are already stored. Asking first costs one index probe per key, and
// names the ids, which a failed COPY does not do reliably.
func refuseExisting(ctx context.Context, tx pgx.Tx, ids []string) error {
	rows, err := tx.Query(ctx, `SELECT id FROM signet_keys WHERE id = ANY($1) ORDER BY id LIMIT 11`, ids)
	if err != nil {
		return err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(found) == 0 {
		return err
	}
	more := ""
	if len(found) > 10 {
		found, more = found[:10], " and more"
	}
	quoted := make([]string, len(found))
	for i, id := range found {
		quoted[i] = fmt.Sprintf("%q", id)
	}
	return fmt.Errorf("%w: %s%s", ErrKeyExists, strings.Join(quoted, ", "), more)
}
