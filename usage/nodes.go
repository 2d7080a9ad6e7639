package usage

import (
	"errors"
	"fmt"
	mathbits "math/bits"
	"slices"
	"sort"
	"time"

	"github.com/scmon/scmon/internal/hostlist"
)

// Node occupancy. A node is allocated while at least one allocation holds
// it, so the node-seconds a center used are the union, per node, of the
// intervals of the allocations on it, not the sum of NNodes x time (which
// counts a node shared by four jobs four times).
//
// Each finished allocation's interval is folded into the merged interval
// list of every node it names; an allocation still running keeps its node
// ids aside (running jobs are few) until a later record of the same run
// ends it. A later record of the same run (a poll that sees it end, a
// correction, the same line read twice) first takes back what the earlier
// one held, then adds its own, so that the occupancy is exactly that of
// the last records, whatever nodes and ends the earlier ones gave: the
// same record again changes nothing; a running one that ends drops its
// nodes from the running set; a finished one replaced by other nodes or a
// shorter interval has the merged list of each of its old nodes made again
// over its interval from the other allocations on the node. For that, until
// Seal (after which no record comes), the store keeps each allocation's
// node list as the record wrote it (compressed, a few bytes) and, per node,
// the finished allocations on it.

// MaxRecordNodes bounds the hosts one node list may name; a longer list is
// not expanded and the allocation falls back to NNodes x time.
const MaxRecordNodes = 1 << 18

// MaxNodes bounds the distinct nodes the store interns over all clusters;
// node lists that would pass it fall back to NNodes x time, so hostile
// lists cannot grow the node table without end.
const MaxNodes = 1 << 22

// span is a half-open interval [a, b) of Unix seconds.
type span struct{ a, b uint32 }

// listRef locates an allocation's node list in the occupancy's pool; n is
// 0 for an allocation that holds no listed node.
type listRef struct{ off, n uint32 }

// OccEdit is a change of the occupancy that Add made while changes are
// tracked: Nodes nodes of the cluster label became held (Nodes > 0) or
// free (Nodes < 0) over [A, B), B being OpenEnd for a running allocation.
// A consumer that has counted the occupied time up to some t corrects it
// by the edits' node-seconds before t: the sum of the edits is exactly the
// occupancy after the records minus the occupancy before them.
type OccEdit struct {
	Cluster uint16
	Nodes   int64
	A, B    uint32
}

// nodeKey names a node: node names are unique within a cluster.
type nodeKey struct {
	cluster uint16
	name    string
}

// occupancy is the store's node state.
type occupancy struct {
	idx     map[nodeKey]uint32
	cluster []uint16 // node id -> cluster label
	merged  [][]span // node id -> sorted, disjoint, non-touching spans
	// live holds the node ids of allocations still running, by job index;
	// liveOn the running allocations on each node.
	live   map[uint32][]uint32
	liveOn map[uint32][]uint32
	// onNode lists the finished allocations folded into each node's list
	// (by node id), and lists locates each allocation's node list (by job
	// index) in pool, for taking them back; all three are dropped by Seal.
	onNode [][]uint32
	lists  []listRef
	pool   []byte
	// edits collects the changes of occupancy while recording is on.
	recording bool
	edits     []OccEdit
	// unlisted marks (a bit per job index) the started allocations whose
	// node list is missing or unusable: they count NNodes x time.
	unlisted []uint64
	// ids, names and exp are scratch for Add.
	ids   []uint32
	names []string
	exp   hostlist.Expander
}

func newOccupancy() occupancy {
	return occupancy{idx: map[nodeKey]uint32{}, live: map[uint32][]uint32{}, liveOn: map[uint32][]uint32{}}
}

func (o *occupancy) isUnlisted(i uint32) bool {
	w := int(i / 64)
	return w < len(o.unlisted) && o.unlisted[w]&(1<<(i%64)) != 0
}

func (o *occupancy) setUnlisted(i uint32, on bool) {
	w := int(i / 64)
	for len(o.unlisted) <= w {
		o.unlisted = append(o.unlisted, 0)
	}
	if on {
		o.unlisted[w] |= 1 << (i % 64)
	} else {
		o.unlisted[w] &^= 1 << (i % 64)
	}
}

// expand resolves a node list into node ids of the cluster, interning new
// names, into o.ids. It fails, adding nothing, on a list that does not
// parse or names more than MaxRecordNodes hosts.
func (o *occupancy) expand(cluster uint16, list string) error {
	o.ids = o.ids[:0]
	if hostlist.Empty(list) {
		return errors.New("no node list")
	}
	names := o.names[:0]
	err := o.exp.Expand(list, MaxRecordNodes, func(h []byte) {
		if id, ok := o.idx[nodeKey{cluster, string(h)}]; ok {
			o.ids = append(o.ids, id)
			return
		}
		names = append(names, string(h))
		o.ids = append(o.ids, ^uint32(0)) // placeholder, filled below
	})
	if err != nil {
		o.ids = o.ids[:0]
		return err
	}
	if len(o.merged)+len(names) > MaxNodes {
		o.ids = o.ids[:0]
		return fmt.Errorf("the store holds %d nodes: more would pass %d", len(o.merged), MaxNodes)
	}
	k := 0
	for i, id := range o.ids {
		if id != ^uint32(0) {
			continue
		}
		key := nodeKey{cluster, names[k]}
		k++
		if nid, ok := o.idx[key]; ok { // named twice in this list
			o.ids[i] = nid
			continue
		}
		nid := uint32(len(o.merged))
		o.idx[key] = nid
		o.cluster = append(o.cluster, cluster)
		o.merged = append(o.merged, nil)
		o.onNode = append(o.onNode, nil)
		o.ids[i] = nid
	}
	clear(names)
	o.names = names[:0]
	slices.Sort(o.ids)
	o.ids = slices.Compact(o.ids)
	return nil
}

// fold adds [a, b) to node n's merged list.
func (o *occupancy) fold(n uint32, a, b uint32) {
	if b <= a {
		return
	}
	l := o.merged[n]
	// Fast path: records arrive mostly in time order.
	if k := len(l); k == 0 || l[k-1].b < a {
		o.merged[n] = append(l, span{a, b})
		return
	}
	// First span that ends at or after a (touching spans merge).
	i := sort.Search(len(l), func(i int) bool { return l[i].b >= a })
	j := i
	for j < len(l) && l[j].a <= b {
		a, b = min(a, l[j].a), max(b, l[j].b)
		j++
	}
	if i == j {
		o.merged[n] = slices.Insert(l, i, span{a, b})
		return
	}
	l[i] = span{a, b}
	o.merged[n] = slices.Delete(l, i+1, j)
}

// cut removes [a, b) from node n's merged list.
func (o *occupancy) cut(n uint32, a, b uint32) {
	l := o.merged[n]
	i := sort.Search(len(l), func(i int) bool { return l[i].b > a })
	j := i
	for j < len(l) && l[j].a < b {
		j++
	}
	if i == j {
		return
	}
	var keep [2]span
	k := 0
	if l[i].a < a {
		keep[k] = span{l[i].a, a}
		k++
	}
	if l[j-1].b > b {
		keep[k] = span{b, l[j-1].b}
		k++
	}
	o.merged[n] = slices.Replace(l, i, j, keep[:k]...)
}

// editNodes records that nodes nodes of cluster cl became held (nodes > 0)
// or free over [a, b). An edit that continues the last one (same cluster
// and count, starting where it ends) extends it: only sums are wanted.
func (o *occupancy) editNodes(cl uint16, nodes int64, a, b uint32) {
	if !o.recording || b <= a || nodes == 0 {
		return
	}
	if k := len(o.edits); k > 0 {
		if e := &o.edits[k-1]; e.Nodes == nodes && e.Cluster == cl && e.B == a {
			e.B = b
			return
		}
	}
	o.edits = append(o.edits, OccEdit{Cluster: cl, Nodes: nodes, A: a, B: b})
}

// diff records the change of node n's coverage from before to after (both
// sorted, disjoint spans) as edits.
func (o *occupancy) diff(n uint32, before, after []span) {
	pts := make([]uint32, 0, 2*(len(before)+len(after)))
	for _, l := range [2][]span{before, after} {
		for _, sp := range l {
			pts = append(pts, sp.a, sp.b)
		}
	}
	slices.Sort(pts)
	pts = slices.Compact(pts)
	in := func(l []span, k *int, x uint32) bool {
		for *k < len(l) && l[*k].b <= x {
			*k++
		}
		return *k < len(l) && l[*k].a <= x
	}
	var kb, ka int
	for p := 0; p+1 < len(pts); p++ {
		x, y := pts[p], pts[p+1]
		was, is := in(before, &kb, x), in(after, &ka, x)
		switch {
		case is && !was:
			o.editNodes(o.cluster[n], 1, x, y)
		case was && !is:
			o.editNodes(o.cluster[n], -1, x, y)
		}
	}
}

// Node operations of nodeOp.
const (
	opFold   = iota // a finished allocation holds the node over [a, b)
	opUnfold        // it no longer does
	opLive          // a running allocation holds it from a on
	opUnlive        // it no longer does
)

// nodeOp applies op for allocation idx on node n, recording the change of
// the node's coverage as edits while recording is on.
func (s *Store) nodeOp(op int, idx, n, a, b uint32) {
	o := &s.occ
	if op == opLive || op == opUnlive {
		b = openEnd
	}
	var before []span
	if o.recording {
		before = s.coverage(n, a, b)
	}
	switch op {
	case opFold:
		o.fold(n, a, b)
		o.onNode[n] = append(o.onNode[n], idx)
	case opUnfold:
		on := o.onNode[n]
		if k := slices.Index(on, idx); k >= 0 {
			o.onNode[n] = slices.Delete(on, k, k+1)
		}
		// The other allocations on the node hold what they held in [a, b).
		o.cut(n, a, b)
		for _, ji := range o.onNode[n] {
			j := &s.jobs[ji]
			if j.Start < b && j.End > a {
				o.fold(n, max(j.Start, a), min(j.End, b))
			}
		}
	case opLive:
		o.liveOn[n] = append(o.liveOn[n], idx)
	case opUnlive:
		on := o.liveOn[n]
		if k := slices.Index(on, idx); k >= 0 {
			on = slices.Delete(on, k, k+1)
		}
		if len(on) == 0 {
			delete(o.liveOn, n)
		} else {
			o.liveOn[n] = on
		}
	}
	if o.recording {
		o.diff(n, before, s.coverage(n, a, b))
	}
}

// coverage returns node n's occupied spans inside [x, y): the merged list
// and, from the earliest start of the running allocations on it, the rest.
func (s *Store) coverage(n uint32, x, y uint32) []span {
	var out []span
	l := s.occ.merged[n]
	i := sort.Search(len(l), func(i int) bool { return l[i].b > x })
	for ; i < len(l) && l[i].a < y; i++ {
		out = append(out, span{max(l[i].a, x), min(l[i].b, y)})
	}
	var lf uint32
	for _, ji := range s.occ.liveOn[n] {
		if st := s.jobs[ji].Start; lf == 0 || st < lf {
			lf = st
		}
	}
	if lf != 0 && lf < y {
		a := max(lf, x)
		k := sort.Search(len(out), func(k int) bool { return out[k].b >= a })
		if k < len(out) && out[k].a < a {
			a = out[k].a
		}
		out = append(out[:k], span{a, y})
	}
	return out
}

// covered returns the length of node n's merged spans inside [x, y).
func (o *occupancy) covered(n uint32, x, y int64) int64 {
	l := o.merged[n]
	i := sort.Search(len(l), func(i int) bool { return int64(l[i].b) > x })
	var sum int64
	for ; i < len(l) && int64(l[i].a) < y; i++ {
		sum += min(int64(l[i].b), y) - max(int64(l[i].a), x)
	}
	return sum
}

// spread adds node n's occupied seconds inside [x, y) to out, split by the
// contiguous buckets [bstart[k], bend[k]), with the node held from
// liveFrom on (0: not held by a running allocation).
func (o *occupancy) spread(n uint32, x, y int64, liveFrom int64, bstart, bend []int64, out []int64) {
	add := func(a, b int64) {
		a, b = max(a, x), min(b, y)
		if b <= a {
			return
		}
		k := sort.Search(len(bstart), func(k int) bool { return bstart[k] > a }) - 1
		for ; k < len(bstart) && a < b; k++ {
			if k < 0 {
				a = bstart[0]
				continue
			}
			if hi := min(b, bend[k]); hi > a {
				out[k] += hi - a
			}
			a = bend[k]
		}
	}
	hi := y
	if liveFrom > 0 && liveFrom < y {
		hi = max(liveFrom, x)
		add(hi, y)
	}
	l := o.merged[n]
	i := sort.Search(len(l), func(i int) bool { return int64(l[i].b) > x })
	for ; i < len(l) && int64(l[i].a) < hi; i++ {
		add(int64(l[i].a), min(int64(l[i].b), hi))
	}
}

// liveStarts returns, per node held by a running allocation, the earliest
// start among them.
func (s *Store) liveStarts() map[uint32]int64 {
	out := map[uint32]int64{}
	for ji, ids := range s.occ.live {
		st := int64(s.jobs[ji].Start)
		for _, n := range ids {
			if v, ok := out[n]; !ok || st < v {
				out[n] = st
			}
		}
	}
	return out
}

// occupiedSpread computes, per cluster label, the occupied node-seconds of
// the listed allocations inside [from, to) and, when bstart is given, per
// bucket. Unlisted allocations are added by Compute's job loop.
func (s *Store) occupiedSpread(from, to int64, bstart, bend []int64) (total map[uint16]int64, buckets map[uint16][]int64) {
	total = map[uint16]int64{}
	if len(bstart) > 0 {
		buckets = map[uint16][]int64{}
	}
	live := s.liveStarts()
	for n := range s.occ.merged {
		id := uint32(n)
		cl := s.occ.cluster[n]
		lf := live[id]
		hi := to
		var sec int64
		if lf > 0 && lf < to {
			hi = max(lf, from)
			sec = to - hi
		}
		sec += s.occ.covered(id, from, hi)
		if sec == 0 {
			continue
		}
		total[cl] += sec
		if buckets != nil {
			b := buckets[cl]
			if b == nil {
				b = make([]int64, len(bstart))
				buckets[cl] = b
			}
			s.occ.spread(id, from, to, lf, bstart, bend, b)
		}
	}
	return total, buckets
}

// NodeStats describes the store's node state, for memory figures and tests.
type NodeStats struct {
	// Nodes is the number of distinct nodes named by node lists.
	Nodes int
	// Spans is the number of merged intervals held over all nodes.
	Spans int
	// Live is the number of running allocations whose nodes are held aside.
	Live int
}

// NodeStats returns the size of the node state.
func (s *Store) NodeStats() NodeStats {
	st := NodeStats{Nodes: len(s.occ.merged), Live: len(s.occ.live)}
	for _, l := range s.occ.merged {
		st.Spans += len(l)
	}
	return st
}

// RunningNodes calls fn for every node that running allocations hold, with
// the cluster and partition labels of the first such allocation (lowest
// index), and reports, per cluster and partition, the NNodes of running
// allocations without a usable node list through unlisted.
func (s *Store) RunningNodes(fn func(cluster, partition string), unlisted func(cluster, partition string, nodes uint32)) {
	first := map[uint32]uint32{}
	for ji, ids := range s.occ.live {
		for _, n := range ids {
			if v, ok := first[n]; !ok || ji < v {
				first[n] = ji
			}
		}
	}
	for _, ji := range first {
		j := &s.jobs[ji]
		fn(s.strs[j.Cluster], s.strs[j.Partition])
	}
	for i := range s.jobs {
		j := &s.jobs[i]
		if j.Start != 0 && j.End == openEnd && j.Nodes > 0 && s.occ.isUnlisted(uint32(i)) {
			unlisted(s.strs[j.Cluster], s.strs[j.Partition], j.Nodes)
		}
	}
}

// Occupied returns the occupied node-seconds of [from, to) by cluster, as
// Compute's OccupiedNodeSeconds, without a pass over every allocation:
// only the nodes' merged intervals and the allocations without a node list.
func (s *Store) Occupied(from, to time.Time) map[string]int64 {
	f, t := from.Unix(), to.Unix()
	out := map[string]int64{}
	if t <= f {
		return out
	}
	occ, _ := s.occupiedSpread(f, t, nil, nil)
	for cl, sec := range occ {
		out[s.strs[cl]] += sec
	}
	for w, bits := range s.occ.unlisted {
		for bits != 0 {
			b := bits & -bits
			bits &^= b
			i := w*64 + mathbits.TrailingZeros64(b)
			if i >= len(s.jobs) {
				break
			}
			j := &s.jobs[i]
			a, e := max(int64(j.Start), f), int64(j.End)
			if j.End == openEnd || e > t {
				e = t
			}
			if j.Start != 0 && e > a {
				out[s.strs[j.Cluster]] += int64(j.Nodes) * (e - a)
			}
		}
	}
	return out
}
