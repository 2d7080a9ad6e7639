package daemon

import (
	"math"
	"testing"

	"github.com/scmon/scmon/snapshot"
)

// TestSampleIdleCounters: on the sample, the idle split's core counters
// add up to the idle capacity counter over the same span, blocked and
// mismatch time and pending demand are there, and every accelerator model
// has its reasons.
func TestSampleIdleCounters(t *testing.T) {
	d, cancel, done := runSample(t)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	s := d.Snapshot()
	var idleCap float64
	for _, c := range s.Capacity {
		if c.State == snapshot.StateIdle {
			idleCap += c.CoreSeconds
		}
	}
	byReason := map[string]float64{}
	var idleSplit float64
	models := map[string]int{}
	for _, x := range s.Idle {
		if x.Kind == "" {
			byReason[x.Reason] += x.Seconds
			idleSplit += x.Seconds
		} else {
			models[x.Model]++
		}
	}
	if idleCap <= 0 || math.Abs(idleSplit-idleCap) > 1 {
		t.Errorf("idle split sums to %.0f core-seconds, idle capacity %.0f", idleSplit, idleCap)
	}
	if byReason["blocked"] <= 0 || byReason["mismatch"] <= 0 {
		t.Errorf("reasons %v", byReason)
	}
	if len(models) != 3 {
		t.Errorf("models %v, want the sample's three", models)
	}
	var demand float64
	for _, x := range s.Demand {
		if x.Kind == "" {
			demand += x.Seconds
		}
	}
	if demand <= 0 {
		t.Errorf("no pending demand: %+v", s.Demand)
	}
}
