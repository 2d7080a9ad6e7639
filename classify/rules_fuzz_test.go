package classify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// FuzzParseRules feeds the rules loader arbitrary files, seeded with every
// good and bad rules file of testdata and the built-in rules. A file is
// either refused with an error that names the file, or it loads into a rule
// set that classifies a record without panicking, whose decision is one of
// the four classes and whose rules are all rules or stages of the set.
func FuzzParseRules(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "rules", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(DefaultRulesYAML())
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	rec := &job.Record{Cluster: "c", JobID: "1", Name: "run_train_llama.sh", Partition: "gpu", Account: "a", User: "u",
		SubmitLine: "sbatch run_train_llama.sh", WorkDir: "/data/Llama-LM", State: job.StateCompleted,
		Submit: t0, Start: t0, End: t0.Add(26 * time.Hour), Nodes: 2, Cores: 64,
		Accels: []job.Accel{{Name: "gpu", Type: "a100", Count: 16}},
		Steps:  []job.Step{{ID: "0", Name: "torchrun", Command: "srun torchrun train.py"}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		rs, err := ParseRules("site.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "site.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		c := New(rs, Options{})
		for _, d := range []Decision{c.Classify(rec), c.ClassifyBatch([]*job.Record{rec, rec})[0]} {
			if d.Class > Other {
				t.Fatalf("decision %v is not a class", d.Class)
			}
		}
	})
}
