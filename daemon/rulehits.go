package daemon

import (
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/usage"
)

// ruleHits turns the number of stored records per rule set (counted by
// the snapshot builder as records arrive, once per stored record, so that
// classifying pending jobs changes nothing) into hits per rule id.
func ruleHits(rs *classify.RuleSet, mem *usage.Store) func(perSet map[uint32]uint64) map[string]uint64 {
	return func(perSet map[uint32]uint64) map[string]uint64 {
		h := classify.NewHitCounter(rs)
		for ri, n := range perSet {
			h.Add(classify.Decision{Rules: mem.Rules(&usage.Job{Rules: ri})}, n)
		}
		return h.Counts()
	}
}
