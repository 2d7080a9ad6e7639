package daemon

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/config/*.bad.yaml")
	if len(files) == 0 {
		t.Fatal("no bad configs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(fh)
			sc.Scan()
			fh.Close()
			want, ok := strings.CutPrefix(sc.Text(), "# error: ")
			if !ok {
				t.Fatalf("%s has no '# error:' line", f)
			}
			_, _, err = LoadConfig(f, []string{})
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), f) {
				t.Fatalf("error %v; want it to name %s and contain %q", err, f, want)
			}
		})
	}
}

func TestConfigGood(t *testing.T) {
	c, raw, err := LoadConfig("testdata/config/full.good.yaml", []string{"SCMON_STORE=postgres://u@db/scmon", "OTHER=1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != "postgres://u@db/scmon" || c.Sample || c.Cluster != "hpc1" {
		t.Errorf("store %q sample %v cluster %q", c.Store, c.Sample, c.Cluster)
	}
	s := c.Sources.Sacct[0]
	if s.Name != "sacct" || s.Interval != 2*time.Minute || s.Overlap != 15*time.Minute || s.Chunk != 12*time.Hour || s.Timeout != 90*time.Second {
		t.Errorf("sacct %+v", s)
	}
	if n := c.Sources.Nodes[0]; n.Name != "nodes" || n.Command != "scontrol" || n.Interval != time.Minute || n.Timeout != DefaultTimeout {
		t.Errorf("nodes %+v", n)
	}
	if j := c.Sources.Jobcomp[0]; j.Name != "jobcomp" || j.Interval != DefaultTailInterval {
		t.Errorf("jobcomp %+v", j)
	}
	if d := c.Sources.Dumps[0]; d.Name != "history" {
		t.Errorf("dumps %+v", d)
	}
	if !reflect.DeepEqual(c.Metrics.Windows, []time.Duration{time.Hour, 24 * time.Hour, 168 * time.Hour, 720 * time.Hour}) || !c.Metrics.AccountLabel {
		t.Errorf("metrics %+v", c.Metrics)
	}
	if len(raw) == 0 || Hash(raw) == Hash(nil) {
		t.Error("hash ignores the content")
	}
}

func TestConfigDefaults(t *testing.T) {
	c, _, err := LoadConfig("", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sample || c.Store != "memory" || len(c.Metrics.Windows) != 4 {
		t.Errorf("defaults %+v", c)
	}
	c, _, err = LoadConfig("", []string{"SCMON_SAMPLE=false", "SCMON_DATA_DIR=/tmp/x"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sample { // nothing else to collect: the sample stays on
		t.Errorf("sample off without sources")
	}
}

func TestWindowLabel(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 24 * time.Hour: "24h", 7 * 24 * time.Hour: "7d", 30 * 24 * time.Hour: "30d", 90 * time.Minute: "90m"} {
		if got := WindowLabel(d); got != want {
			t.Errorf("WindowLabel(%s) = %s, want %s", d, got, want)
		}
	}
}

// TestShippedExample keeps deploy/scmon.yaml valid.
func TestShippedExample(t *testing.T) {
	c, _, err := LoadConfig("../deploy/scmon.yaml", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Sample || len(c.Sources.Sacct) != 1 || len(c.Sources.Nodes) != 1 || c.Store != "sqlite:///var/lib/scmon/scmon.db" {
		t.Errorf("example config %+v", c)
	}
}

// TestConfigUnquotedTime: YAML reads an unquoted RFC 3339 time as a
// timestamp, not a string; start must accept it as written, and still
// refuse what is not a time.
func TestConfigUnquotedTime(t *testing.T) {
	dir := t.TempDir()
	load := func(start string) (*Config, error) {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte("sources:\n  sacct:\n    - start: "+start+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, _, err := LoadConfig(path, []string{})
		return c, err
	}
	for in, want := range map[string]string{
		"2026-11-28T17:30:00Z":      "2026-11-28T17:30:00Z",
		`"2026-11-28T17:30:00Z"`:    "2026-11-28T17:30:00Z",
		"2026-11-28T18:30:00+01:00": "2026-11-28T18:30:00+01:00",
	} {
		c, err := load(in)
		if err != nil {
			t.Errorf("start: %s: %v", in, err)
			continue
		}
		if got := c.Sources.Sacct[0].Start; got != want {
			t.Errorf("start: %s read as %q, want %q", in, got, want)
		}
	}
	if _, err := load("last week"); err == nil || !strings.Contains(err.Error(), "sources.sacct[0].start") {
		t.Errorf("start: last week: error %v, want one naming sources.sacct[0].start", err)
	}
}
