package classify

import "slices"

// WithForced returns a rule set that also applies the given
// forced-accelerator declarations, such as the partitions an inventory
// marks with forced_accelerators. The receiver is not changed.
func (rs *RuleSet) WithForced(extra []ForcedAccelerators) *RuleSet {
	if len(extra) == 0 {
		return rs
	}
	cp := *rs
	cp.forced = slices.Clone(rs.forced)
	for _, f := range extra {
		cp.forced = append(cp.forced, forcedDecl{ForcedAccelerators: f, source: "inventory"})
	}
	return &cp
}

// ForcedOnPartitions declares forced accelerators on the named partitions.
func ForcedOnPartitions(names ...string) []ForcedAccelerators {
	out := make([]ForcedAccelerators, len(names))
	for i, n := range names {
		out[i] = ForcedAccelerators{Partition: n}
	}
	return out
}
