package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLoadConfig: any configuration file either loads into a configuration
// that holds the loader's promises (a store, every interval and timeout
// positive, source names unique, windows positive and sorted) or is refused
// with an error that names the file; it never panics.
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
		f.Add(b, "")
	}
	f.Add([]byte("sources:\n  dumps:\n    - paths: [a]\n      interval: -1s\n"), "SCMON_STORE=memory")
	f.Add([]byte("metrics:\n  windows: [1h, 0s]\n"), "SCMON_SAMPLE=maybe")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte, env string) {
		path := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		c, _, err := LoadConfig(path, strings.Split(env, "\n"))
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if c.Store == "" {
			t.Fatal("loaded without a store")
		}
		if c.Sample == c.HasSources() {
			t.Fatalf("sample %v with sources %v", c.Sample, c.HasSources())
		}
		names := map[string]bool{}
		name := func(n string) {
			if n == "" || names[n] {
				t.Fatalf("source name %q empty or repeated", n)
			}
			names[n] = true
		}
		positive := func(what string, d time.Duration) {
			if d <= 0 {
				t.Fatalf("%s %s is not positive", what, d)
			}
		}
		for _, s := range c.Sources.Sacct {
			name(s.Name)
			positive("sacct interval", s.Interval)
			positive("sacct timeout", s.Timeout)
			positive("sacct chunk", s.Chunk)
		}
		for _, s := range c.Sources.Nodes {
			name(s.Name)
			positive("nodes interval", s.Interval)
			positive("nodes timeout", s.Timeout)
		}
		for _, s := range append(append([]TailConfig(nil), c.Sources.Jobcomp...), c.Sources.PBS...) {
			name(s.Name)
			positive("tail interval", s.Interval)
			if s.Path == "" {
				t.Fatal("tail without a path")
			}
		}
		for _, s := range c.Sources.Dumps {
			name(s.Name)
			positive("dump interval", s.Interval)
			if len(s.Paths) == 0 {
				t.Fatal("dump without paths")
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
