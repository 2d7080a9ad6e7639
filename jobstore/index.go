package jobstore

import "fmt"

// runIndex maps the fingerprint of every stored run's key (keyHash) to
// the block holding its latest version: 12 bytes a slot in an
// open-addressing table kept at most 3/4 full, so 16 to 32 bytes per run.
// It is what lets Apply tell new runs from replaced ones without a B-tree
// lookup per record, and readers skip the versions that were replaced. Not
// safe for concurrent use.
type runIndex struct {
	keys   []uint64 // 0: free slot
	blocks []uint32
	n      int
}

// newRunIndex returns an index with room for n runs before it grows.
func newRunIndex(n int) *runIndex {
	size := 1024
	for size*3/4 < n {
		size *= 2
	}
	return &runIndex{keys: make([]uint64, size), blocks: make([]uint32, size)}
}

// Len returns the number of runs indexed.
func (x *runIndex) Len() int { return x.n }

// slot returns the slot of key: where it is, or the free one where it
// would go.
func (x *runIndex) slot(key uint64) int {
	mask := uint64(len(x.keys) - 1)
	i := fmix(key) & mask
	for x.keys[i] != 0 && x.keys[i] != key {
		i = (i + 1) & mask
	}
	return int(i)
}

// get returns the block of key's latest version.
func (x *runIndex) get(key uint64) (uint32, bool) {
	i := x.slot(key)
	return x.blocks[i], x.keys[i] != 0
}

// set records block as key's latest.
func (x *runIndex) set(key uint64, block uint32) {
	i := x.slot(key)
	if x.keys[i] == 0 {
		if (x.n+1)*4 > len(x.keys)*3 {
			x.grow()
			i = x.slot(key)
		}
		x.keys[i] = key
		x.n++
	}
	x.blocks[i] = block
}

func (x *runIndex) grow() {
	old, oldBlocks := x.keys, x.blocks
	x.keys, x.blocks = make([]uint64, 2*len(old)), make([]uint32, 2*len(old))
	for i, k := range old {
		if k != 0 {
			j := x.slot(k)
			x.keys[j], x.blocks[j] = k, oldBlocks[i]
		}
	}
}

// blockID converts a block's id for the index, which holds 32 bits.
func blockID(id int64) (uint32, error) {
	if id <= 0 || id > 1<<32-1 {
		return 0, fmt.Errorf("block id %d out of range", id)
	}
	return uint32(id), nil
}
