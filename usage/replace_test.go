package usage

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// TestReplacedNodeList: a later record of the same run (same cluster, job
// id and start) that names other nodes, fewer nodes or another end takes
// the earlier record's node time back exactly: the occupancy is that of
// the last record alone, and never passes the node-seconds charged.
func TestReplacedNodeList(t *testing.T) {
	type version struct {
		list  string
		hosts []string
		nodes int64
		end   float64 // hours; < 0 running
	}
	n12 := []string{"n1", "n2"}
	tests := []struct {
		name     string
		versions []version
	}{
		{"fewer nodes", []version{{"n[1-2]", n12, 2, 2}, {"n1", []string{"n1"}, 1, 2}}},
		{"other nodes", []version{{"n[1-2]", n12, 2, 2}, {"n[3-4]", []string{"n3", "n4"}, 2, 2}}},
		{"shorter", []version{{"n[1-2]", n12, 2, 4}, {"n[1-2]", n12, 2, 2}}},
		{"longer", []version{{"n[1-2]", n12, 2, 2}, {"n[1-2]", n12, 2, 4}}},
		{"running, then ended elsewhere", []version{{"n[1-2]", n12, 2, -1}, {"n3", []string{"n3"}, 1, 3}}},
		{"ended, then running again", []version{{"n[1-2]", n12, 2, 3}, {"n1", []string{"n1"}, 1, -1}}},
		{"listed, then no list", []version{{"n[1-4]", []string{"n1", "n2", "n3", "n4"}, 4, 2}, {"", nil, 2, 2}}},
		{"no list, then listed", []version{{"", nil, 4, 2}, {"n1", []string{"n1"}, 1, 2}}},
		{"same record three times", []version{{"n[1-2]", n12, 2, 2}, {"n[1-2]", n12, 2, 2}, {"n[1-2]", n12, 2, 2}}},
		{"back and forth", []version{{"n[1-2]", n12, 2, 2}, {"n[5-6]", []string{"n5", "n6"}, 2, 5}, {"n2", []string{"n2"}, 1, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(nil)
			// A neighbour on n1 and n2 over the first half hour: its time
			// stays whatever the run does.
			nb := rec{id: "nb", start: 0, end: 0.5, cores: 1, nodes: 2}.record()
			nb.NodeList = "n[1-2]"
			final := []genJob{{rec: nb, hosts: n12, listed: true}}
			if err := s.Add(nb, job.Decision{}); err != nil {
				t.Fatal(err)
			}
			var last genJob
			for _, v := range tc.versions {
				r := rec{id: "j", start: 0, end: v.end, cores: 1, nodes: v.nodes}.record()
				r.NodeList = v.list
				if err := s.Add(r, job.Decision{}); err != nil {
					t.Fatal(err)
				}
				last = genJob{rec: r, hosts: v.hosts, listed: v.list != ""}
			}
			final = append(final, last)
			from, to := at(0), at(10)
			want := plainOccupied(final, from, to)["c1"]
			res := compute(t, s, Query{From: from, To: to})
			if res.OccupiedNodeSeconds != want {
				t.Errorf("occupied %d node-seconds; the last records alone %d", res.OccupiedNodeSeconds, want)
			}
			if got := s.Occupied(from, to)["c1"]; got != want {
				t.Errorf("Occupied %d; the last records alone %d", got, want)
			}
			if tot := res.Allocated.Total(); res.OccupiedNodeSeconds > tot.NodeSeconds {
				t.Errorf("occupied %d node-seconds > charged %d", res.OccupiedNodeSeconds, tot.NodeSeconds)
			}
		})
	}
}

// TestReplacedNodeListsAgainstPlainUnion: a shared center whose runs are
// read up to four times, each time with a random node list, end or none,
// in random order; the occupancy is the plain union of the last versions.
func TestReplacedNodeListsAgainstPlainUnion(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			var versions [][]genJob
			for v := 0; v < 4; v++ {
				_, final := sharedCenter(seed*100+uint64(v), 800)
				versions = append(versions, final)
			}
			s := NewStore(nil)
			last := make([]genJob, 800)
			for round := 0; round < 3200; round++ {
				i := rng.IntN(800)
				g := versions[rng.IntN(4)][i]
				// Same run: the key is cluster, job id and start.
				r := *g.rec
				r.Cluster, r.Start = versions[0][i].rec.Cluster, versions[0][i].rec.Start
				r.Submit = r.Start
				if !r.End.IsZero() && !r.End.After(r.Start) {
					r.End = r.Start.Add(time.Minute)
				}
				hosts := g.hosts
				if r.Cluster != g.rec.Cluster { // the other cluster's prefix
					hosts = nil
					r.NodeList = ""
				}
				if err := s.Add(&r, job.Decision{}); err != nil {
					t.Fatal(err)
				}
				last[i] = genJob{rec: &r, hosts: hosts, listed: r.NodeList != ""}
			}
			var final []genJob
			for _, g := range last {
				if g.rec != nil {
					final = append(final, g)
				}
			}
			base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
			for _, w := range [][2]time.Time{{base, base.Add(12 * 24 * time.Hour)}, {base.Add(50 * time.Hour), base.Add(75 * time.Hour)}} {
				want := plainOccupied(final, w[0], w[1])
				got := s.Occupied(w[0], w[1])
				res := compute(t, s, Query{From: w[0], To: w[1], By: []Key{KeyCluster}})
				for _, cl := range []string{"east", "west"} {
					if got[cl] != want[cl] {
						t.Errorf("%v %s: Occupied %d, the plain union of the last records %d", w, cl, got[cl], want[cl])
					}
				}
				var wt int64
				for _, v := range want {
					wt += v
				}
				if res.OccupiedNodeSeconds != wt {
					t.Errorf("%v: Compute occupied %d, the plain union %d", w, res.OccupiedNodeSeconds, wt)
				}
			}
		})
	}
}

// TestOccEditsSumToOccupancy: the edits recorded while records (new ones,
// runs ending, replacements with other nodes and ends) arrive sum, inside
// any window, to the occupancy the store gives for it.
func TestOccEditsSumToOccupancy(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var versions [][]genJob
	for v := 0; v < 3; v++ {
		first, final := sharedCenter(900+uint64(v), 500)
		versions = append(versions, first, final)
	}
	s := NewStore(nil)
	s.TrackChanges(true)
	var edits []OccEdit
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	check := func(round int) {
		t.Helper()
		edits = append(edits, s.TakeOccEdits()...)
		for _, w := range [][2]time.Time{{base, base.Add(12 * 24 * time.Hour)}, {base.Add(30 * time.Hour), base.Add(31 * time.Hour)}} {
			x, y := w[0].Unix(), w[1].Unix()
			want := s.Occupied(w[0], w[1])
			got := map[string]int64{}
			for _, e := range edits {
				if a, b := max(int64(e.A), x), min(int64(e.B), y); b > a {
					got[s.Label(uint32(e.Cluster))] += int64(e.Nodes) * (b - a)
				}
			}
			for _, cl := range []string{"east", "west"} {
				if got[cl] != want[cl] {
					t.Fatalf("round %d, %v %s: edits sum to %d, Occupied %d", round, w, cl, got[cl], want[cl])
				}
			}
		}
	}
	for round := 0; round < 2000; round++ {
		i := rng.IntN(500)
		g := versions[rng.IntN(len(versions))][i]
		r := *g.rec
		r.Cluster, r.Start = versions[0][i].rec.Cluster, versions[0][i].rec.Start
		if !r.End.IsZero() && !r.End.After(r.Start) {
			r.End = r.Start.Add(time.Minute)
		}
		if r.Cluster != g.rec.Cluster {
			r.NodeList = ""
		}
		if err := s.Add(&r, job.Decision{}); err != nil {
			t.Fatal(err)
		}
		if round%97 == 0 {
			check(round)
		}
	}
	check(2000)
}

// FuzzReplace reads the input as records of eight runs on eight nodes
// (each four bytes: run, start offset, length or running, node bits),
// added in order with changes tracked, and checks the occupancy against
// the plain union of the last records and the edits' sum against it.
func FuzzReplace(f *testing.F) {
	f.Add([]byte{0, 1, 5, 3, 0, 1, 2, 1, 1, 0, 0, 255, 1, 0, 9, 4})
	f.Add([]byte{2, 3, 0, 7, 2, 3, 4, 8, 3, 3, 6, 0, 2, 3, 1, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4*256 {
			data = data[:4*256]
		}
		base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		s := NewStore(nil)
		s.TrackChanges(true)
		last := map[byte]genJob{}
		starts := map[byte]time.Time{}
		for k := 0; k+4 <= len(data); k += 4 {
			run, off, length, bits := data[k]%8, data[k+1]%16, data[k+2], data[k+3]
			st, ok := starts[run]
			if !ok {
				st = base.Add(time.Duration(off) * time.Hour)
				starts[run] = st
			}
			r := &job.Record{Cluster: "c", JobID: fmt.Sprint(run), Start: st, Submit: st, Cores: 1}
			if length%16 != 15 {
				r.End = st.Add(time.Duration(length%16) * 30 * time.Minute)
			}
			var hosts []string
			for b := range 8 {
				if bits&(1<<b) != 0 {
					hosts = append(hosts, fmt.Sprintf("n%d", b))
				}
			}
			r.Nodes = int64(len(hosts))
			if length >= 128 && len(hosts) > 0 { // no node list: NNodes x time
				hosts = nil
			} else {
				r.NodeList = strings.Join(hosts, ",")
			}
			if err := s.Add(r, job.Decision{}); err != nil {
				t.Fatal(err)
			}
			last[run] = genJob{rec: r, hosts: hosts, listed: r.NodeList != ""}
		}
		var final []genJob
		for _, g := range last {
			if !g.rec.End.IsZero() && g.rec.End.Equal(g.rec.Start) {
				continue
			}
			final = append(final, g)
		}
		edits := s.TakeOccEdits()
		for _, w := range [][2]time.Time{{base, base.Add(40 * time.Hour)}, {base.Add(3 * time.Hour), base.Add(5 * time.Hour)}} {
			want := plainOccupied(final, w[0], w[1])["c"]
			if got := s.Occupied(w[0], w[1])["c"]; got != want {
				t.Fatalf("%v: Occupied %d, the plain union of the last records %d", w, got, want)
			}
			var sum int64
			for _, e := range edits {
				if a, b := max(int64(e.A), w[0].Unix()), min(int64(e.B), w[1].Unix()); b > a {
					sum += e.Nodes * (b - a)
				}
			}
			if sum != want {
				t.Fatalf("%v: edits sum to %d, the occupancy %d", w, sum, want)
			}
		}
	})
}
