package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmon/scmon/source"
)

// tickingSource delivers an empty batch at every poll and counts them.
type tickingSource struct {
	name  string
	polls atomic.Int64
}

func (s *tickingSource) Name() string { return s.name }

func (s *tickingSource) Poll(ctx context.Context, _ []byte) (*source.Batch, error) {
	s.polls.Add(1)
	return &source.Batch{Source: s.name, Cursor: []byte("x"), Complete: time.Now()}, nil
}

// TestRefusedReloadChangesNothing: a reload refused for any part of the new
// configuration (a source that cannot be built, a source's file that
// cannot be, rules that do not parse) leaves the runtime in force whole:
// the same capacity, and the same sources still polling and reported up.
func TestRefusedReloadChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		// config is the refused configuration's sources and rules, after
		// a capacity change that must not be applied either.
		config string
		// build fails the sources' constructor at the reload.
		build bool
		want  string
	}{
		{"source constructor fails", "sources:\n  - {kind: dump, format: slurm-sacct, paths: [unused.psv], interval: 100ms}\n", true, "cannot build"},
		{"source file cannot be", "sources:\n  - {kind: dump, format: slurm-sacct, paths: [/nonexistent/dir/a.psv], interval: 100ms}\n", false, "/nonexistent/dir"},
		{"rules do not parse", "rules: RULES\nsources:\n  - {kind: dump, format: slurm-sacct, paths: [unused.psv], interval: 100ms}\n", false, "rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			invA, invB := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
			rules := filepath.Join(dir, "rules.yaml")
			for path, body := range map[string]string{
				invA:  "clusters:\n  - name: c\n    nodegroups:\n      - {name: cpu, nodes: 4, cores: 32}\n",
				invB:  "clusters:\n  - name: c\n    nodegroups:\n      - {name: cpu, nodes: 8, cores: 64}\n",
				rules: "rules: [[[\n",
			} {
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "scmon.yaml")
			write := func(inv, rest string) {
				rest = strings.ReplaceAll(rest, "RULES", rules)
				if err := os.WriteFile(path, []byte("data_dir: "+dir+"\ncapacity: inventory:"+inv+"\n"+rest), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write(invA, "sources:\n  - {kind: dump, format: slurm-sacct, paths: [unused.psv], interval: 100ms}\n")
			cfg, raw, err := LoadConfig(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			src := &tickingSource{name: "dumps"}
			var builds atomic.Int64
			d, err := New(cfg, raw, Options{ConfigPath: path, Sources: func(*Config, *Runtime) ([]source.JobSource, []source.NodeSource, error) {
				if builds.Add(1) > 1 && tc.build {
					return nil, nil, errors.New("cannot build")
				}
				return []source.JobSource{src}, nil, nil
			}})
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
			waitFor := func(what string, ok func() bool) {
				t.Helper()
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					if ok() {
						return
					}
				}
				t.Fatalf("waited 30 s for %s", what)
			}
			waitFor("the first polls", func() bool { return src.polls.Load() >= 2 })
			before := d.Runtime()

			write(invB, tc.config)
			if err := d.Reload(ctx); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reload: %v, want a refusal naming %q", err, tc.want)
			}
			if got := d.Runtime(); got != before || got.Inventory.Clusters[0].NodeGroups[0].Steps[0].Nodes != 4 {
				t.Errorf("a refused reload changed the runtime in force (capacity %d nodes, want 4)", got.Inventory.Clusters[0].NodeGroups[0].Steps[0].Nodes)
			}
			polls := src.polls.Load()
			waitFor("the sources to go on polling after the refused reload", func() bool { return src.polls.Load() >= polls+3 })
			snap := d.Snapshot()
			if snap.Config.LastReloadSuccess {
				t.Error("the refused reload is reported a success")
			}
			if len(snap.Sources) != 1 || !snap.Sources[0].Up {
				t.Errorf("sources after the refused reload: %+v", snap.Sources)
			}
		})
	}
}
