package daemon

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/scmon/scmon/snapshot"
)

// runSample starts the daemon on the built-in sample and waits until the
// sample's records are published.
func runSample(t *testing.T) (*Daemon, context.CancelFunc, chan error) {
	t.Helper()
	cfg, raw, err := LoadConfig("", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, raw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s := d.Snapshot(); s != nil && len(s.Headline) > 0 {
			return d, cancel, done
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	t.Fatalf("no figures published within a minute")
	return nil, nil, nil
}

// TestSampleDaemon: `scmon serve` with no configuration serves the sample
// shifted to end at start, so its 30-day window is the sample's month and
// must give the report's figures.
func TestSampleDaemon(t *testing.T) {
	d, cancel, done := runSample(t)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	s := d.Snapshot()
	if ok, why := d.Ready(); !ok {
		t.Fatalf("not ready: %s", why)
	}
	var h *snapshot.Headline
	for i := range s.Headline {
		if s.Headline[i].Window == "30d" && s.Headline[i].Cluster == "sample" {
			h = &s.Headline[i]
		}
	}
	if h == nil {
		t.Fatalf("no 30d headline in %+v", s.Headline)
	}
	if got := math.Round(h.Utilization*1000) / 10; got != 65.9 || h.Basis != "billing" {
		t.Errorf("30d utilization %.4f (%s), want 65.9%% billing", h.Utilization, h.Basis)
	}
	if h.AIShare < 0.15 || h.AIShare >= 0.20 {
		t.Errorf("30d AI share %.4f", h.AIShare)
	}
	// Capacity states sum to the inventory's capacity over the same span.
	var capSum, alloc float64
	for _, c := range s.Capacity {
		capSum += c.CoreSeconds
		if c.State == snapshot.StateAllocated {
			alloc += c.CoreSeconds
		}
	}
	rt := d.Runtime()
	d.mu.RLock()
	origin := d.origin
	d.mu.RUnlock()
	complete := s.Complete // the snapshot's own, not the daemon's later one
	want := float64(rt.Inventory.Clusters[0].Total(origin, complete).CoreSeconds)
	if math.Abs(capSum-want) > 1 {
		t.Errorf("capacity states sum to %.0f core-seconds, inventory says %.0f", capSum, want)
	}
	var allocCounters float64
	for _, a := range s.Allocated {
		allocCounters += a.CoreSeconds
	}
	if alloc <= 0 || alloc > allocCounters+1 {
		t.Errorf("allocated capacity %.0f vs allocated counters %.0f", alloc, allocCounters)
	}
	// Closed sets: four partitions, three accelerator models.
	if len(s.Partitions) != 4 || len(s.Devices) != 3 {
		t.Errorf("partitions %v devices %v", s.Partitions, s.Devices)
	}
	if len(s.Running) == 0 || len(s.Pending) == 0 || len(s.Nodes) == 0 {
		t.Errorf("running %d pending %d nodes %d", len(s.Running), len(s.Pending), len(s.Nodes))
	}
	if len(s.Sources) != 1 || !s.Sources[0].Up || s.Sources[0].Records["stored"] < 6000 {
		t.Errorf("sources %+v", s.Sources)
	}
}

// runDaemon runs d until the test ends, then stops it and fails the test
// if Run returned an error. It returns the context Run was given.
func runDaemon(t *testing.T, d *Daemon) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return ctx
}
