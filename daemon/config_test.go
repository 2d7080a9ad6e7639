package daemon

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestConfigBad: every bad configuration under testdata/config is refused
// with the error its first line names ("bad-config" stands for the file's
// path), naming the file.
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
			want = strings.ReplaceAll(want, "bad-config", f)
			_, _, err = LoadConfig(f, nil)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), f) {
				t.Fatalf("error %v; want it to name %s and contain %q", err, f, want)
			}
		})
	}
}

func TestConfigGood(t *testing.T) {
	t.Setenv("SCMON_STORE", "postgres://u@db/scmon")
	t.Setenv("OTHER", "1")
	c, raw, err := LoadConfig("testdata/config/full.good.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != "postgres://u@db/scmon" || c.Sample || c.Cluster != "hpc1" {
		t.Errorf("store %q sample %v cluster %q", c.Store, c.Sample, c.Cluster)
	}
	if len(c.Sources) != 4 {
		t.Fatalf("sources %+v", c.Sources)
	}
	s := c.Sources[0].spec.(*SacctSource)
	if c.Sources[0].Name != "sacct" || c.Sources[0].Interval != 2*time.Minute || s.Overlap != 15*time.Minute || s.Chunk != 12*time.Hour || s.Timeout != 90*time.Second {
		t.Errorf("sacct %+v %+v", c.Sources[0], s)
	}
	if n := c.Sources[1].spec.(*ScontrolSource); c.Sources[1].Name != "nodes" || n.Command != "scontrol" || c.Sources[1].Interval != time.Minute || n.Timeout != DefaultTimeout {
		t.Errorf("nodes %+v %+v", c.Sources[1], n)
	}
	if j := c.Sources[2].spec.(*TailSource); c.Sources[2].Name != "jobcomp" || c.Sources[2].Interval != DefaultTailInterval || j.Format != "slurm-jobcomp" {
		t.Errorf("jobcomp %+v %+v", c.Sources[2], j)
	}
	if d := c.Sources[3].spec.(*DumpSource); c.Sources[3].Name != "history" || d.Paths[0] != "/srv/old/2025.psv.gz" {
		t.Errorf("dumps %+v", d)
	}
	if !reflect.DeepEqual(c.Metrics.Windows, []time.Duration{time.Hour, 24 * time.Hour, 168 * time.Hour, 720 * time.Hour}) || !c.Metrics.AccountLabel {
		t.Errorf("metrics %+v", c.Metrics)
	}
	if len(raw) == 0 || Hash(raw) == Hash(nil) {
		t.Error("hash ignores the content")
	}
}

// TestConfigEnvironment: every scalar key is bound to its SCMON_
// variable, decoded as strictly as the file.
func TestConfigEnvironment(t *testing.T) {
	keys := envKeys()
	for _, want := range []string{"cluster", "timezone", "data_dir", "store", "capacity", "rules", "sample", "metrics.account_label"} {
		if !strings.Contains(" "+strings.Join(keys, " ")+" ", " "+want+" ") {
			t.Errorf("key %s not bound to the environment (bound: %v)", want, keys)
		}
	}
	t.Setenv("SCMON_SAMPLE", "true")
	t.Setenv("SCMON_CLUSTER", "envcluster")
	t.Setenv("SCMON_METRICS_ACCOUNT_LABEL", "true")
	c, raw, err := LoadConfig("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sample || c.Cluster != "envcluster" || !c.Metrics.AccountLabel || !strings.Contains(string(raw), "SCMON_CLUSTER=envcluster") {
		t.Errorf("from the environment: %+v", c)
	}
	t.Setenv("SCMON_SAMPLE", "maybe")
	if _, _, err := LoadConfig("", nil); err == nil || !strings.Contains(err.Error(), `"maybe": want true or false`) {
		t.Errorf("SCMON_SAMPLE=maybe: %v", err)
	}
}

// TestConfigFlags: a flag of FlagKeys overrides its key, the file and the
// environment, only when it is set.
func TestConfigFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("store: memory\nsources:\n  - kind: sacct\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.String("store", "", "")
	fs.Bool("sample", false, "")
	c, _, err := LoadConfig(path, fs)
	if err != nil || c.Store != "memory" {
		t.Fatalf("unset flag: %v %+v", err, c)
	}
	if err := fs.Parse([]string{"--store", "postgres://flag/db"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SCMON_STORE", "postgres://env/db")
	if c, _, err = LoadConfig(path, fs); err != nil || c.Store != "postgres://flag/db" {
		t.Fatalf("set flag: %v %+v", err, c)
	}
}

func TestConfigDefaults(t *testing.T) {
	c, _, err := LoadConfig("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sample || c.Store != "memory" || len(c.Metrics.Windows) != 4 || len(c.Sources) != 1 || c.Sources[0].Kind != "sample" {
		t.Errorf("defaults %+v", c)
	}
	// Where to keep data is no configuration of what to count (container
	// images set SCMON_DATA_DIR): still the demonstration.
	t.Setenv("SCMON_DATA_DIR", "/tmp/x")
	if c, _, err = LoadConfig("", nil); err != nil || !c.Sample {
		t.Errorf("with SCMON_DATA_DIR only: %v %+v", err, c)
	}
	// A center configured and no job source: refused, not the sample
	// under the center's name.
	t.Setenv("SCMON_CLUSTER", "hpc1")
	if _, _, err = LoadConfig("", nil); err == nil || !strings.Contains(err.Error(), "no job source") {
		t.Errorf("a configuration without a job source: %v", err)
	}
	t.Setenv("SCMON_SAMPLE", "true")
	if c, _, err = LoadConfig("", nil); err != nil || !c.Sample {
		t.Errorf("sample asked for: %v %+v", err, c)
	}
}

// TestConfigOldLayout: the old sources map is refused with the list it
// stands for, which loads, keeping every source's name.
func TestConfigOldLayout(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.yaml")
	if err := os.WriteFile(old, []byte(`cluster: c
sources:
  sacct:
    - interval: 2m
      clusters: [a, b]
  nodes:
    - {}
  jobcomp:
    - path: /var/log/jobcomp.log
  pbs:
    - name: west
      path: /var/spool/pbs/server_priv/accounting
  dumps:
    - paths: [/srv/a.psv, /srv/b.psv]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadConfig(old, nil)
	if err == nil {
		t.Fatal("old layout accepted")
	}
	_, list, ok := strings.Cut(err.Error(), "the equivalent is:\n\n")
	if !ok {
		t.Fatalf("no equivalent in %v", err)
	}
	conv := filepath.Join(dir, "new.yaml")
	if err := os.WriteFile(conv, []byte("cluster: c\n"+list), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, err := LoadConfig(conv, nil)
	if err != nil {
		t.Fatalf("the printed equivalent does not load: %v\n%s", err, list)
	}
	var got []string
	for _, s := range c.Sources {
		got = append(got, s.Name+"/"+s.Kind)
	}
	if want := []string{"sacct/sacct", "nodes/scontrol", "jobcomp/tail", "west/tail", "dumps/dump"}; !reflect.DeepEqual(got, want) {
		t.Errorf("converted %v, want %v\n%s", got, want, list)
	}
	if c.Sources[0].Interval != 2*time.Minute || len(c.Sources[0].spec.(*SacctSource).Clusters) != 2 || c.Sources[3].spec.(*TailSource).Format != "pbs" {
		t.Errorf("settings lost in the conversion:\n%s", list)
	}
}

// TestConfigErrorOrder: the errors come in the documented order, keys and
// types by line before values.
func TestConfigErrorOrder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("timezone: Mars/Olympus\nsources:\n  - kind: sacct\n    interval: 5\nCluster: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadConfig(path, nil)
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	i, j := strings.Index(msg, ":4: sources[0].interval"), strings.Index(msg, ":5: Cluster")
	if i < 0 || j < 0 || i > j || strings.Contains(msg, "Mars") {
		t.Errorf("errors out of order (want line 4, then line 5, and no value errors before the keys are right):\n%s", msg)
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
	c, _, err := LoadConfig("../deploy/scmon.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Sample || len(c.Sources) != 2 || c.Sources[0].Kind != "sacct" || c.Sources[1].Kind != "scontrol" || c.Store != "sqlite:///var/lib/scmon/scmon.db" {
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
		if err := os.WriteFile(path, []byte("sources:\n  - kind: sacct\n    start: "+start+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, _, err := LoadConfig(path, nil)
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
		if got := c.Sources[0].spec.(*SacctSource).Start; got != want {
			t.Errorf("start: %s read as %q, want %q", in, got, want)
		}
	}
	if _, err := load("last week"); err == nil || !strings.Contains(err.Error(), "sources[0].start") {
		t.Errorf("start: last week: error %v, want one naming sources[0].start", err)
	}
}
