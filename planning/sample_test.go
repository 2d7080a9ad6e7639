package planning

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/internal/setup"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/usage"
)

// sampleCenter is the built-in sample read the way scmon report reads it:
// the usage store (the engine of the headline figures) and the planner's
// jobs, from the same records.
type sampleCenter struct {
	inv   *capacity.Inventory
	store *usage.Store
	jobs  []Job
}

var (
	sampleOnce sync.Once
	sample     *sampleCenter
	sampleErr  error
)

func loadSample(t testing.TB) *sampleCenter {
	t.Helper()
	sampleOnce.Do(func() {
		inv, err := setup.SampleInventory()
		if err != nil {
			sampleErr = err
			return
		}
		table, err := setup.Table(inv)
		if err != nil {
			sampleErr = err
			return
		}
		rules, err := setup.Rules("", inv)
		if err != nil {
			sampleErr = err
			return
		}
		zr, err := collector.MaybeGzip(bytes.NewReader(seeds.SacctLog()))
		if err != nil {
			sampleErr = err
			return
		}
		loc := seeds.Location()
		col := NewCollector(inv, table)
		store := usage.NewStore(table)
		r := collector.NewSacctReader(zr, collector.Options{Name: "sample", Location: loc, Cluster: seeds.ClusterName})
		_, err = ingest.LoadReader(store, r, ingest.Input{Format: "slurm-sacct", Path: "sample"}, ingest.Options{
			Location: loc, Cluster: seeds.ClusterName, Clusters: []string{seeds.ClusterName},
			Classifier: classify.New(rules, classify.Options{Accel: table}), Observer: col})
		sample, sampleErr = &sampleCenter{inv: inv, store: store, jobs: col.Jobs()}, err
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sample
}

func sampleWindow() (from, to time.Time) { return seeds.Window() }
