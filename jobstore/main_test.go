package jobstore

import (
	"context"
	"os"
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/scmon/scmon/internal/testutil/pgtest"
	"github.com/scmon/scmon/job"
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

// postgresBackend opens stores in a fresh schema of the test database
// (internal/testutil/pgtest), which skips the test when there is none, or
// fails it where SCMON_TEST_REQUIRE_POSTGRES=1.
func postgresBackend() backend {
	return backend{name: "postgres", dsn: func(t testing.TB) string {
		return pgtest.Schema(t, "jobstore_test_")
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
	Dec job.Decision
}

// scanAll returns every stored record, copied.
func scanAll(t testing.TB, s Store) []stored {
	t.Helper()
	var out []stored
	err := s.Scan(context.Background(), func(r *job.Record, d job.Decision) error {
		c := *r
		c.Accels, c.Steps = slices.Clone(r.Accels), slices.Clone(r.Steps)
		out = append(out, stored{c, job.Decision{Class: d.Class, Rules: slices.Clone(d.Rules)}})
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
func batchOf(source string, cursor []byte, d job.Decision, recs ...*job.Record) Batch {
	b := Batch{Source: source, Cursor: cursor, Records: recs}
	for range recs {
		b.Decisions = append(b.Decisions, d)
	}
	return b
}
