package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/internal/runner"
)

// fakeScontrol writes a stand-in scontrol that records its arguments and
// runs body.
func fakeScontrol(t *testing.T, body string) (path, dir string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "scontrol")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$FAKE_DIR/argv\"\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, dir
}

func TestSlurmNodes(t *testing.T) {
	fixture, err := filepath.Abs(filepath.Join("testdata", "scontrol", "lab-busy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	path, dir := fakeScontrol(t, `cat "`+fixture+`"`)
	at := time.Date(2026, 11, 28, 18, 30, 0, 0, time.UTC)
	s, err := NewSlurmNodes(SlurmNodesConfig{
		Client:  SlurmClient{Path: path, Env: []string{"FAKE_DIR=" + dir}},
		Cluster: "scmonlab",
		Now:     func() time.Time { return at },
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	argv, _ := os.ReadFile(filepath.Join(dir, "argv"))
	if got, want := strings.Fields(string(argv)), []string{"--clusters=scmonlab", "--all", "--oneliner", "show", "node"}; !slices.Equal(got, want) {
		t.Errorf("argv %q, want %q", got, want)
	}
	if !snap.Time.Equal(at) || len(snap.Nodes) != 6 {
		t.Fatalf("snapshot at %v with %d nodes", snap.Time, len(snap.Nodes))
	}
	n1, n4 := snap.Nodes[0], snap.Nodes[3]
	if n1.Name != "n1" || n1.Cores != 8 || n1.CoresAllocated != 6 || n1.State != "mixed" {
		t.Errorf("n1 %+v", n1)
	}
	if len(n1.Accels) == 0 || n1.Accels[0].Name != "gpu" || n1.Accels[0].Type != "h100" {
		t.Errorf("n1 accelerators %+v", n1.Accels)
	}
	if n4.State != "idle" || !slices.Equal(n4.Flags, []string{"drain"}) {
		t.Errorf("n4 state %q flags %q", n4.State, n4.Flags)
	}
}

func TestSlurmNodesFailures(t *testing.T) {
	tests := []struct {
		name, body string
		timeout    time.Duration
		want       string
	}{
		{"exit status", `echo "slurm_load_node error: Unable to contact slurm controller (connect failure)" >&2; exit 1`, 0,
			"exit status 1 after"},
		{"hang", `exec sleep 30`, 300 * time.Millisecond, "timed out after"},
		{"garbage", `echo "this is not scontrol output"`, 0, "expected NodeName="},
		{"nothing", `true`, 0, "no NodeName= records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, dir := fakeScontrol(t, tt.body)
			s, err := NewSlurmNodes(SlurmNodesConfig{Client: SlurmClient{Path: path, Env: []string{"FAKE_DIR=" + dir}, Timeout: tt.timeout}})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			snap, err := s.Poll(context.Background())
			if snap != nil || err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "source scontrol: ") {
				t.Fatalf("Poll = %v, %v; want %q", snap, err, tt.want)
			}
			if tt.timeout > 0 {
				var re *runner.Error
				if !errors.As(err, &re) || !re.TimedOut || time.Since(start) > tt.timeout+time.Second {
					t.Errorf("timeout: %v after %v", err, time.Since(start))
				}
			}
		})
	}
	if _, err := NewSlurmNodes(SlurmNodesConfig{Cluster: "a,b"}); err == nil {
		t.Error("bad cluster accepted")
	}
}
