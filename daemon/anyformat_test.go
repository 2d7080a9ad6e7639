package daemon

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scmon/scmon/collector"
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
	runDaemon(t, d)
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

// TestLSFAndSGESources: the LSF and Grid Engine readers, which the daemon
// has no code for, serve as dump sources from the configuration alone, and
// the daemon stores every record the reader gives.
func TestLSFAndSGESources(t *testing.T) {
	cases := []struct{ format, file string }{
		{"lsf", "../collector/testdata/lsf/xdmod-lsb.acct"},
		{"sge", "../collector/testdata/sge/sge-accounting-logs.log"},
		{"sge", "../collector/testdata/sge/uge-accounting-logs.log"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			file, err := filepath.Abs(c.file)
			if err != nil {
				t.Fatal(err)
			}
			want := readAll(t, c.format, file)
			if want == 0 {
				t.Fatalf("%s: the reader gives no record", file)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "scmon.yaml")
			if err := os.WriteFile(path, []byte("data_dir: "+dir+"\ncluster: c\nsources:\n"+
				"  - {name: history, kind: dump, format: "+c.format+", paths: ["+file+"]}\n"), 0o644); err != nil {
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
			runDaemon(t, d)
			var got float64
			for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if s := d.Snapshot(); s != nil {
					got = 0
					for _, h := range s.Sources {
						got += h.Records["stored"] + h.Records["duplicate"]
					}
					if got == float64(want) {
						break
					}
				}
			}
			if got != float64(want) {
				t.Fatalf("%s: the daemon took %v records, the reader gives %d", file, got, want)
			}
		})
	}
}

// readAll counts the records the registered reader gives for file.
func readAll(t *testing.T, format, file string) int {
	t.Helper()
	r, c, err := collector.Open(format, file, collector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n
		}
		var le *collector.LineError
		if errors.As(err, &le) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}
