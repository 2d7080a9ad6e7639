package daemon

import (
	"maps"
	"testing"
)

// TestRuleHitsOncePerStoredRecord: rule-hit counters count stored records,
// once each. Rebuilding the snapshot classifies the pending jobs again; the
// counters must not move, and they must sum what the store holds.
func TestRuleHitsOncePerStoredRecord(t *testing.T) {
	d, cancel, done := runSample(t)
	defer func() {
		cancel()
		<-done
	}()
	first, err := d.buildSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Pending) == 0 {
		t.Fatal("the sample has no pending jobs: the test proves nothing")
	}
	for range 3 {
		again, err := d.buildSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(first.RuleHits, again.RuleHits) {
			for id, n := range again.RuleHits {
				if first.RuleHits[id] != n {
					t.Errorf("%s: %d hits, then %d after a snapshot rebuild", id, first.RuleHits[id], n)
				}
			}
			break
		}
	}
	d.mu.RLock()
	stored := d.mem.Len()
	d.mu.RUnlock()
	var cpu uint64
	for id, n := range first.RuleHits {
		if n > uint64(stored) {
			t.Errorf("%s: %d hits, more than the %d stored records", id, n, stored)
		}
		if id == "cpu-only" {
			cpu = n
		}
	}
	if cpu == 0 {
		t.Errorf("cpu-only never counted over %d stored records: %v", stored, first.RuleHits)
	}
}
