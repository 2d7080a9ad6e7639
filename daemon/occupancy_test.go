package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/source"
)

// TestBusyNodesFromNodeLists: without a node source, the nodes gauge counts
// the nodes running jobs hold, a node shared by several jobs once (it was
// cores-proportional before: 3 jobs of 8 cores on one 32-core node read as
// 0.75 of a node), and the occupancy counter is the union of intervals.
func TestBusyNodesFromNodeLists(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(inv, []byte("clusters:\n  - name: c\n    nodegroups:\n      - {name: cpu, nodes: 4, cores: 32}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "scmon.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+dir+"\ncapacity: inventory:"+inv+"\nsources:\n  - kind: dump\n    format: slurm-sacct\n    paths: [unused.psv]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, raw, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := &scriptedSource{batches: make(chan *source.Batch)}
	d, err := New(cfg, raw, Options{ConfigPath: path, Sources: func(*Config, *Runtime) ([]source.JobSource, []source.NodeSource, error) {
		return []source.JobSource{src}, nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	runDaemon(t, d)
	t0 := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	running := func(id, nodes string, n int64, start time.Duration) *job.Record {
		return &job.Record{Cluster: "c", JobID: id, Partition: "cpu", State: job.StateRunning,
			Submit: t0, Start: t0.Add(start), Cores: 8, Nodes: n, NodeList: nodes}
	}
	src.batches <- &source.Batch{Source: "scripted", Complete: t0.Add(time.Hour), Cursor: []byte("1"), Records: []*job.Record{
		running("1", "cpu001", 1, 0),
		running("2", "cpu001", 1, 10*time.Minute),
		running("3", "cpu001", 1, 20*time.Minute),
		running("4", "cpu[002-003]", 2, 30*time.Minute),
	}}
	var snap *snapshot.Snapshot
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := d.Snapshot(); s != nil && len(s.Sources) == 1 && s.Sources[0].PollCount == 1 {
			snap = s
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if snap == nil {
		t.Fatal("no snapshot")
	}
	busy := map[string]float64{}
	for _, n := range snap.Nodes {
		busy[n.State] += n.Nodes
	}
	if busy[snapshot.StateAllocated] != 3 || busy[snapshot.StateIdle] != 1 {
		t.Errorf("nodes by state %v, want 3 allocated and 1 idle", busy)
	}
	// Occupied up to the complete time: cpu001 1 h, cpu002 and cpu003 30 min each.
	if len(snap.Occupied) != 1 || snap.Occupied[0].NodeSeconds != 3600+2*1800 {
		t.Errorf("occupied %+v, want 7200 node-seconds", snap.Occupied)
	}
	// The window gauge: 7200 of 4 nodes x 1 h.
	found := false
	for _, w := range snap.Windows {
		if w.Resource == snapshot.ResourceNodes && w.Window == "1h" {
			found = true
			if w.Utilization != 0.5 {
				t.Errorf("node utilization over 1h %v, want 0.5", w.Utilization)
			}
		}
	}
	if !found {
		t.Errorf("no 1h node utilization gauge in %+v", snap.Windows)
	}
	var charged float64
	for _, a := range snap.Allocated {
		charged += a.NodeSeconds
	}
	if charged != 3600+3000+2400+2*1800 {
		t.Errorf("allocated node-seconds %v, want 12600", charged)
	}
}
