// Package e2e runs the scmon binary as a real process against real
// components: a Slurm 22.05 cluster, Prometheus, PostgreSQL (started by
// scripts/testenv), and stand-ins only where a real component cannot be
// made to fail on demand (a sacct that hangs). Each test builds nothing
// itself: the binary is built once per test binary, from ./cmd/scmon, into
// a temporary directory.
//
// Components are found as package internal/testutil finds them, through
// the environment that scripts/test.sh sets:
//
//	SCMON_TEST_SLURM_ENV       slurm/env.sh of scripts/testenv/slurm-up.sh
//	SCMON_TEST_POSTGRES_DSN    the PostgreSQL database of postgres-up.sh
//	prometheus, promtool       in PATH (the Debian package)
//
// A test whose component is missing is skipped, or fails when the matching
// SCMON_TEST_REQUIRE_SLURM, SCMON_TEST_REQUIRE_POSTGRES or
// SCMON_TEST_REQUIRE_TOOLS is 1, so that CI cannot pass by skipping.
package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// eventually polls cond every interval until it reports done, and fails
// the test with cond's last explanation when timeout passes first.
func eventually(t testing.TB, timeout, interval time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, why := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %s", timeout, what, why)
		}
		time.Sleep(interval)
	}
}

// writeFile writes a file, failing the test on error.
func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// atoi parses a whole number, failing the test on error.
func atoi(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("not a whole number: %q", s)
	}
	return n
}
