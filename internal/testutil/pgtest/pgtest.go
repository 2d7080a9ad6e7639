// Package pgtest finds the PostgreSQL database of the tests
// (scripts/testenv/postgres-up.sh) and gives each test a schema of its
// own in it.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scmon/scmon/internal/testutil"
)

var (
	once   sync.Once
	dsn    string
	dsnErr error
)

// DSN returns the DSN of the test database (testutil.EnvPostgresDSN), or
// skips the test (fails it under testutil.EnvRequirePostgres) when there is
// none or it does not answer. The database is asked once per test binary.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dsn = os.Getenv(testutil.EnvPostgresDSN)
		if dsn == "" {
			dsnErr = fmt.Errorf("%s is not set (run scripts/testenv/postgres-up.sh and source its env.sh)", testutil.EnvPostgresDSN)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			dsnErr = fmt.Errorf("PostgreSQL at %s does not answer: %w", testutil.EnvPostgresDSN, err)
			return
		}
		dsnErr = conn.Close(ctx)
	})
	if dsnErr != nil {
		testutil.Missing(t, testutil.EnvRequirePostgres, dsnErr.Error())
	}
	return dsn
}

// Schema makes a fresh schema (named prefix and a random suffix) in the
// test database and returns a DSN whose search_path selects it; the schema
// is dropped when the test ends.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	base := DSN(t)
	schema := prefix + strings.ToLower(rand.Text()[:12])
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Error(err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
