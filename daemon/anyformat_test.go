package daemon

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scmon/scmon/snapshot"
)

// TestAnyFormatSources: a record format the daemon has no code for (SWF,
// testdata/swf/kth-head.swf: a copy of source/testdata's, the first 40 jobs
// of a real trace) works as a dump and as a tail from the configuration
// alone, through the format registry: both import every job of the trace.
func TestAnyFormatSources(t *testing.T) {
	dir := t.TempDir()
	trace, err := filepath.Abs("testdata/swf/kth-head.swf")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	tailed := filepath.Join(dir, "live.swf")
	if err := os.WriteFile(tailed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "scmon.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+dir+"\ncluster: kth\nsources:\n"+
		"  - {name: history, kind: dump, format: swf, paths: ["+trace+"]}\n"+
		"  - {name: live, kind: tail, format: swf, path: "+tailed+", interval: 100ms}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, raw, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(cfg, raw, path); err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, raw, Options{ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	// Both read the same jobs: whichever stores a job first, the other
	// finds it stored (the same key, so the same times: a tail that lost
	// the trace's header would store jobs of 1970 instead).
	count := func(s *snapshot.Snapshot) (seen map[string]float64, stored float64) {
		seen = map[string]float64{}
		for _, h := range s.Sources {
			seen[h.Name+"/"+h.Kind] = h.Records["stored"] + h.Records["duplicate"]
			stored += h.Records["stored"]
		}
		return seen, stored
	}
	var seen map[string]float64
	var stored float64
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s := d.Snapshot(); s != nil {
			if seen, stored = count(s); seen["history/dump"] == 40 && seen["live/swf"] == 40 {
				break
			}
		}
	}
	if seen["history/dump"] != 40 || seen["live/swf"] != 40 || stored != 40 {
		t.Fatalf("records by source %v, %v stored; want 40 from each of history/dump and live/swf, 40 stored", seen, stored)
	}
}
