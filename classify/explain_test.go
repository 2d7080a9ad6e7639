package classify

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/explain")

// explainCases are rendered to testdata/explain/<name>.golden.
var explainCases = []struct {
	name string
	r    *job.Record
}{
	{"decisive-shadowing", mk(id("4711"), name("serve_qwen"), gpu(8), state(job.StateTimeout), elapsed(72*time.Hour),
		submit("sbatch serve.sh"), step("vllm serve Qwen/Qwen2.5-72B-Instruct --tensor-parallel-size 8 --port 8000"))},
	{"torchrun-evaluation", mk(id("4712"), name("mmlu_8gpu"), gpu(8), submit("sbatch ev.sh"),
		step("torchrun --nproc_per_node 8 eval_mmlu.py --ckpt /ckpt/llama-70b"))},
	{"forced-dcu", mk(id("4713"), name("mesh"), dcu(1), part("dcu"), qos("dcu_min"), step("python generate_mesh.py"))},
	{"gpu-alone", mk(id("4714"), name("python"), gpu(8), submit("sbatch job.sh"), step("python main.py --cfg cfg.yaml"))},
	{"chinese-name", mk(id("4715"), name("分子动力学模拟"), cores(64), step("gmx mdrun -deffnm md -ntomp 8"))},
}

func TestExplainGolden(t *testing.T) {
	c := New(forcedRules(t), Options{})
	for _, tc := range explainCases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Explain(tc.r).String()
			file := filepath.Join("testdata", "explain", tc.name+".golden")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("explanation differs from %s (go test -update rewrites it):\n%s", file, got)
			}
		})
	}
}

func TestExplainStructure(t *testing.T) {
	c := New(forcedRules(t), Options{})
	ex := c.Explain(explainCases[0].r)
	if ex.Stage != Decisive || ex.Decision.Class != AIInference || !slices.Equal(ex.Decision.Rules, []string{"serve-vllm"}) {
		t.Fatalf("decision %+v stage %s", ex.Decision, ex.Stage)
	}
	if len(ex.Fired) != 1 || ex.Fired[0].Matches[0].Field != "command[step_commands]" || ex.Fired[0].Matches[0].Text != "vllm serve" {
		t.Errorf("fired %+v", ex.Fired)
	}
	var shadowed []string
	for _, h := range ex.Shadowed {
		shadowed = append(shadowed, h.ID)
	}
	for _, want := range []string{"name-inference", "accel-training", "infer-script-name"} {
		if !slices.Contains(shadowed, want) {
			t.Errorf("shadowed %v lacks %s", shadowed, want)
		}
	}
	// Scores are computed even when a decisive rule decides.
	if len(ex.Scores) != 3 || ex.Scores[1].Class != AIInference || ex.Scores[1].Score == 0 {
		t.Errorf("scores %+v", ex.Scores)
	}
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"class":"ai_inference"`, `"stage":"decisive"`, `"rules":["serve-vllm"]`, `"field":"command[step_commands]"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	var back Explanation
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Decision.Class != AIInference || back.Stage != Decisive || back.Fired[0].Class != AIInference {
		t.Errorf("explanation does not survive JSON: %+v", back)
	}

	ex = c.Explain(explainCases[2].r)
	if ex.AccelForced == "" || !strings.Contains(ex.String(), "accelerators ignored: partition dcu and qos dcu_min forces accelerators") {
		t.Errorf("forced declaration not explained:\n%s", ex)
	}
}

// TestExplainAgreesWithClassify checks on every corpus-like record that
// the explanation's decision is the classifier's.
func TestExplainAgreesWithClassify(t *testing.T) {
	c := New(forcedRules(t), Options{})
	recs := []*job.Record{}
	for _, cases := range defaultRuleCases {
		for _, tc := range cases {
			recs = append(recs, tc.hit, tc.miss)
		}
	}
	for _, tc := range explainCases {
		recs = append(recs, tc.r)
	}
	for _, r := range recs {
		d, ex := c.Classify(r), c.Explain(r)
		if d.Class != ex.Decision.Class || !slices.Equal(d.Rules, ex.Decision.Rules) {
			t.Errorf("Classify %+v, Explain %+v\n%s", d, ex.Decision, ex)
		}
	}
}
