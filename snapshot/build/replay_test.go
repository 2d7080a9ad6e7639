package build_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/snapshot/build"
	"github.com/scmon/scmon/usage"
)

// counterValues flattens allocation and capacity rows to one value per
// series, accelerator entries at zero left out (the builder does not list
// them).
func counterValues(alloc []snapshot.Allocated, capac []snapshot.Capacity) map[string]float64 {
	out := map[string]float64{}
	for _, a := range alloc {
		k := a.Cluster + "|" + a.Partition + "|" + a.Account + "|" + a.Class
		out["core|"+k] += a.CoreSeconds
		out["node|"+k] += a.NodeSeconds
		out["billing|"+k] += a.BillingSeconds
		for _, x := range a.Accel {
			if x.Seconds != 0 {
				out["accel|"+k+"|"+x.Kind+"|"+x.Model] += x.Seconds
			}
		}
	}
	for _, c := range capac {
		k := c.Cluster + "|" + c.Partition + "|" + c.State
		out["cap_core|"+k] += c.CoreSeconds
		out["cap_billing|"+k] += c.BillingSeconds
		for _, x := range c.Accel {
			if x.Seconds != 0 {
				out["cap_accel|"+k+"|"+x.Kind+"|"+x.Model] += x.Seconds
			}
		}
	}
	return out
}

// TestReplayEqualsBuilder: replaying a finished history gives, at every
// instant, bit for bit the allocation and capacity counters a Builder
// publishes when its sources are complete up to that instant (what
// `scmon backfill` writes and what the daemon exports), with and without
// the account label.
func TestReplayEqualsBuilder(t *testing.T) {
	inv, table := sampleCenter(t)
	for _, account := range []bool{false, true} {
		t.Run(fmt.Sprintf("account=%v", account), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			t0 := time.Date(2026, 10, 20, 3, 17, 0, 0, time.UTC)
			jobs := center(rng, 400, t0)
			final := t0.Add(80 * time.Hour)
			eng := usage.NewStore(table)
			for i := range jobs {
				j := &jobs[i]
				if i%9 == 0 {
					j.end = final.Add(time.Hour) // still running at the end
				}
				if r := j.at(final); r != nil {
					if err := eng.Add(r, decision(j)); err != nil {
						t.Fatal(err)
					}
				}
			}
			rp := build.NewReplay(eng, inv, account, final.Unix())
			if rp.Origin() == 0 {
				t.Fatal("no origin")
			}
			origin := time.Unix(rp.Origin(), 0)
			b := build.New()
			instants := 0
			for at := origin.Add(-time.Hour); !at.After(final); at = at.Add(time.Duration(1+rng.IntN(300)) * time.Minute) {
				instants++
				if err := rp.Advance(at.Unix()); err != nil {
					t.Fatal(err)
				}
				got := counterValues(rp.Allocated(), rp.Capacity())
				s, err := b.Build(&build.Inputs{Now: at, Complete: at, Origin: origin, Engine: eng, Inventory: inv, AccountLabel: account, NodesAt: at})
				if err != nil {
					t.Fatal(err)
				}
				want := counterValues(s.Allocated, s.Capacity)
				for k, w := range want {
					if g := got[k]; g != w {
						t.Errorf("%s at %s: replay %v, builder %v", k, at.Format(time.RFC3339), g, w)
					}
				}
				for k, g := range got {
					if _, ok := want[k]; !ok && g != 0 && at.After(origin) {
						t.Errorf("%s at %s: replay %v, the builder has no such series", k, at.Format(time.RFC3339), g)
					}
				}
				if t.Failed() {
					return
				}
			}
			if err := rp.Advance(final.Unix()); err != nil {
				t.Fatal(err)
			}
			last := counterValues(rp.Allocated(), rp.Capacity())
			if last["cap_core|sample|cpu|allocated"] == 0 || len(last) < 50 {
				t.Fatalf("the history proves nothing: %d series, %v allocated cpu capacity", len(last), last["cap_core|sample|cpu|allocated"])
			}
			// A second pass after Reset gives the same values.
			rp.Reset()
			if err := rp.Advance(final.Unix()); err != nil {
				t.Fatal(err)
			}
			for k, v := range counterValues(rp.Allocated(), rp.Capacity()) {
				if v != last[k] {
					t.Errorf("after Reset: %s %v, first pass %v", k, v, last[k])
				}
			}
			if err := rp.Advance(final.Unix() - 1); err == nil {
				t.Error("a replay went back in time without an error")
			}
			t.Logf("%d instants, %d series: identical", instants, len(last))
		})
	}
}
