package classify

import "sync"

// HitCounter counts how often each rule, lexicon family and later stage
// took part in the decisions of stored records. Classification has no side
// effects, so the caller counts: once per record it stores, never for a
// record classified again (a pending job on every snapshot). The set of ids
// is closed (every rule id, "lexicon:<family>" per family, the context
// keys, "learned" and the subtype markers), so an exporter emits every
// counter from the start. It is safe for concurrent use.
type HitCounter struct {
	mu sync.Mutex
	m  map[string]uint64
}

// NewHitCounter returns a counter with every id of the rule set at zero.
func NewHitCounter(rs *RuleSet) *HitCounter {
	h := &HitCounter{m: map[string]uint64{}}
	for _, id := range HitIDs(rs) {
		h.m[id] = 0
	}
	return h
}

// HitIDs lists every id a decision of the rule set can name.
func HitIDs(rs *RuleSet) []string {
	var ids []string
	for _, r := range rs.rules {
		ids = append(ids, r.ID)
	}
	for _, f := range rs.lex.families() {
		ids = append(ids, lexiconRulePrefix+f)
	}
	for k := range numCtxKinds {
		ids = append(ids, contextRulePrefix+k.String())
	}
	return append(ids, RuleLearned, RuleSubtypeCues, RuleSubtypeDefault)
}

// Add counts one stored decision n times.
func (h *HitCounter) Add(d Decision, n uint64) {
	h.mu.Lock()
	for _, id := range d.Rules {
		h.m[id] += n
	}
	h.mu.Unlock()
}

// Counts returns a copy of the counts.
func (h *HitCounter) Counts() map[string]uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]uint64, len(h.m))
	for k, v := range h.m {
		out[k] = v
	}
	return out
}
