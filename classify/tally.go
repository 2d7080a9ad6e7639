package classify

import (
	"encoding/binary"
	"hash/maphash"
	"strings"

	"github.com/scmon/scmon/job"
)

// Tally collects a batch in compact form, for ClassifyBatch's decisions
// without holding the batch's records. The batch stages read five things
// of a record: its evidence signature (the per-record stages' outcome),
// its account, user and work directory, and its accelerator-hours' size
// bucket. Records equal in all five get the same decision, so a tally keeps
// each distinct combination once with the number of records that had it:
// a center's million allocations are a few thousand combinations.
//
// Decisions equal ClassifyBatch over the records added, in order. A Tally
// is not safe for concurrent use.
type Tally struct {
	c     *RuleClassifier
	memo  map[[2]string]bool
	index map[tallyKey]uint32
	keys  []tallyKey
	n     []uint32
	// byHash finds a record's combination by two independent hashes of
	// its signature and keys, as the classifier's cache finds entries: a
	// repeated combination then costs one signature and one lookup.
	seed, check maphash.Seed
	byHash      map[uint64]hashRef
}

type hashRef struct {
	check uint64
	i     uint32
}

// tallyKey is what the batch stages read of one record.
type tallyKey struct {
	e                      *cacheEntry
	account, user, workDir string
	size                   int8
}

// NewTally returns an empty tally for c's batch path.
func (c *RuleClassifier) NewTally() *Tally {
	return &Tally{c: c, memo: map[[2]string]bool{}, index: map[tallyKey]uint32{},
		seed: maphash.MakeSeed(), check: maphash.MakeSeed(), byHash: map[uint64]hashRef{}}
}

// Add counts one record and returns the index of its combination (see
// Decisions). The record is not retained: the strings kept are copies.
func (t *Tally) Add(r *job.Record) uint32 {
	size := int8(t.c.sizeOf(r, t.memo))
	var stack [512]byte
	buf := t.c.signature(stack[:0], r)
	for _, s := range [...]string{r.Account, r.User, r.WorkDir} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	buf = append(buf, byte(size))
	h, h2 := maphash.Bytes(t.seed, buf), maphash.Bytes(t.check, buf)
	if ref, ok := t.byHash[h]; ok && ref.check == h2 {
		t.n[ref.i]++
		return ref.i
	}
	k := tallyKey{e: t.c.entry(r), account: r.Account, user: r.User, workDir: r.WorkDir, size: size}
	if i, ok := t.index[k]; ok {
		t.byHash[h] = hashRef{h2, i}
		t.n[i]++
		return i
	}
	// Copies, so that a reader's line buffer is not kept alive by them.
	k.account, k.user, k.workDir = strings.Clone(k.account), strings.Clone(k.user), strings.Clone(k.workDir)
	i := uint32(len(t.keys))
	t.index[k] = i
	t.byHash[h] = hashRef{h2, i}
	t.keys = append(t.keys, k)
	t.n = append(t.n, 1)
	return i
}

// Len returns the number of distinct combinations counted.
func (t *Tally) Len() int { return len(t.keys) }

// Decisions classifies the batch with every stage and returns the decision
// of each combination, by the index Add returned.
func (t *Tally) Decisions() []Decision {
	rs, x := t.c.rs, NewContext()
	out := make([]Decision, len(t.keys))
	// Pass 1: the confident decisions, each counted as many times as its
	// combination occurred, into the context.
	mult := map[*cacheEntry]uint32{}
	for i, k := range t.keys {
		e := k.e
		out[i] = e.d
		if !e.confident {
			continue
		}
		slot := slotOf(e.d.Class)
		if rs.context.Enabled {
			x.addKeysN([numCtxKinds]string{k.account, k.user, k.workDir, e.nameFam}, slot, int(k.size), t.n[i])
		}
		if rs.learned.Enabled {
			mult[e] += t.n[i]
		}
	}
	if rs.learned.Enabled {
		for e, n := range mult {
			x.addTokens(e.out.tokens, slotOf(e.out.class), n)
		}
	}
	if !rs.context.Enabled && !rs.learned.Enabled {
		return out
	}
	// Pass 2: the rest, with the context and the learned model, decided
	// as run decides them.
	p := laterPass{c: t.c, x: x, predicted: map[*cacheEntry]*LearnedHit{}}
	for i, k := range t.keys {
		if k.e.confident {
			continue
		}
		keys := [numCtxKinds]string{k.account, k.user, k.workDir, k.e.out.nameFam}
		out[i] = p.decideKeys(keys, k.e, int(k.size)).d
	}
	return out
}

// addKeysN counts n records' confident decision in their keys, as addKeys
// counts one.
func (x *Context) addKeysN(keys [numCtxKinds]string, slot, size int, n uint32) {
	for k, v := range keys {
		if v == "" {
			continue
		}
		t := x.keys[k][v]
		if t == nil {
			t = new(tally)
			x.keys[k][v] = t
		}
		t.jobs[slot] += n
		if size >= 0 {
			if t.sized == nil {
				t.sized = new([sizeBuckets]counts)
			}
			t.sized[size][slot] += n
		}
	}
}
