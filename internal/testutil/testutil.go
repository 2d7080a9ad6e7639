// Package testutil holds what scmon's tests share to run against real
// components: finding a tool or skipping, free loopback ports, server
// processes stopped when the test ends, Prometheus and VictoriaMetrics on
// a port of their own, and the test Slurm cluster. The PostgreSQL helpers
// are in pgtest, so that a test that needs none does not link a database
// driver.
//
// A test whose component is missing is skipped, or fails where the matching
// requirement variable is 1 (CI sets them all), so that a run cannot pass by
// skipping.
package testutil

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables of the test suite, as scripts/test.sh sets them.
const (
	// EnvRequireTools makes a missing command-line tool (promtool,
	// prometheus, victoria-metrics, chromium, ...) a failure.
	EnvRequireTools = "SCMON_TEST_REQUIRE_TOOLS"
	// EnvSlurmEnv names the env.sh of scripts/testenv/slurm-up.sh.
	EnvSlurmEnv = "SCMON_TEST_SLURM_ENV"
	// EnvRequireSlurm makes a missing test cluster a failure.
	EnvRequireSlurm = "SCMON_TEST_REQUIRE_SLURM"
	// EnvPostgresDSN is the DSN of the database of
	// scripts/testenv/postgres-up.sh.
	EnvPostgresDSN = "SCMON_TEST_POSTGRES_DSN"
	// EnvRequirePostgres makes a missing database a failure.
	EnvRequirePostgres = "SCMON_TEST_REQUIRE_POSTGRES"
)

// Missing skips the test with why, or fails it when the requirement
// variable require is 1.
func Missing(t testing.TB, require, why string) {
	t.Helper()
	if os.Getenv(require) == "1" {
		t.Fatalf("%s=1: %s", require, why)
	}
	t.Skip(why)
}

// RequireTool returns the path of a command-line tool the test needs; a
// missing tool skips the test (fails it under EnvRequireTools).
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, EnvRequireTools, fmt.Sprintf("%s is not installed (scripts/testenv/install.sh): %v", name, err))
	}
	return path
}

// RequireRoot skips the test (fails it under EnvRequireTools) unless it runs
// as root, which the scripts of scripts/testenv need.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, EnvRequireTools, "scripts/testenv needs root")
	}
}

// RepoRoot returns the root of the repository (the main module's
// directory), wherever the calling test runs, the dashboards module
// included.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testutil: cannot locate its own source")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("testutil: repository root not found: %v", err)
	}
	return root
}

// FreeAddr returns a loopback address (127.0.0.1:port) whose port was free
// a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	addr, err := net.ResolveTCPAddr("tcp", FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return addr.Port
}

// SharedTempDir makes a temporary directory that other users can enter
// (t.TempDir's parent is private to root, and Prometheus runs as its own
// user), removed when the test ends.
func SharedTempDir(t testing.TB, pattern string) string {
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

// Tail returns the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// StartProcess starts a server process with its output in logPath and
// stops it when the test ends (SIGTERM, SIGKILL after 20 s), showing the
// log's tail if the test failed. The channel receives the process's exit.
func StartProcess(t testing.TB, logPath, bin string, args ...string) <-chan error {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		done <- err
		exited <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("%s (tail):\n%s", filepath.Base(logPath), Tail(string(b), 3000))
			}
		}
	})
	return exited
}

// WaitHTTP waits until a GET of url answers 200, failing the test when
// timeout passes first or when exited (a process's exit, may be nil)
// reports that the server is gone.
func WaitHTTP(t testing.TB, url string, timeout time.Duration, exited <-chan error) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		select {
		case xerr := <-exited:
			t.Fatalf("the server of %s exited before it answered: %v", url, xerr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer 200 from %s within %s: %v", url, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// StartVictoriaMetrics starts a single-node VictoriaMetrics (the Debian
// package's victoria-metrics) on a free loopback port with its storage in
// dir (a fresh temporary directory when empty), stopped when the test ends,
// and returns its base URL. New samples are visible at once
// (-search.latencyOffset 0s), responses are not cached and the retention
// covers any history a test writes, so a test reads what it just wrote.
func StartVictoriaMetrics(t testing.TB, dir string) string {
	t.Helper()
	bin := RequireTool(t, "victoria-metrics")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "vm")
	}
	addr := FreeAddr(t)
	exited := StartProcess(t, dir+".log", bin, "-storageDataPath", dir, "-httpListenAddr", addr,
		"-retentionPeriod", "10y", "-search.latencyOffset", "0s", "-search.disableCache", "-loggerLevel", "WARN")
	base := "http://" + addr
	WaitHTTP(t, base+"/health", 30*time.Second, exited)
	return base
}

// StartPrometheus starts a Prometheus of its own (state directory, free
// port) with scripts/testenv/prometheus-up.sh, scraping target (host:port)
// with the given rule files, and returns its base URL; it is stopped and
// its state removed when the test ends. env adds SCMON_PROM_* settings of
// the script; those of the caller's environment are not inherited, so
// that every test's Prometheus starts from the script's defaults.
func StartPrometheus(t testing.TB, target string, rules []string, env ...string) string {
	t.Helper()
	for _, tool := range []string{"bash", "prometheus", "promtool", "curl", "setpriv"} {
		RequireTool(t, tool)
	}
	RequireRoot(t)
	scripts := filepath.Join(RepoRoot(t), "scripts", "testenv")
	state := SharedTempDir(t, "scmon-test-prom-")
	var full []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SCMON_PROM_") && !strings.HasPrefix(kv, "SCMON_TESTENV_DIR=") {
			full = append(full, kv)
		}
	}
	full = append(full, "SCMON_TESTENV_DIR="+state, fmt.Sprintf("SCMON_PROM_PORT=%d", FreePort(t)))
	full = append(full, env...)
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command("bash", args...)
		cmd.Env = full
		return cmd.CombinedOutput()
	}
	// Registered before the start: a half-started Prometheus is stopped
	// too.
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(state, "prometheus", "prometheus.log")); err == nil {
				t.Logf("prometheus.log (tail):\n%s", Tail(string(b), 3000))
			}
		}
		if out, err := run(filepath.Join(scripts, "prometheus-down.sh"), "--purge"); err != nil {
			t.Errorf("prometheus-down.sh: %v\n%s", err, out)
		}
	})
	if out, err := run(append([]string{filepath.Join(scripts, "prometheus-up.sh"), target}, rules...)...); err != nil {
		t.Fatalf("prometheus-up.sh %s: %v\n%s", target, err, out)
	}
	penv, err := ReadEnvFile(filepath.Join(state, "prometheus", "env.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if penv["SCMON_TEST_PROM_URL"] == "" {
		t.Fatal("prometheus-up.sh wrote no SCMON_TEST_PROM_URL")
	}
	return penv["SCMON_TEST_PROM_URL"]
}

// ReadEnvFile reads a file of `export KEY='value'` lines, as the scripts of
// scripts/testenv write them.
func ReadEnvFile(path string) (map[string]string, error) {
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

// SlurmEnv returns the variables of the test cluster's env.sh (named by
// EnvSlurmEnv), or skips (fails under EnvRequireSlurm). It checks that the
// client commands are installed and that the cluster answers.
func SlurmEnv(t testing.TB) map[string]string {
	t.Helper()
	path := os.Getenv(EnvSlurmEnv)
	if path == "" {
		Missing(t, EnvRequireSlurm, EnvSlurmEnv+" is not set (run scripts/testenv/slurm-up.sh and point it at slurm/env.sh)")
	}
	env, err := ReadEnvFile(path)
	if err != nil {
		Missing(t, EnvRequireSlurm, err.Error())
	}
	for _, k := range []string{"SLURM_CONF", "SCMON_TEST_SLURM_JOBDIR", "SCMON_TEST_SLURM_CLUSTER"} {
		if env[k] == "" {
			t.Fatalf("%s does not set %s", path, k)
		}
	}
	for _, p := range []string{"sacct", "sbatch", "sacctmgr", "sreport", "scontrol", "scancel", "runuser"} {
		if _, err := exec.LookPath(p); err != nil {
			Missing(t, EnvRequireSlurm, p+" is not installed")
		}
	}
	if out, err := SlurmCommand(env, "sinfo", "-h", "-o", "%P").CombinedOutput(); err != nil {
		Missing(t, EnvRequireSlurm, fmt.Sprintf("the test cluster does not answer: sinfo: %v: %s", err, out))
	}
	return env
}

// SlurmCommand returns a Slurm client command for the test cluster: its
// SLURM_CONF, UTC times in the standard format.
func SlurmCommand(env map[string]string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+env["SLURM_CONF"], "TZ=UTC", "SLURM_TIME_FORMAT=standard")
	return cmd
}

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// ScmonBinary returns the path of the scmon binary built from this
// checkout's ./cmd/scmon, building it on first use in a test binary. It is
// not race-instrumented: it is the program under test, not the test. The
// binary's directory can be entered by other users (a test may hand it to
// a stand-in script run as another user); a TestMain that runs the tests
// through Main removes it.
func ScmonBinary(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "scmon-test-bin-")
		if buildErr != nil {
			return
		}
		if buildErr = os.Chmod(buildDir, 0o755); buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "scmon")
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is not in PATH: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, gobin, "build", "-o", buildBin, "./cmd/scmon")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/scmon: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// Main runs the tests of m and removes what ScmonBinary built, returning
// the exit code: a package's TestMain is os.Exit(testutil.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	return code
}
