package usage

// Unlisted reports whether allocation i (an index into Jobs) holds nodes
// without a usable node list: its occupancy is NNodes x time.
func (s *Store) Unlisted(i int) bool { return s.occ.isUnlisted(uint32(i)) }

// LiveNodes calls fn for every node that running allocations hold, once
// per node, with the cluster and partition labels of the first such
// allocation (lowest index): RunningNodes without the pass over every
// allocation for the unlisted ones, which a caller that keeps its own set
// of running allocations counts with Unlisted.
func (s *Store) LiveNodes(fn func(cluster, partition string)) {
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
}
