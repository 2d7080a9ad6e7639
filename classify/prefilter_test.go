package classify

import (
	"slices"
	"strings"
	"testing"

	"github.com/scmon/scmon/job"
)

func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string // nil: no filter
	}{
		{`torchrun`, []string{"torchrun"}},
		{`(?i)TorchRun`, []string{"torchrun"}},
		{`\btorchrun\b|\bdeepspeed\b`, []string{"torchrun", "deepspeed"}},
		{`\bvllm\s+serve\b`, []string{"serve"}},
		{`ab?c`, []string{"abc", "ac"}},
		{`gmx(?:_mpi)?\s+mdrun`, []string{"mdrun"}},
		{`\bg(?:16|09)\b`, []string{"g16", "g09"}},
		{`x|.*`, nil},
		{`a*`, nil},
		{`.`, nil},
		{`^$`, nil},
		{`(?:abc)+`, []string{"abc"}},
		{`(?:abc){0,2}`, nil},
		{`训练|微调`, []string{"训练", "微调"}},
		{`[`, nil},
	} {
		if got := requiredLiterals(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("requiredLiterals(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestFoldKey(t *testing.T) {
	for in, want := range map[string]string{
		"torchrun": "torchrun", "TorchRun": "torchrun", "训练_QWEN": "训练_qwen",
		"ſerve": "serve", "\u212Aernel": "kernel", "ΣΑΣ": "ςας", // the orbit's smallest lower-case form, final sigma
	} {
		if got := foldKey(in); got != want {
			t.Errorf("foldKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPrefilterSound: whenever a rule's regexp matches a value, the value
// passes the regexp's literal filter.
func TestPrefilterSound(t *testing.T) {
	var values []string
	add := func(r *job.Record) {
		values = append(values, r.Name, r.SubmitLine, r.WorkDir, r.Comment, r.WCKey, r.Partition, r.QOS)
		for _, s := range r.Steps {
			values = append(values, s.Name, s.Command)
		}
		cmd, _ := joinCommand(r)
		values = append(values, cmd)
	}
	for _, cases := range defaultRuleCases {
		for _, tc := range cases {
			add(tc.hit)
			add(tc.miss)
		}
	}
	for _, r := range variedRecords(500, 1) {
		add(r)
	}
	n := len(values)
	for _, v := range values[:n] {
		values = append(values, strings.ToUpper(v), strings.ReplaceAll(strings.ReplaceAll(v, "s", "ſ"), "k", "\u212A"))
	}
	var conds []*cond
	var walk func(c *cond)
	walk = func(c *cond) {
		if c.op >= opAll {
			for _, k := range c.kids {
				walk(k)
			}
		} else if c.op == opRegex {
			conds = append(conds, c)
		}
	}
	for _, r := range mustDefault(t).rules {
		walk(r.when)
	}
	filtered := 0
	for _, c := range conds {
		if c.lits == nil {
			continue
		}
		filtered++
		for _, v := range values {
			if c.re.MatchString(v) && !containsAny(foldKey(v), c.lits) {
				t.Errorf("/%s/ matches %q but its filter %q rejects it", c.re, v, c.lits)
			}
		}
	}
	if filtered < len(conds)-2 {
		t.Errorf("only %d of %d default regexps have a literal filter", filtered, len(conds))
	}
}
