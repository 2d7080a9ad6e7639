package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// genlabFigures asks for the figures of the fixed window the restart tests
// compare: the generated month and a day after it, by partition and class.
var genlabFigures = apiv1.PathFigures + "?" + apiv1.FiguresRequest{From: genFrom, To: genTo.Add(24 * time.Hour), By: []string{"partition", "class"}}.Values().Encode()

// dumpConfig writes the configuration of a daemon importing dump through a
// dumps source into the SQLite store of dataDir (or store, a DSN, when not
// empty), with the genlab inventory.
func dumpConfig(t testing.TB, dir, dataDir, store, dump string) string {
	t.Helper()
	inv, err := filepath.Abs(filepath.Join("testdata", "genlab-inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("scmon-%d.yml", procSeq.Add(1)))
	storeLine := ""
	if store != "" {
		storeLine = fmt.Sprintf("store: %q\n", store)
	}
	writeFile(t, path, fmt.Sprintf(`cluster: genlab
data_dir: %s
%scapacity: inventory:%s
sources:
  - name: history
    kind: dump
    format: slurm-sacct
    paths: [%s]
metrics:
  windows: [1h, 24h]
`, dataDir, storeLine, inv, dump), 0o644)
	return path
}

// imported waits until the daemon holds every started allocation of the
// dump and has published the figures of all of them, and returns the
// figures API's answer for the fixed window and the counters of /metrics.
func imported(t testing.TB, p *scmonProc, started int, timeout time.Duration) ([]byte, map[string]float64) {
	t.Helper()
	var body []byte
	eventually(t, timeout, 100*time.Millisecond, "the import to complete", func() (bool, string) {
		if p.exited() {
			t.Fatalf("scmon exited: %v", p.err)
		}
		code, b, err := p.request(http.MethodGet, genlabFigures)
		if err != nil || code != http.StatusOK {
			return false, fmt.Sprintf("figures: %d %v", code, err)
		}
		var f apiv1.Report
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("figures: %v", err)
		}
		body = b
		return jobCount(&f) == int64(started), fmt.Sprintf("%d of %d allocations", jobCount(&f), started)
	})
	// The counters of a snapshot in which the source has finished the file:
	// it is then complete up to the latest time a record of the file names
	// (before genTo), and before that it claims nothing (a lag of centuries).
	var counters map[string]float64
	eventually(t, 30*time.Second, 50*time.Millisecond, "a snapshot of the whole import", func() (bool, string) {
		s, err := p.metrics()
		if err != nil {
			return false, err.Error()
		}
		lag, ok := s.value("scmon_source_lag_seconds", map[string]string{"source": "history"})
		counters = s.series("scmon_allocated_", "scmon_capacity_")
		return ok && lag < time.Since(genFrom).Seconds(), fmt.Sprintf("source lag %v s", lag)
	})
	return body, counters
}

// TestRestartResumes imports a dump of 200,000 allocations through a dumps
// source, once without interruption and once killing the daemon with
// SIGKILL at random moments of the import (a fixed seed) and restarting it
// on the same data directory each time; the figures for a fixed window and
// every counter must come out identical, and the capacity states must sum
// to the capacity.
func TestRestartResumes(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	dump := filepath.Join(tmp, "history-200k.psv")
	sum := genDump(t, dump, 200_000, 1)
	t.Logf("generated %d allocations: %d to store, %d of them started", sum.Allocations, sum.Stored(), sum.Started)

	// Uninterrupted.
	ref := startScmon(t, tmp, dumpConfig(t, tmp, filepath.Join(tmp, "ref"), "", dump), nil)
	ref.waitReady(60 * time.Second)
	wantFigures, wantCounters := imported(t, ref, sum.Started, 5*time.Minute)
	importTime := time.Since(ref.start)
	ref.stop()
	t.Logf("uninterrupted import of %d allocations: %.1f s", sum.Stored(), importTime.Seconds())

	// Killed at random moments of the import, restarted each time.
	const seed, kills = 20261128, 5
	rng := rand.New(rand.NewPCG(seed, 1))
	config := dumpConfig(t, tmp, filepath.Join(tmp, "crash"), "", dump)
	var progress []string
	midImport := 0 // kills after which the import was not finished
	for i := 0; i < kills; i++ {
		// Killed somewhere in what is left of the import, ready or not
		// (the daemon is ready only once a batch of the import is
		// committed): its log says how many records its store held.
		p := startScmon(t, tmp, config, nil)
		delay := time.Duration(rng.Float64() * float64(importTime) * 0.4)
		time.Sleep(time.Until(p.start.Add(delay)))
		if p.exited() {
			t.Fatalf("scmon exited: %v", p.err)
		}
		p.kill9()
		loaded := loadedRecords(p.logText())
		if i > 0 && loaded >= 0 && loaded < sum.Stored() {
			midImport++
		}
		progress = append(progress, fmt.Sprintf("%d stored at restart, killed %.2f s after the start", loaded, delay.Seconds()))
	}
	p := startScmon(t, tmp, config, nil)
	p.waitReady(60 * time.Second)
	var f apiv1.Report
	p.getJSON(genlabFigures, &f)
	progress = append(progress, fmt.Sprintf("%d stored at the last restart", jobCount(&f)))
	if jobCount(&f) < int64(sum.Started) {
		midImport++
	}
	t.Logf("seed %d: %s", seed, strings.Join(progress, "; "))
	if midImport < 3 {
		t.Errorf("only %d of %d kills came before the import was done: the test no longer tests a crash during the import", midImport, kills)
	}
	gotFigures, gotCounters := imported(t, p, sum.Started, 5*time.Minute)
	p.stop()

	if !bytes.Equal(gotFigures, wantFigures) {
		t.Errorf("figures after %d kills differ from the uninterrupted import's:\n%s", kills, jsonDiff(gotFigures, wantFigures))
	}
	if len(wantCounters) == 0 {
		t.Fatal("the uninterrupted import published no counters")
	}
	var diffs []string
	for k, v := range wantCounters {
		if gotCounters[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s: %v, uninterrupted %v", k, gotCounters[k], v))
		}
	}
	for k, v := range gotCounters {
		if _, ok := wantCounters[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: %v, not in the uninterrupted run", k, v))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%d counter series differ after %d kills:\n%s", len(diffs), kills, strings.Join(diffs, "\n"))
	}
	t.Logf("%d counter series and the figures of %s identical after %d kills", len(wantCounters), genlabFigures, kills)
	checkGenlabCapacity(t, wantCounters)
}

// genlabCores are the cores of the genlab inventory's partitions.
var genlabCores = map[string]float64{"cpu": 1200 * 64, "gpu": 600 * 64, "npu": 400 * 96, "dcu": 400 * 32}

// checkGenlabCapacity checks the capacity counters of a finished import:
// each partition's states sum to its cores times one and the same span,
// and its allocated state equals the allocated core-seconds of its jobs.
func checkGenlabCapacity(t *testing.T, counters map[string]float64) {
	t.Helper()
	capacity, allocated, capAlloc := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for k, v := range counters {
		part := between(k, `partition="`, `"`)
		switch {
		case strings.HasPrefix(k, "scmon_capacity_core_seconds_total{"):
			capacity[part] += v
			if strings.Contains(k, `state="allocated"`) {
				capAlloc[part] += v
			}
		case strings.HasPrefix(k, "scmon_allocated_core_seconds_total{"):
			allocated[part] += v
		}
	}
	span := capacity["cpu"] / genlabCores["cpu"]
	for part, cores := range genlabCores {
		if got, want := capacity[part], cores*span; math.Abs(got-want) > 1e-9*want {
			t.Errorf("partition %s: capacity states sum to %v core-seconds, want %v cores x %v s = %v", part, got, cores, span, want)
		}
		if capAlloc[part] != allocated[part] {
			t.Errorf("partition %s: allocated capacity %v core-seconds, allocated counters %v", part, capAlloc[part], allocated[part])
		}
	}
	t.Logf("capacity: every partition's states sum to its cores x %.0f s; allocated state = allocated counters (%v)", span, allocated)
}

// between returns the text of s between the first before and the next after.
func between(s, before, after string) string {
	_, rest, ok := strings.Cut(s, before)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, after)
	return v
}

// TestRestartMillion imports a dump of a million allocations, stops the
// daemon and measures how long a restart on that store takes to answer
// /-/ready (and to serve the first figures). The time is a measurement
// written to the test log, not an assertion; the figures after the restart
// must count every allocation.
func TestRestartMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a million allocations")
	}
	t.Parallel()
	tmp := t.TempDir()
	const n = 1_000_000
	dump := filepath.Join(tmp, "history-1m.psv")
	sum := genDump(t, dump, n, 2)
	config := dumpConfig(t, tmp, filepath.Join(tmp, "million"), "", dump)
	p := startScmon(t, tmp, config, nil)
	p.waitReady(60 * time.Second)
	start := time.Now()
	imported(t, p, sum.Started, 10*time.Minute)
	t.Logf("import of %d allocations: %.1f s", sum.Stored(), time.Since(start).Seconds())
	p.stop()
	st, err := os.Stat(filepath.Join(tmp, "million", "scmon.db"))
	if err != nil {
		t.Fatal(err)
	}

	p = startScmon(t, tmp, config, nil)
	ready := p.waitReady(5 * time.Minute)
	var f apiv1.Report
	p.getJSON(genlabFigures, &f)
	firstFigures := time.Since(p.start)
	if jobCount(&f) != int64(sum.Started) {
		t.Errorf("after the restart the figures count %d allocations, want %d", jobCount(&f), sum.Started)
	}
	loaded := ""
	for _, line := range strings.Split(p.logText(), "\n") {
		if strings.Contains(line, "job store loaded") {
			loaded = line
		}
	}
	t.Logf("restart with a store of %d jobs (%d MB SQLite): /-/ready after %.2f s, first figures after %.2f s; daemon log: %s",
		sum.Stored(), st.Size()>>20, ready.Seconds(), firstFigures.Seconds(), loaded)
	p.stop()
}

// loadedRecords returns the records a daemon's log says its store held at
// start ("job store loaded" records=N), -1 when it did not get that far.
func loadedRecords(log string) int {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "job store loaded") {
			continue
		}
		_, rest, ok := strings.Cut(line, "records=")
		if !ok {
			continue
		}
		v, _, _ := strings.Cut(rest, " ")
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return -1
}

// jsonDiff describes how two JSON documents differ, field by field.
func jsonDiff(a, b []byte) string {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return fmt.Sprintf("%s\nvs\n%s", a, b)
	}
	var out []string
	var walk func(path string, x, y any)
	walk = func(path string, x, y any) {
		switch xv := x.(type) {
		case map[string]any:
			yv, ok := y.(map[string]any)
			if !ok {
				out = append(out, fmt.Sprintf("%s: %v vs %v", path, x, y))
				return
			}
			keys := map[string]bool{}
			for k := range xv {
				keys[k] = true
			}
			for k := range yv {
				keys[k] = true
			}
			for k := range keys {
				walk(path+"."+k, xv[k], yv[k])
			}
		case []any:
			yv, ok := y.([]any)
			if !ok || len(xv) != len(yv) {
				out = append(out, fmt.Sprintf("%s: %v vs %v", path, x, y))
				return
			}
			for i := range xv {
				walk(fmt.Sprintf("%s[%d]", path, i), xv[i], yv[i])
			}
		default:
			if fmt.Sprint(x) != fmt.Sprint(y) {
				out = append(out, fmt.Sprintf("%s: %v vs %v", path, x, y))
			}
		}
	}
	walk("", x, y)
	sort.Strings(out)
	if len(out) > 40 {
		out = append(out[:40], fmt.Sprintf("... %d more", len(out)-40))
	}
	return strings.Join(out, "\n")
}
