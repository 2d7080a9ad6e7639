// Package e2e runs the scmon binary as a real process against real
// components: a Slurm 22.05 cluster, Prometheus, PostgreSQL (started by
// scripts/testenv), and stand-ins only where a real component cannot be
// made to fail on demand (a sacct that hangs). Each test builds nothing
// itself: the binary is built once per test binary, from ./cmd/scmon, into
// a temporary directory.
//
// Components are found through the environment that scripts/test.sh sets:
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
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables of the suite.
const (
	envSlurmEnv        = "SCMON_TEST_SLURM_ENV"
	envRequireSlurm    = "SCMON_TEST_REQUIRE_SLURM"
	envPostgresDSN     = "SCMON_TEST_POSTGRES_DSN"
	envRequirePostgres = "SCMON_TEST_REQUIRE_POSTGRES"
	envRequireTools    = "SCMON_TEST_REQUIRE_TOOLS"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// scmonBinary returns the path of the scmon binary, building it on first
// use. The binary is not race-instrumented: it is the program under test,
// not the test.
func scmonBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "scmon-e2e-bin-")
		if buildErr != nil {
			return
		}
		// Other users (Prometheus runs as "prometheus") never run it, but
		// a test may hand the directory to a stand-in script.
		_ = os.Chmod(buildDir, 0o755)
		buildBin = filepath.Join(buildDir, "scmon")
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is not in PATH: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, gobin, "build", "-o", buildBin, "github.com/scmon/scmon/cmd/scmon")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/scmon: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// repoRoot returns the repository's root directory (the test runs in
// test/e2e).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root not found from the test directory: %v", err)
	}
	return dir
}

// missing skips the test, or fails it when the requirement variable is 1.
func missing(t testing.TB, require, why string) {
	t.Helper()
	if os.Getenv(require) == "1" {
		t.Fatalf("%s=1: %s", require, why)
	}
	t.Skip(why)
}

// requireTools skips (or fails) unless every named program is in PATH.
func requireTools(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing(t, envRequireTools, n+" is not installed (scripts/testenv/install.sh)")
		}
	}
}

// slurmEnv returns the variables of the test cluster's env.sh, or skips
// (fails when required). It also checks that the cluster answers.
func slurmEnv(t testing.TB) map[string]string {
	t.Helper()
	path := os.Getenv(envSlurmEnv)
	if path == "" {
		missing(t, envRequireSlurm, envSlurmEnv+" is not set (run scripts/testenv/slurm-up.sh and point it at slurm/env.sh)")
	}
	env, err := readEnvFile(path)
	if err != nil {
		missing(t, envRequireSlurm, err.Error())
	}
	for _, k := range []string{"SLURM_CONF", "SCMON_TEST_SLURM_JOBDIR", "SCMON_TEST_SLURM_CLUSTER"} {
		if env[k] == "" {
			t.Fatalf("%s does not set %s", path, k)
		}
	}
	for _, p := range []string{"sacct", "sbatch", "sacctmgr", "sreport", "scontrol", "scancel", "runuser"} {
		if _, err := exec.LookPath(p); err != nil {
			missing(t, envRequireSlurm, p+" is not installed")
		}
	}
	if out, err := slurmCommand(env, "sinfo", "-h", "-o", "%P").CombinedOutput(); err != nil {
		missing(t, envRequireSlurm, fmt.Sprintf("the test cluster does not answer: sinfo: %v: %s", err, out))
	}
	return env
}

// readEnvFile reads a file of `export KEY='value'` lines, as the testenv
// scripts write them.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
			return nil, fmt.Errorf("%s: unexpected line %q", path, line)
		}
		env[k] = v[1 : len(v)-1]
	}
	return env, sc.Err()
}

// slurmCommand returns a Slurm client command with the cluster's
// SLURM_CONF, UTC times in the standard format.
func slurmCommand(env map[string]string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+env["SLURM_CONF"], "TZ=UTC", "SLURM_TIME_FORMAT=standard")
	return cmd
}

// postgresDSN returns the DSN of the test database, or skips (fails when
// required) when there is none or it does not answer.
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envPostgresDSN)
	if dsn == "" {
		missing(t, envRequirePostgres, envPostgresDSN+" is not set (run scripts/testenv/postgres-up.sh and source its env.sh)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		missing(t, envRequirePostgres, fmt.Sprintf("PostgreSQL at %s does not answer: %v", envPostgresDSN, err))
	}
	conn.Close(ctx)
	return dsn
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

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

// sharedTempDir makes a temporary directory that other users can enter
// (t.TempDir's parent is private to root), removed when the test ends.
func sharedTempDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
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
