package classify

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRuleFiles loads every file under testdata/rules: a *.good.yaml file
// must load (with the rule count of its "# rules: N" line, if any), a
// *.bad.yaml file must fail with exactly the errors of its "# error:"
// lines. Adding a case adds a file.
func TestRuleFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/rules/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no rule files under testdata/rules")
	}
	for _, file := range files {
		base := filepath.Base(file)
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var wantErrs []string
			wantRules := -1
			for line := range bytes.Lines(data) {
				s := strings.TrimSpace(string(line))
				if v, ok := strings.CutPrefix(s, "# error: "); ok {
					wantErrs = append(wantErrs, v)
				}
				if v, ok := strings.CutPrefix(s, "# rules: "); ok {
					wantRules, _ = strconv.Atoi(v)
				}
			}
			rs, err := ParseRules(base, data)
			switch {
			case strings.HasSuffix(base, ".good.yaml"):
				if err != nil {
					t.Fatalf("good file refused: %v", err)
				}
				if wantRules >= 0 && len(rs.Rules()) != wantRules {
					t.Errorf("got %d rules, want %d", len(rs.Rules()), wantRules)
				}
			case strings.HasSuffix(base, ".bad.yaml"):
				if len(wantErrs) == 0 {
					t.Fatal("bad file has no \"# error:\" line")
				}
				if err == nil {
					t.Fatal("bad file loaded")
				}
				if got, want := err.Error(), strings.Join(wantErrs, "\n"); got != want {
					t.Errorf("error:\n got: %s\nwant: %s", got, want)
				}
			default:
				t.Fatalf("name a rules fixture *.good.yaml or *.bad.yaml")
			}
		})
	}
}

func TestLoadRulesFile(t *testing.T) {
	rs, err := LoadRules("testdata/rules/minimal.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if rs.Source() != "testdata/rules/minimal.good.yaml" {
		t.Errorf("source %q", rs.Source())
	}
	if _, err := LoadRules("testdata/rules/nonexistent.yaml"); err == nil || !strings.Contains(err.Error(), "read rules:") {
		t.Errorf("missing file: %v", err)
	}
}

func TestDefaultRulesYAMLRoundTrip(t *testing.T) {
	// The embedded file is what an operator copies: it must load as a
	// standalone file, with the same rules as the built-in set.
	data := DefaultRulesYAML()
	rs, err := ParseRules("copy.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	def := mustDefault(t)
	if len(rs.Rules()) != len(def.Rules()) || rs.Thresholds() != def.Thresholds() {
		t.Errorf("copy has %d rules, thresholds %+v; built-in %d, %+v", len(rs.Rules()), rs.Thresholds(), len(def.Rules()), def.Thresholds())
	}
	data[0] = '!' // callers get a copy
	if bytes.Equal(DefaultRulesYAML(), data) {
		t.Error("DefaultRulesYAML returns shared memory")
	}
}

func TestOverlayMerge(t *testing.T) {
	data, err := os.ReadFile("testdata/rules/overlay.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseRules("overlay.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	def := mustDefault(t)
	if got := rs.Thresholds(); got.MinScore != def.Thresholds().MinScore || got.MinMargin != 3 {
		t.Errorf("thresholds %+v: want min_score inherited, min_margin 3", got)
	}
	infos := rs.Rules()
	if infos[0].ID != "site-ai-lab" || infos[0].Source != "overlay.yaml" {
		t.Errorf("the file's decisive rule must come first, got %s from %s", infos[0].ID, infos[0].Source)
	}
	count := map[string]int{}
	for _, r := range infos {
		count[r.ID]++
		if r.ID == "name-eval" && (r.Weight != 8 || r.Source != "overlay.yaml") {
			t.Errorf("name-eval not replaced: %+v", r)
		}
	}
	if count["infer-web-frameworks"] != 0 {
		t.Error("disabled rule still present")
	}
	if count["name-eval"] != 1 {
		t.Errorf("name-eval present %d times", count["name-eval"])
	}
	if len(rs.Forced()) != 1 || rs.Forced()[0].Partition != "dcu" {
		t.Errorf("forced %+v", rs.Forced())
	}
	c := New(rs, Options{})
	if got := c.Classify(mk(acct("ai-lab"), step("vllm serve x"))).Class; got != AITraining {
		t.Errorf("override did not win over serve-vllm: %s", got)
	}
}

func TestConditionOperators(t *testing.T) {
	rs := mustParse(t, `
thresholds: {min_score: 1, min_margin: 0}
rules:
  - {id: contains-fold, description: x, class: other, stage: decisive, when: {field: job_name, contains: TRAIN}}
  - {id: contains-cjk, description: x, class: other, stage: decisive, when: {field: comment, contains: "模拟"}}
  - {id: equals-fold, description: x, class: other, stage: decisive, when: {field: account, equals: AI-LAB}}
  - {id: in-text, description: x, class: other, stage: decisive, when: {field: partition, in: [gpu, a100]}}
  - {id: in-num, description: x, class: other, stage: decisive, when: {field: cores, in: [3, 5]}}
  - {id: elapsed-ge, description: x, class: other, stage: decisive, when: {field: elapsed, ge: 1d2h}}
  - {id: limit-gt, description: x, class: other, stage: decisive, when: {field: timelimit, gt: 30d}}
  - {id: elapsed-absent, description: x, class: other, stage: decisive, when: {not: {field: elapsed, ge: 0}}}
  - {id: ne, description: x, class: other, stage: decisive, when: {all: [{field: nodes, ne: 1}, {field: nodes, lt: 3}]}}
  - {id: kind, description: x, class: other, stage: decisive, when: {field: accel_kind, equals: npu}}
  - {id: model, description: x, class: other, stage: decisive, when: {field: accel_model, equals: Ascend 910B}}
  - {id: vendor, description: x, class: other, stage: decisive, when: {field: accel_vendor, equals: hygon}}
  - {id: state, description: x, class: other, stage: decisive, when: {field: state, equals: timeout}}
  - {id: step-names, description: x, class: other, stage: decisive, when: {field: step_names, equals: vasp_std}}
`)
	c := New(rs, Options{CacheSize: -1})
	for _, tc := range []struct {
		r    *mkArgs
		want string
	}{
		{&mkArgs{name("My_Train_Job")}, "contains-fold"},
		{&mkArgs{comment("分子模拟")}, "contains-cjk"},
		{&mkArgs{acct("ai-lab")}, "equals-fold"},
		{&mkArgs{part("A100")}, "in-text"},
		{&mkArgs{cores(5)}, "in-num"},
		{&mkArgs{elapsed(26 * time.Hour)}, "elapsed-ge"},
		{&mkArgs{unlimited()}, "limit-gt"},
		{&mkArgs{running()}, "elapsed-absent"},
		{&mkArgs{nodes(2)}, "ne"},
		{&mkArgs{npu(8)}, "kind"},
		{&mkArgs{gres("npu", "910b3", 8)}, "kind"},
		{&mkArgs{gres("gpu", "mi250", 1), gres("dcu", "k100", 2), limit(time.Hour)}, "vendor"},
		{&mkArgs{state(7)}, "state"},
		{&mkArgs{step("vasp_std")}, "step-names"},
		{&mkArgs{elapsed(26*time.Hour - time.Second)}, ""},
		{&mkArgs{limit(30 * 24 * time.Hour)}, ""},
		{&mkArgs{nodes(3)}, ""},
		{&mkArgs{cores(4)}, ""},
	} {
		d := c.Classify(mk(*tc.r...))
		got := ""
		if len(d.Rules) > 0 {
			got = d.Rules[0]
		}
		if got != tc.want {
			t.Errorf("%v: fired %q, want %q", tc.r, got, tc.want)
		}
	}
}

type mkArgs []recOpt

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90m": 90 * time.Minute, "2h": 2 * time.Hour, "1d": 24 * time.Hour, "1d12h": 36 * time.Hour,
		"2d30m": 48*time.Hour + 30*time.Minute, " 45s ": 45 * time.Second,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2", "x1d", "1dd", "-2h", "1d-2h", "two hours"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestIndexFold(t *testing.T) {
	for _, tc := range []struct {
		s, sub string
		want   int
	}{
		{"srun TorchRun x", "torchrun", 5},
		{"abc", "abcd", -1},
		{"x--PORT=8000", "--port", 1},
		{"----", "--x", -1},
		{"é-train", "-TRAIN", 2},
		{"", "a", -1},
		{"a", "", 0},
	} {
		if got := indexFold(tc.s, tc.sub); got != tc.want {
			t.Errorf("indexFold(%q, %q) = %d, want %d", tc.s, tc.sub, got, tc.want)
		}
	}
}
