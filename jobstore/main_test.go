package jobstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
)

// Environment of the PostgreSQL suite: scripts/testenv/postgres-up.sh
// writes the DSN; CI sets the requirement so that a missing database fails
// the run instead of skipping half of it.
const (
	envPostgresDSN     = "SCMON_TEST_POSTGRES_DSN"
	envRequirePostgres = "SCMON_TEST_REQUIRE_POSTGRES"
)

func TestMain(m *testing.M) {
	// The crash test and the rebuild benchmark re-execute this binary to
	// get a process they can kill or measure alone.
	if path := os.Getenv(envCrashChild); path != "" {
		os.Exit(crashChild(path))
	}
	if path := os.Getenv(envRebuildChild); path != "" {
		os.Exit(rebuildChild(path))
	}
	if dsn := os.Getenv(envLockChild); dsn != "" {
		os.Exit(lockChild(dsn))
	}
	goleak.VerifyTestMain(m)
}

// backend opens fresh stores of one kind for a test.
type backend struct {
	name string
	// dsn returns the data source name of a new, empty database that is
	// dropped when the test ends.
	dsn func(t testing.TB) string
}

func sqliteBackend() backend {
	return backend{name: "sqlite", dsn: func(t testing.TB) string {
		return "sqlite://" + t.TempDir() + "/data/scmon.db"
	}}
}

var (
	pgOnce  sync.Once
	pgErr   error
	pgAdmin string
)

// postgresDSN returns the base DSN of the test database, or skips (fails,
// when required) if there is none.
func postgresDSN(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() {
		pgAdmin = os.Getenv(envPostgresDSN)
		if pgAdmin == "" {
			pgErr = fmt.Errorf("%s is not set (run scripts/testenv/postgres-up.sh and source its env.sh)", envPostgresDSN)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pgAdmin)
		if err != nil {
			pgErr = fmt.Errorf("PostgreSQL at %s is not reachable: %w", envPostgresDSN, err)
			return
		}
		pgErr = conn.Close(ctx)
	})
	if pgErr != nil {
		if os.Getenv(envRequirePostgres) == "1" {
			t.Fatalf("%s=1: %v", envRequirePostgres, pgErr)
		}
		t.Skip(pgErr)
	}
	return pgAdmin
}

func postgresBackend() backend {
	return backend{name: "postgres", dsn: func(t testing.TB) string {
		base := postgresDSN(t)
		schema := "jobstore_test_" + strings.ToLower(rand.Text()[:12])
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			conn, err := pgx.Connect(ctx, base)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Error(err)
			}
		})
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		return base + sep + "search_path=" + schema
	}}
}

// backends lists the backends every suite test runs against.
func backends() []backend { return []backend{sqliteBackend(), postgresBackend()} }

// forEachBackend runs f as a parallel subtest per backend.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// openStore opens dsn and closes the store when the test ends.
func openStore(t testing.TB, dsn string) Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// stored is a record and decision copied out of Scan.
type stored struct {
	Rec job.Record
	Dec classify.Decision
}

// scanAll returns every stored record, copied.
func scanAll(t testing.TB, s Store) []stored {
	t.Helper()
	var out []stored
	err := s.Scan(context.Background(), func(r *job.Record, d classify.Decision) error {
		c := *r
		c.Accels, c.Steps = slices.Clone(r.Accels), slices.Clone(r.Steps)
		out = append(out, stored{c, classify.Decision{Class: d.Class, Rules: slices.Clone(d.Rules)}})
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

// mustApply applies a batch and returns its result.
func mustApply(t testing.TB, s Store, b Batch) ApplyResult {
	t.Helper()
	res, err := s.Apply(context.Background(), b)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

// batchOf builds a batch giving every record the same decision.
func batchOf(source string, cursor []byte, d classify.Decision, recs ...*job.Record) Batch {
	b := Batch{Source: source, Cursor: cursor, Records: recs}
	for range recs {
		b.Decisions = append(b.Decisions, d)
	}
	return b
}
