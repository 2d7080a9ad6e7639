package classify

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// fixedClassifier returns the class stored per job id, so that evaluation
// is tested apart from the rules.
type fixedClassifier map[string]Class

func (f fixedClassifier) Classify(r *job.Record) Decision { return Decision{Class: f[r.JobID]} }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestEvaluateHandComputed checks every figure against values worked out
// by hand (see the comments).
func TestEvaluateHandComputed(t *testing.T) {
	h := time.Hour
	recs := []*job.Record{
		// id  truth        predicted     cores hours accels  core-h accel-h
		// r1  training     training      10    2     4 (+mps) 20     8
		mk(id("r1"), cores(10), elapsed(2*h), gpu(4), gres("mps", "", 100)),
		// r2  training     unknown       4     1     1        4      1
		mk(id("r2"), cores(4), elapsed(h), gpu(1)),
		// r3  inference    training      2     3     2        6      6
		mk(id("r3"), cores(2), elapsed(3*h), npu(2)),
		// r4  other        other         100   1     0 (+fpga) 100   0
		mk(id("r4"), cores(100), elapsed(h), gres("fpga", "", 2)),
		// r5  other        inference     1     10    0        10     0
		mk(id("r5"), cores(1), elapsed(10*h)),
		// r6  unlabelled
		mk(id("r6")),
		// r7  inference    inference     8     running 1      0      0
		mk(id("r7"), cores(8), gpu(1), running()),
		// r8  other (by RawID) other     1     1     0        1      0
		mk(id("5_1"), func(r *job.Record) { r.RawID = "77" }, cores(1), elapsed(h)),
	}
	labels := Labels{"r1": AITraining, "r2": AITraining, "r3": AIInference, "r4": Other, "r5": Other,
		"r7": AIInference, "77": Other, "999": AITraining}
	pred := fixedClassifier{"r1": AITraining, "r2": Unknown, "r3": AITraining, "r4": Other, "r5": AIInference,
		"r6": Other, "r7": AIInference, "5_1": Other}
	ev := Evaluate(pred, recs, labels, nil)

	if ev.Records != 8 || ev.Labelled != 7 || ev.Unlabelled != 1 || len(ev.MissingRecords) != 1 || ev.MissingRecords[0] != "999" {
		t.Fatalf("counts: %+v", ev)
	}
	type cls struct{ p, r, f float64 }
	for _, tc := range []struct {
		b                            Basis
		total, acc, cov, ai, lo, hi  float64
		train, infer, other          cls
		confTT, confTU, confIT, conf float64
	}{
		{
			b: ByJobs, total: 7, acc: 4.0 / 7, cov: 6.0 / 7, ai: 4.0 / 7, lo: 4.0 / 7, hi: 5.0 / 7,
			// training: TP r1, predicted r1 r3, labelled r1 r2.
			train: cls{0.5, 0.5, 0.5},
			// inference: TP r7, predicted r5 r7, labelled r3 r7.
			infer: cls{0.5, 0.5, 0.5},
			// other: TP r4 r8, predicted r4 r8, labelled r4 r5 r8: F1 = 2*1*(2/3)/(5/3).
			other:  cls{1, 2.0 / 3, 0.8},
			confTT: 1, confTU: 1, confIT: 1,
		},
		{
			// total 20+4+6+100+10+0+1 = 141; correct 20+100+0+1 = 121.
			b: ByCoreHours, total: 141, acc: 121.0 / 141, cov: 137.0 / 141,
			ai: 30.0 / 141, lo: 36.0 / 141, hi: 40.0 / 141,
			train:  cls{20.0 / 26, 20.0 / 24, 2 * (20.0 / 26) * (20.0 / 24) / (20.0/26 + 20.0/24)},
			infer:  cls{0, 0, 0},
			other:  cls{1, 101.0 / 111, 2 * (101.0 / 111) / (1 + 101.0/111)},
			confTT: 20, confTU: 4, confIT: 6,
		},
		{
			// only r1 (8), r2 (1) and r3 (6) held accelerators for a time;
			// mps and the unknown fpga GRES are not accelerators.
			b: ByAccelHours, total: 15, acc: 8.0 / 15, cov: 14.0 / 15, ai: 1, lo: 14.0 / 15, hi: 1,
			train:  cls{8.0 / 14, 8.0 / 9, 2 * (8.0 / 14) * (8.0 / 9) / (8.0/14 + 8.0/9)},
			infer:  cls{0, 0, 0},
			other:  cls{0, 0, 0},
			confTT: 8, confTU: 1, confIT: 6,
		},
	} {
		b := ev.Bases[tc.b]
		if b.Basis != tc.b {
			t.Fatalf("bases out of order: %v at %d", b.Basis, tc.b)
		}
		check := func(what string, got, want float64) {
			t.Helper()
			if !near(got, want) {
				t.Errorf("%s %s = %v, want %v", tc.b, what, got, want)
			}
		}
		check("total", b.Total, tc.total)
		check("accuracy", b.Accuracy, tc.acc)
		check("coverage", b.Coverage, tc.cov)
		check("AI share truth", b.AIShareTruth, tc.ai)
		check("AI share", b.AIShare, tc.lo)
		check("AI share upper", b.AIShareUpper, tc.hi)
		check("confusion training->training", b.Confusion[AITraining][AITraining], tc.confTT)
		check("confusion training->unknown", b.Confusion[AITraining][Unknown], tc.confTU)
		check("confusion inference->training", b.Confusion[AIInference][AITraining], tc.confIT)
		for c, want := range map[Class]cls{AITraining: tc.train, AIInference: tc.infer, Other: tc.other} {
			m := b.Class(c)
			check(c.String()+" precision", m.Precision, want.p)
			check(c.String()+" recall", m.Recall, want.r)
			check(c.String()+" F1", m.F1, want.f)
		}
	}

	text := ev.String()
	for _, want := range []string{
		"records: 8, labelled 7, unlabelled 1, labels without a record 1",
		"== by jobs (total 7) ==",
		"== by core_hours (total 141.0) ==",
		"accuracy 57.1%, coverage 85.7%",
		"AI share: truth 57.1%, classifier 57.1% (unknown counted out) .. 71.4% (unknown counted in), error +0.0 points",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	// Undefined ratios print as "-", not 0%: by accelerator-hours nothing
	// is labelled or predicted other.
	lines := strings.Split(strings.TrimSpace(text), "\n")
	var lastOther []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 6 && f[0] == "other" {
			lastOther = f
		}
	}
	if strings.Join(lastOther, " ") != "other - - - 0.0 0.0" {
		t.Errorf("undefined precision/recall not shown as -: %q\n%s", lastOther, text)
	}
}

func TestEvaluateEmpty(t *testing.T) {
	ev := Evaluate(fixedClassifier{}, nil, Labels{}, nil)
	for _, b := range ev.Bases {
		if b.Total != 0 || b.Accuracy != 0 || b.Coverage != 0 || b.AIShare != 0 {
			t.Errorf("%s: %+v", b.Basis, b)
		}
	}
	if s := ev.String(); !strings.Contains(s, "accuracy -, coverage -") {
		t.Errorf("empty report:\n%s", s)
	}
}

func TestReadLabels(t *testing.T) {
	good := "job_id,class\n# a comment\n\n123,ai_training\n123_4 , ai_inference, served by vllm\n4711.pbs01,other\n123,ai_training\n"
	labels, err := ReadLabels(strings.NewReader(good), "labels.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := Labels{"123": AITraining, "123_4": AIInference, "4711.pbs01": Other}
	if len(labels) != len(want) {
		t.Fatalf("got %v", labels)
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("%s: got %s, want %s", k, labels[k], v)
		}
	}
	// No header is fine too.
	if l, err := ReadLabels(strings.NewReader("9,other\n"), "x.csv"); err != nil || l["9"] != Other {
		t.Errorf("headerless: %v %v", l, err)
	}

	for _, tc := range []struct{ in, want string }{
		{"job_id,class\n1,ai_training\n2,ai\n", `labels.csv:3: job 2: unknown class "ai" (want one of ai_training, ai_inference, other, unknown)`},
		{"1,ai_training\n\n1,other\n", "labels.csv:3: job 1 labelled other here and ai_training at line 1"},
		{"1,other\n,other\n", "labels.csv:2: empty job id"},
		{"1,other\n2\n", "labels.csv:2: want job_id,class, got 1 field"},
		{"1,other\n2,\"oth\"er\n", `labels.csv:2: extraneous or missing " in quoted-field`},
	} {
		_, err := ReadLabels(strings.NewReader(tc.in), "labels.csv")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
	if _, err := ReadLabelsFile("testdata/nonexistent.csv"); err == nil || !strings.HasPrefix(err.Error(), "read labels: ") {
		t.Errorf("missing file: %v", err)
	}
}
