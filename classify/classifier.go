package classify

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/job"
)

// DefaultCacheSize is the number of evidence signatures a classifier keeps
// when Options.CacheSize is zero. A center's records repeat a few thousand
// signatures; the bound only protects a long-running daemon.
const DefaultCacheSize = 1 << 16

// Options configure a RuleClassifier.
type Options struct {
	// Accel resolves GRES names and types to accelerator kinds and models;
	// nil means accel.Default().
	Accel *accel.Table
	// CacheSize bounds the cached signatures: 0 means DefaultCacheSize, a
	// negative value disables the cache.
	CacheSize int
}

// RuleClassifier classifies records with a rule set. Results are cached by
// the record's evidence signature (the values of the fields the rules
// read, numeric fields reduced to the interval between the rules'
// thresholds), so repeated workloads classify in a map lookup. It is safe
// for concurrent use.
type RuleClassifier struct {
	rs    *RuleSet
	x     extractor
	cache *sigCache
	// minTwins replaces the batch memo's minTwins when positive (tests).
	minTwins int
}

var _ Classifier = (*RuleClassifier)(nil)

// New returns a classifier for the rule set.
func New(rs *RuleSet, opts Options) *RuleClassifier {
	t := opts.Accel
	if t == nil {
		t = accel.Default()
	}
	c := &RuleClassifier{
		rs: rs,
		x:  extractor{used: rs.used, forced: rs.forced, table: t, lex: rs.lex, lits: newLitIndex(rs.rules)},
	}
	switch {
	case opts.CacheSize == 0:
		c.cache = newSigCache(DefaultCacheSize)
	case opts.CacheSize > 0:
		c.cache = newSigCache(opts.CacheSize)
	}
	return c
}

// RuleSet returns the rules the classifier applies.
func (c *RuleClassifier) RuleSet() *RuleSet { return c.rs }

// Classify decides the class of r with the per-record stages (rules,
// lexicon, the two decisions). It has no side effects: callers that count
// rule hits count the decisions they store (see HitCounter). The returned
// Decision's Rules slice is shared between records with the same
// signature: callers must not modify it.
func (c *RuleClassifier) Classify(r *job.Record) Decision {
	return c.entry(r).d
}

// entry returns the cached outcome of r, computing it on a miss.
func (c *RuleClassifier) entry(r *job.Record) *cacheEntry {
	if c.cache == nil {
		return c.compute(r)
	}
	var stack [512]byte
	sig := c.signature(stack[:0], r)
	e, h, h2 := c.cache.get(sig)
	if e == nil {
		e = c.compute(r)
		c.cache.put(h, h2, e)
	}
	return e
}

func (c *RuleClassifier) compute(r *job.Record) *cacheEntry {
	var ev evidence
	c.x.extract(r, &ev)
	o := c.rs.evaluate(&ev)
	o.nameFam = nameFamily(boundText(r.Name))
	texts := []string{boundText(r.Name), boundText(r.SubmitLine), boundText(r.WorkDir), boundText(r.Comment), boundText(r.WCKey)}
	for _, s := range boundSteps(r) {
		texts = append(texts, boundText(s.Name), boundText(s.Command))
	}
	o.tokens = learnTokens(texts...)
	return &cacheEntry{out: o, d: Decision{Class: o.class, Rules: o.rules}, confident: o.confident, nameFam: o.nameFam}
}

// CacheStats describes the signature cache.
type CacheStats struct {
	// Entries is the number of signatures held.
	Entries int
	// Hits and Misses count lookups since the classifier was made.
	Hits, Misses uint64
}

// CacheStats returns the cache's figures; all zero when it is disabled.
func (c *RuleClassifier) CacheStats() CacheStats {
	if c.cache == nil {
		return CacheStats{}
	}
	return c.cache.stats()
}

// signature appends the evidence signature of r to buf: every input of
// extract for the fields in use, length-prefixed, and for numeric fields
// the bucket between the rules' thresholds instead of the value.
func (c *RuleClassifier) signature(buf []byte, r *job.Record) []byte {
	u := c.rs.used
	if u.has(fCommand) {
		u |= commandParts
	}
	str := func(s string) {
		s = boundText(s)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	for _, f := range [...]struct {
		id fieldID
		s  string
	}{
		{fJobName, r.Name}, {fSubmitLine, r.SubmitLine}, {fWorkDir, r.WorkDir},
		{fComment, r.Comment}, {fWCKey, r.WCKey}, {fAccount, r.Account},
		{fUser, r.User}, {fGroup, r.Group}, {fCluster, r.Cluster},
		{fPartition, r.Partition}, {fQOS, r.QOS},
	} {
		if u.has(f.id) {
			str(f.s)
		}
	}
	if u.has(fState) {
		buf = append(buf, byte(r.State))
	}
	if u.has(fStepNames) || u.has(fStepCommands) {
		steps := boundSteps(r)
		buf = binary.AppendUvarint(buf, uint64(len(steps)))
		for _, s := range steps {
			str(s.Name)
			str(s.Command)
		}
	}
	if u&accelFields != 0 {
		if len(c.rs.forced) > 0 {
			if !u.has(fPartition) {
				str(r.Partition)
			}
			if !u.has(fQOS) {
				str(r.QOS)
			}
		}
		accels := boundAccels(r)
		buf = binary.AppendUvarint(buf, uint64(len(accels)))
		for _, a := range accels {
			str(a.Name)
			str(a.Type)
			buf = binary.AppendVarint(buf, a.Count)
		}
	}
	for _, f := range [...]fieldID{fNodes, fCores, fElapsed, fTimelimit} {
		if u.has(f) {
			buf = binary.AppendVarint(buf, int64(bucket(c.rs.cuts[f], numValue(r, f))))
		}
	}
	return buf
}

type cacheEntry struct {
	d     Decision
	out   *outcome
	check uint64 // the signature's second hash, to tell collisions apart
	// confident copies out.confident, so that the batch's first pass
	// reads the entry alone.
	confident bool
	nameFam   string // copies out.nameFam
}

// sigCache is a sharded map from signature to decision. Entries are found
// by one 64-bit hash of the signature and checked against a second,
// independent one: a lookup touches no signature bytes but its own, and two
// signatures are taken for one only if both hashes collide (about 2^-128). Readers
// take a shard's read lock only; a full shard is emptied rather than
// tracked entry by entry, which keeps hits free of bookkeeping.
type sigCache struct {
	seed     maphash.Seed
	check    maphash.Seed
	shards   [cacheShards]cacheShard
	perShard int
	hits     atomic.Uint64
	misses   atomic.Uint64
}

const cacheShards = 32

type cacheShard struct {
	mu sync.RWMutex
	m  map[uint64]*cacheEntry
	_  [40]byte // keep shards on separate cache lines
}

func newSigCache(size int) *sigCache {
	c := &sigCache{seed: maphash.MakeSeed(), check: maphash.MakeSeed(), perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*cacheEntry)
	}
	return c
}

func (c *sigCache) get(sig []byte) (*cacheEntry, uint64, uint64) {
	h, h2 := maphash.Bytes(c.seed, sig), maphash.Bytes(c.check, sig)
	s := &c.shards[h%cacheShards]
	s.mu.RLock()
	e := s.m[h]
	s.mu.RUnlock()
	if e != nil && e.check != h2 {
		e = nil // a collision of the first hash: computed again, and replaces the other
	}
	if e == nil {
		c.misses.Add(1)
	} else {
		c.hits.Add(1)
	}
	return e, h, h2
}

func (c *sigCache) put(h, h2 uint64, e *cacheEntry) {
	e.check = h2
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	if len(s.m) >= c.perShard {
		clear(s.m)
	}
	s.m[h] = e
	s.mu.Unlock()
}

func (c *sigCache) stats() CacheStats {
	st := CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		st.Entries += len(s.m)
		s.mu.RUnlock()
	}
	return st
}

// fmtScore renders a score or threshold without trailing zeros.
func fmtScore(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }
