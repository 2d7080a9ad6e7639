package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRetryWait: retries start after RetryBase and double up to RetryMax,
// never past the source's interval.
func TestRetryWait(t *testing.T) {
	for _, tc := range []struct {
		n     int
		every time.Duration
		want  time.Duration
	}{
		{1, time.Hour, time.Second},
		{2, time.Hour, 2 * time.Second},
		{6, time.Hour, 32 * time.Second},
		{7, time.Hour, time.Minute},
		{50, time.Hour, time.Minute},
		{1000, time.Hour, time.Minute},
		{3, 3 * time.Second, 3 * time.Second},
		{1, 500 * time.Millisecond, 500 * time.Millisecond},
	} {
		if got := retryWait(tc.n, tc.every); got != tc.want {
			t.Errorf("retryWait(%d, %s) = %s, want %s", tc.n, tc.every, got, tc.want)
		}
	}
}

// TestDumpRetriedSoon: a dump source checked hourly whose file cannot be
// read (not there yet, a disk that failed) is retried within seconds, not
// after an hour doubling to many: once the file is there, it is imported
// and the daemon gets ready.
func TestDumpRetriedSoon(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "late.psv")
	config := filepath.Join(dir, "scmon.yaml")
	if err := os.WriteFile(config, []byte("data_dir: "+dir+"\ncluster: c\nsources:\n  - name: a\n    kind: dump\n    format: slurm-sacct\n    interval: 1h\n    paths: ["+dump+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, raw, err := LoadConfig(config, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, raw, Options{ConfigPath: config})
	if err != nil {
		t.Fatal(err)
	}
	runDaemon(t, d)
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("two failed polls", func() bool {
		s := d.Snapshot()
		return s != nil && len(s.Sources) == 1 && s.Sources[0].Failures >= 2 && strings.Contains(s.Sources[0].LastError, "late.psv")
	})
	writeDump(t, dump, dumpJob{"1", "COMPLETED", "2026-01-01T00:00:00", "2026-01-01T01:00:00", 2})
	wait("the import", func() bool { ok, _ := d.Ready(); return ok })
	wait("a snapshot of the finished import", func() bool { return d.Snapshot().Sources[0].PollCount > d.Snapshot().Sources[0].Failures })
	s := d.Snapshot()
	if s.Sources[0].Records["stored"] != 1 || !s.Sources[0].Up {
		t.Errorf("after the retry: %+v", s.Sources[0])
	}
	// The dump is finished: it trails nothing, although its claim (its
	// record's end) is months old, so no lag alert fires for history.
	if s.Sources[0].Lag != 0 || !s.Complete.Equal(time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("finished dump: lag %s, complete %v", s.Sources[0].Lag, s.Complete)
	}
}
