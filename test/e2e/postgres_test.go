package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"

	"github.com/scmon/scmon/internal/testutil/pgtest"
)

// jobmixFigures asks for the hour the job mix of testdata/jobmix.psv ran in
// (a sacct dump of TestSlurmPrometheusEndToEnd's jobs from the real
// cluster), by partition and class.
var jobmixFigures = apiv1.PathFigures + "?" + apiv1.FiguresRequest{
	From: time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC),
	To:   time.Date(2026, 11, 28, 19, 0, 0, 0, time.UTC),
	By:   []string{"partition", "class"},
}.Values().Encode()

// mixResult is what a daemon made of the job mix.
type mixResult struct {
	figures  []byte
	counters map[string]float64
	jobs     map[string]apiv1.Job
}

// runJobMix imports testdata/jobmix.psv through a dumps source into store
// ("" for SQLite in dataDir), with the capacity of the real cluster
// (testdata/scmonlab-nodes.txt, scontrol show node), and returns what the
// daemon serves once the import is done; when restart is set, it does so
// again after a restart on the same store and checks that nothing changed.
func runJobMix(t *testing.T, tmp, name, store string, restart bool) mixResult {
	t.Helper()
	dump, _ := filepath.Abs(filepath.Join("testdata", "jobmix.psv"))
	nodes, _ := filepath.Abs(filepath.Join("testdata", "scmonlab-nodes.txt"))
	storeLine := ""
	if store != "" {
		storeLine = fmt.Sprintf("store: %q\n", store)
	}
	config := filepath.Join(tmp, name+".yml")
	writeFile(t, config, fmt.Sprintf(`cluster: scmonlab
data_dir: %s
%scapacity: slurm-nodes:%s
sources:
  - name: mix
    kind: dump
    format: slurm-sacct
    paths: [%s]
metrics:
  windows: [1h]
`, filepath.Join(tmp, name), storeLine, nodes, dump), 0o644)
	serve := func() mixResult {
		p := startScmon(t, tmp, config, nil)
		p.waitReady(60 * time.Second)
		var r mixResult
		eventually(t, 30*time.Second, 50*time.Millisecond, "the import of the job mix", func() (bool, string) {
			s, err := p.metrics()
			if err != nil {
				return false, err.Error()
			}
			lag, ok := s.value("scmon_source_lag_seconds", map[string]string{"source": "mix"})
			r.counters = s.series("scmon_allocated_", "scmon_capacity_")
			return ok && lag < 1e8, fmt.Sprintf("source lag %v", lag)
		})
		code, b, err := p.request("GET", jobmixFigures)
		if err != nil || code != 200 {
			t.Fatalf("figures: %d %v %s", code, err, b)
		}
		r.figures = b
		r.jobs = p.jobs(time.Time{})
		p.stop()
		return r
	}
	r := serve()
	if restart {
		again := serve()
		if !bytes.Equal(again.figures, r.figures) || fmt.Sprint(again.counters) != fmt.Sprint(r.counters) || len(again.jobs) != len(r.jobs) {
			t.Errorf("%s: after a restart the daemon serves other figures:\n%s", name, jsonDiff(again.figures, r.figures))
		}
	}
	return r
}

// TestPostgresStore imports the job mix of the real cluster through a
// dumps source into a fresh PostgreSQL schema and into the embedded SQLite
// store: the figures, every counter and every job (with its class) come
// out the same, also after a restart on the PostgreSQL store.
func TestPostgresStore(t *testing.T) {
	pgtest.DSN(t) // skip before running in parallel
	t.Parallel()
	tmp := t.TempDir()
	pg := runJobMix(t, tmp, "postgres", pgtest.Schema(t, "scmon_e2e_"), true)
	lite := runJobMix(t, tmp, "sqlite", "", false)

	if !bytes.Equal(pg.figures, lite.figures) {
		t.Errorf("figures differ between PostgreSQL and SQLite:\n%s", jsonDiff(pg.figures, lite.figures))
	}
	if fmt.Sprint(pg.counters) != fmt.Sprint(lite.counters) {
		for k, v := range lite.counters {
			if pg.counters[k] != v {
				t.Errorf("%s: PostgreSQL %v, SQLite %v", k, pg.counters[k], v)
			}
		}
	}
	classByName := map[string]string{}
	for _, j := range jobMix {
		for i, a := range j.args {
			if a == "-J" {
				classByName[j.args[i+1]] = j.class
			}
		}
	}
	if len(pg.jobs) != 12 || len(lite.jobs) != 12 {
		t.Errorf("jobs: PostgreSQL %d, SQLite %d, want the 12 allocations of the mix", len(pg.jobs), len(lite.jobs))
	}
	for id, p := range pg.jobs {
		l := lite.jobs[id]
		if fmt.Sprint(p) != fmt.Sprint(l) {
			t.Errorf("job %s: PostgreSQL %+v, SQLite %+v", id, p, l)
		}
		// The job with no evidence of its own is decided by the context of
		// its user's and account's other jobs, or stays unknown when it
		// arrives before them (see jobMix).
		if want := classByName[p.Name]; p.Class != want && (p.Name != "job1" || p.Class != "unknown") {
			t.Errorf("job %s (%s): class %s, want %s", id, p.Name, p.Class, want)
		}
	}
	var f apiv1.Report
	if err := json.Unmarshal(pg.figures, &f); err != nil {
		t.Fatal(err)
	}
	t.Logf("job mix on PostgreSQL and SQLite: %d jobs, %.0f core-seconds, %.0f accelerator-seconds, %d counter series, identical",
		jobCount(&f), f.CPU.AllocatedHours*3600, f.Accelerator.AllocatedHours*3600, len(pg.counters))
}
