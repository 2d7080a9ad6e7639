package classify

import (
	"hash/maphash"
	"math/bits"

	"github.com/scmon/scmon/job"
)

// A batch repeats itself: a center's million records hold a few tens of
// thousands of distinct workloads, the same scripts in the same
// directories under the same accounts. The batch memo finds each record's
// twin among the records seen before it in the batch, by a hash of every
// input the batch's stages read, and checks the twin field by field, so
// that a hash collision costs time, never a result. A record with a twin
// takes the twin's cache entry, context keys and later-stage outcome; only
// what differs between twins (the accelerator-hours that pick the size
// bucket) is computed per record.

// twin is what a batch knows of all its records with the same inputs.
type twin struct {
	rep *job.Record // the first record, against which the others are checked
	// elapsed is the run time's bucket between the rules' thresholds:
	// twins differ in run time, but not across a threshold.
	elapsed int32
	e       *cacheEntry
	next    *twin // the next twin of the same hash
	id      int32 // index in batchMemo.list

	// units is the accelerators the table knows the record to hold
	// (sizeOf), -1 until computed.
	units int64
	// tallies are the context's tallies of the twin's keys, found (and
	// made, for confident twins) once per batch; resolved says they were
	// looked up.
	tallies  [numCtxKinds]*tally
	resolved bool
	// d, confident and slot copy the entry's decision, its confidence and
	// its class's slot in counts, so that a twin's records need not
	// touch the entry.
	d         Decision
	confident bool
	slot      int
	// records counts the batch's records of a confident twin, for the
	// learned model's token counts.
	records uint32
	// done holds the later stages' outcome per size bucket.
	done []sizedLater
}

// confidentTwin marks, in a batch's record-to-twin index, a record whose
// twin is confident: the later stages skip it without looking.
const confidentTwin = -2

type sizedLater struct {
	size int
	l    *later
}

// batchMemo finds twins within one batch. It is not safe for concurrent
// use.
type batchMemo struct {
	c    *RuleClassifier
	seed maphash.Seed
	m    map[uint64]*twin
	list []*twin
	gres map[[2]string]bool // sizeOf's memo
	// elapsed says the rules read the run time.
	elapsed bool
	// records counts the records looked up; off says the memo stopped.
	records  int
	off      bool
	minTwins int
}

func newBatchMemo(c *RuleClassifier) *batchMemo {
	m := &batchMemo{
		c:        c,
		seed:     maphash.MakeSeed(),
		m:        map[uint64]*twin{},
		gres:     map[[2]string]bool{},
		elapsed:  c.rs.used.has(fElapsed),
		minTwins: minTwins,
	}
	if c.minTwins > 0 {
		m.minTwins = c.minTwins
	}
	return m
}

// find returns the twin of r, making one at r's first appearance, or nil
// when the memo has stopped: a batch whose records rarely repeat (every
// record with its own user or work directory) would pay for a twin per
// record and share nothing, so after minTwins twins the memo goes on only
// while at least half the records found theirs. Records without a twin
// take the record-by-record path, with the same result.
func (m *batchMemo) find(r *job.Record) *twin {
	if m.off {
		return nil
	}
	m.records++
	if len(m.list) >= m.minTwins && 2*len(m.list) > m.records {
		m.off = true
		return nil
	}
	return m.findHashed(r, m.hash(r))
}

// minTwins is the number of twins a batch makes before the memo asks
// whether they pay.
const minTwins = 1 << 16

// findHashed is find with r's hash given.
func (m *batchMemo) findHashed(r *job.Record, h uint64) *twin {
	el := int32(-2) // not read
	if m.elapsed {
		el = int32(bucket(m.c.rs.cuts[fElapsed], numValue(r, fElapsed)))
	}
	first := m.m[h]
	for t := first; t != nil; t = t.next {
		if t.elapsed == el && sameInputs(t.rep, r) {
			return t
		}
	}
	e := m.c.entry(r)
	t := &twin{rep: r, elapsed: el, e: e, d: e.d, confident: e.confident, slot: slotOf(e.d.Class),
		next: first, units: -1, id: int32(len(m.list))}
	m.m[h] = t
	m.list = append(m.list, t)
	return t
}

// mix folds one value into a running hash.
func mix(h, v uint64) uint64 {
	return bits.RotateLeft64((h^v)*0x9e3779b97f4a7c15, 29)
}

// hash hashes every text input of r that sameInputs compares. The numbers
// are compared, not hashed: twins mostly differ in their text.
func (m *batchMemo) hash(r *job.Record) uint64 {
	s := m.seed
	h := uint64(len(r.Steps))<<32 | uint64(len(r.Accels))<<8 | uint64(r.State)
	h = mix(h, maphash.String(s, r.Name))
	h = mix(h, maphash.String(s, r.SubmitLine))
	h = mix(h, maphash.String(s, r.WorkDir))
	h = mix(h, maphash.String(s, r.Comment))
	h = mix(h, maphash.String(s, r.WCKey))
	h = mix(h, maphash.String(s, r.Account))
	h = mix(h, maphash.String(s, r.User))
	h = mix(h, maphash.String(s, r.Group))
	h = mix(h, maphash.String(s, r.Cluster))
	h = mix(h, maphash.String(s, r.Partition))
	h = mix(h, maphash.String(s, r.QOS))
	for i := range r.Steps {
		st := &r.Steps[i]
		h = mix(h, maphash.String(s, st.Name))
		h = mix(h, maphash.String(s, st.Command))
	}
	for i := range r.Accels {
		a := &r.Accels[i]
		h = mix(h, maphash.String(s, a.Name))
		h = mix(h, maphash.String(s, a.Type))
		h = mix(h, uint64(a.Count))
	}
	return h
}

// sameInputs reports whether two records are alike in every input of the
// per-record stages and of the batch's context keys: the text fields,
// state, steps and generic resources, all whole, and the sizes asked for
// (the run time, which differs between twins, is compared by bucket
// apart). Records alike in these have one evidence
// signature, one name family and one set of context keys.
func sameInputs(a, b *job.Record) bool {
	if a == b {
		return true
	}
	if a.State != b.State || a.Nodes != b.Nodes || a.Cores != b.Cores ||
		a.Timelimit != b.Timelimit || a.Unlimited != b.Unlimited || len(a.Steps) != len(b.Steps) || len(a.Accels) != len(b.Accels) ||
		a.Name != b.Name || a.SubmitLine != b.SubmitLine || a.WorkDir != b.WorkDir ||
		a.Comment != b.Comment || a.WCKey != b.WCKey || a.Account != b.Account ||
		a.User != b.User || a.Group != b.Group || a.Cluster != b.Cluster ||
		a.Partition != b.Partition || a.QOS != b.QOS {
		return false
	}
	for i := range a.Steps {
		if a.Steps[i].Name != b.Steps[i].Name || a.Steps[i].Command != b.Steps[i].Command {
			return false
		}
	}
	for i := range a.Accels {
		if a.Accels[i] != b.Accels[i] {
			return false
		}
	}
	return true
}

// size returns the size bucket of r (sizeOf), the accelerators it holds
// found once per twin.
func (m *batchMemo) size(t *twin, r *job.Record) int {
	if t.units < 0 {
		t.units = m.c.accelUnits(t.rep, m.gres)
	}
	return sizeBucket(t.units, r)
}

// keys returns the context's tallies of a confident twin's keys, made
// at its first record.
func (t *twin) keys(x *Context) *[numCtxKinds]*tally {
	if t.resolved {
		return &t.tallies
	}
	t.resolved = true
	for k, v := range keysOf(t.rep, t.e.out) {
		if v == "" {
			continue
		}
		tl := x.keys[k][v]
		if tl == nil {
			tl = new(tally)
			x.keys[k][v] = tl
		}
		t.tallies[k] = tl
	}
	return &t.tallies
}

// count adds one confident record of size bucket size to its tallies.
func count(ts *[numCtxKinds]*tally, slot, size int) {
	for _, t := range ts {
		if t == nil {
			continue
		}
		t.jobs[slot]++
		if size >= 0 {
			if t.sized == nil {
				t.sized = new([sizeBuckets]counts)
			}
			t.sized[size][slot]++
		}
	}
}
