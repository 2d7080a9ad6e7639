package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/collector"
)

// FuzzLoadConfig: any configuration file either loads into a configuration
// that holds the loader's promises (a store, a job source or the sample,
// every interval and timeout positive, source names unique, a known format
// for file sources, windows positive and sorted) or is refused with an
// error that names the file; it never panics.
func FuzzLoadConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*.yaml")
	if len(files) == 0 {
		f.Fatal("no seed configurations")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("sources:\n  - kind: dump\n    format: swf\n    paths: [a]\n    interval: -1s\n"))
	f.Add([]byte("sources:\n  - {kind: tail, format: pbs, path: /x, cluster: 5}\nmetrics:\n  windows: [1h, 0s]\n"))
	f.Add([]byte("sources: &a\n  - kind: sacct\n    env: *a\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		c, _, err := LoadConfig(path, nil)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if c.Store == "" {
			t.Fatal("loaded without a store")
		}
		if !c.HasJobSources() {
			t.Fatal("loaded without a job source")
		}
		names := map[string]bool{}
		positive := func(what string, d time.Duration) {
			if d <= 0 {
				t.Fatalf("%s %s is not positive", what, d)
			}
		}
		for _, s := range c.Sources {
			if s.Name == "" || names[s.Name] {
				t.Fatalf("source name %q empty or repeated", s.Name)
			}
			names[s.Name] = true
			positive(s.Kind+" interval", s.Interval)
			switch sp := s.spec.(type) {
			case *SacctSource:
				positive("sacct timeout", sp.Timeout)
				positive("sacct chunk", sp.Chunk)
			case *ScontrolSource:
				positive("scontrol timeout", sp.Timeout)
			case *TailSource:
				if _, ok := collector.LookupFormat(sp.Format); !ok || sp.Path == "" {
					t.Fatalf("tail %+v without a known format or a path", sp)
				}
			case *DumpSource:
				if _, ok := collector.LookupFormat(sp.Format); !ok || len(sp.Paths) == 0 {
					t.Fatalf("dump %+v without a known format or paths", sp)
				}
			case *SampleSource:
				if !c.Sample || len(c.Sources) != 1 {
					t.Fatalf("sample with other sources: %+v", c.Sources)
				}
			default:
				t.Fatalf("source %+v of no kind", s)
			}
		}
		for i, w := range c.Metrics.Windows {
			positive("window", w)
			if i > 0 && w < c.Metrics.Windows[i-1] {
				t.Fatalf("windows not sorted: %v", c.Metrics.Windows)
			}
		}
	})
}
