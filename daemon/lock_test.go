package daemon

import (
	"bufio"
	"context"
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
	path := filepath.Join(dir, "scmon.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+dir+"\nsources:\n  - kind: dump\n    format: slurm-sacct\n    paths: [unused.psv]\n"), 0o644); err != nil {
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
		t.Fatalf("second daemon on %s: %v, want a refusal", dir, err)
	}
	for _, want := range []string{dir, "in use by another scmon", "pid " + strconv.Itoa(os.Getpid()), "data_dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
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
	cancel2()
	if err := <-done2; err != nil {
		t.Errorf("daemon after the first stopped: %v", err)
	}
}
