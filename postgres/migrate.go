package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one versioned SQL file, migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("postgres: migration %s: name must be NNNN_description.sql", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("postgres: migrations %s and %s share a version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this package needs: the version of
// its newest migration.
func SchemaVersion() int {
	m, err := migrations()
	if err != nil || len(m) == 0 {
		return 0
	}
	return m[len(m)-1].version
}

// Beginner starts transactions. *pgx.Conn (and pgxpool.Pool) implement it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// The advisory lock taken by every migration transaction. Its second half is
// the schema, so that databases holding several Signet schemas (tests, CI)
// migrate them independently.
const migrateLockClass = 0x5167_6e74 // "Sgnt"

// Migrate applies the embedded migrations that db's current schema lacks, each
// in its own transaction, and records them in signet_schema_migrations. Each
// transaction first takes a transaction-scoped advisory lock, so replicas
// migrating at once apply every migration exactly once; running it again is
// a no-op.
func Migrate(ctx context.Context, db Beginner) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db Beginner, m migration) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, migrateLockClass); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	// Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can race.
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS signet_schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL DEFAULT '',
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var applied bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signet_schema_migrations WHERE version = $1)`, m.version).Scan(&applied); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if applied {
		return nil
	}
	// Exec without arguments uses the simple protocol, which runs a file of
	// several statements.
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return fmt.Errorf("postgres: migration %s: %w", m.name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO signet_schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
		return fmt.Errorf("postgres: migration %s: %w", m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migration %s: commit: %w", m.name, err)
	}
	return nil
}

// appliedVersion returns the newest applied migration, or an error telling
// the operator to run signet migrate.
func appliedVersion(ctx context.Context, q querier) (int, error) {
	var v *int
	err := q.QueryRow(ctx, `SELECT max(version) FROM signet_schema_migrations`).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return 0, errors.New("postgres: schema not created: run signet migrate")
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: reading schema version: %w", err)
	}
	if v == nil {
		return 0, errors.New("postgres: schema not created: run signet migrate")
	}
	return *v, nil
}

// querier is what *pgx.Conn and pgx.Tx share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
