package classify

import (
	"slices"
	"sort"
)

// Families lists every family named by the rule set's lexicon terms or
// rules, sorted. A family groups the vocabulary of one kind of tool
// (training frameworks, serving engines, quantum chemistry codes) so that a
// site can switch it off and an evaluation can hold it out.
func (rs *RuleSet) Families() []string {
	seen := map[string]bool{}
	for _, r := range rs.rules {
		if r.Family != "" {
			seen[r.Family] = true
		}
	}
	for _, f := range rs.lex.families() {
		seen[f] = true
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Without returns a copy of the rule set with the lexicon terms and rules
// of the named families removed; unknown names are ignored. The receiver is
// not changed. A rule set left without rules keeps none: classification
// then rests on the lexicon and the later stages.
func (rs *RuleSet) Without(families ...string) *RuleSet {
	if len(families) == 0 {
		return rs
	}
	cp := *rs
	cp.rules = nil
	cp.nDecisive = 0
	for _, r := range rs.rules {
		if r.Family != "" && slices.Contains(families, r.Family) {
			continue
		}
		cp.rules = append(cp.rules, r)
		if r.Stage == Decisive {
			cp.nDecisive++
		}
	}
	cp.lex = rs.lex.without(families)
	cp.index()
	return &cp
}
