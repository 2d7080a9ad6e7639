package backfill

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/usage"
)

// t0 is the first sample time of the hand-computed cases.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at returns t0 plus sec seconds.
func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// jobSpec is an allocation of a hand-computed case; end -1 means running.
type jobSpec struct {
	id, partition, account string
	class                  classify.Class
	cores, nodes           int64
	gpus                   int64
	start, end             int
}

// smallStore builds a store from specs (cluster c1, GRES gpu:a100).
func smallStore(t testing.TB, specs ...jobSpec) *usage.Store {
	t.Helper()
	s := usage.NewStore(nil)
	for _, sp := range specs {
		r := &job.Record{Cluster: "c1", JobID: sp.id, Partition: sp.partition, Account: sp.account, User: "u",
			Submit: at(sp.start - 10), Start: at(sp.start), Cores: sp.cores, Nodes: sp.nodes, State: job.StateCompleted}
		if sp.end >= 0 {
			r.End = at(sp.end)
		} else {
			r.State = job.StateRunning
		}
		if sp.gpus > 0 {
			r.Accels = []job.Accel{{Name: "gpu", Type: "a100", Count: sp.gpus}}
		}
		if err := s.Add(r, classify.Decision{Class: sp.class}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// smallInventory is cluster c1: partition cpu (2 nodes of 8 cores) and
// partition gpu (1 node of 16 cores and 4 A100).
func smallInventory(t testing.TB) *capacity.Inventory {
	t.Helper()
	a100, res := accel.Default().Lookup("gpu", "a100")
	if res != accel.Accelerator {
		t.Fatalf("gpu:a100 is not an accelerator in the default table")
	}
	cpu := &capacity.NodeGroup{Name: "cpu", Cores: 8, Steps: []capacity.Step{{Nodes: 2}}}
	gpu := &capacity.NodeGroup{Name: "gpu", Cores: 16, Steps: []capacity.Step{{Nodes: 1}},
		Accels: []capacity.Accel{{Device: a100, GRESName: "gpu", GRESType: "a100", Count: 4}}}
	return &capacity.Inventory{Clusters: []*capacity.Cluster{{
		Name: "c1", Location: time.UTC, Primary: capacity.BasisBilling,
		NodeGroups: []*capacity.NodeGroup{cpu, gpu},
		Partitions: []*capacity.Partition{
			{Name: "cpu", NodeGroups: []*capacity.NodeGroup{cpu}, Weights: capacity.Weights{"cpu": 1}},
			{Name: "gpu", NodeGroups: []*capacity.NodeGroup{gpu}, Weights: capacity.Weights{"cpu": 1, "gres/gpu": 10}},
		},
	}}}
}

// collect runs g to the end and returns every series' values over the
// whole grid, keyed by seriesName.
func collect(t testing.TB, g *Generator) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	series := g.Series()
	for {
		c, err := g.Next()
		if err != nil {
			break
		}
		for s := range series {
			k := seriesName(g, s)
			out[k] = append(out[k], c.Series(s)...)
		}
	}
	if len(out) != len(series) {
		t.Fatalf("%d distinct series names for %d series", len(out), len(series))
	}
	return out
}

// seriesName renders series s as name{v1,v2,...} (values only).
func seriesName(g *Generator, s int) string {
	sr := g.Series()[s]
	return g.Families()[sr.Family].Name + "{" + strings.Join(sr.Values, ",") + "}"
}

// sampleData is the built-in sample center loaded the way `scmon report`
// loads it.
type sampleData struct {
	store    *usage.Store
	inv      *capacity.Inventory
	from, to time.Time
}

var sampleOnce = sync.OnceValues(func() (*sampleData, error) {
	inv, err := collector.ParseInventory(strings.NewReader(string(seeds.Inventory())), "sample", collector.CapacityOptions{})
	if err != nil {
		return nil, err
	}
	table, err := accel.NewTable(inv.AccelRules)
	if err != nil {
		return nil, err
	}
	rules, err := classify.DefaultRules()
	if err != nil {
		return nil, err
	}
	var forced []classify.ForcedAccelerators
	for _, c := range inv.Clusters {
		for _, p := range c.Partitions {
			if p.ForcedAccelerators {
				forced = append(forced, classify.ForcedAccelerators{Partition: p.Name})
			}
		}
	}
	classer := classify.New(rules.WithForced(forced), classify.Options{Accel: table})
	store := usage.NewStore(table)
	zr, err := collector.MaybeGzip(strings.NewReader(string(seeds.SacctLog())))
	if err != nil {
		return nil, err
	}
	loc := inv.Clusters[0].Location
	r := collector.NewSacctReader(zr, collector.Options{Name: "sample", Location: loc, Cluster: seeds.ClusterName})
	// Classified as scmon report, backfill and the daemon do: the whole
	// input at once, with every stage.
	deferred := &ingest.Deferred{}
	if _, err := ingest.LoadReader(store, r, ingest.Input{Format: "slurm-sacct", Path: "sample"},
		ingest.Options{Location: loc, Clusters: []string{seeds.ClusterName}, Classifier: classer, Defer: deferred}); err != nil {
		return nil, err
	}
	if err := deferred.Flush(store, classer, false); err != nil {
		return nil, err
	}
	from, to := seeds.Window()
	return &sampleData{store: store, inv: inv, from: from, to: to}, nil
})

// sample returns the built-in sample center, loaded once per test binary.
func sample(t testing.TB) *sampleData {
	t.Helper()
	d, err := sampleOnce()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
