package build_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/internal/setup"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/snapshot/build"
	"github.com/scmon/scmon/usage"
)

// truth is one job of a simulated center: what the scheduler will say
// about it at any time.
type truth struct {
	rec                *job.Record // End zero: as the final state says
	submit, start, end time.Time
	class              classify.Class
	// state is how the job ends. From fixAt on, the scheduler corrects
	// its end to fixed (a later record of the same run).
	state        job.State
	fixAt, fixed time.Time
}

// finals are the ways the simulated jobs end.
var finals = []job.State{job.StateCompleted, job.StateFailed, job.StateNodeFail, job.StateOutOfMemory,
	job.StateCancelled, job.StateTimeout}

var parts = []struct{ name, gres, prefix string }{
	{"cpu", "", "cn"}, {"gpu", "gpu:a100", "gn"}, {"npu", "npu:910b", "nn"}, {"dcu", "dcu:k100", "dn"},
}

// center makes n jobs over three days from t0: some waiting long, some
// still running at the end, some without a node list.
func center(rng *rand.Rand, n int, t0 time.Time) []truth {
	var out []truth
	for i := range n {
		p := parts[i%len(parts)]
		submit := t0.Add(time.Duration(rng.IntN(3*86400)) * time.Second)
		start := submit.Add(time.Duration(rng.IntN(4*3600)) * time.Second)
		end := start.Add(time.Duration(1+rng.IntN(10*3600)) * time.Second)
		nodes := 1 + rng.IntN(3)
		first := 1 + rng.IntN(28)
		r := &job.Record{Cluster: "sample", JobID: strconv.Itoa(i), Partition: p.name, User: "u" + strconv.Itoa(i%7),
			Account: "a" + strconv.Itoa(i%3), Nodes: int64(nodes), Cores: int64(8 * nodes)}
		if i%11 != 0 {
			r.NodeList = fmt.Sprintf("%s[%02d-%02d]", p.prefix, first, first+nodes-1)
		}
		if p.gres != "" {
			name, typ, _ := strings.Cut(p.gres, ":")
			r.Accels = []job.Accel{{Name: name, Type: typ, Count: int64(2 * nodes)}}
		}
		out = append(out, truth{rec: r, submit: submit, start: start, end: end, class: classify.Classes[rng.IntN(len(classify.Classes))],
			state: finals[i%len(finals)]})
	}
	return out
}

// at is the record of j as a poll at t gives it; nil before it started.
func (j *truth) at(t time.Time) *job.Record {
	if j.start.After(t) {
		return nil
	}
	r := *j.rec
	r.Submit, r.Start, r.State = j.submit, j.start, job.StateRunning
	if !j.end.After(t) {
		r.End, r.State = j.end, j.state
		if !j.fixAt.IsZero() && !j.fixAt.After(t) {
			r.End = j.fixed
		}
	}
	return &r
}

func inputs(eng *usage.Store, inv *capacity.Inventory, table *accel.Table, jobs []truth, complete, origin time.Time, account bool) *build.Inputs {
	in := &build.Inputs{Now: complete, Complete: complete, Origin: origin, Engine: eng, Inventory: inv, AccountLabel: account,
		Windows: []build.Window{{Label: "1h", Length: time.Hour}, {Label: "24h", Length: 24 * time.Hour}},
		NodesAt: complete, DeviceOrigin: table.Origin,
		RuleHits: func(per map[uint32]uint64) map[string]uint64 {
			out := map[string]uint64{}
			for ri, n := range per {
				out[strings.Join(eng.Rules(&usage.Job{Rules: ri}), "+")] += n
			}
			return out
		}}
	for i := range jobs {
		j := &jobs[i]
		if !j.submit.After(complete) && j.start.After(complete) {
			p := build.Pending{Cluster: "sample", Partition: j.rec.Partition, Class: j.class,
				Submit: j.submit, Cores: j.rec.Cores, Nodes: j.rec.Nodes}
			for _, a := range j.rec.Accels {
				if d, res := table.Lookup(a.Name, a.Type); res == accel.Accelerator {
					p.Devices = append(p.Devices, build.DeviceCount{Device: inv.ResolveDevice("sample", p.Partition, d), Count: a.Count})
				}
			}
			in.Pending = append(in.Pending, p)
		}
	}
	return in
}

func decision(j *truth) classify.Decision {
	return classify.Decision{Class: j.class, Rules: []string{"r" + j.class.String()}}
}

// render prints every series of a snapshot, NaN included, exactly.
func render(s *snapshot.Snapshot) string {
	c := *s
	c.Time = time.Time{}
	return fmt.Sprintf("%+v", c)
}

// TestIncrementalEqualsFromScratch: a builder that published after each
// of many small polls (records arriving, running jobs ending, duplicates
// read again) publishes the very figures a new builder computes from the
// same records in one go: every series, bit for bit.
func TestIncrementalEqualsFromScratch(t *testing.T) {
	inv, table := sampleCenter(t)
	for _, account := range []bool{false, true} {
		t.Run(fmt.Sprintf("account=%v", account), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			t0 := time.Date(2026, 10, 20, 3, 17, 0, 0, time.UTC)
			jobs := center(rng, 600, t0)
			eng := usage.NewStore(table)
			b := build.New()
			final, origin, polls := simulate(t, rng, eng, b, inv, table, jobs, t0, account)
			got, err := b.Build(inputs(eng, inv, table, jobs, final, origin, account))
			if err != nil {
				t.Fatal(err)
			}
			want, err := build.New().Build(inputs(eng, inv, table, jobs, final, origin, account))
			if err != nil {
				t.Fatal(err)
			}
			if len(want.Allocated) == 0 || len(want.Idle) == 0 || len(want.Windows) == 0 || len(want.Running) == 0 || len(want.Pending) == 0 ||
				len(want.Friction) < 2*len(finals) {
				t.Fatalf("the center proves nothing: %d allocated, %d idle, %d windows, %d running, %d pending, %d friction",
					len(want.Allocated), len(want.Idle), len(want.Windows), len(want.Running), len(want.Pending), len(want.Friction))
			}
			if g, w := render(got), render(want); g != w {
				gl, wl := strings.Split(strings.ReplaceAll(g, "} {", "}\n{"), "\n"), strings.Split(strings.ReplaceAll(w, "} {", "}\n{"), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("after %d polls, incremental and from scratch differ first at\n%s\n%s", polls, gl[i], wl[i])
					}
				}
				t.Fatalf("after %d polls: %d and %d series", polls, len(gl), len(wl))
			}
			checkAgainstEngine(t, eng, inv, got, account)
			checkFriction(t, eng, inv, table, got)

			// A reload lengthens a window past the events the ledger kept:
			// the same figures still.
			longer := func() *build.Inputs {
				in := inputs(eng, inv, table, jobs, final, origin, account)
				in.Windows = append(in.Windows, build.Window{Label: "48h", Length: 48 * time.Hour})
				return in
			}
			got, err = b.Build(longer())
			if err != nil {
				t.Fatal(err)
			}
			want, err = build.New().Build(longer())
			if err != nil {
				t.Fatal(err)
			}
			if g, w := render(got), render(want); g != w {
				t.Fatalf("with a 48h window added:\n%s\n%s", g, w)
			}
			t.Logf("%d polls, %d stored allocations: identical", polls, eng.Len())
		})
	}
}

// checkAgainstEngine compares the counters and the windows with the
// engine's own computation from every allocation.
func checkAgainstEngine(t *testing.T, eng *usage.Store, inv *capacity.Inventory, s *snapshot.Snapshot, account bool) {
	t.Helper()
	by := []usage.Key{usage.KeyCluster, usage.KeyPartition, usage.KeyClass}
	if account {
		by = append(by, usage.KeyAccount)
	}
	res, err := eng.Compute(usage.Query{From: time.Unix(1, 0), To: s.Complete, By: by, Inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]float64{}
	for _, g := range res.Groups {
		tot := g.Allocated.Total()
		k := strings.Join(g.Values[:3], "|")
		if account {
			k += "|" + g.Values[3]
		}
		want[k] = [3]float64{float64(tot.CoreSeconds), float64(tot.NodeSeconds), tot.BillingSeconds}
	}
	got := map[string][3]float64{}
	for _, a := range s.Allocated {
		k := a.Cluster + "|" + a.Partition + "|" + a.Class
		if account {
			k += "|" + a.Account
		}
		got[k] = [3]float64{a.CoreSeconds, a.NodeSeconds, a.BillingSeconds}
	}
	if len(got) != len(want) {
		t.Errorf("%d counter label sets, the engine %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if g[0] != w[0] || g[1] != w[1] || !close(g[2], w[2]) {
			t.Errorf("%s: core, node, billing seconds %v, the engine %v", k, g, w)
		}
	}
	// The 24h window's core utilization and AI share.
	from := s.Complete.Add(-24 * time.Hour)
	wres, err := eng.Compute(usage.Query{From: from, To: s.Complete, Inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	tot, ai := wres.Allocated.Total(), wres.Allocated.AI()
	util := float64(tot.CoreSeconds) / float64(wres.Capacity.CoreSeconds)
	share := float64(ai.CoreSeconds) / float64(tot.CoreSeconds)
	i := slices.IndexFunc(s.Windows, func(w snapshot.Window) bool { return w.Window == "24h" && w.Resource == snapshot.ResourceCPU })
	if i < 0 || !close(s.Windows[i].Utilization, util) || !close(s.Windows[i].AIShare, share) {
		t.Errorf("24h cpu window %+v, the engine: utilization %v, AI share %v", s.Windows[i], util, share)
	}
}

func close(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(1, b, -b)
}

// checkFriction compares the friction counters with planning's count over
// every stored job.
func checkFriction(t *testing.T, eng *usage.Store, inv *capacity.Inventory, table *accel.Table, s *snapshot.Snapshot) {
	t.Helper()
	var want []snapshot.Friction
	for _, c := range planning.EndedOutcomes(planning.JobsFromStore(eng, inv, table, nil, ""), s.Complete, table.Origin) {
		want = append(want, snapshot.Friction{Cluster: c.Cluster, Kind: c.Kind, Model: c.Model, Origin: c.Origin, Class: c.Class,
			Outcome: c.Outcome, Jobs: float64(c.Jobs), RunSeconds: float64(c.RunSeconds)})
	}
	outcomes := map[string]bool{}
	for _, f := range want {
		outcomes[f.Outcome] = true
	}
	if len(outcomes) < len(finals) {
		t.Fatalf("the center proves nothing: outcomes %v", outcomes)
	}
	if g, w := fmt.Sprintf("%+v", s.Friction), fmt.Sprintf("%+v", want); g != w {
		t.Errorf("friction counters\n%s\nplanning.EndedOutcomes\n%s", g, w)
	}
}

// simulate delivers the jobs to eng over many small polls from t0, as a
// scheduler would, and publishes with b after each; it returns the last
// poll's time, the earliest start and the number of polls.
func simulate(t *testing.T, rng *rand.Rand, eng *usage.Store, b *build.Builder, inv *capacity.Inventory, table *accel.Table,
	jobs []truth, t0 time.Time, account bool) (final, origin time.Time, polls int) {
	t.Helper()
	prev := t0
	for now := t0.Add(7 * time.Minute); now.Before(t0.Add(70 * time.Hour)); now = now.Add(time.Duration(1+rng.IntN(40)) * time.Minute) {
		for i := range jobs {
			j := &jobs[i]
			// Delivered: what started since the last poll, what ran
			// then, a correction made since, and now and then a
			// finished one again.
			corrected := !j.fixAt.IsZero() && j.fixAt.After(prev) && !j.fixAt.After(now)
			if j.start.After(now) || (j.end.Before(prev) && !corrected && rng.IntN(50) != 0) {
				continue
			}
			r := j.at(now)
			if err := eng.Add(r, decision(j)); err != nil {
				t.Fatal(err)
			}
			if origin.IsZero() || r.Start.Before(origin) {
				origin = r.Start
			}
		}
		if _, err := b.Build(inputs(eng, inv, table, jobs, now, origin, account)); err != nil {
			t.Fatal(err)
		}
		polls++
		prev = now
	}
	return prev, origin, polls
}

// TestIncrementalFrictionWithCorrections: records of ended jobs corrected
// after they were counted (a later end), and read again, are taken back
// and counted anew: the friction counters published after many small
// polls equal a from-scratch build and planning.EndedOutcomes. (The
// occupancy and the idle split count only the time added since the last
// call, so they are left out here.)
func TestIncrementalFrictionWithCorrections(t *testing.T) {
	inv, table := sampleCenter(t)
	rng := rand.New(rand.NewPCG(9, 10))
	t0 := time.Date(2026, 10, 20, 3, 17, 0, 0, time.UTC)
	jobs := center(rng, 600, t0)
	fixes := 0
	for i := range jobs {
		j := &jobs[i]
		// Not a cancelled one: ten minutes more can make an early
		// cancellation a late one, and a counter never goes down.
		if i%3 == 0 && j.state != job.StateCancelled && j.class.IsAI() && j.rec.Accels != nil {
			j.fixAt, j.fixed = j.end.Add(2*time.Hour), j.end.Add(10*time.Minute)
			fixes++
		}
	}
	eng := usage.NewStore(table)
	b := build.New()
	final, origin, polls := simulate(t, rng, eng, b, inv, table, jobs, t0, false)
	got, err := b.Build(inputs(eng, inv, table, jobs, final, origin, false))
	if err != nil {
		t.Fatal(err)
	}
	want, err := build.New().Build(inputs(eng, inv, table, jobs, final, origin, false))
	if err != nil {
		t.Fatal(err)
	}
	if fixes < 20 || eng.Stats().Duplicates < int64(fixes) {
		t.Fatalf("the center proves nothing: %d corrections, %d records read again", fixes, eng.Stats().Duplicates)
	}
	if g, w := fmt.Sprintf("%+v", got.Friction), fmt.Sprintf("%+v", want.Friction); g != w {
		t.Fatalf("after %d polls, incremental\n%s\nfrom scratch\n%s", polls, g, w)
	}
	checkFriction(t, eng, inv, table, got)
}

// sampleCenter returns the built-in sample center's inventory and
// accelerator table.
func sampleCenter(t *testing.T) (*capacity.Inventory, *accel.Table) {
	t.Helper()
	inv, err := setup.SampleInventory()
	if err != nil {
		t.Fatal(err)
	}
	table, err := setup.Table(inv)
	if err != nil {
		t.Fatal(err)
	}
	return inv, table
}
