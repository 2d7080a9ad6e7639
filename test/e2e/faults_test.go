package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// faultRecords are what the stand-in sacct prints when it answers: two
// allocations, and a third added later (sacct --parsable2 --noheader lines
// in the poller's field order).
var faultRecords = []string{
	"501|501|faultlab|cpu|normal|physics|carol|carol|2026-11-01T09:00:00|2026-11-01T09:00:00|2026-11-01T10:00:00|2026-11-01T11:00:00|01:00:00|UNLIMITED|COMPLETED|0:0|1|8|billing=8,cpu=8,node=1|billing=8,cpu=8,mem=8000M,node=1|n5||/srv/md||lj_melt|sbatch -p cpu -n 8 --wrap=srun lmp -in in.lj",
	"501.0|501.0|faultlab|||physics|||2026-11-01T10:00:00|2026-11-01T10:00:00|2026-11-01T10:00:00|2026-11-01T11:00:00|01:00:00||COMPLETED|0:0|1|8||cpu=8,mem=8000M,node=1|n5||||lmp|srun lmp -in in.lj",
	"502|502|faultlab|gpu|normal|ai|alice|alice|2026-11-01T09:00:00|2026-11-01T09:00:00|2026-11-01T10:00:00|2026-11-01T10:30:00|00:30:00|UNLIMITED|COMPLETED|0:0|1|4|billing=20,cpu=4,gres/gpu=2,node=1|billing=20,cpu=4,gres/gpu:h100=2,gres/gpu=2,mem=4000M,node=1|n1||/srv/llm||llama_pretrain|sbatch -p gpu --gres=gpu:h100:2 --wrap=srun torchrun pretrain_llama.py",
	"502.0|502.0|faultlab|||ai|||2026-11-01T10:00:00|2026-11-01T10:00:00|2026-11-01T10:00:00|2026-11-01T10:30:00|00:30:00||COMPLETED|0:0|1|4||cpu=4,gres/gpu:h100=2,gres/gpu=2,mem=4000M,node=1|n1||||torchrun|srun torchrun pretrain_llama.py",
}

var faultRecordLater = "503|503|faultlab|cpu|normal|physics|carol|carol|2026-11-01T12:00:00|2026-11-01T12:00:00|2026-11-01T12:00:00|2026-11-01T12:10:00|00:10:00|UNLIMITED|FAILED|3:0|1|2|billing=2,cpu=2,node=1|billing=2,cpu=2,mem=2000M,node=1|n6||/srv/md||crash_md|sbatch -p cpu -n 2 --wrap=srun gmx mdrun -s crash.tpr"

// TestSacctFaults runs `scmon serve` polling a stand-in sacct that hangs,
// fails and prints garbage in turn: scmon_source_up{source="sacct"} goes
// to 0 while it hangs (the poll is killed after its timeout, with the
// stand-in's whole process group) or fails, the daemon keeps serving and
// stays ready, and once sacct answers again the source is up and every
// record is counted once however often it was read; garbage lines are
// counted in scmon_records_total{result=~"skipped_.*"}.
func TestSacctFaults(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	fake := filepath.Join(tmp, "fake-sacct.sh")
	script, err := os.ReadFile(filepath.Join("testdata", "fake-sacct.sh"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, fake, string(script), 0o755)
	state := filepath.Join(tmp, "sacct")
	setMode := func(mode string) { writeFile(t, filepath.Join(state, "mode"), mode+"\n", 0o644) }
	writeFile(t, filepath.Join(state, "db.psv"), strings.Join(faultRecords, "\n")+"\n", 0o644)
	setMode("ok")

	config := filepath.Join(tmp, "scmon.yml")
	writeFile(t, config, fmt.Sprintf(`cluster: faultlab
data_dir: %s
sources:
  - name: sacct
    kind: sacct
    command: %s
    interval: 1s
    timeout: 2s
    env: ["FAKE_SACCT_DIR=%s"]
metrics:
  windows: [1h]
`, filepath.Join(tmp, "data"), fake, state), 0o644)
	p := startScmon(t, tmp, config, nil)
	p.waitReady(30 * time.Second)

	src := map[string]string{"source": "sacct"}
	up := func(s scrape) float64 { v, _ := s.value("scmon_source_up", src); return v }
	records := func(s scrape, result string) float64 {
		v, _ := s.value("scmon_records_total", map[string]string{"source": "sacct", "result": result})
		return v
	}
	failures := func(s scrape) float64 { v, _ := s.value("scmon_source_poll_failures_total", src); return v }
	cores := func(s scrape) float64 {
		return s.sum("scmon_allocated_core_seconds_total", map[string]string{"cluster": "faultlab"})[""]
	}
	gpus := func(s scrape) float64 {
		return s.sum("scmon_allocated_accelerator_seconds_total", map[string]string{"cluster": "faultlab", "kind": "gpu"})[""]
	}
	// waitMetrics polls /metrics until cond holds; the daemon must stay up
	// and ready all along.
	waitMetrics := func(what string, timeout time.Duration, cond func(scrape) bool) scrape {
		t.Helper()
		var last scrape
		eventually(t, timeout, 100*time.Millisecond, what, func() (bool, string) {
			if p.exited() {
				t.Fatalf("scmon exited: %v", p.err)
			}
			if code, body, err := p.request(http.MethodGet, "/-/ready"); err != nil || code != http.StatusOK {
				t.Fatalf("/-/ready: %d %s %v", code, body, err)
			}
			s, err := p.metrics()
			if err != nil {
				return false, err.Error()
			}
			last = s
			return cond(s), fmt.Sprintf("up %v, stored %v, failures %v", up(s), records(s, "stored"), failures(s))
		})
		return last
	}
	lastError := func() string {
		var sum apiv1.Summary
		p.getJSON(apiv1.PathSummary, &sum)
		for _, s := range sum.Sources {
			if s.Name == "sacct" {
				return s.LastError
			}
		}
		return ""
	}
	const wantCores, wantGPU = 8*3600 + 4*1800, 2 * 1800

	// 1. sacct answers.
	s := waitMetrics("the first poll", 20*time.Second, func(s scrape) bool { return up(s) == 1 && records(s, "stored") == 2 })
	if cores(s) != wantCores || gpus(s) != wantGPU {
		t.Fatalf("after the first poll: %v core-seconds, %v GPU-seconds; want %d, %d", cores(s), gpus(s), wantCores, wantGPU)
	}

	// 2. sacct hangs: the poll is killed after its 2 s timeout, with the
	// child the stand-in left holding its output.
	writeFile(t, filepath.Join(state, "calls"), "", 0o644)
	setMode("hang")
	hungAt := time.Now()
	s = waitMetrics("scmon_source_up 0 on a hanging sacct", 30*time.Second, func(s scrape) bool { return up(s) == 0 })
	t.Logf("hanging sacct: source down %.1f s after the switch, failures %v, last error %q", time.Since(hungAt).Seconds(), failures(s), lastError())
	if e := lastError(); !strings.Contains(e, "timed out") {
		t.Errorf("last error of a hanging sacct: %q, want a timeout", e)
	}
	for _, f := range []string{"hang.pid", "hang-child.pid"} {
		b, err := os.ReadFile(filepath.Join(state, f))
		if err != nil {
			t.Fatalf("the stand-in did not hang: %v", err)
		}
		pid := strings.TrimSpace(string(b))
		eventually(t, 10*time.Second, 100*time.Millisecond, "process "+pid+" ("+f+") to be killed", func() (bool, string) {
			return !processRunning(pid), "still running"
		})
	}
	if cores(s) != wantCores {
		t.Errorf("while sacct hangs: %v core-seconds, want %d", cores(s), wantCores)
	}

	// 3. sacct answers again: up, nothing counted twice.
	setMode("ok")
	s = waitMetrics("recovery from the hang", 30*time.Second, func(s scrape) bool { return up(s) == 1 })
	if cores(s) != wantCores || gpus(s) != wantGPU || records(s, "stored") != 2 {
		t.Errorf("after the hang: %v core-seconds, %v GPU-seconds, %v stored; want %d, %d, 2", cores(s), gpus(s), records(s, "stored"), wantCores, wantGPU)
	}

	// 4. sacct fails with exit 1 and a message on stderr.
	setMode("fail")
	failuresBefore := failures(s)
	s = waitMetrics("scmon_source_up 0 on a failing sacct", 30*time.Second, func(s scrape) bool { return up(s) == 0 && failures(s) > failuresBefore })
	if e := lastError(); !strings.Contains(e, "exit status 1") || !strings.Contains(e, "Connection refused (fake sacct)") {
		t.Errorf("last error of a failing sacct: %q, want its exit status and stderr", e)
	}
	if cores(s) != wantCores {
		t.Errorf("while sacct fails: %v core-seconds, want %d", cores(s), wantCores)
	}

	// 5. sacct prints garbage with its records: the poll succeeds, the bad
	// lines are counted by reason.
	setMode("garbage")
	s = waitMetrics("a poll of garbage", 30*time.Second, func(s scrape) bool { return up(s) == 1 })
	skipped := map[string]float64{}
	for _, x := range s {
		if x.name == "scmon_records_total" && x.labels["source"] == "sacct" && strings.HasPrefix(x.labels["result"], "skipped_") && x.value > 0 {
			skipped[x.labels["result"]] = x.value
		}
	}
	t.Logf("garbage: skipped lines by reason %v", skipped)
	// The two short lines come out as one skipped record: the reader joins
	// lines with too few fields, as a newline inside a free-text field
	// breaks a real record, and gives up when the fields run over.
	if skipped["skipped_field_count"] < 1 || skipped["skipped_bad_time"] < 1 {
		t.Errorf("skipped lines by reason %v, want skipped_field_count and skipped_bad_time", skipped)
	}
	if cores(s) != wantCores || records(s, "stored") != 2 {
		t.Errorf("after garbage: %v core-seconds, %v stored; want %d, 2", cores(s), records(s, "stored"), wantCores)
	}

	// 6. Back to normal, with one more record: each record counted once.
	writeFile(t, filepath.Join(state, "db.psv"), strings.Join(append(faultRecords, faultRecordLater), "\n")+"\n", 0o644)
	setMode("ok")
	s = waitMetrics("the new record", 30*time.Second, func(s scrape) bool { return up(s) == 1 && records(s, "stored") == 3 })
	if want := float64(wantCores + 2*600); cores(s) != want || gpus(s) != wantGPU {
		t.Errorf("at the end: %v core-seconds, %v GPU-seconds; want %v, %d", cores(s), gpus(s), want, wantGPU)
	}
	if records(s, "duplicate") == 0 {
		t.Error("no record read again was counted as a duplicate")
	}
	var jobs apiv1.JobsPage
	p.getJSON(apiv1.PathJobs+"?"+apiv1.JobsRequest{Clusters: []string{"faultlab"}}.Values().Encode(), &jobs)
	if len(jobs.Jobs) != 3 {
		b, _ := json.Marshal(jobs.Jobs)
		t.Errorf("/api/v1/jobs: %d jobs, want 3: %s", len(jobs.Jobs), b)
	}
	if p.exited() || strings.Contains(p.logText(), "panic") {
		t.Fatalf("scmon crashed: %v", p.err)
	}
}

// processRunning reports whether pid names a live process (a zombie
// waiting to be reaped counts as ended).
func processRunning(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
