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
// Each node keeps a step function: the number of allocations holding it,
// as sorted, disjoint segments of a constant count of at least one (equal
// neighbours merged), so that the node's occupied seconds are the length
// of its segments. A finished allocation adds one over [Start, End) to
// every node it names, a running one over [Start, open end). A later
// record of the same run (a poll that sees it end, a correction, the same
// line read twice) first takes the earlier record's count back, node by
// node, then adds its own: the occupancy is exactly that of the last
// records, whatever nodes and ends the earlier ones gave. To take it back,
// the store keeps each allocation's node list as the record wrote it
// (compressed, a few bytes) until Seal, after which no record comes.

// MaxRecordNodes bounds the hosts one node list may name; a longer list is
// not expanded and the allocation falls back to NNodes x time.
const MaxRecordNodes = 1 << 18

// MaxNodes bounds the distinct nodes the store interns over all clusters;
// node lists that would pass it fall back to NNodes x time, so hostile
// lists cannot grow the node table without end.
const MaxNodes = 1 << 22

// span is a half-open interval [a, b) of Unix seconds held by n
// allocations (n >= 1); b is openEnd for allocations still running.
type span struct{ a, b, n uint32 }

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
	Nodes   int32
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
	merged  [][]span // node id -> sorted, disjoint segments, equal touching ones merged
	// live holds the node ids of allocations still running, by job index.
	live map[uint32][]uint32
	// lists locates each allocation's node list (by job index) in pool,
	// for taking its count back when a later record replaces it; both are
	// dropped by Seal.
	lists []listRef
	pool  []byte
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
	return occupancy{idx: map[nodeKey]uint32{}, live: map[uint32][]uint32{}}
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
		o.ids[i] = nid
	}
	clear(names)
	o.names = names[:0]
	slices.Sort(o.ids)
	o.ids = slices.Compact(o.ids)
	return nil
}

// fold adds one holder over [a, b) to node n.
func (o *occupancy) fold(n uint32, a, b uint32) { o.count(n, a, b, 1) }

// unfold takes one holder over [a, b) back from node n.
func (o *occupancy) unfold(n uint32, a, b uint32) { o.count(n, a, b, -1) }

// edit records that node n became held (sign 1) or free (-1) over [a, b).
func (o *occupancy) edit(n uint32, sign int32, a, b uint32) {
	o.editNodes(o.cluster[n], sign, a, b)
}

// editNodes records that nodes nodes of cluster cl became held (nodes > 0)
// or free over [a, b). An edit that continues the last one (same cluster
// and count, starting where it ends) extends it: only sums are wanted.
func (o *occupancy) editNodes(cl uint16, nodes int32, a, b uint32) {
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

// count adds delta (1 or -1) holders over [a, b) to node n's segments.
func (o *occupancy) count(n uint32, a, b uint32, delta int) {
	if b <= a {
		return
	}
	l := o.merged[n]
	// Fast path: records arrive mostly in time order.
	if k := len(l); delta > 0 && (k == 0 || l[k-1].b < a) {
		o.merged[n] = append(l, span{a, b, 1})
		o.edit(n, 1, a, b)
		return
	} else if delta > 0 && l[k-1].b == a && l[k-1].n == 1 {
		l[k-1].b = b
		o.edit(n, 1, a, b)
		return
	}
	// The segments that touch or overlap [a, b), rebuilt piece by piece.
	i := sort.Search(len(l), func(i int) bool { return l[i].b >= a })
	j := i
	for j < len(l) && l[j].a <= b {
		j++
	}
	pts := make([]uint32, 0, 2*(j-i)+2)
	pts = append(pts, a, b)
	for _, sp := range l[i:j] {
		pts = append(pts, sp.a, sp.b)
	}
	slices.Sort(pts)
	pts = slices.Compact(pts)
	var out []span
	k := i
	for p := 0; p+1 < len(pts); p++ {
		x, y := pts[p], pts[p+1]
		for k < j && l[k].b <= x {
			k++
		}
		var had int
		if k < j && l[k].a <= x {
			had = int(l[k].n)
		}
		now := had
		if a <= x && y <= b {
			now = max(had+delta, 0)
		}
		switch {
		case had == 0 && now > 0:
			o.edit(n, 1, x, y)
		case had > 0 && now == 0:
			o.edit(n, -1, x, y)
		}
		if now == 0 {
			continue
		}
		if m := len(out); m > 0 && out[m-1].b == x && out[m-1].n == uint32(now) {
			out[m-1].b = y
			continue
		}
		out = append(out, span{x, y, uint32(now)})
	}
	// The neighbours outside [i, j) do not touch the rebuilt segments:
	// l[i-1] ends before a and l[j] starts after b.
	o.merged[n] = slices.Replace(l, i, j, out...)
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
// contiguous buckets [bstart[k], bend[k]).
func (o *occupancy) spread(n uint32, x, y int64, bstart, bend []int64, out []int64) {
	l := o.merged[n]
	i := sort.Search(len(l), func(i int) bool { return int64(l[i].b) > x })
	for ; i < len(l) && int64(l[i].a) < y; i++ {
		a, b := max(int64(l[i].a), x), min(int64(l[i].b), y)
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
}

// occupiedSpread computes, per cluster label, the occupied node-seconds of
// the listed allocations inside [from, to) and, when bstart is given, per
// bucket. Unlisted allocations are added by Compute's job loop.
func (s *Store) occupiedSpread(from, to int64, bstart, bend []int64) (total map[uint16]int64, buckets map[uint16][]int64) {
	total = map[uint16]int64{}
	if len(bstart) > 0 {
		buckets = map[uint16][]int64{}
	}
	for n := range s.occ.merged {
		id := uint32(n)
		cl := s.occ.cluster[n]
		sec := s.occ.covered(id, from, to)
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
			s.occ.spread(id, from, to, bstart, bend, b)
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
