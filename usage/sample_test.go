package usage

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"testing"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/internal/hostlist"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
)

// TestSampleOccupancy holds the engine's node occupancy of the built-in
// sample center (its generator places every job on real nodes, CPU jobs
// sharing nodes) against a plain union of intervals per node, over the
// month and day by day, and checks that occupancy, unlike the node-hours
// charged to jobs, never passes the 576 nodes in any hour.
func TestSampleOccupancy(t *testing.T) {
	loc, err := time.LoadLocation(seeds.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := collector.MaybeGzip(bytes.NewReader(seeds.SacctLog()))
	if err != nil {
		t.Fatal(err)
	}
	r := collector.NewSacctReader(zr, collector.Options{Name: "sample", Location: loc, Cluster: seeds.ClusterName})
	s := NewStore(nil)
	last := map[string]*job.Record{}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(rec, job.Decision{Class: job.ClassOther}); err != nil {
			t.Fatal(err)
		}
		c := *rec
		last[rec.Key()] = &c
	}
	if st := s.Stats(); st.NoNodeList != 0 {
		t.Fatalf("%d sample jobs without a node list", st.NoNodeList)
	}

	// The plain way: every interval of every node, sorted and merged.
	type iv struct{ a, b int64 }
	perNode := map[string][]iv{}
	for _, rec := range last {
		if rec.Start.IsZero() {
			continue
		}
		end := rec.End
		if end.IsZero() {
			end = time.Unix(1<<40, 0)
		}
		hosts, err := hostlist.Hosts(rec.NodeList, 10_000)
		if err != nil {
			t.Fatalf("%s: %v", rec.JobID, err)
		}
		for _, h := range hosts {
			perNode[h] = append(perNode[h], iv{rec.Start.Unix(), end.Unix()})
		}
	}
	for h, l := range perNode {
		sort.Slice(l, func(i, j int) bool { return l[i].a < l[j].a })
		out := []iv{l[0]}
		for _, x := range l[1:] {
			if p := &out[len(out)-1]; x.a <= p.b {
				p.b = max(p.b, x.b)
			} else {
				out = append(out, x)
			}
		}
		perNode[h] = out
	}
	plain := func(from, to time.Time) int64 {
		var sum int64
		for _, l := range perNode {
			for _, x := range l {
				if a, b := max(x.a, from.Unix()), min(x.b, to.Unix()); b > a {
					sum += b - a
				}
			}
		}
		return sum
	}

	from := time.Date(2026, 10, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 30)
	res := compute(t, s, Query{From: from, To: to, Every: Day, Location: loc})
	if want := plain(from, to); res.OccupiedNodeSeconds != want {
		t.Errorf("month: occupied %d node-seconds, the plain union %d", res.OccupiedNodeSeconds, want)
	}
	for _, b := range res.Series {
		if want := plain(b.From, b.To); b.OccupiedNodeSeconds != want {
			t.Errorf("%s: occupied %d node-seconds, the plain union %d", b.From.Format("01-02"), b.OccupiedNodeSeconds, want)
		}
	}
	const nodes = 384 + 32 + 32 + 160 // the most nodes the inventory ever has
	hourly := compute(t, s, Query{From: from, To: to, Every: Hour, Location: loc})
	charged := false
	for _, b := range hourly.Series {
		capSec := int64(nodes) * (b.To.Unix() - b.From.Unix())
		if b.OccupiedNodeSeconds > capSec {
			t.Errorf("%s: occupied %d of at most %d node-seconds", b.From, b.OccupiedNodeSeconds, capSec)
		}
		if tot := b.Allocated.Total(); tot.NodeSeconds > b.OccupiedNodeSeconds {
			charged = true
		}
	}
	if !charged {
		t.Error("no hour where jobs were charged more node-hours than occupied: the sample shares no node")
	}
}
