package usage

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

func TestFoldMerges(t *testing.T) {
	tests := []struct {
		in   [][2]uint32
		want []span
	}{
		{[][2]uint32{{10, 20}, {30, 40}}, []span{{10, 20}, {30, 40}}},
		{[][2]uint32{{30, 40}, {10, 20}}, []span{{10, 20}, {30, 40}}},
		{[][2]uint32{{10, 20}, {20, 30}}, []span{{10, 30}}},                     // touching
		{[][2]uint32{{10, 20}, {15, 30}, {5, 12}}, []span{{5, 30}}},             // overlapping
		{[][2]uint32{{10, 20}, {30, 40}, {50, 60}, {15, 55}}, []span{{10, 60}}}, // bridging
		{[][2]uint32{{10, 20}, {12, 18}}, []span{{10, 20}}},                     // inside
		{[][2]uint32{{10, 20}, {30, 40}, {22, 25}}, []span{{10, 20}, {22, 25}, {30, 40}}},
		{[][2]uint32{{10, 10}}, nil}, // empty
	}
	for _, tc := range tests {
		o := occupancy{merged: [][]span{nil}}
		for _, iv := range tc.in {
			o.fold(0, iv[0], iv[1])
		}
		if !slices.Equal(o.merged[0], tc.want) {
			t.Errorf("fold %v = %v; want %v", tc.in, o.merged[0], tc.want)
		}
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		in   []span
		a, b uint32
		want []span
	}{
		{[]span{{10, 20}, {30, 40}}, 12, 15, []span{{10, 12}, {15, 20}, {30, 40}}}, // splits
		{[]span{{10, 20}, {30, 40}}, 15, 35, []span{{10, 15}, {35, 40}}},           // trims both
		{[]span{{10, 20}, {30, 40}}, 5, 45, []span{}},                              // all
		{[]span{{10, 20}, {30, 40}}, 20, 30, []span{{10, 20}, {30, 40}}},           // the gap
		{[]span{{10, 20}, {30, 40}}, 10, 20, []span{{30, 40}}},                     // exactly one
	}
	for _, tc := range tests {
		o := occupancy{merged: [][]span{slices.Clone(tc.in)}}
		o.cut(0, tc.a, tc.b)
		if !slices.Equal(o.merged[0], tc.want) {
			t.Errorf("cut %v by [%d, %d) = %v; want %v", tc.in, tc.a, tc.b, o.merged[0], tc.want)
		}
	}
}

// sharedCenter generates jobs on two clusters of 40 shared nodes: most
// jobs take a few nodes (written as Slurm hostlists of ranges and single
// names), some run on, some are read twice (running, then ended), some
// have no node list.
type genJob struct {
	rec    *job.Record
	hosts  []string // what the node list names, as the test wrote it
	listed bool
}

func sharedCenter(seed uint64, n int) (first, final []genJob) {
	rng := rand.New(rand.NewPCG(seed, 7))
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		cl := []string{"east", "west"}[rng.IntN(2)]
		prefix := map[string]string{"east": "cn", "west": "gn"}[cl]
		k := 1 + rng.IntN(4)
		lo := 1 + rng.IntN(40-k+1)
		var hosts []string
		var list string
		switch rng.IntN(3) {
		case 0: // a range, zero padded
			for h := lo; h < lo+k; h++ {
				hosts = append(hosts, fmt.Sprintf("%s%03d", prefix, h))
			}
			list = fmt.Sprintf("%s[%03d-%03d]", prefix, lo, lo+k-1)
		case 1: // single names
			for h := lo; h < lo+k; h++ {
				hosts = append(hosts, fmt.Sprintf("%s%03d", prefix, h))
			}
			list = strings.Join(hosts, ",")
		default: // one bracket group mixing singles and ranges
			hosts = append(hosts, fmt.Sprintf("%s%03d", prefix, lo))
			parts := []string{fmt.Sprintf("%03d", lo)}
			if k > 1 {
				hosts = append(hosts, fmt.Sprintf("%s%03d", prefix, lo+1), fmt.Sprintf("%s%03d", prefix, lo+2))
				if lo+2 > 40 {
					hosts = hosts[:1]
				} else {
					parts = append(parts, fmt.Sprintf("%03d-%03d", lo+1, lo+2))
				}
			}
			list = prefix + "[" + strings.Join(parts, ",") + "]"
		}
		start := base.Add(time.Duration(rng.IntN(10*24*3600)) * time.Second)
		end := start.Add(time.Duration(60+rng.IntN(20*3600)) * time.Second)
		r := &job.Record{Cluster: cl, JobID: fmt.Sprint(i), Partition: "cpu", User: "u", Account: "a",
			Submit: start, Start: start, End: end, Cores: 4, Nodes: int64(len(hosts)), NodeList: list}
		g := genJob{rec: r, hosts: hosts, listed: true}
		if rng.IntN(20) == 0 {
			r.NodeList, g.listed = "", false
		}
		switch rng.IntN(10) {
		case 0: // still running
			r.End = time.Time{}
			first = append(first, g)
			final = append(final, g)
		case 1: // seen running, then ended
			run := *r
			run.End = time.Time{}
			first = append(first, genJob{rec: &run, hosts: hosts, listed: g.listed})
			final = append(final, g)
		default:
			first = append(first, g)
			final = append(final, g)
		}
	}
	return first, final
}

// plainOccupied computes occupied node-seconds inside [from, to) the plain
// way: per node, sort the intervals of every job on it, merge, clip, sum;
// jobs without a node list count NNodes x overlap. Running jobs run to to.
func plainOccupied(jobs []genJob, from, to time.Time) map[string]int64 {
	type iv struct{ a, b int64 }
	perNode := map[string][]iv{}
	out := map[string]int64{}
	for _, g := range jobs {
		a, b := g.rec.Start.Unix(), to.Unix()
		if !g.rec.End.IsZero() {
			b = min(b, g.rec.End.Unix())
		}
		a = max(a, from.Unix())
		if b <= a {
			continue
		}
		if !g.listed {
			out[g.rec.Cluster] += g.rec.Nodes * (b - a)
			continue
		}
		for _, h := range g.hosts {
			k := g.rec.Cluster + "/" + h
			perNode[k] = append(perNode[k], iv{a, b})
		}
	}
	for k, l := range perNode {
		sort.Slice(l, func(i, j int) bool { return l[i].a < l[j].a })
		cur := l[0]
		var sum int64
		for _, x := range l[1:] {
			if x.a <= cur.b {
				cur.b = max(cur.b, x.b)
				continue
			}
			sum += cur.b - cur.a
			cur = x
		}
		sum += cur.b - cur.a
		cl, _, _ := strings.Cut(k, "/")
		out[cl] += sum
	}
	return out
}

func TestOccupancyAgainstPlainUnion(t *testing.T) {
	first, final := sharedCenter(1, 3000)
	s := NewStore(nil)
	dec := job.Decision{Class: job.ClassOther}
	for _, g := range first {
		if err := s.Add(g.rec, dec); err != nil {
			t.Fatal(err)
		}
	}
	// The ended versions of the runs first seen running, and the whole log
	// a second time (an overlapping poll): union is idempotent.
	for _, g := range final {
		if err := s.Add(g.rec, dec); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	windows := [][2]time.Time{
		{base, base.Add(12 * 24 * time.Hour)},
		{base.Add(36 * time.Hour), base.Add(100 * time.Hour)},
		{base.Add(5*24*time.Hour + 17*time.Minute), base.Add(5*24*time.Hour + 3*time.Hour)},
	}
	for _, w := range windows {
		res := compute(t, s, Query{From: w[0], To: w[1], By: []Key{KeyCluster}, Every: Day})
		want := plainOccupied(final, w[0], w[1])
		var wantTotal int64
		for _, v := range want {
			wantTotal += v
		}
		if res.OccupiedNodeSeconds != wantTotal || !res.Occupancy {
			t.Errorf("%v: occupied %d node-seconds, the plain union %d", w, res.OccupiedNodeSeconds, wantTotal)
		}
		for _, g := range res.Groups {
			if g.OccupiedNodeSeconds != want[g.Values[0]] {
				t.Errorf("%v %s: occupied %d, the plain union %d", w, g.Values[0], g.OccupiedNodeSeconds, want[g.Values[0]])
			}
		}
		var sumBuckets int64
		for i, b := range res.Series {
			wb := plainOccupied(final, b.From, b.To)
			var wbt int64
			for _, v := range wb {
				wbt += v
			}
			if b.OccupiedNodeSeconds != wbt {
				t.Errorf("%v period %d: occupied %d, the plain union %d", w, i, b.OccupiedNodeSeconds, wbt)
			}
			sumBuckets += b.OccupiedNodeSeconds
		}
		if sumBuckets != res.OccupiedNodeSeconds {
			t.Errorf("%v: periods sum to %d, the window %d", w, sumBuckets, res.OccupiedNodeSeconds)
		}
		// Sharing never takes occupancy past the nodes: listed jobs alone
		// stay within 40 nodes per cluster, while NNodes x time does not.
		listedOnly := plainOccupied(onlyListed(final), w[0], w[1])
		for cl, v := range listedOnly {
			if capSec := 40 * (w[1].Unix() - w[0].Unix()); v > capSec {
				t.Errorf("%v %s: occupied %d of %d node-seconds", w, cl, v, capSec)
			}
		}
	}
	if st := s.Stats(); st.NoNodeList == 0 {
		t.Errorf("stats %+v: want some jobs without node list", st)
	}
	// The center is shared: the sum of NNodes x time passes the capacity.
	res := compute(t, s, Query{From: base, To: base.Add(11 * 24 * time.Hour)})
	if tot := res.Allocated.Total(); tot.NodeSeconds <= res.OccupiedNodeSeconds {
		t.Errorf("allocated %d <= occupied %d node-seconds: the test center does not share nodes", tot.NodeSeconds, res.OccupiedNodeSeconds)
	}
}

func onlyListed(jobs []genJob) []genJob {
	var out []genJob
	for _, g := range jobs {
		if g.listed {
			out = append(out, g)
		}
	}
	return out
}

// TestOccupancyGroupsWithoutNodes: a group by account owns no node, so it
// carries no occupancy; a node list too long to expand falls back.
func TestOccupancyFallbacks(t *testing.T) {
	s := load(t)
	r := rec{id: "huge", start: 1, end: 2, cores: 1, nodes: 3}.record()
	r.NodeList = "n[0-999999999999]"
	if err := s.Add(r, job.Decision{}); err != nil {
		t.Fatal(err)
	}
	res := compute(t, s, Query{From: at(0), To: at(3), By: []Key{KeyAccount}})
	if res.OccupiedNodeSeconds != 3*3600 || s.Stats().NoNodeList != 1 {
		t.Errorf("occupied %d, no node list %d; want 10800 and 1", res.OccupiedNodeSeconds, s.Stats().NoNodeList)
	}
	if res.Groups[0].Occupancy {
		t.Errorf("a group by account carries occupancy")
	}
	if st := s.NodeStats(); st.Nodes != 0 {
		t.Errorf("%d nodes interned from a refused list", st.Nodes)
	}
}

func TestOccupiedMatchesCompute(t *testing.T) {
	first, final := sharedCenter(3, 2000)
	s := NewStore(nil)
	for _, g := range append(first, final...) {
		if err := s.Add(g.rec, job.Decision{}); err != nil {
			t.Fatal(err)
		}
	}
	from, to := time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC)
	res := compute(t, s, Query{From: from, To: to, By: []Key{KeyCluster}})
	got := s.Occupied(from, to)
	for _, g := range res.Groups {
		if got[g.Values[0]] != g.OccupiedNodeSeconds || g.OccupiedNodeSeconds == 0 {
			t.Errorf("%s: Occupied %d, Compute %d", g.Values[0], got[g.Values[0]], g.OccupiedNodeSeconds)
		}
	}
}
