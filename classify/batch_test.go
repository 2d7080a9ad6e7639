package classify

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// TestContextStage: a job that says nothing by itself takes the class of
// its account's confidently decided jobs, and the explanation says so in
// words; alone, it stays unknown.
func TestContextStage(t *testing.T) {
	c := New(mustDefault(t), Options{})
	var recs []*job.Record
	for i := range 8 {
		recs = append(recs, mk(id(fmt.Sprint(i)), gpu(8), nodes(2), step("torchrun pretrain_gpt.py"), func(r *job.Record) { r.Account = "llm-lab" }))
	}
	odd := mk(id("99"), gpu(4), name("exp"), step("bash go.sh"), func(r *job.Record) { r.Account = "llm-lab" })
	if got := c.Classify(odd).Class; got != Unknown {
		t.Fatalf("alone: %s, want unknown", got)
	}
	recs = append(recs, odd)
	b := c.NewBatch(recs)
	ds := b.Decisions()
	if ds[8].Class != AITraining || !slices.Contains(ds[8].Rules, "context:account") {
		t.Fatalf("in context: %+v", ds[8])
	}
	if !slices.Equal(c.ClassifyBatch(recs)[8].Rules, ds[8].Rules) {
		t.Error("ClassifyBatch and NewBatch disagree")
	}
	text := b.Explain(8).String()
	if !strings.Contains(text, "account llm-lab: 8 of 8 decided AI jobs are ai_training") || !strings.Contains(text, "final: context stage") {
		t.Errorf("explanation lacks the context:\n%s", text)
	}
	// A job without any evidence, alone in its keys, stays unknown.
	lone := mk(id("100"), name("x"), func(r *job.Record) { r.Account = "solo" })
	if d := c.ClassifyBatch(append(recs, lone))[9]; d.Class != Unknown {
		t.Errorf("no evidence: %+v, want unknown", d)
	}
}

// TestLearnedStage: tokens that confidently decided jobs share decide an
// undecided job when the context says nothing; switched off in the rules
// file, the job stays unknown.
func TestLearnedStage(t *testing.T) {
	var recs []*job.Record
	for i := range 60 {
		recs = append(recs, mk(id(fmt.Sprint(i)), gpu(8), step("vllm serve /models/zeta"+fmt.Sprint(i)), name("zetaserve"),
			func(r *job.Record) { r.Account = fmt.Sprint("a", i); r.WorkDir = "/w/zetaserve" }))
		recs = append(recs, mk(id(fmt.Sprint(100+i)), step("gmx mdrun -deffnm prod"), name("membrane"),
			func(r *job.Record) { r.Account = fmt.Sprint("b", i); r.WorkDir = "/w/membrane" }))
	}
	odd := mk(id("999"), gpu(1), step("bash ./zetaserve.sh"), name("q"), func(r *job.Record) { r.Account = "c"; r.WorkDir = "/w/zetaserve/q" })
	recs = append(recs, odd)
	c := New(mustDefault(t), Options{})
	b := c.NewBatch(recs)
	d := b.Decisions()[len(recs)-1]
	if d.Class != AIInference || !slices.Contains(d.Rules, RuleLearned) {
		t.Fatalf("learned: %+v\n%s", d, b.Explain(len(recs)-1))
	}
	ex := b.Explain(len(recs) - 1)
	if ex.Learned == nil || len(ex.Learned.Top) == 0 || ex.Learned.Top[0].Token != "zetaserve" {
		t.Errorf("top tokens %+v", ex.Learned)
	}
	off := New(mustParse(t, "base: default\nlearned: {enabled: false}\n"), Options{})
	if d := off.ClassifyBatch(recs)[len(recs)-1]; d.Class != Unknown {
		t.Errorf("learned stage off: %+v, want unknown", d)
	}
}

// TestIncrementalContext: a daemon's context of earlier polls decides a
// later record as a batch of both would.
func TestIncrementalContext(t *testing.T) {
	c := New(mustDefault(t), Options{})
	x := NewContext()
	var first []*job.Record
	for i := range 6 {
		first = append(first, mk(id(fmt.Sprint(i)), gpu(8), step("gmx mdrun -nb gpu"), name("md_prod"), func(r *job.Record) { r.User = "ana" }))
	}
	c.ClassifyWith(x, first)
	later := mk(id("50"), gpu(1), step("python a.py"), name("q7"), func(r *job.Record) { r.User = "ana" })
	d := c.ClassifyWith(x, []*job.Record{later})[0]
	if d.Class != Other || !slices.Contains(d.Rules, "context:user") {
		t.Errorf("later poll: %+v", d)
	}
	if x.Len() != 6 {
		t.Errorf("context holds %d decisions, want 6", x.Len())
	}
}

func TestFamiliesWithout(t *testing.T) {
	rs := mustDefault(t)
	fams := rs.Families()
	for _, want := range []string{"train_frameworks", "serving_engines", "hpc_chemistry", "eval_harnesses"} {
		if !slices.Contains(fams, want) {
			t.Errorf("families %v lack %s", fams, want)
		}
	}
	if n := len(rs.Terms()); n < 200 {
		t.Errorf("lexicon has %d terms, want at least 200", n)
	}
	for _, term := range rs.Terms() {
		if term.Source == "" || term.Family == "" {
			t.Errorf("term %q lacks a source or family", term.Term)
		}
	}
	r := mk(gpu(16), nodes(2), name("job"), step("bash run_megatron.sh"))
	if got := New(rs, Options{}).Classify(r).Class; got != AITraining {
		t.Errorf("run_megatron.sh: %s", got)
	}
	without := rs.Without("train_frameworks")
	if slices.Contains(without.Families(), "train_frameworks") {
		t.Error("Without kept the family")
	}
	if got := New(without, Options{}).Classify(r).Class; got == AITraining && slices.Contains(New(without, Options{}).Classify(r).Rules, "lexicon:train_frameworks") {
		t.Error("Without kept the family's terms")
	}
	if len(rs.Families()) != len(fams) {
		t.Error("Without changed the receiver")
	}
}

// TestTokenMatching: one term, every spelling.
func TestTokenMatching(t *testing.T) {
	c := New(mustDefault(t), Options{})
	for _, r := range []*job.Record{
		mk(gpu(8), step("bash run_megatron.sh")),
		mk(gpu(8), name("megatron_gpt")),
		mk(gpu(8), func(r *job.Record) { r.WorkDir = "/data/Megatron-LM/" }),
		mk(gpu(8), name("MegatronLM-test")),
	} {
		d := c.Classify(r)
		if !slices.Contains(d.Rules, "lexicon:train_frameworks") {
			t.Errorf("%q %q %v: rules %v", r.Name, r.WorkDir, r.Steps, d.Rules)
		}
	}
}

// TestAcceleratorsAreNotAI: post-processing on a GPU partition is other.
func TestAcceleratorsAreNotAI(t *testing.T) {
	c := New(mustDefault(t), Options{})
	for _, cmd := range []string{"python plot_results.py", "python postprocess.py out/", "pvbatch render.py", "gmx mdrun -nb gpu"} {
		if got := c.Classify(mk(gpu(1), step(cmd))).Class; got != Other {
			t.Errorf("%s on a GPU: %s, want other", cmd, got)
		}
	}
}

// TestSiteLexicon: a rules file's lexicon section adds families and terms,
// disables families, and its later-stage settings apply.
func TestSiteLexicon(t *testing.T) {
	rs, err := LoadRules("testdata/rules/lexicon-site.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fams := rs.Families()
	if !slices.Contains(fams, "site_codes") || slices.Contains(fams, "model_families") || !slices.Contains(fams, "hpc_md") {
		t.Errorf("families %v", fams)
	}
	c := New(rs, Options{})
	if d := c.Classify(mk(gpu(4), step("srun mycfd -i case1"))); d.Class != Other || !slices.Contains(d.Rules, "lexicon:site_codes") {
		t.Errorf("site term: %+v", d)
	}
	if d := c.Classify(mk(gpu(4), step("myserve --port 8000"))); d.Class != AIInference || !slices.Contains(d.Rules, "lexicon:serving_engines") {
		t.Errorf("term added to a built-in family: %+v", d)
	}
	if d := c.Classify(mk(gpu(4), name("x"), step("python run.py --model llama"))); slices.Contains(d.Rules, "lexicon:model_families") {
		t.Errorf("disabled family still counted: %+v", d)
	}
	if rs.Thresholds().SubtypeDefault != AIInference || rs.Learned().Enabled || rs.Context().MinJobs != 10 {
		t.Errorf("settings %+v %+v %+v", rs.Thresholds(), rs.Learned(), rs.Context())
	}
}

// FuzzTokenize: tokens are never empty, hold no ASCII separator, and are
// folded.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"run_megatron.sh", "/data/Megatron-LM/", "HTTPServer", "模型训练_qwen2.5", "ÉCOLE", "\xff\xfe", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, split := range [][]string{Tokenize(s), words(s)} {
			for _, tok := range split {
				if tok == "" {
					t.Fatalf("%q: empty token in %q", s, split)
				}
				if foldKey(tok) != tok {
					t.Fatalf("%q: token %q not folded", s, tok)
				}
				// Folding may turn a letter into a combining mark
				// (Greek capital iota), never into ASCII punctuation.
				for i := 0; i < len(tok); i++ {
					if c := tok[i]; c < 0x80 && kindOf(rune(c)) == kSep {
						t.Fatalf("%q: token %q holds a separator %q", s, tok, c)
					}
				}
			}
		}
	})
}

// TestContextDecisionsApart: an account that both trains and serves says
// "AI" to a job that says nothing itself, without choosing its subtype,
// and context never turns the subtype a job's own shape says clearly.
func TestContextDecisionsApart(t *testing.T) {
	c := New(mustDefault(t), Options{})
	acct := func(r *job.Record) { r.Account = "mixed-ai" }
	var recs []*job.Record
	for i := range 4 {
		recs = append(recs, mk(id(fmt.Sprint("t", i)), gpu(8), nodes(2), step("torchrun pretrain_gpt.py"), acct))
		recs = append(recs, mk(id(fmt.Sprint("s", i)), gpu(1), step("vllm serve /models/m"), acct))
	}
	bare := mk(id("bare"), gpu(4), name("exp"), step("bash go.sh"), acct)
	if got := c.Classify(bare).Class; got != Unknown {
		t.Fatalf("alone: %s, want unknown", got)
	}
	b := c.NewBatch(append(recs, bare))
	d := b.Decisions()[8]
	if !d.Class.IsAI() || !slices.Contains(d.Rules, "context:account") {
		t.Fatalf("bare job in a mixed AI account: %+v, want AI by context:account", d)
	}
	if text := b.Explain(8).String(); !strings.Contains(text, "account mixed-ai: 8 of 8 decided jobs are AI") || strings.Contains(text, "decided AI jobs are") {
		t.Errorf("explanation should read the account as AI without a subtype:\n%s", text)
	}

	// An account that only serves, and a job of its on four nodes whose
	// own evidence is AI with no subtype: its nodes say training.
	// Every key (account, user, work directory, name family) leans
	// inference, enough to pass subtype_margin on its own.
	svc := func(r *job.Record) { r.Account, r.WorkDir = "svc", "/srv/svc" }
	var serve []*job.Record
	for i := range 8 {
		serve = append(serve, mk(id(fmt.Sprint("v", i)), gpu(1), name("qwen_exp"), step("vllm serve /models/m"), svc))
	}
	big := mk(id("big"), gpu(8), nodes(4), name("qwen_exp"), step("bash go.sh"), svc)
	own := c.Classify(big)
	if !own.Class.IsAI() {
		t.Fatalf("own evidence: %+v, want AI", own)
	}
	got := c.ClassifyBatch(append(serve, big))[8]
	if got.Class != AITraining || !slices.Contains(got.Rules, RuleSubtypeCues) {
		t.Errorf("four-node job of a serving account: %+v, want ai_training by its own cues", got)
	}
	// Without the nodes, the account's subtype settles it.
	small := mk(id("small"), gpu(8), name("qwen_exp"), step("bash go.sh"), svc)
	if got := c.ClassifyBatch(append(serve, small))[8]; got.Class != AIInference || !slices.Contains(got.Rules, "context:account") {
		t.Errorf("one-node job of a serving account: %+v, want ai_inference by context", got)
	}
}

// TestContextSubtypeIsNoAIEvidence: an account of simulations with a few
// serving jobs says "other" for a bare GPU job, and its AI jobs' subtype
// (all inference) adds nothing to the job's AI score: the job stays
// unknown or becomes other, never AI.
func TestContextSubtypeIsNoAIEvidence(t *testing.T) {
	c := New(mustDefault(t), Options{})
	acct := func(r *job.Record) { r.Account, r.User = "atm", "u1" }
	var recs []*job.Record
	for i := range 12 {
		recs = append(recs, mk(id(fmt.Sprint("w", i)), gpu(4), step("srun wrf.exe"), acct))
	}
	for i := range 6 {
		recs = append(recs, mk(id(fmt.Sprint("s", i)), gpu(1), step("vllm serve /models/m"), acct))
	}
	bare := mk(id("bare"), gpu(16), nodes(2), name("sub_x.sbatch"), step("sh start.sh"), acct)
	b := c.NewBatch(append(recs, bare))
	d := b.Decisions()[len(recs)]
	if d.Class.IsAI() {
		t.Fatalf("bare job of a simulation account: %+v, want unknown or other", d)
	}
	if text := b.Explain(len(recs)).String(); strings.Contains(text, "decided AI jobs are ai_inference") {
		t.Errorf("explanation lists a subtype hit that did not count:\n%s", text)
	}
}

// TestContextBySize: an account whose many small GPU jobs are simulations
// and whose few large ones train models says nothing for a small job, but
// a large job without evidence of its own takes its class from the
// account's jobs of its size, and the explanation says which.
func TestContextBySize(t *testing.T) {
	c := New(mustDefault(t), Options{})
	var recs []*job.Record
	for i := range 6 {
		recs = append(recs, mk(id(fmt.Sprint("t", i)), gpu(16), nodes(2), elapsed(10*time.Hour), step("torchrun pretrain_gpt.py"), acct("mixed")))
	}
	for i := range 10 {
		recs = append(recs, mk(id(fmt.Sprint("m", i)), gpu(1), elapsed(time.Hour), step("gmx mdrun -deffnm prod"), acct("mixed")))
	}
	n := len(recs)
	big := mk(id("big"), gpu(16), elapsed(20*time.Hour), name("exp"), step("bash go.sh"), acct("mixed"))
	small := mk(id("small"), gpu(1), elapsed(time.Hour), name("exp"), step("bash go.sh"), acct("mixed"))
	for _, r := range []*job.Record{big, small} {
		if got := c.Classify(r).Class; got != Unknown {
			t.Fatalf("%s alone: %s, want unknown", r.JobID, got)
		}
	}
	b := c.NewBatch(append(recs, big, small))
	ds := b.Decisions()
	if ds[n].Class != AITraining || !slices.Contains(ds[n].Rules, "context:account") {
		t.Errorf("large job: %+v, want ai_training by context:account\n%s", ds[n], b.Explain(n))
	}
	text := b.Explain(n).String()
	if !strings.Contains(text, "account mixed: 6 of 6 decided jobs of 128 accelerator-hours or more are AI") {
		t.Errorf("explanation lacks the sized context:\n%s", text)
	}
	if ds[n+1].Class != Unknown {
		t.Errorf("small job: %+v, want unknown (6 of 16 jobs are AI)", ds[n+1])
	}
	// The same job still running is as large as its time limit: small
	// with half an hour, large with twenty hours.
	short := mk(id("run"), gpu(16), running(), limit(30*time.Minute), name("exp"), step("bash go.sh"), acct("mixed"))
	if d := c.ClassifyBatch(append(recs, short))[n]; d.Class != Unknown {
		t.Errorf("running job with half an hour: %+v, want unknown", d)
	}
	long := mk(id("run"), gpu(16), running(), limit(20*time.Hour), name("exp"), step("bash go.sh"), acct("mixed"))
	if d := c.ClassifyBatch(append(recs, long))[n]; d.Class != AITraining {
		t.Errorf("running job with twenty hours: %+v, want ai_training by context:account", d)
	}
}
