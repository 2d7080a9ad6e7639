package jobstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgMigrationLock is the advisory lock key that serialises the migrations
// of instances starting together ("scmon" in ASCII).
const pgMigrationLock = 0x73636d6f6e

// postgresDialect is PostgreSQL's dialect. Several scmon instances may
// share its database: migrations take an advisory lock, and block ids come
// from a sequence.
var postgresDialect = &dialect{
	name:          "postgres",
	numbered:      true,
	migration:     func(m migration) string { return m.postgres },
	migrationLock: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", int64(pgMigrationLock)),
	diskBytes: func(ctx context.Context, s *sqlStore) (int64, error) {
		var n int64
		err := s.db.QueryRowContext(ctx, `SELECT pg_total_relation_size('blocks') + pg_total_relation_size('cursors')
	+ pg_total_relation_size('schema_migrations')`).Scan(&n)
		return n, err
	},
	explain: func(err error) error {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "3F000" { // invalid_schema_name
			return fmt.Errorf("%w (does the schema named in search_path exist?)", err)
		}
		return err
	},
	nextBlockID: "SELECT nextval('block_ids')",
	// Each statement of a transaction at READ COMMITTED sees the commits
	// made before it: Scan's two reads need one snapshot.
	snapshot: &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
}

// pgLocation returns the host, port and database of cfg (and the schema
// when search_path names one), never its credentials.
func pgLocation(cfg *pgx.ConnConfig) string {
	loc := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	if sp := cfg.RuntimeParams["search_path"]; sp != "" {
		loc += "?search_path=" + sp
	}
	return loc
}

func openPostgres(ctx context.Context, dsn string) (*sqlStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors never include the password.
		return nil, fmt.Errorf("open job store: %w", err)
	}
	loc := pgLocation(cfg)
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open job store %s: %w", loc, err)
	}
	return newSQLStore(ctx, db, postgresDialect, loc)
}

// retryable reports whether err aborted a transaction that may succeed if
// run again (deadlock_detected, serialization_failure).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
