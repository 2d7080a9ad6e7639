package daemon

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCheckFailsWhenStartFails: for every configuration, Check (what
// `scmon serve --config.check` runs) fails exactly when a start fails, with
// the same error.
func TestCheckFailsWhenStartFails(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"center.yaml": "clusters:\n  - name: c\n    nodegroups:\n      - {name: cpu, nodes: 4, cores: 32}\n",
		"broken.yaml": "clusters: [[[\n",
		"rules.yaml":  "rules: [[[\n",
		"jobcomp.log": "",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	dump := func(paths string) string {
		return "sources:\n  - {kind: dump, format: slurm-sacct, paths: [" + paths + "]}\n"
	}
	for _, tc := range []struct {
		name, config, want string // want "" for a configuration that starts
	}{
		{"good", "capacity: inventory:DIR/center.yaml\n" + dump("DIR/later.psv"), ""},
		{"good tail, log not yet written", "sources:\n  - {kind: tail, format: slurm-jobcomp, path: DIR/none.log}\n", ""},
		{"good tail of a directory", "sources:\n  - {kind: tail, format: pbs, path: DIR/adir}\n", ""},
		{"capacity file missing", "capacity: inventory:DIR/missing.yaml\n" + dump("DIR/a.psv"), "capacity"},
		{"capacity file unreadable as an inventory", "capacity: inventory:DIR/broken.yaml\n" + dump("DIR/a.psv"), "capacity"},
		{"capacity format unknown", "capacity: nosuch:DIR/center.yaml\n" + dump("DIR/a.psv"), "capacity"},
		{"rules file missing", "rules: DIR/missing-rules.yaml\n" + dump("DIR/a.psv"), "rules"},
		{"rules file broken", "rules: DIR/rules.yaml\n" + dump("DIR/a.psv"), "rules"},
		{"dump directory missing", dump("DIR/nodir/a.psv"), "sources[0].paths[0]"},
		{"dump path a directory", dump("DIR/adir"), "is a directory"},
		{"tail of a file format given a directory", "sources:\n  - {kind: tail, format: slurm-jobcomp, path: DIR/adir}\n", "is a directory"},
		{"tail directory missing", "sources:\n  - {kind: tail, format: slurm-jobcomp, path: DIR/nodir/j.log}\n", "sources[0].path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "scmon.yaml")
			body := "data_dir: " + t.TempDir() + "\n" + strings.ReplaceAll(tc.config, "DIR", dir)
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, raw, err := LoadConfig(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkErr := Check(cfg, raw, path)
			startErr := start(t, cfg, raw, path)
			if (checkErr == nil) != (startErr == nil) || (checkErr != nil && checkErr.Error() != startErr.Error()) {
				t.Fatalf("check: %v; start: %v", checkErr, startErr)
			}
			if tc.want == "" && checkErr != nil {
				t.Fatalf("a good configuration refused: %v", checkErr)
			}
			if tc.want != "" && (checkErr == nil || !strings.Contains(checkErr.Error(), tc.want)) {
				t.Fatalf("check: %v, want an error naming %q", checkErr, tc.want)
			}
		})
	}
}

// start starts a daemon on cfg and stops it once it is running; it
// returns the error that stopped the start, if any.
func start(t *testing.T, cfg *Config, raw []byte, path string) error {
	t.Helper()
	d, err := New(cfg, raw, Options{ConfigPath: path})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			return err
		default:
		}
		if d.Snapshot() != nil {
			cancel()
			return <-done
		}
	}
	t.Fatal("the daemon neither failed nor published within 30 s")
	return nil
}

// TestREADMEConfiguration: the configuration shown in the README loads.
func TestREADMEConfiguration(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### Configuration\n\n```yaml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("no configuration example under '### Configuration' in README.md")
	}
	path := filepath.Join(t.TempDir(), "readme.yaml")
	if err := os.WriteFile(path, m[1], 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 5 {
		t.Errorf("sources %+v", c.Sources)
	}
}
