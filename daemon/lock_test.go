package daemon

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scmon/scmon/source"
)

// holdEnv makes the test binary a lock holder: it creates a memory store
// directory under the named temp dir, locks it, says so and waits to be
// killed. TestMain runs it before any test.
const holdEnv = "SCMON_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdEnv); dir != "" {
		mem, err := os.MkdirTemp(dir, memoryPrefix)
		if err != nil {
			os.Exit(3)
		}
		if _, err := lockDir(mem); err != nil {
			os.Exit(4)
		}
		os.Stdout.WriteString(mem + "\n")
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holder starts a lock-holding subprocess and returns it with its
// directory.
func holder(t *testing.T, tmp string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+tmp)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("holder: %v", err)
	}
	return cmd, strings.TrimSpace(line)
}

// TestStaleMemoryStoreRemoved: the memory store of a daemon killed with
// SIGKILL is removed at the next start; one whose daemon runs is kept.
func TestStaleMemoryStoreRemoved(t *testing.T) {
	tmp := t.TempDir()
	live, liveDir := holder(t, tmp)
	defer func() { live.Process.Kill(); live.Wait() }()
	dead, deadDir := holder(t, tmp)
	if err := dead.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	dead.Wait()
	// A directory without a lock file, as a daemon killed between
	// creating it and locking it leaves: removed once it is old, kept
	// while it may be another daemon starting.
	young := filepath.Join(tmp, memoryPrefix+"young")
	old := filepath.Join(tmp, memoryPrefix+"old")
	other := filepath.Join(tmp, "not-scmon")
	for _, d := range []string{young, old, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * staleAge)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(other, past, past); err != nil {
		t.Fatal(err)
	}

	removed := removeStaleMemoryStores(tmp, slog.New(slog.DiscardHandler))
	want := map[string]bool{deadDir: true, old: true}
	if len(removed) != len(want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, d := range removed {
		if !want[d] {
			t.Errorf("removed %s, which was not stale", d)
		}
	}
	for d, gone := range map[string]bool{deadDir: true, old: true, liveDir: false, young: false, other: false} {
		_, err := os.Stat(d)
		if gone != errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: exists=%v after cleaning, want exists=%v", d, err == nil, !gone)
		}
	}
}

// TestDataDirLocked: a second daemon on a data directory in use refuses to
// start, with a message that says why and names the holder; once the first
// stops, it starts.
func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	testStoreLocked(t, dir, "data_dir: "+dir+"\n", dir, "in use by another scmon", "pid "+strconv.Itoa(os.Getpid()), "data_dir")
}

// TestDatabaseLocked: the same for two daemons on one PostgreSQL store (a
// real server, as the jobstore tests find it), held apart by the
// database's advisory lock.
func TestDatabaseLocked(t *testing.T) {
	dsn := postgresSchema(t)
	dir := t.TempDir()
	testStoreLocked(t, dir, "data_dir: "+dir+"\nstore: "+dsn+"\n", "127.0.0.1", "in use by another scmon",
		"scmon pid "+strconv.Itoa(os.Getpid()), "search_path", "server process")
}

// postgresSchema returns the DSN of a new schema of the test database
// (SCMON_TEST_POSTGRES_DSN, written by scripts/testenv/postgres-up.sh),
// dropped when the test ends; it skips without one, or fails when
// SCMON_TEST_REQUIRE_POSTGRES=1.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SCMON_TEST_POSTGRES_DSN")
	if base == "" {
		if os.Getenv("SCMON_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatal("SCMON_TEST_REQUIRE_POSTGRES=1 but SCMON_TEST_POSTGRES_DSN is not set")
		}
		t.Skip("SCMON_TEST_POSTGRES_DSN is not set (run scripts/testenv/postgres-up.sh and source its env.sh)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := "daemon_test_" + strings.ToLower(rand.Text()[:12])
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
}

// testStoreLocked starts a daemon with the configuration head (data_dir,
// store), then a second one on the same store, which must refuse with an
// error saying every one of wants; once the first stops, a third starts.
func testStoreLocked(t *testing.T, dir, head string, wants ...string) {
	path := filepath.Join(dir, "scmon.yaml")
	if err := os.WriteFile(path, []byte(head+"sources:\n  - kind: dump\n    format: slurm-sacct\n    paths: [unused.psv]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newDaemon := func() *Daemon {
		cfg, raw, err := LoadConfig(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(cfg, raw, Options{ConfigPath: path, Sources: func(*Config, *Runtime) ([]source.JobSource, []source.NodeSource, error) {
			return []source.JobSource{&scriptedSource{batches: make(chan *source.Batch)}}, nil, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := newDaemon()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for first.Snapshot() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}

	err := newDaemon().Run(context.Background())
	if err == nil || !errors.Is(err, errLocked) {
		t.Fatalf("second daemon on the store of %s: %v, want a refusal", head, err)
	}
	t.Logf("refusal: %v", err)
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if strings.Contains(head, "store:") && first.Snapshot() == nil {
		t.Error("the first daemon never published")
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("first daemon: %v", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	second := newDaemon()
	done2 := make(chan error, 1)
	go func() { done2 <- second.Run(ctx2) }()
	deadline = time.Now().Add(10 * time.Second)
	for second.Snapshot() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if second.Snapshot() == nil {
		t.Error("the daemon started after the first stopped never published")
	}
	cancel2()
	if err := <-done2; err != nil {
		t.Errorf("daemon after the first stopped: %v", err)
	}
}
