package web

import (
	"strings"
	"testing"

	"github.com/scmon/scmon/snapshot"
)

// TestStatusPageIdle: the idle split shows per cluster and resource with
// each reason's share of the idle hours, rows with blocked time marked.
func TestStatusPageIdle(t *testing.T) {
	f := newFake()
	f.snap.Idle = []snapshot.IdleSeconds{
		{Cluster: "alpha", Reason: "blocked", Seconds: 3600 * 25},
		{Cluster: "alpha", Reason: "mismatch", Seconds: 3600 * 50},
		{Cluster: "alpha", Reason: "no_demand", Seconds: 3600 * 25},
		{Cluster: "alpha", Kind: "npu", Model: "Ascend 910B", Reason: "no_demand", Seconds: 3600 * 8},
		{Cluster: "alpha", Kind: "npu", Model: "Ascend 910B", Reason: "blocked", Seconds: 0},
	}
	s := newTestServer(t, f, Options{})
	res, body := call(t, s.Handler(), "GET", "/")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	p := readPage(t, []byte(body))
	for _, want := range []string{"Why capacity sat idle", "alphacores100", "25.0%50.0%25.0%", "npu Ascend 910B8", "0.0%0.0%100.0%"} {
		squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if !strings.Contains(squash(p.text), squash(want)) {
			t.Errorf("page does not show %q", want)
		}
	}
	if n := strings.Count(body, `class="blocked"`); n != 1 {
		t.Errorf("%d rows marked blocked, want 1", n)
	}
	if rows := idleRows(&snapshot.Snapshot{}); rows != nil {
		t.Errorf("no counters: %v", rows)
	}
}
