package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"

	"github.com/scmon/scmon/internal/testutil"
)

// sacctTime is how the tests write times on Slurm command lines (the
// clients run with TZ=UTC).
const sacctTime = "2006-01-02T15:04:05"

// fakePrograms are the executables the test jobs run: stand-ins named
// like the real programs, so that srun names each step after one and the
// submit line carries its command, as on a production cluster. Each only
// sleeps FAKE_SLEEP seconds (default 3).
var fakePrograms = []string{"torchrun", "vllm", "lm_eval", "lmp", "gmx", "msrun"}

// mixJob is one submission of the job mix and what scmon must make of it.
type mixJob struct {
	key   string
	user  string
	args  []string // sbatch options besides --parsable, --chdir, -o, --export
	wrap  string
	class string // expected class of each of its allocations
	state string // expected base state of each of its allocations
	tasks int    // array tasks; 0 for a plain job
	// cancel: scancel the job once its step runs.
	cancel bool
}

// jobMix is the set of short jobs submitted by TestSlurmPrometheusEndToEnd:
// training, serving, evaluation and HPC codes on GPU, NPU, DCU and CPU
// partitions, an array, a cancelled, a failing and a timed-out job, and one
// with no evidence at all.
var jobMix = []mixJob{
	{key: "train", user: "alice", args: []string{"-p", "gpu", "--gres=gpu:h100:2", "-n", "2", "-J", "llama_pretrain"},
		wrap: "srun torchrun --nproc_per_node=2 pretrain_llama.py --config 7b.yaml", class: "ai_training", state: "COMPLETED"},
	{key: "serve", user: "bob", args: []string{"-p", "gpu", "--gres=gpu:h100:1", "-n", "1", "-J", "qwen_chat"},
		wrap: "FAKE_SLEEP=600 srun vllm serve Qwen/Qwen2.5-7B-Instruct --port 8000", class: "ai_inference", state: "CANCELLED", cancel: true},
	{key: "eval", user: "alice", args: []string{"-p", "gpu", "--gres=gpu:h100:1", "-n", "1", "-J", "mmlu"},
		wrap: "srun lm_eval --model hf --model_args pretrained=/models/llama-7b --tasks mmlu", class: "ai_inference", state: "COMPLETED"},
	{key: "lammps", user: "carol", args: []string{"-p", "cpu", "-N", "2", "-n", "4", "-J", "lj_melt"},
		wrap: "srun lmp -in in.lj", class: "other", state: "COMPLETED"},
	{key: "gromacs", user: "carol", args: []string{"-p", "dcu", "--gres=dcu:k100:1", "-n", "2", "-J", "lysozyme"},
		wrap: "srun gmx mdrun -s topol.tpr -nb gpu", class: "other", state: "COMPLETED"},
	{key: "npu", user: "bob", args: []string{"-p", "npu", "--gres=npu:2", "-n", "2", "-J", "pangu_sft"},
		wrap: "srun msrun --worker_num=2 --local_worker_num=2 train.py", class: "ai_training", state: "COMPLETED"},
	{key: "array", user: "alice", args: []string{"--array=0-2", "-p", "gpu", "--gres=gpu:h100:1", "-n", "1", "-J", "hellaswag"},
		wrap: "srun lm_eval --model hf --tasks hellaswag --limit 100", class: "ai_inference", state: "COMPLETED", tasks: 3},
	{key: "failing", user: "carol", args: []string{"-p", "cpu", "-n", "2", "-J", "crash_md"},
		wrap: "srun lmp -in in.crash; exit 3", class: "other", state: "FAILED"},
	{key: "timeout", user: "bob", args: []string{"-p", "cpu", "-n", "2", "--time=1", "-J", "long_md"},
		wrap: "FAKE_SLEEP=300 srun gmx mdrun -s long.tpr", class: "other", state: "TIMEOUT"},
	// Nothing in the job itself says what it is: it is other only through
	// the context of carol's and the physics account's decided jobs (all
	// HPC), and unknown when it reaches scmon before any of them is decided.
	{key: "noevidence", user: "carol", args: []string{"-p", "cpu", "-n", "1", "-J", "job1"},
		wrap: "srun hostname && sleep 2", class: "other", state: "COMPLETED"},
}

// alloc is one allocation as sacct -X reports it.
type alloc struct {
	jobID, rawID, cluster, partition, user, state string
	start, end                                    time.Time // zero: Unknown/None
	ncpus                                         int64
	gres                                          map[string]int64 // by GRES name (gpu, npu, dcu)
}

// running reports whether the allocation has started and not ended.
func (a alloc) running() bool { return !a.start.IsZero() && a.end.IsZero() }

// baseState is the state without "by <uid>".
func (a alloc) baseState() string {
	s, _, _ := strings.Cut(a.state, " ")
	return s
}

// allocFields is the field list the tests read with sacct -X.
const allocFields = "JobID,JobIDRaw,Cluster,Partition,User,State,Start,End,NCPUS,AllocTRES"

// sacctAllocs runs sacct -a -P -n -X -D with args and parses the
// allocations.
func sacctAllocs(t testing.TB, env map[string]string, args ...string) []alloc {
	t.Helper()
	argv := append([]string{"-a", "-P", "-n", "-X", "-D", "--format=" + allocFields}, args...)
	out, err := testutil.SlurmCommand(env, "sacct", argv...).Output()
	if err != nil {
		t.Fatalf("sacct %v: %v", argv, err)
	}
	var res []alloc
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 10 {
			t.Fatalf("sacct line %q: %d fields, want 10", line, len(f))
		}
		a := alloc{jobID: f[0], rawID: f[1], cluster: f[2], partition: f[3], user: f[4], state: f[5],
			start: slurmTime(t, f[6]), end: slurmTime(t, f[7]), gres: gresCounts(f[9])}
		if f[8] != "" {
			a.ncpus = atoi(t, f[8])
		}
		res = append(res, a)
	}
	return res
}

// slurmTime parses a sacct time in UTC; Unknown, None and empty are zero.
func slurmTime(t testing.TB, s string) time.Time {
	t.Helper()
	switch s {
	case "", "Unknown", "None":
		return time.Time{}
	}
	tm, err := time.ParseInLocation(sacctTime, s, time.UTC)
	if err != nil {
		t.Fatalf("sacct time %q: %v", s, err)
	}
	return tm
}

// gresCounts reads the accelerator counts of a TRES string: the untyped
// gres/<name>=N when present, else the sum of the typed entries.
func gresCounts(tres string) map[string]int64 {
	untyped, typed := map[string]int64{}, map[string]int64{}
	for _, kv := range strings.Split(tres, ",") {
		k, v, ok := strings.Cut(kv, "=")
		name, isGres := strings.CutPrefix(k, "gres/")
		if !ok || !isGres {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		if base, _, typedEntry := strings.Cut(name, ":"); typedEntry {
			typed[base] += n
		} else {
			untyped[name] += n
		}
	}
	for k, v := range typed {
		if _, ok := untyped[k]; !ok {
			untyped[k] = v
		}
	}
	return untyped
}

// sbatch submits a job as user and returns its id.
func sbatch(t testing.TB, env map[string]string, user string, args ...string) string {
	t.Helper()
	argv := append([]string{"-u", user, "--", "sbatch", "--parsable"}, args...)
	out, err := testutil.SlurmCommand(env, "runuser", argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch as %s %q: %v: %s", user, args, err, out)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("sbatch printed %q, not a job id", out)
	}
	return id
}

// makeJobDir makes a directory under the cluster's job directory that the
// test users can write (job output) and run programs from, with the fake
// programs in bin/; it is removed when the test ends.
func makeJobDir(t testing.TB, env map[string]string) string {
	t.Helper()
	dir, err := os.MkdirTemp(env["SCMON_TEST_SLURM_JOBDIR"], "e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range fakePrograms {
		writeFile(t, filepath.Join(bin, p), "#!/bin/sh\n# stand-in for "+p+" in scmon's end-to-end test\nsleep \"${FAKE_SLEEP:-3}\"\n", 0o755)
	}
	return dir
}

// TestSlurmPrometheusEndToEnd submits a mix of short jobs as real users to
// the real Slurm cluster, runs `scmon serve` polling it with sacct and
// scontrol, has a real Prometheus scrape scmon every second, and checks
// through the Prometheus HTTP API that the allocated core-seconds and
// accelerator-seconds by class equal, to the second, what sacct reports for
// the same jobs; that each job was classified as constructed; that the
// capacity states sum to the capacity; and that sreport's allocated CPU-
// and GPU-seconds for the hours the test spans equal scmon's figures for
// the same hours.
func TestSlurmPrometheusEndToEnd(t *testing.T) {
	env := testutil.SlurmEnv(t)
	testutil.RequireTool(t, "prometheus")
	testutil.RequireTool(t, "promtool")
	t.Parallel() // mostly waiting for the timed-out job: let the CPU-bound tests run meanwhile
	cluster := env["SCMON_TEST_SLURM_CLUSTER"]
	// sreport's hourly rollup and scmon agree exactly within an hour; a
	// rollup forced across an hour boundary while the earlier hour was
	// already rolled up with jobs running can differ by a few seconds. The
	// test's jobs last about 90 s: start them in an hour they fit in.
	if left := time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)); left < 3*time.Minute {
		t.Logf("waiting %s for the next hour, so that the jobs run within one hour", (left + 5*time.Second).Round(time.Second))
		time.Sleep(left + 5*time.Second)
	}
	testStart := time.Now().UTC()
	// scmon reads from a minute before the test; overlap 30 s keeps every
	// later window inside [start, now), so that the jobs scmon reads are
	// exactly those sacct -S start lists.
	from := testStart.Add(-time.Minute).Truncate(time.Second)
	jobDir := makeJobDir(t, env)
	tmp := t.TempDir()

	config := filepath.Join(tmp, "scmon.yml")
	writeFile(t, config, fmt.Sprintf(`cluster: %s
data_dir: %s
sources:
  - name: sacct
    kind: sacct
    interval: 2s
    overlap: 30s
    timeout: 30s
    start: %s
  - name: nodes
    kind: scontrol
    interval: 2s
    timeout: 30s
metrics:
  windows: [1h]
`, cluster, filepath.Join(tmp, "data"), from.Format(time.RFC3339)), 0o644)
	scmon := startScmon(t, tmp, config, []string{"SLURM_CONF=" + env["SLURM_CONF"]})
	scmon.waitReady(30 * time.Second)
	prom := startPrometheus(t, scmon.addr)

	// Submit the mix.
	exportPath := "--export=ALL,PATH=" + filepath.Join(jobDir, "bin") + ":/usr/local/bin:/usr/bin:/bin"
	ids := map[string]string{} // key -> job id
	byID := map[string]*mixJob{}
	for i := range jobMix {
		j := &jobMix[i]
		out := filepath.Join(jobDir, "%x-%j.out")
		if j.tasks > 0 {
			out = filepath.Join(jobDir, "%x-%A_%a.out")
		}
		args := append([]string{"--chdir=" + env["SCMON_TEST_SLURM_JOBDIR"], "-o", out, exportPath}, j.args...)
		id := sbatch(t, env, j.user, append(args, "--wrap", j.wrap)...)
		ids[j.key] = id
		byID[id] = j
	}
	idList := make([]string, 0, len(ids))
	for _, id := range ids {
		idList = append(idList, id)
	}
	sort.Strings(idList)
	t.Logf("submitted %d jobs at %s: %v", len(ids), testStart.Format(time.RFC3339), ids)
	t.Cleanup(func() {
		// Nothing of this test may keep running on the shared cluster.
		_ = testutil.SlurmCommand(env, "scancel", idList...).Run()
	})
	// mine maps an allocation to its submission (array tasks by array id).
	mine := func(a alloc) *mixJob {
		id, _, _ := strings.Cut(a.jobID, "_")
		return byID[id]
	}
	wantAllocs := 0
	for _, j := range jobMix {
		wantAllocs += max(1, j.tasks)
	}

	// Cancel the server once its vllm step runs: the step must be on record.
	serve := ids["serve"]
	eventually(t, 60*time.Second, time.Second, "the vllm step of job "+serve+" to run", func() (bool, string) {
		out, _ := testutil.SlurmCommand(env, "sacct", "-n", "-P", "-j", serve+".0", "--format=JobID,JobName,State").Output()
		return strings.Contains(string(out), "|vllm|RUNNING"), string(out)
	})
	if out, err := testutil.SlurmCommand(env, "scancel", serve).CombinedOutput(); err != nil {
		t.Fatalf("scancel %s: %v: %s", serve, err, out)
	}

	// Wait until sacct shows every allocation of the mix ended (the
	// timed-out job takes 60 to 90 s).
	var ours []alloc
	eventually(t, 150*time.Second, time.Second, "sacct to show every job of the mix ended", func() (bool, string) {
		ours = sacctAllocs(t, env, "-j", strings.Join(idList, ","))
		var open []string
		for _, a := range ours {
			if a.start.IsZero() || a.end.IsZero() || a.baseState() == "RUNNING" || a.baseState() == "PENDING" {
				open = append(open, a.jobID+" "+a.state)
			}
		}
		return len(ours) == wantAllocs && len(open) == 0, fmt.Sprintf("%d of %d allocations listed, open: %v", len(ours), wantAllocs, open)
	})
	for _, a := range ours {
		if j := mine(a); a.baseState() != j.state {
			t.Errorf("job %s (%s): sacct state %q, want %s", a.jobID, j.key, a.state, j.state)
		}
	}

	// Wait until scmon has read them all ended, and Prometheus has scraped
	// figures that are complete past the last end, with no allocation of
	// the cluster running at that time. Then everything scmon counted up
	// to that time has ended, and sacct's record of it is final.
	var (
		evalAt   time.Time
		complete time.Time
		window   []alloc
		apiJobs  map[string]apiv1.Job
	)
	eventually(t, 90*time.Second, time.Second, "scmon and Prometheus to catch up with the ended jobs", func() (bool, string) {
		now := time.Now()
		window = sacctAllocs(t, env, "-S", from.Format(sacctTime), "-E", now.UTC().Format(sacctTime))
		var last time.Time
		for _, a := range window {
			if a.running() {
				return false, "allocation " + a.jobID + " of " + a.user + " is running"
			}
			if a.end.After(last) {
				last = a.end
			}
		}
		apiJobs = scmon.jobs(from)
		for _, a := range ours {
			r, ok := apiJobs[a.jobID]
			if !ok || r.End.IsZero() {
				return false, "scmon has not read job " + a.jobID + " ended"
			}
		}
		res, err := prom.query(`scmon_snapshot_timestamp_seconds - ignoring(source) scmon_source_lag_seconds{source="sacct"}`, now)
		if err != nil || len(res) != 1 {
			return false, fmt.Sprintf("complete time: %v %v", res, err)
		}
		complete = time.Unix(int64(math.Round(res[0].Value)), 0).UTC()
		// A margin of 3 s past the last end: sacct's record of an end
		// reaches slurmdbd a moment after the job left slurmctld.
		if complete.Before(last.Add(3 * time.Second)) {
			return false, fmt.Sprintf("scraped figures complete to %s, last end %s", complete, last)
		}
		evalAt = now
		return true, ""
	})
	// Allocations scmon counted: started before its complete time. None
	// may be running or have ended after it (a job of another test that
	// started meanwhile would): then the loop above waited too little.
	var counted []alloc
	for _, a := range sacctAllocs(t, env, "-S", from.Format(sacctTime), "-E", evalAt.UTC().Format(sacctTime)) {
		if a.start.IsZero() || !a.start.Before(complete) {
			continue
		}
		if a.end.IsZero() || a.end.After(complete) {
			t.Fatalf("allocation %s ran past scmon's complete time %s (end %v): the cluster did not settle", a.jobID, complete, a.end)
		}
		counted = append(counted, a)
	}

	// Every job of the mix is stored with the class it was built for, and
	// with sacct's times, cores and state.
	classOf := map[string]string{}
	for _, a := range counted {
		r, ok := apiJobs[a.jobID]
		if !ok {
			t.Errorf("allocation %s (user %s, %s) is in sacct's window but not in /api/v1/jobs", a.jobID, a.user, a.state)
			continue
		}
		classOf[a.jobID] = r.Class
		j := mine(a)
		if j == nil {
			t.Logf("job %s of another test (user %s, %s): class %s", a.jobID, a.user, a.partition, r.Class)
			continue
		}
		switch {
		case j.key == "noevidence" && r.Class == "other":
			if !slices.ContainsFunc(r.Rules, func(id string) bool { return strings.HasPrefix(id, "context:") }) {
				t.Errorf("job %s (%s): other without the context stage (rules %v)", a.jobID, j.key, r.Rules)
			}
		case j.key == "noevidence" && r.Class == "unknown":
			t.Logf("job %s (%s): unknown, no decided job of its user or account had arrived with it", a.jobID, j.key)
		case r.Class != j.class:
			t.Errorf("job %s (%s, %q): class %s (rules %v), want %s", a.jobID, j.key, j.wrap, r.Class, r.Rules, j.class)
		}
		if r.State != a.baseState() || !r.Start.Equal(a.start) || !r.End.Equal(a.end) || r.Cores != a.ncpus {
			t.Errorf("job %s: scmon has %s %s..%s %d cores, sacct %s %s..%s %d cores",
				a.jobID, r.State, r.Start, r.End, r.Cores, a.state, a.start, a.end, a.ncpus)
		}
	}
	for _, a := range ours {
		if !slices.ContainsFunc(counted, func(c alloc) bool { return c.jobID == a.jobID }) {
			t.Errorf("job %s of the mix started at %s, not before scmon's complete time %s", a.jobID, a.start, complete)
		}
	}

	// Expected counters from sacct: NCPUS x (End - Start) and GRES count x
	// (End - Start), summed by class.
	wantCores := map[string]int64{}
	wantAccel := map[string]int64{} // class/kind
	// The job without evidence may be seen running as unknown and decided
	// by its context only when it ends: the seconds published while it was
	// unknown stay there (a counter does not go down), the rest go to its
	// class. noevidence holds its final class and its core-seconds.
	var noevidence struct {
		class string
		cores int64
	}
	for _, a := range counted {
		class := classOf[a.jobID]
		if j := mine(a); j != nil && j.key != "noevidence" { // its class is checked above
			class = j.class
		}
		sec := int64(a.end.Sub(a.start) / time.Second)
		if j := mine(a); j != nil && j.key == "noevidence" {
			noevidence.class, noevidence.cores = class, noevidence.cores+a.ncpus*sec
		}
		wantCores[class] += a.ncpus * sec
		for kind, n := range a.gres {
			wantAccel[class+"/"+kind] += n * sec
		}
	}
	q := func(query, by string) map[string]float64 { return byLabel(prom.mustQuery(query, evalAt), by) }
	gotCores := q(fmt.Sprintf(`sum by (class) (scmon_allocated_core_seconds_total{cluster=%q})`, cluster), "class")
	gotAccel := map[string]float64{}
	for _, s := range prom.mustQuery(fmt.Sprintf(`sum by (class, kind) (scmon_allocated_accelerator_seconds_total{cluster=%q})`, cluster), evalAt) {
		gotAccel[s.Metric["class"]+"/"+s.Metric["kind"]] += s.Value
	}
	if moved := int64(gotCores["unknown"]) - wantCores["unknown"]; noevidence.class != "unknown" && moved > 0 && moved <= noevidence.cores {
		t.Logf("the job without evidence kept %d core-seconds under unknown, counted before it was decided %s", moved, noevidence.class)
		wantCores["unknown"] += moved
		wantCores[noevidence.class] -= moved
	}
	t.Logf("core-seconds by class: Prometheus %v, sacct %v", gotCores, wantCores)
	t.Logf("accelerator-seconds by class/kind: Prometheus %v, sacct %v", gotAccel, wantAccel)
	compareExact(t, "scmon_allocated_core_seconds_total by class", gotCores, wantCores)
	compareExact(t, "scmon_allocated_accelerator_seconds_total by class/kind", gotAccel, wantAccel)
	for _, kind := range []string{"gpu", "npu", "dcu"} {
		found := false
		for k, v := range wantAccel {
			found = found || (strings.HasSuffix(k, "/"+kind) && v > 0)
		}
		if !found {
			t.Errorf("the mix allocated no %s-seconds: it must cover every accelerator kind", kind)
		}
	}

	// The figures API over [from, complete) agrees with the same records
	// clipped to the range.
	var fig apiv1.Report
	scmon.getJSON(apiv1.PathFigures+"?"+apiv1.FiguresRequest{From: from, To: complete}.Values().Encode(), &fig)
	var wantClipped int64
	for _, a := range counted {
		s, e := a.start, a.end
		if s.Before(from) {
			s = from
		}
		if e.After(s) {
			wantClipped += a.ncpus * int64(e.Sub(s)/time.Second)
		}
	}
	if got := int64(math.Round(fig.CPU.AllocatedHours * 3600)); got != wantClipped {
		t.Errorf("/api/v1/figures [%s, %s): %d allocated core-seconds, sacct %d", from, complete, got, wantClipped)
	}

	checkCapacity(t, env, prom, cluster, evalAt, time.Since(scmon.start))
	compareSreport(t, env, cluster, testStart)
	t.Logf("end-to-end test took %s", time.Since(testStart).Round(time.Second))
}

// compareExact fails unless got and want hold the same whole numbers for
// every key (zero entries on either side are ignored).
func compareExact(t testing.TB, what string, got map[string]float64, want map[string]int64) {
	t.Helper()
	keys := map[string]bool{}
	for k, v := range got {
		if v != 0 {
			keys[k] = true
		}
	}
	for k, v := range want {
		if v != 0 {
			keys[k] = true
		}
	}
	for k := range keys {
		g := got[k]
		if g != math.Round(g) || int64(g) != want[k] {
			t.Errorf("%s[%s] = %v, want %d (difference %v)", what, k, g, want[k], g-float64(want[k]))
		}
	}
}

// checkCapacity checks the capacity counters as Prometheus scraped them:
// for every partition the states sum to its cores (devices) times one and
// the same covered time, no longer than scmon ran; and the current-state
// gauges sum to the inventory sinfo reports.
func checkCapacity(t *testing.T, env map[string]string, prom *prometheus, cluster string, at time.Time, ran time.Duration) {
	t.Helper()
	out, err := testutil.SlurmCommand(env, "sinfo", "-h", "-N", "-o", "%N|%R|%c|%G").Output()
	if err != nil {
		t.Fatalf("sinfo: %v", err)
	}
	cores := map[string]float64{}
	devices := map[string]float64{} // partition/kind
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 || seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		cores[f[1]] += float64(atoi(t, f[2]))
		for _, g := range strings.Split(f[3], ",") {
			p := strings.Split(g, ":")
			if len(p) >= 2 {
				n, err := strconv.Atoi(strings.SplitN(p[len(p)-1], "(", 2)[0])
				if err == nil {
					devices[f[1]+"/"+p[0]] += float64(n)
				}
			}
		}
	}
	capCores := byLabel(prom.mustQuery(fmt.Sprintf(`sum by (partition) (scmon_capacity_core_seconds_total{cluster=%q})`, cluster), at), "partition")
	var total, totalCores float64
	for p, c := range cores {
		total += capCores[p]
		totalCores += c
	}
	span := total / totalCores // the time the node polls covered
	if span <= 0 || span > ran.Seconds() {
		t.Errorf("capacity covers %.1f s, scmon ran %.1f s", span, ran.Seconds())
	}
	for p, c := range cores {
		if got, want := capCores[p], c*span; math.Abs(got-want) > 1e-6*want {
			t.Errorf("partition %s: capacity core-seconds summed over states %v, want %v cores x %.3f s = %v", p, got, c, span, want)
		}
	}
	capAccel := map[string]float64{}
	for _, s := range prom.mustQuery(fmt.Sprintf(`sum by (partition, kind) (scmon_capacity_accelerator_seconds_total{cluster=%q})`, cluster), at) {
		capAccel[s.Metric["partition"]+"/"+s.Metric["kind"]] += s.Value
	}
	for pk, n := range devices {
		if got, want := capAccel[pk], n*span; math.Abs(got-want) > 1e-6*want {
			t.Errorf("%s: capacity accelerator-seconds summed over states %v, want %v devices x %.3f s = %v", pk, got, n, span, want)
		}
	}
	states := map[string]float64{}
	for _, s := range prom.mustQuery(fmt.Sprintf(`sum by (state) (scmon_capacity_core_seconds_total{cluster=%q})`, cluster), at) {
		states[s.Metric["state"]] = s.Value
	}
	t.Logf("capacity core-seconds by state over %.0f s of node polls: %v (48 cores x span = %.0f)", span, states, totalCores*span)
	gauge := byLabel(prom.mustQuery(fmt.Sprintf(`sum by (partition) (scmon_cores{cluster=%q})`, cluster), at), "partition")
	for p, c := range cores {
		if gauge[p] != c {
			t.Errorf("scmon_cores{partition=%q} summed over states = %v, sinfo %v", p, gauge[p], c)
		}
	}
}

// sreportRow is one line of sreport cluster utilization -t seconds.
type sreportRow struct {
	tres                     string
	allocated, reported, idl int64
}

// compareSreport forces slurmdbd's rollup of the hours the test spans,
// reads sreport's cluster utilization for them, and checks that its
// allocated CPU-, GPU-, NPU- and DCU-seconds equal `scmon report` over a
// sacct dump of the same hours.
//
// Slurm 22.05's hourly rollup (as_mysql_rollup.c) counts, for every job
// eligible in an hour, its TRES count times (min(end, hour end) -
// max(start, hour start)) in whole seconds, less suspended time: a job
// crossing an hour boundary is split exactly at it, so the sum over whole
// hours is the job's whole run, the same definition as scmon's (End -
// Start, clipped to the window). A job still running at the rollup is
// counted up to the rollup, and one that ends later is not counted again
// until the next rollup: the comparison runs only when nothing in the
// cluster is running (other tests share it), and is retried otherwise. No
// job here is suspended and the cluster has no reservations, the other two
// places where the definitions could differ; so the comparison is exact.
func compareSreport(t *testing.T, env map[string]string, cluster string, testStart time.Time) {
	t.Helper()
	hourStart := testStart.Truncate(time.Hour)
	var (
		rows map[string]sreportRow
		dump string
	)
	eventually(t, 90*time.Second, 2*time.Second, "a quiet cluster for the rollup and sreport", func() (bool, string) {
		now := time.Now().UTC()
		hourEnd := now.Truncate(time.Hour).Add(time.Hour)
		span := []string{"-S", hourStart.Format(sacctTime), "-E", hourEnd.Format(sacctTime)}
		for _, a := range sacctAllocs(t, env, span...) {
			if a.running() || a.end.After(now.Add(-2*time.Second)) {
				return false, "job " + a.jobID + " is running or just ended"
			}
		}
		rollupAt := time.Now().UTC()
		if out, err := testutil.SlurmCommand(env, "sacctmgr", "-i", "rollup", hourStart.Format(sacctTime), hourEnd.Format(sacctTime)).CombinedOutput(); err != nil {
			t.Fatalf("sacctmgr rollup: %v: %s", err, out)
		}
		rows = sreport(t, env, hourStart, hourEnd)
		// The dump, read after the rollup: nothing may have run since.
		out, err := testutil.SlurmCommand(env, "sacct", append([]string{"-a", "-P", "-D", "--format=" + strings.Join(dumpFields, ",")}, span...)...).Output()
		if err != nil {
			t.Fatalf("sacct dump: %v", err)
		}
		dump = string(out)
		for _, a := range sacctAllocs(t, env, span...) {
			if a.running() || !a.end.Before(rollupAt.Add(-time.Second)) {
				return false, "job " + a.jobID + " ran during the rollup"
			}
		}
		return true, ""
	})
	hourEnd := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	dumpPath := filepath.Join(t.TempDir(), "sacct-hours.psv")
	writeFile(t, dumpPath, dump, 0o644)
	cmd := exec.Command(testutil.ScmonBinary(t), "report", "--input", "slurm-sacct:"+dumpPath, "--cluster", cluster,
		"--from", hourStart.Format(time.RFC3339), "--to", hourEnd.Format(time.RFC3339), "-o", "json", "-q")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scmon report: %v", err)
	}
	var rep apiv1.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("scmon report: %v\n%s", err, out)
	}
	sec := func(h float64) int64 { return int64(math.Round(h * 3600)) }
	got := map[string]int64{"cpu": sec(rep.CPU.AllocatedHours)}
	for _, kind := range []string{"gpu", "npu", "dcu"} {
		got["gres/"+kind] = sec(rep.Accelerator.ByKind[kind].AllocatedHours)
	}
	t.Logf("hours %s to %s: sreport %+v; scmon report over the sacct dump %v", hourStart.Format(time.RFC3339), hourEnd.Format(time.RFC3339), rows, got)
	if cpu := sreportCPU(t, env, hourStart, hourEnd); cpu != rows["cpu"].allocated {
		t.Errorf("sreport cluster utilization (CPU seconds) %d, with -T cpu %d", cpu, rows["cpu"].allocated)
	}
	for _, tres := range []string{"cpu", "gres/gpu", "gres/npu", "gres/dcu"} {
		r, ok := rows[tres]
		if !ok {
			t.Errorf("sreport gave no %s line", tres)
			continue
		}
		if r.allocated != got[tres] {
			t.Errorf("%s allocated seconds, %s to %s: sreport %d, scmon %d", tres, hourStart, hourEnd, r.allocated, got[tres])
		}
		if r.allocated == 0 {
			t.Errorf("sreport shows no allocated %s-seconds: the rollup did not count the test's jobs", tres)
		}
	}
}

// sreportCPU returns the allocated CPU-seconds of sreport's default
// cluster utilization report (no -T) for [from, to).
func sreportCPU(t testing.TB, env map[string]string, from, to time.Time) int64 {
	t.Helper()
	out, err := testutil.SlurmCommand(env, "sreport", "-t", "seconds", "-P", "-n", "cluster", "utilization",
		"start="+from.Format(sacctTime), "end="+to.Format(sacctTime)).Output()
	if err != nil {
		t.Fatalf("sreport: %v", err)
	}
	// Cluster|Allocated|Down|PLND Down|Idle|Planned|Reported
	f := strings.Split(strings.TrimSpace(string(out)), "|")
	if len(f) != 7 {
		t.Fatalf("sreport: %q, want one line of 7 fields", out)
	}
	return atoi(t, f[1])
}

// dumpFields are the sacct fields of the dump scmon report reads: the
// poller's list.
var dumpFields = []string{
	"JobID", "JobIDRaw", "Cluster", "Partition", "QOS", "Account", "User", "Group",
	"Submit", "Eligible", "Start", "End", "Elapsed", "Timelimit", "State", "ExitCode",
	"NNodes", "NCPUS", "ReqTRES", "AllocTRES", "NodeList", "WCKey", "WorkDir",
	"Comment", "JobName", "SubmitLine",
}

// sreport returns sreport's cluster utilization in TRES-seconds by TRES
// name, for [from, to).
func sreport(t testing.TB, env map[string]string, from, to time.Time) map[string]sreportRow {
	t.Helper()
	out, err := testutil.SlurmCommand(env, "sreport", "-t", "seconds", "-P", "-n", "cluster", "utilization",
		"start="+from.Format(sacctTime), "end="+to.Format(sacctTime), "-T", "cpu,gres/gpu,gres/npu,gres/dcu").Output()
	if err != nil {
		t.Fatalf("sreport: %v", err)
	}
	rows := map[string]sreportRow{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// Cluster|TRES Name|Allocated|Down|PLND Down|Idle|Planned|Reported
		f := strings.Split(line, "|")
		if len(f) != 8 {
			t.Fatalf("sreport line %q: %d fields, want 8", line, len(f))
		}
		rows[f[1]] = sreportRow{tres: f[1], allocated: atoi(t, f[2]), idl: atoi(t, f[5]), reported: atoi(t, f[7])}
	}
	return rows
}
