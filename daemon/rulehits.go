package daemon

import (
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/usage"
)

// ruleHits counts, per rule id, the stored records whose decision names
// it: once per stored record, so that classifying pending jobs again on
// every snapshot, or classifying at all, changes nothing.
func ruleHits(rs *classify.RuleSet, mem *usage.Store) map[string]uint64 {
	h := classify.NewHitCounter(rs)
	if mem == nil {
		return h.Counts()
	}
	per := map[uint32]uint64{}
	first := map[uint32]int{}
	jobs := mem.Jobs()
	for i := range jobs {
		ri := jobs[i].Rules
		if _, ok := first[ri]; !ok {
			first[ri] = i
		}
		per[ri]++
	}
	for ri, n := range per {
		h.Add(classify.Decision{Rules: mem.Rules(&jobs[first[ri]])}, n)
	}
	return h.Counts()
}
