package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOneDaemonPerDataDir starts two scmon processes on one data
// directory: the second refuses to start, saying why and which process
// holds it; after the first is killed with SIGKILL, a new one starts.
func TestOneDaemonPerDataDir(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	dump := filepath.Join(tmp, "history.psv")
	genDump(t, dump, 200, 9)
	config := dumpConfig(t, tmp, filepath.Join(tmp, "data"), "", dump)
	first := startScmon(t, tmp, config, nil)
	first.waitReady(60 * time.Second)

	second := startScmon(t, tmp, config, nil)
	select {
	case <-second.done:
	case <-time.After(30 * time.Second):
		t.Fatal("a second daemon on the same data directory is still running")
	}
	if second.err == nil {
		t.Error("the second daemon exited with status 0")
	}
	log := second.logText()
	for _, want := range []string{"in use by another scmon", filepath.Join(tmp, "data"), "pid "} {
		if !strings.Contains(log, want) {
			t.Errorf("the second daemon's message does not say %q:\n%s", want, log)
		}
	}

	first.kill9()
	third := startScmon(t, tmp, config, nil)
	third.waitReady(60 * time.Second)
}

// TestMemoryStoreAfterSIGKILL: the built-in sample keeps its store in the
// temporary directory; a daemon killed with SIGKILL cannot remove it, and
// the next one does, while leaving alone the store of a daemon that runs.
func TestMemoryStoreAfterSIGKILL(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	tmpdir := filepath.Join(tmp, "tmp")
	if err := os.Mkdir(tmpdir, 0o700); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(tmp, "scmon.yml")
	writeFile(t, config, "sample: true\nmetrics:\n  windows: [1h]\n", 0o644)
	env := []string{"TMPDIR=" + tmpdir}
	stores := func() []string {
		m, _ := filepath.Glob(filepath.Join(tmpdir, "scmon-memory-*"))
		return m
	}

	killed := startScmon(t, tmp, config, env)
	killed.waitReady(120 * time.Second)
	running := startScmon(t, tmp, config, env)
	running.waitReady(120 * time.Second)
	if n := len(stores()); n != 2 {
		t.Fatalf("%d memory stores with two daemons running, want 2", n)
	}
	killed.kill9()
	left := stores()
	if len(left) != 2 {
		t.Fatalf("%d memory stores after SIGKILL, want 2 (the killed one cannot clean up)", len(left))
	}

	next := startScmon(t, tmp, config, env)
	next.waitReady(120 * time.Second)
	if n := len(stores()); n != 2 {
		t.Errorf("%d memory stores after a restart, want 2 (the running daemon's and the new one's): %v", n, stores())
	}
	if !strings.Contains(next.logText(), "stale memory store removed") {
		t.Errorf("the new daemon did not say it removed the stale store")
	}
	running.stop()
	next.stop()
	if n := len(stores()); n != 0 {
		t.Errorf("%d memory stores after both stopped, want 0: %v", n, stores())
	}
}
