package classify

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// variedRecords builds n records from pools of names, commands, resources
// and durations, with numeric values on and around the thresholds rules
// compare against, so that cache buckets are exercised at their edges.
func variedRecords(n int, seed uint64) []*job.Record {
	rng := rand.New(rand.NewPCG(seed, 1))
	names := []string{"train_llama", "eval_mmlu", "vllm-72b", "job", "md_run", "训练_qwen", "推理", "python", "wrf", "run", "test", "sft-7b"}
	cmds := []string{"", "torchrun --nproc_per_node 8 train.py", "torchrun eval_mmlu.py", "vllm serve x", "python main.py",
		"gmx mdrun -nb gpu", "lmp -sf gpu -in in.lj", "mpirun ./a.out", "deepspeed inference.py", "python generate_mesh.py",
		"msrun --worker_num 8 pretrain_gpt.py", "bash run.sh", "python plot.py", "all_reduce_perf -b 8"}
	parts := []string{"gpu", "cpu", "dcu", "dcu_ai", "gpu_infer"}
	opts := func() []recOpt {
		o := []recOpt{
			id(fmt.Sprint(rng.IntN(1 << 30))),
			name(names[rng.IntN(len(names))]),
			part(parts[rng.IntN(len(parts))]),
			nodes(int64(1 + rng.IntN(4))),
			cores(int64([]int{1, 2, 3, 4, 5, 8, 64}[rng.IntN(7)])),
			elapsed(time.Duration([]int{0, 299, 300, 301, 3599, 3600, 3601, 43199, 43200, 43201}[rng.IntN(10)]) * time.Second),
			func(r *job.Record) { r.User = fmt.Sprint("u", rng.IntN(50)) },
		}
		if q := rng.IntN(3); q == 0 {
			o = append(o, qos("dcu_min"))
		}
		for range rng.IntN(3) {
			if c := cmds[rng.IntN(len(cmds))]; c != "" {
				o = append(o, step(c))
			}
		}
		switch rng.IntN(6) {
		case 0:
			o = append(o, gpu(int64(rng.IntN(9))))
		case 1:
			o = append(o, dcu(int64(1+rng.IntN(4))))
		case 2:
			o = append(o, npu(8), gres("mps", "", 100))
		}
		switch rng.IntN(8) {
		case 0:
			o = append(o, running())
		case 1:
			o = append(o, unlimited())
		case 2:
			o = append(o, limit(7*24*time.Hour))
		}
		return o
	}
	recs := make([]*job.Record, n)
	for i := range recs {
		recs[i] = mk(opts()...)
	}
	return recs
}

// cacheRuleSets are rule sets that read every kind of field, numeric ones
// with thresholds included.
func cacheRuleSets(t testing.TB) map[string]*RuleSet {
	t.Helper()
	data, err := os.ReadFile("testdata/rules/every-operator.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	every, err := ParseRules("every-operator", data)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*RuleSet{"default": mustDefault(t), "forced": forcedRules(t), "every-operator": every}
}

func TestCacheGivesSameAnswers(t *testing.T) {
	recs := variedRecords(20000, 7)
	for name, rs := range cacheRuleSets(t) {
		t.Run(name, func(t *testing.T) {
			cached, uncached := New(rs, Options{}), New(rs, Options{CacheSize: -1})
			for pass := range 2 {
				for _, r := range recs {
					a, b := cached.Classify(r), uncached.Classify(r)
					if a.Class != b.Class || !slices.Equal(a.Rules, b.Rules) {
						t.Fatalf("pass %d: cached %+v, uncached %+v\n%s", pass, a, b, uncached.Explain(r))
					}
				}
			}
			st := cached.CacheStats()
			if st.Hits == 0 || st.Entries == 0 || st.Hits+st.Misses != uint64(2*len(recs)) {
				t.Errorf("cache stats %+v", st)
			}
			if uncached.CacheStats() != (CacheStats{}) {
				t.Errorf("disabled cache has stats %+v", uncached.CacheStats())
			}
			t.Logf("%d records, %d signatures", len(recs), st.Entries)
		})
	}
}

// TestCacheNumericBuckets walks values across a threshold in an order that
// would expose a cache keyed too coarsely.
func TestCacheNumericBuckets(t *testing.T) {
	rs := mustParse(t, `
thresholds: {min_score: 1, min_margin: 0}
rules:
  - {id: long, description: x, class: ai_training, stage: decisive, when: {field: elapsed, ge: 2h}}
  - {id: exact, description: x, class: other, stage: decisive, when: {field: cores, in: [4]}}
  - {id: open, description: x, class: ai_inference, stage: decisive, when: {field: timelimit, gt: 30d}}
`)
	c := New(rs, Options{})
	for _, tc := range []struct {
		r    *job.Record
		want Class
	}{
		{mk(elapsed(2*time.Hour - time.Second)), Unknown},
		{mk(elapsed(2 * time.Hour)), AITraining},
		{mk(elapsed(time.Second)), Unknown},
		{mk(elapsed(9 * time.Hour)), AITraining},
		{mk(running()), Unknown},
		{mk(cores(4)), Other},
		{mk(cores(3)), Unknown},
		{mk(cores(5)), Unknown},
		{mk(cores(4)), Other},
		{mk(unlimited()), AIInference},
		{mk(limit(31 * 24 * time.Hour)), AIInference},
		{mk(limit(30 * 24 * time.Hour)), Unknown},
		{mk(limit(0)), Unknown},
	} {
		if got := c.Classify(tc.r).Class; got != tc.want {
			t.Errorf("elapsed %v cores %d limit %v/%v: got %s, want %s", tc.r.End.Sub(tc.r.Start), tc.r.Cores, tc.r.Timelimit, tc.r.Unlimited, got, tc.want)
		}
	}
}

// TestCacheIgnoresUnreadFields: records that differ only in fields no rule
// reads share one signature.
func TestCacheIgnoresUnreadFields(t *testing.T) {
	c := New(mustDefault(t), Options{})
	for i := range 100 {
		c.Classify(mk(id(fmt.Sprint(i)), func(r *job.Record) { r.User = fmt.Sprint("u", i) },
			elapsed(time.Duration(i+1)*time.Minute), gpu(8), step("torchrun train.py")))
	}
	if st := c.CacheStats(); st.Entries != 1 || st.Hits != 99 {
		t.Errorf("stats %+v: want one signature and 99 hits", st)
	}
}

func TestCacheBounded(t *testing.T) {
	recs := variedRecords(5000, 3)
	rs := mustDefault(t)
	small, ref := New(rs, Options{CacheSize: 64}), New(rs, Options{CacheSize: -1})
	for _, r := range recs {
		if a, b := small.Classify(r), ref.Classify(r); a.Class != b.Class {
			t.Fatalf("bounded cache changed a decision: %+v vs %+v", a, b)
		}
	}
	if st := small.CacheStats(); st.Entries > 64 {
		t.Errorf("cache of 64 holds %d", st.Entries)
	}
}

func TestHitCounter(t *testing.T) {
	rs := mustDefault(t)
	c := New(rs, Options{})
	h := NewHitCounter(rs)
	hits := h.Counts()
	if len(hits) != len(HitIDs(rs)) || len(hits) < len(rs.Rules())+len(rs.Families()) {
		t.Fatalf("counter has %d ids, the set %d rules and %d families", len(hits), len(rs.Rules()), len(rs.Families()))
	}
	for id, n := range hits {
		if n != 0 {
			t.Errorf("%s: %d before any record", id, n)
		}
	}
	serve := mk(gpu(8), step("vllm serve x"), name("serve_x"))
	train := mk(gpu(8), step("torchrun train.py"))
	// Classifying has no side effect: only what the caller adds counts.
	for range 3 {
		c.Classify(serve)
		c.Classify(train)
		c.ClassifyBatch([]*job.Record{serve, train})
	}
	c.Explain(serve)
	for id, n := range h.Counts() {
		if n != 0 {
			t.Errorf("%s: %d after classifying without storing", id, n)
		}
	}
	h.Add(c.Classify(serve), 3)
	h.Add(c.Classify(train), 3)
	hits = h.Counts()
	for id, want := range map[string]uint64{
		"serve-vllm": 3, "name-inference": 0, // decided outright: evidence not counted
		"launcher-torchrun": 3, "train-script-name": 3, "accel-training": 3, "cpu-only": 0,
		"lexicon:launchers": 3, "lexicon:serving_engines": 0,
	} {
		if hits[id] != want {
			t.Errorf("%s: %d hits, want %d", id, hits[id], want)
		}
	}
}

// TestConcurrentClassify runs classifiers from many goroutines; run it with
// -race. Answers must equal a sequential run's.
func TestConcurrentClassify(t *testing.T) {
	recs := variedRecords(4000, 11)
	rs := forcedRules(t)
	seq := New(rs, Options{CacheSize: -1})
	want := make([]Decision, len(recs))
	for i, r := range recs {
		want[i] = seq.Classify(r)
	}
	for _, size := range []int{0, 16} {
		c := New(rs, Options{CacheSize: size})
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan string, workers)
		for w := range workers {
			wg.Go(func() {
				for k := range recs {
					i := (k + w*len(recs)/workers) % len(recs)
					if d := c.Classify(recs[i]); d.Class != want[i].Class || !slices.Equal(d.Rules, want[i].Rules) {
						errs <- fmt.Sprintf("record %d: %+v, want %+v", i, d, want[i])
						return
					}
					if k%500 == 0 {
						c.CacheStats()
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}

func TestWithForced(t *testing.T) {
	rs := mustDefault(t)
	r := mk(dcu(1), part("dcu"), step("python generate_mesh.py"))
	if got := New(rs, Options{}).Classify(r).Class; got != AIInference {
		t.Fatalf("without declaration: %s", got)
	}
	forced := rs.WithForced([]ForcedAccelerators{{Partition: "dcu"}})
	if got := New(forced, Options{}).Classify(r).Class; got != Unknown {
		t.Errorf("with declaration: %s", got)
	}
	if len(rs.Forced()) != 0 || len(forced.Forced()) != 1 {
		t.Errorf("WithForced changed its receiver: %v / %v", rs.Forced(), forced.Forced())
	}
	// A declaration limited to another kind leaves the DCU as evidence.
	other := rs.WithForced([]ForcedAccelerators{{Partition: "dcu", Kind: "gpu"}})
	if got := New(other, Options{}).Classify(r).Class; got != AIInference {
		t.Errorf("gpu-only declaration ignored the DCU: %s", got)
	}
}

func TestDecisionTies(t *testing.T) {
	rs := mustParse(t, `
thresholds: {min_score: 2, min_margin: 0}
rules:
  - {id: a, description: x, class: ai_training, stage: evidence, weight: 3, when: {field: job_name, contains: a}}
  - {id: b, description: x, class: ai_inference, stage: evidence, weight: 3, when: {field: job_name, contains: b}}
  - {id: c, description: x, class: other, stage: evidence, weight: -5, when: {field: job_name, contains: c}}
`)
	c := New(rs, Options{})
	for in, want := range map[string]Class{"a": AITraining, "b": AIInference, "ab": AITraining, "ac": AITraining, "c": Unknown, "x": Unknown} {
		// Four accelerators on one node: no secondary cue leans either way.
		if got := c.Classify(mk(name(in), gpu(4))).Class; got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
	// Clear AI evidence with a tied subtype is AI: the documented default
	// settles the subtype, and says so.
	if ex := c.Explain(mk(name("ab"), gpu(4))); !strings.Contains(ex.SubtypeDecision, "training and inference both score 3") ||
		!strings.Contains(ex.SubtypeDecision, "subtype_default ai_training") || !slices.Contains(ex.Decision.Rules, RuleSubtypeDefault) {
		t.Errorf("subtype decision %q, rules %v", ex.SubtypeDecision, ex.Decision.Rules)
	}
}

// TestBoundedEvidence: a job with thousands of steps and a huge submit line
// classifies like its first steps say, with a bounded cache key.
func TestBoundedEvidence(t *testing.T) {
	opts := []recOpt{gpu(8), submit("sbatch --wrap '" + strings.Repeat("echo x; ", 5000) + "'")}
	for i := range 5000 {
		opts = append(opts, step(fmt.Sprintf("torchrun train.py --shard %d", i)))
	}
	r := mk(opts...)
	c := New(mustDefault(t), Options{})
	if got := c.Classify(r).Class; got != AITraining {
		t.Errorf("got %s", got)
	}
	if d, ex := c.Classify(r), c.Explain(r); d.Class != ex.Decision.Class {
		t.Errorf("explain %s, classify %s", ex.Decision.Class, d.Class)
	}
	if sig := c.signature(nil, r); len(sig) > (maxSteps*2+8)*maxText/8 {
		t.Errorf("signature of %d bytes", len(sig))
	}
	// A step beyond the bound does not count.
	late := mk(append(slices.Clone(opts[2:2+maxSteps]), step("vllm serve x"))...)
	if matched(c, late)["serve-vllm"] {
		t.Error("step past maxSteps was read")
	}
}

// manyGres returns a record holding n distinct GRES types, one device
// each, after a first entry of 8 A100s.
func manyGres(n int) *job.Record {
	opts := []recOpt{gpu(8), step("torchrun pretrain_gpt.py")}
	for i := range n {
		opts = append(opts, gres("gpu", fmt.Sprintf("t%d", i), 1))
	}
	return mk(opts...)
}

// TestBoundedGres: a record with tens of thousands of distinct GRES types
// is read as its first maxAccels entries say, with a bounded cache key,
// so that classifying it costs what an ordinary record costs.
func TestBoundedGres(t *testing.T) {
	r := manyGres(70_000)
	c := New(mustDefault(t), Options{})
	if got := c.Classify(r).Class; got != AITraining {
		t.Errorf("got %s", got)
	}
	ex := c.Explain(r)
	if ex.Decision.Class != AITraining {
		t.Errorf("explain %+v", ex.Decision)
	}
	small := manyGres(maxAccels - 1)
	if a, b := len(c.signature(nil, r)), len(c.signature(nil, small)); a > b+64 {
		t.Errorf("signature of %d bytes with 70,000 GRES, %d with %d", a, b, maxAccels)
	}
	// The count reads the first maxAccels entries: 8 A100s and 63 others.
	var ev evidence
	c.x.extract(r, &ev)
	if got := ev.num[fAccelCount]; !got.present || got.v != 8+maxAccels-1 {
		t.Errorf("accel_count %+v, want %d", got, 8+maxAccels-1)
	}
}

// TestSubtypeCues: AI evidence that does not say training or inference (a
// model family name) takes its subtype from the job's shape.
func TestSubtypeCues(t *testing.T) {
	c := New(mustDefault(t), Options{})
	qwen := name("qwen_exp")
	for _, tc := range []struct {
		what string
		opts []recOpt
		want Class
	}{
		{"four nodes", []recOpt{gpu(32), nodes(4)}, AITraining},
		{"one node, four GPUs, no cue", []recOpt{gpu(4)}, AITraining},
		{"an array of single-node tasks", []recOpt{gpu(4), submit("sbatch --array=0-31%4 run.sh")}, AIInference},
		{"an array, short option", []recOpt{gpu(4), submit("sbatch -a 1-8 run.sh")}, AIInference},
		{"an array of four-node tasks", []recOpt{gpu(32), nodes(4), submit("sbatch --array=0-3 run.sh")}, AITraining},
		{"sbatch -J is a name, not an array", []recOpt{gpu(4), submit("sbatch -J 7b run.sh")}, AITraining},
		{"cancelled after a day on four GPUs", []recOpt{gpu(4), state(job.StateCancelled), elapsed(30 * time.Hour)}, AIInference},
		{"timed out after a day on eight GPUs", []recOpt{gpu(8), state(job.StateTimeout), elapsed(30 * time.Hour)}, AITraining},
		{"stopped after a day on a CPU node", []recOpt{state(job.StateCancelled), elapsed(30 * time.Hour)}, AIInference},
	} {
		d := c.Classify(mk(append([]recOpt{qwen, step("bash go.sh")}, tc.opts...)...))
		if d.Class != tc.want {
			t.Errorf("%s: %+v, want %s", tc.what, d, tc.want)
		}
	}
}
