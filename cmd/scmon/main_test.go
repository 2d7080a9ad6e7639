package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// scmon runs the command line in-process and returns its exit status and
// outputs.
func scmon(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

type jsonReport struct {
	Window struct {
		From, To, Rule string
	}
	CPU struct {
		CapacityHours  float64 `json:"capacity_hours"`
		AllocatedHours float64 `json:"allocated_hours"`
		Utilization    float64
	}
	Accelerator struct {
		Utilization float64
		ByKind      map[string]struct{ Utilization float64 } `json:"by_kind"`
	}
	AIShare struct {
		CPU, Accelerator, Billing float64
		BillingUpper              float64 `json:"billing_upper"`
	} `json:"ai_share"`
	Headline struct {
		Basis       string
		Utilization float64
		AIShare     float64 `json:"ai_share"`
	}
	Classes map[string]struct {
		Jobs     int64
		CPUHours float64 `json:"cpu_hours"`
	}
	Inputs []struct {
		Records int64
		Skipped map[string]int64
	}
	Groups []struct {
		Keys map[string]string
	}
	Series  []struct{ From string }
	Skipped int64 `json:"skipped_lines"`
}

func reportJSON(t *testing.T, args ...string) jsonReport {
	t.Helper()
	code, out, errOut := scmon(t, append([]string{"report", "-o", "json", "-q"}, args...)...)
	if code != 0 {
		t.Fatalf("scmon report %v: exit %d: %s", args, code, errOut)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	return r
}

// TestReportSWF: the three Parallel Workloads Archive logs, window from
// first submission to last end, capacity from MaxProcs, against the figures
// computed by hand (see the data manifest): to 0.01 percentage points.
func TestReportSWF(t *testing.T) {
	tests := []struct {
		file string
		want float64
	}{
		{"KTH-SP2-1996-2.1-cln.swf.gz", 70.11},
		{"CTC-SP2-1996-3.1-cln.swf.gz", 84.13},
		{"NASA-iPSC-1993-3.1-cln.swf.gz", 46.61},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := reportJSON(t, "--input", "swf:../../collector/testdata/swf/"+tt.file)
			if got := r.CPU.Utilization * 100; math.Abs(got-tt.want) > 0.005 {
				t.Errorf("utilization = %.4f%%, want %.2f%%", got, tt.want)
			}
			if r.Headline.Basis != "cpu" || r.Headline.Utilization != r.CPU.Utilization {
				t.Errorf("headline %+v", r.Headline)
			}
			if r.Window.Rule != "first submission to last end of the records" {
				t.Errorf("window rule %q", r.Window.Rule)
			}
		})
	}
}

// TestReportSacctWithInventory runs the real lab dump against a capacity
// dump of the same cluster: 4 nodes x 8 cores and 8 GPUs.
func TestReportSacctWithInventory(t *testing.T) {
	r := reportJSON(t, "--input", "slurm-sacct:../../collector/testdata/sacct/lab-sacct-steps.psv",
		"--capacity", "slurm-nodes:../../collector/testdata/slurmnodes/lab-idle.txt",
		"--from", "2026-11-28T16:56:00", "--to", "2026-11-28T16:58:00", "--by", "partition")
	// Core-seconds by hand from the dump: 60+8+5+104+332+3+12+6+0+5+7+9+11 = 562.
	if got := r.CPU.AllocatedHours * 3600; math.Abs(got-562) > 1e-6 {
		t.Errorf("allocated core-seconds = %v, want 562", got)
	}
	if got := r.CPU.CapacityHours * 3600; got != 32*120 {
		t.Errorf("capacity core-seconds = %v, want %d", got, 32*120)
	}
	if len(r.Groups) != 2 || r.Groups[0].Keys["partition"] != "cpu" || r.Groups[1].Keys["partition"] != "gpu" {
		t.Errorf("groups %+v", r.Groups)
	}
	if r.Inputs[0].Records != 13 {
		t.Errorf("records %d", r.Inputs[0].Records)
	}
}

func TestReportSkipsAndStrict(t *testing.T) {
	r := reportJSON(t, "--input", "slurm-sacct:../../collector/testdata/sacct/edge-cases.psv", "--from", "2026-03-01T00:00:00", "--to", "2026-03-02T00:00:00")
	if r.Skipped != 3 || r.Inputs[0].Skipped["bad_time"] != 1 || r.Inputs[0].Skipped["bad_tres"] != 1 || r.Inputs[0].Skipped["bad_order"] != 1 {
		t.Errorf("skipped %d %v", r.Skipped, r.Inputs[0].Skipped)
	}
	code, _, errOut := scmon(t, "report", "--strict", "--input", "slurm-sacct:../../collector/testdata/sacct/edge-cases.psv")
	if code != 1 || !strings.Contains(errOut, "edge-cases.psv:18: field Start") {
		t.Errorf("strict: exit %d, stderr %q", code, errOut)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"report", "--bogus"}, 2, "unknown flag"},
		{[]string{"report", "--input", "no-such-format:x"}, 2, `unknown format "no-such-format"`},
		{[]string{"report", "--input", "nocolon"}, 2, "want FORMAT:PATH"},
		{[]string{"report", "--by", "colour"}, 2, `unknown grouping key "colour"`},
		{[]string{"report", "--every", "fortnight"}, 2, `unknown period "fortnight"`},
		{[]string{"report", "-o", "xml"}, 2, "want table, json or csv"},
		{[]string{"report", "--input", "slurm-sacct:/nonexistent/file"}, 1, "no such file"},
		{[]string{"report", "--capacity", "inventory:../../collector/testdata/inventory/unknown-key.bad.yaml", "--input", "swf:../../collector/testdata/swf/KTH-SP2-1996-2.1-cln.swf.gz"}, 1, "cores_per_node"},
		{[]string{"report", "--timezone", "Mars/Olympus"}, 2, "--timezone"},
		{[]string{"report", "--from", "yesterday"}, 2, "--from"},
	}
	for _, tt := range tests {
		code, _, errOut := scmon(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.msg) {
			t.Errorf("scmon %v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.msg)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := scmon(t, "version")
	if code != 0 || !strings.HasPrefix(out, "scmon ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestClassifyJSONL(t *testing.T) {
	code, out, errOut := scmon(t, "classify", "-q", "-o", "jsonl", "--input", "slurm-sacct:../../collector/testdata/sacct/lab-sacct-steps.psv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 13 {
		t.Fatalf("%d lines, want 13", len(lines))
	}
	want := map[string]string{"1": "ai_training", "2": "ai_inference", "4": "ai_inference", "5": "other", "3_2": "ai_training"}
	for _, l := range lines {
		var row struct {
			JobID string   `json:"job_id"`
			Class string   `json:"class"`
			Rules []string `json:"rules"`
		}
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatal(err)
		}
		if row.Rules == nil {
			t.Errorf("%s: rules missing", row.JobID)
		}
		if c, ok := want[row.JobID]; ok && c != row.Class {
			t.Errorf("job %s: class %s, want %s", row.JobID, row.Class, c)
		}
	}
}

func TestClassifyExplainAndEval(t *testing.T) {
	code, out, _ := scmon(t, "classify", "-q", "--input", "slurm-sacct:../../collector/testdata/sacct/lab-sacct-steps.psv", "--explain", "4")
	if code != 0 || !strings.Contains(out, "job 4 (cluster lab): ai_inference") || !strings.Contains(out, "name-eval") {
		t.Errorf("explain: exit %d\n%s", code, out)
	}
	// Every stage, over the whole input: a job nothing decides shows the
	// lexicon, both decisions, the context and the learned model.
	code, out, _ = scmon(t, "classify", "-q", "--input", "slurm-sacct:../../classify/testdata/corpus/slurm.sacct",
		"--rules", "../../classify/testdata/corpus/site.yaml", "--explain", "1980,1553")
	if code != 0 {
		t.Errorf("explain of every stage: exit %d", code)
	}
	for _, want := range []string{"job 1980 (cluster hpc1): unknown", "decision 1 (AI or not): best score", "context:\n", "with context: best score",
		"learned: ai_", "top tokens for", "final: rules stage", "job 1553", "lexicon:\n  + ", "decision 2 (training or inference)"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut := scmon(t, "classify", "-q", "--input", "slurm-sacct:../../collector/testdata/sacct/lab-sacct-steps.psv", "--explain", "999")
	if code != 1 || !strings.Contains(errOut, "no allocation with job id 999") {
		t.Errorf("explain of a missing id: exit %d, %q", code, errOut)
	}
	code, out, errOut = scmon(t, "classify", "-q", "--input", "slurm-sacct:../../classify/testdata/corpus/slurm.sacct",
		"--input", "pbs:../../classify/testdata/corpus/pbs", "--rules", "../../classify/testdata/corpus/site.yaml", "--eval", "../../classify/testdata/corpus/labels.csv")
	if code != 0 || !strings.Contains(out, "records: 193, labelled 193") || !strings.Contains(out, "== by core_hours") {
		t.Errorf("eval: exit %d, %s\n%s", code, errOut, out)
	}
}

// TestReportSample: `scmon report` with no input runs the built-in sample
// center and reproduces the published figures: 65.9% of capacity used (as
// printed, to one decimal) and an AI share between 15% and 20%.
func TestReportSample(t *testing.T) {
	r := reportJSON(t)
	if r.Headline.Basis != "billing" {
		t.Errorf("headline basis %q, want billing", r.Headline.Basis)
	}
	if got := math.Round(r.Headline.Utilization*1000) / 10; got != 65.9 {
		t.Errorf("headline utilization prints as %.1f%%, want 65.9%% (%.5f)", got, r.Headline.Utilization)
	}
	if r.Headline.AIShare < 0.15 || r.Headline.AIShare >= 0.20 {
		t.Errorf("AI share %.4f, want 15-20%%", r.Headline.AIShare)
	}
	if r.Skipped != 0 || r.Inputs[0].Records < 6000 {
		t.Errorf("skipped %d, records %d", r.Skipped, r.Inputs[0].Records)
	}
	if r.Window.From != "2026-10-01T00:00:00+08:00" || r.Window.To != "2026-10-31T00:00:00+08:00" {
		t.Errorf("window %+v", r.Window)
	}
	code, out, _ := scmon(t, "report", "-q")
	if code != 0 || !strings.Contains(out, "utilization 65.9%") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}
