package daemon

import (
	"encoding/json"
	"io"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/source"
	"github.com/scmon/scmon/web"
)

// TestHeadlineNodesBasis: with a nodes primary basis, the snapshot, the
// summary API and the status page all show node utilization under the
// name nodes (they once showed the CPU figure labelled nodes). One job
// holds 1 of 4 nodes and 2 of their 32 cores through the last hour: node
// utilization 25%, CPU 6.25%.
func TestHeadlineNodesBasis(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "center.yaml")
	if err := os.WriteFile(inv, []byte(`clusters:
  - name: c
    timezone: UTC
    primary: nodes
    nodegroups:
      - name: n
        nodes: 4
        cores: 8
    partitions:
      - name: cpu
        nodegroups: [n]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "scmon.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+dir+"\ncapacity: inventory:"+inv+"\nmetrics:\n  windows: [1h]\nsources:\n  - kind: dump\n    format: slurm-sacct\n    paths: [unused.psv]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, raw, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().UTC().Truncate(time.Second)
	src := &namedSource{name: "dumps", batches: make(chan *source.Batch, 1)}
	src.batches <- &source.Batch{Records: []*job.Record{{Cluster: "c", JobID: "1", Partition: "cpu", State: job.StateCompleted,
		Submit: end.Add(-3 * time.Hour), Start: end.Add(-3 * time.Hour), End: end, Cores: 2, Nodes: 1}}, Complete: end, Cursor: []byte("1")}
	d, err := New(cfg, raw, Options{ConfigPath: path, Sources: func(*Config, *Runtime) ([]source.JobSource, []source.NodeSource, error) {
		return []source.JobSource{src}, nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	runDaemon(t, d)
	deadline := time.Now().Add(10 * time.Second)
	for ok, _ := d.Ready(); !ok; ok, _ = d.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}

	var h *snapshot.Headline
	for i := range d.Snapshot().Headline {
		h = &d.Snapshot().Headline[i]
	}
	if h == nil || h.Basis != "nodes" || math.Abs(h.Utilization-0.25) > 1e-12 {
		t.Fatalf("snapshot headline %+v, want basis nodes, utilization 0.25", h)
	}

	srv := httptest.NewServer(web.New(d.WebBackend(), web.Options{Now: func() time.Time { return end }}).Handler())
	defer srv.Close()
	get := func(p string) string {
		res, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", p, res.StatusCode, b)
		}
		return string(b)
	}
	var sum apiv1.Summary
	if err := json.Unmarshal([]byte(get("/api/v1/summary")), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Headline) != 1 || sum.Headline[0].Basis != "nodes" || math.Abs(sum.Headline[0].Utilization-0.25) > 1e-12 {
		t.Errorf("summary headline %+v, want nodes 0.25", sum.Headline)
	}
	page := get("/")
	i := strings.Index(page, "nodes")
	if i < 0 || !strings.Contains(page, "25.0%") || strings.Contains(page, "6.2%") && !strings.Contains(page, "25.0%") {
		t.Errorf("status page does not show the nodes headline 25.0%%:\n%s", page)
	}
}
