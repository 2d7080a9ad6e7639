package classify

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/job"
)

// ctxKind names what a context key is made of.
type ctxKind uint8

const (
	ctxAccount ctxKind = iota
	ctxUser
	ctxWorkDir
	ctxName
	numCtxKinds
)

var ctxKindNames = [numCtxKinds]string{"account", "user", "work_dir", "name"}

// ctxRules are the rule ids of the kinds, made once rather than per hit.
var ctxRules = [numCtxKinds]string{contextRulePrefix + "account", contextRulePrefix + "user", contextRulePrefix + "work_dir", contextRulePrefix + "name"}

// String returns the kind as rule ids and explanations name it.
func (k ctxKind) String() string { return ctxKindNames[k] }

// counts holds confident decisions by class: ai_training, ai_inference,
// other.
type counts [3]uint32

func slotOf(c Class) int {
	switch c {
	case AITraining:
		return 0
	case AIInference:
		return 1
	case Other:
		return 2
	}
	return -1
}

var slotClass = [3]Class{AITraining, AIInference, Other}

// Context accumulates the confident decisions that the context and learned
// stages draw on: per account, user, work directory and name family, the
// number of jobs of each class, and per token, the number of jobs of each
// class that hold it. A report makes one for its whole input
// (ClassifyBatch); a daemon keeps one and adds each poll's records, so that
// a record is classified once, when it arrives, with the context of the
// jobs stored before it. It is safe for concurrent use.
type Context struct {
	mu   sync.Mutex
	keys [numCtxKinds]map[string]*tally
	toks map[string]*counts
	docs counts
	// model is the learned model fitted on toks, remade when stale.
	model *nbModel
	stale bool
}

// NewContext returns an empty context.
func NewContext() *Context {
	x := &Context{toks: map[string]*counts{}}
	for k := range x.keys {
		x.keys[k] = map[string]*tally{}
	}
	return x
}

// Reset empties the context, before a daemon reloads it from its store.
func (x *Context) Reset() {
	x.mu.Lock()
	for k := range x.keys {
		x.keys[k] = map[string]*tally{}
	}
	x.toks, x.docs, x.model, x.stale = map[string]*counts{}, counts{}, nil, false
	x.mu.Unlock()
}

// Len returns the number of confident decisions the context holds.
func (x *Context) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return int(x.docs[0]) + int(x.docs[1]) + int(x.docs[2])
}

func keysOf(r *job.Record, o *outcome) [numCtxKinds]string {
	return [numCtxKinds]string{r.Account, r.User, r.WorkDir, o.nameFam}
}

// tally is what a context key holds: its confident decisions by class
// (ai_training, ai_inference, other), and those of its jobs that held
// accelerators again by size (sized, made at the key's first such job).
type tally struct {
	jobs  counts
	sized *[sizeBuckets]counts
}

// sizeBuckets bound the sizes told apart: bucket b holds the jobs of
// 2^(b-1) to 2^b accelerator-hours (bucket 0: under one), the last one
// everything larger.
const sizeBuckets = 24

// Bounds on what one job weighs: a year of run time, 2^20 accelerators.
const (
	maxUseSeconds = 366 * 24 * 3600
	maxUseUnits   = 1 << 20
)

// sizeOf returns the size bucket of a record's accelerator-hours (the
// accelerators the table knows, forced ones included: they were held),
// or -1 when it held none. A job without an end counts as under an hour.
// memo keeps the table's answer per GRES name and type for the batch: the
// table is searched rule by rule, and a center has few GRES (nil: no
// memo).
func (c *RuleClassifier) sizeOf(r *job.Record, memo map[[2]string]bool) int {
	return sizeBucket(c.accelUnits(r, memo), r)
}

// accelUnits returns the accelerators r held that the table knows (forced
// ones included), bounded by maxUseUnits; memo as for sizeOf.
func (c *RuleClassifier) accelUnits(r *job.Record, memo map[[2]string]bool) int64 {
	var n int64
	for _, a := range boundAccels(r) {
		if a.Count <= 0 {
			continue
		}
		k := [2]string{a.Name, a.Type}
		is, ok := memo[k]
		if !ok {
			_, res := c.x.table.Lookup(a.Name, a.Type)
			is = res == accel.Accelerator
			if memo != nil && len(memo) < maxSizeMemo {
				memo[k] = is
			}
		}
		if is {
			n = min(n+a.Count, maxUseUnits)
		}
	}
	return n
}

// sizeBucket returns the size bucket of n accelerators held for r's run
// time, or -1 when n is zero.
func sizeBucket(n int64, r *job.Record) int {
	if n == 0 {
		return -1
	}
	var secs int64
	switch {
	case !r.Start.IsZero() && !r.End.IsZero():
		secs = min(max(int64(r.End.Sub(r.Start).Seconds()), 0), maxUseSeconds)
	case !r.Start.IsZero() && r.Timelimit > 0:
		// Still running: its size is what it asked for, so that a
		// classification does not depend on when it was made.
		secs = min(int64(r.Timelimit.Seconds()), maxUseSeconds)
	}
	return min(bits.Len64(uint64(n*secs/3600)), sizeBuckets-1)
}

// maxSizeMemo bounds sizeOf's memo: a batch of records with tens of
// thousands of GRES types (each record reads its first 64) does not grow
// it without end.
const maxSizeMemo = 4096

// sizedFrom is the least size bucket whose jobs are read again among the
// key's jobs of their size: 16 accelerator-hours (two hours on eight GPUs).
// A smaller job is as likely an analysis or a test as the account's
// training runs, and the key's jobs of every size speak for it.
const sizedFrom = 5

// sizeFloor returns the least accelerator-hours of bucket b's jobs.
func sizeFloor(b int) float64 {
	if b <= 0 {
		return 0
	}
	return math.Ldexp(1, b-1)
}

// addKeys counts one record's confident decision in its keys; size is
// its size bucket, -1 without accelerators.
func (x *Context) addKeys(keys [numCtxKinds]string, slot, size int) {
	for k, v := range keys {
		if v == "" {
			continue
		}
		t := x.keys[k][v]
		if t == nil {
			t = new(tally)
			x.keys[k][v] = t
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

func (x *Context) addTokens(tokens []string, slot int, n uint32) {
	for _, t := range tokens {
		c := x.toks[t]
		if c == nil {
			c = new(counts)
			x.toks[t] = c
		}
		c[slot] += n
	}
	x.docs[slot] += n
	x.stale = true
}

// ContextHit is the evidence one context key gave a job.
type ContextHit struct {
	// Rule is the rule id of the key's kind ("context:account").
	Rule string `json:"rule"`
	// Key and Value name the key ("account", "llm-lab").
	Key   string `json:"key"`
	Value string `json:"value"`
	// Class is the key's leading class, Jobs of Decided its jobs. When AI
	// is set, the hit is decision 1's (AI or not): Jobs counts the key's
	// AI jobs of either subtype, Class names the leading subtype only for
	// reference, and the weight goes to both AI classes.
	Class   Class `json:"class"`
	AI      bool  `json:"ai,omitempty"`
	Jobs    int   `json:"jobs"`
	Decided int   `json:"decided"`
	// Subtype marks decision 2's hit (training or inference): Jobs of
	// Decided count the key's AI jobs only.
	Subtype bool `json:"subtype,omitempty"`
	// Sized marks a hit that counted only the key's jobs of a size like
	// the job's: those that held accelerators for at least MinAccelHours
	// accelerator-hours. It is read when the key's jobs of every size
	// leave the decision open.
	Sized         bool    `json:"sized,omitempty"`
	MinAccelHours float64 `json:"min_accel_hours,omitempty"`
	// Weight is the evidence added.
	Weight float64 `json:"weight"`
}

// String says it in words: "account X: 37 of 40 decided jobs are AI
// training".
func (h ContextHit) String() string {
	jobs := "decided jobs"
	if h.Subtype {
		jobs = "decided AI jobs"
	}
	if h.Sized {
		jobs += fmt.Sprintf(" of %g accelerator-hours or more", h.MinAccelHours)
	}
	if h.AI {
		return fmt.Sprintf("%s %s: %d of %d %s are AI (%+.2f to both AI classes)", h.Key, h.Value, h.Jobs, h.Decided, jobs, h.Weight)
	}
	return fmt.Sprintf("%s %s: %d of %d %s are %s (%+.2f %s)", h.Key, h.Value, h.Jobs, h.Decided, jobs, h.Class, h.Weight, h.Class)
}

// contextHits reads the context of a record. The two decisions are read
// apart, as the per-record stages make them: for decision 1, a key whose
// confident decisions are AI (of either subtype) or other with at least
// min_share adds that much evidence; for decision 2, a key whose confident
// AI decisions lean one subtype with at least min_share adds half as much
// to that subtype. A key whose AI jobs split evenly between training and
// inference thus still says "AI" without pretending to know the subtype.
//
// For a job of at least 16 accelerator-hours (size is its bucket, -1
// without accelerators), a decision the key's jobs leave open is read again
// among the key's jobs of a like size: those that held accelerators for at
// least the floor of the bucket below the job's own (between a quarter and
// a half of its accelerator-hours), counted by jobs as before. An account's
// many small analysis jobs then do not hide that its jobs as large as this
// one trained models.
//
// Records are never in their own context: only confident records are
// counted, and those are not asked.
func (x *Context) contextHits(s ContextSettings, keys [numCtxKinds]string, size int) []ContextHit {
	var out []ContextHit
	for k, v := range keys {
		if v == "" {
			continue
		}
		t := x.keys[k][v]
		if t == nil {
			continue
		}
		rule, kind := ctxRules[k], ctxKind(k).String()
		base := ContextHit{Rule: rule, Key: kind, Value: v}
		aiHit, subHit, ok1, ok2 := readCounts(s, &t.jobs, base)
		if (!ok1 || !ok2) && size >= sizedFrom && t.sized != nil {
			lo := max(size-1, 0)
			var c counts
			for b := lo; b < sizeBuckets; b++ {
				for i := range c {
					c[i] += t.sized[b][i]
				}
			}
			sb := base
			sb.Sized, sb.MinAccelHours = true, sizeFloor(lo)
			sAI, sSub, sOk1, sOk2 := readCounts(s, &c, sb)
			if !ok1 && sOk1 {
				aiHit, ok1 = sAI, true
			}
			if !ok2 && sOk2 {
				subHit, ok2 = sSub, true
			}
		}
		if ok1 {
			out = appendHit(out, aiHit)
		}
		if ok2 {
			out = appendHit(out, subHit)
		}
	}
	return out
}

// readCounts makes a key's two hits from its counts, if it speaks.
func readCounts(s ContextSettings, c *counts, base ContextHit) (aiHit, subHit ContextHit, ok1, ok2 bool) {
	n := int(c[0]) + int(c[1]) + int(c[2])
	if n < s.MinJobs {
		return
	}
	ai := int(c[0]) + int(c[1])
	lead := AITraining
	if c[1] > c[0] {
		lead = AIInference
	}
	switch {
	case float64(ai)/float64(n) >= s.MinShare:
		share := float64(ai) / float64(n)
		aiHit, ok1 = base, true
		aiHit.Class, aiHit.AI, aiHit.Jobs, aiHit.Decided, aiHit.Weight = lead, true, ai, n, s.Weight*share
	case float64(c[2])/float64(n) >= s.MinShare:
		share := float64(c[2]) / float64(n)
		aiHit, ok1 = base, true
		aiHit.Class, aiHit.Jobs, aiHit.Decided, aiHit.Weight = Other, int(c[2]), n, s.Weight*share
	}
	if ai < s.MinJobs {
		return
	}
	sub := int(c[slotOf(lead)])
	if share := float64(sub) / float64(ai); share >= s.MinShare {
		subHit, ok2 = base, true
		subHit.Class, subHit.Subtype, subHit.Jobs, subHit.Decided, subHit.Weight = lead, true, sub, ai, s.Weight*share/2
	}
	return
}

// appendHit appends a hit, making room for one per key at the first:
// most records with context need one allocation.
func appendHit(out []ContextHit, h ContextHit) []ContextHit {
	if out == nil {
		out = make([]ContextHit, 0, numCtxKinds)
	}
	return append(out, h)
}

// nbModel is a multinomial-free (Bernoulli-style presence) naive Bayes
// model over tokens: log P(class) and, per token, log P(token | class)
// with add-one smoothing.
type nbModel struct {
	prior [3]float64
	logp  map[string][3]float64
	docs  int
}

// fit remakes the model from the token counts. Counts are integers, so
// the model does not depend on the order records were added in.
func (x *Context) fit() *nbModel {
	if !x.stale && x.model != nil {
		return x.model
	}
	m := &nbModel{logp: make(map[string][3]float64, len(x.toks))}
	total := float64(x.docs[0] + x.docs[1] + x.docs[2])
	m.docs = int(total)
	for i := range 3 {
		m.prior[i] = math.Log((float64(x.docs[i]) + 1) / (total + 3))
	}
	for t, c := range x.toks {
		var lp [3]float64
		for i := range 3 {
			lp[i] = math.Log((float64(c[i]) + 1) / (float64(x.docs[i]) + 2))
		}
		m.logp[t] = lp
	}
	x.model, x.stale = m, false
	return m
}

// LearnedHit says what the learned stage made of a job.
type LearnedHit struct {
	// Class is the model's leading class and Probability its posterior.
	Class       Class   `json:"class"`
	Probability float64 `json:"probability"`
	// Known is the number of the job's tokens the model knows.
	Known int `json:"known"`
	// Examples is the number of confident decisions the model was fitted on.
	Examples int `json:"examples"`
	// Top lists the tokens that spoke most for the leading class, with
	// their log-likelihood ratio against the runner-up.
	Top []TokenWeight `json:"top"`
	// Decided says whether the stage decided the job.
	Decided bool `json:"decided"`
	// Reason says why it decided or abstained.
	Reason string `json:"reason"`
}

// TokenWeight is one token's say in a learned decision.
type TokenWeight struct {
	Token  string  `json:"token"`
	Weight float64 `json:"weight"`
}

// predict applies the model to a job's tokens.
func (m *nbModel) predict(s LearnedSettings, tokens []string, top int) LearnedHit {
	h := LearnedHit{Examples: m.docs}
	if m.docs < s.MinExamples {
		h.Reason = fmt.Sprintf("fitted on %d confident decisions, fewer than min_examples %d", m.docs, s.MinExamples)
		return h
	}
	lp := m.prior
	var known []string
	for _, t := range tokens {
		p, ok := m.logp[t]
		if !ok {
			continue
		}
		known = append(known, t)
		for i := range 3 {
			lp[i] += p[i]
		}
	}
	h.Known = len(known)
	best, second := 0, 1
	if lp[second] > lp[best] {
		best, second = second, best
	}
	if lp[2] > lp[best] {
		best, second = 2, best
	} else if lp[2] > lp[second] {
		second = 2
	}
	// Posterior by log-sum-exp.
	mx := lp[best]
	var z float64
	for i := range 3 {
		z += math.Exp(lp[i] - mx)
	}
	h.Class, h.Probability = slotClass[best], 1/z
	for _, t := range known {
		p := m.logp[t]
		h.Top = append(h.Top, TokenWeight{t, p[best] - p[second]})
	}
	sort.SliceStable(h.Top, func(i, j int) bool { return h.Top[i].Weight > h.Top[j].Weight })
	if len(h.Top) > top {
		h.Top = h.Top[:top]
	}
	switch {
	case h.Known < s.MinTokens:
		h.Reason = fmt.Sprintf("knows %d of the job's tokens, fewer than min_tokens %d", h.Known, s.MinTokens)
	case h.Probability < s.MinProbability:
		h.Reason = fmt.Sprintf("%s at probability %.3f, below min_probability %s", h.Class, h.Probability, fmtScore(s.MinProbability))
	default:
		h.Decided = true
		h.Reason = fmt.Sprintf("%s at probability %.3f >= min_probability %s", h.Class, h.Probability, fmtScore(s.MinProbability))
	}
	return h
}

// against makes the model abstain where the job's own evidence leans the
// other way (a CPU-only job the tokens call AI): the model only settles
// what the job's own evidence leaves open.
func (h *LearnedHit) against(scores [len(classNames)]float64) {
	if !h.Decided {
		return
	}
	ai := math.Max(scores[AITraining], scores[AIInference])
	switch {
	case h.Class.IsAI() && scores[Other] > ai:
		h.Decided = false
		h.Reason = fmt.Sprintf("%s at probability %.3f, but the job's own evidence leans other (%s vs AI %s)", h.Class, h.Probability, fmtScore(scores[Other]), fmtScore(ai))
	case h.Class == Other && ai > scores[Other]:
		h.Decided = false
		h.Reason = fmt.Sprintf("other at probability %.3f, but the job's own evidence leans AI (%s vs other %s)", h.Probability, fmtScore(ai), fmtScore(scores[Other]))
	}
}

// later is what the context and learned stages did for one record.
type later struct {
	ctx     []ContextHit
	ctxOut  *outcome // the two decisions redone with the context's evidence
	learned *LearnedHit
	d       Decision
}

// ClassifyBatch classifies a whole input with every stage: rules and
// lexicon per record, then the context and learned stages over the batch.
// Result i belongs to recs[i]. The result depends only on the records and
// the rule set, so it is deterministic.
func (c *RuleClassifier) ClassifyBatch(recs []*job.Record) []Decision {
	return c.ClassifyWith(NewContext(), recs)
}

// ClassifyWith classifies records as ClassifyBatch does, with the context
// of x: the records' confident decisions are added to x first, then the
// others are decided with everything x holds. A daemon calls it once per
// poll with the context of everything stored before.
func (c *RuleClassifier) ClassifyWith(x *Context, recs []*job.Record) []Decision {
	out := make([]Decision, len(recs))
	c.run(x, recs, false, out)
	return out
}

// Batch is a classified input that can explain any of its records with
// every stage.
type Batch struct {
	c       *RuleClassifier
	recs    []*job.Record
	entries []*cacheEntry
	later   []*later // nil where the per-record stages decided
}

// NewBatch classifies recs with every stage and keeps what each stage did,
// for Explain.
func (c *RuleClassifier) NewBatch(recs []*job.Record) *Batch {
	return c.run(NewContext(), recs, true, nil)
}

// Decisions returns the decision of every record, in order.
func (b *Batch) Decisions() []Decision {
	out := make([]Decision, len(b.recs))
	for i := range b.recs {
		out[i] = b.decision(i)
	}
	return out
}

func (b *Batch) decision(i int) Decision {
	if b.later != nil && b.later[i] != nil {
		return b.later[i].d
	}
	return b.entries[i].d
}

// run does the work of the batch: pass 1 decides every record with the
// per-record stages and counts the confident ones into x; pass 2 decides
// the rest with context and the learned model. Records alike in every
// input (twins, see batchMemo) share the work of both passes. With keep,
// the Batch holds every record's entry and later stages, for Explain;
// out, when not nil, receives the decisions.
func (c *RuleClassifier) run(x *Context, recs []*job.Record, keep bool, out []Decision) *Batch {
	b := &Batch{c: c, recs: recs}
	if keep {
		b.entries = make([]*cacheEntry, len(recs))
	}
	rs := c.rs
	ctx, learn := rs.context.Enabled, rs.learned.Enabled
	m := newBatchMemo(c)
	ids := make([]int32, len(recs))
	// solo holds the entries of the records the memo did not take (see
	// batchMemo.find); made at the first.
	var solo []*cacheEntry
	mult := map[*cacheEntry]uint32{} // confident solo records, by entry
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, r := range recs {
		t := m.find(r)
		if t != nil && !keep {
			// The twin holds its entry's decision: most records
			// touch no entry.
			if out != nil {
				out[i] = t.d
			}
			if !t.confident {
				ids[i] = t.id
				continue
			}
			ids[i] = confidentTwin
			if ctx {
				count(t.keys(x), t.slot, m.size(t, r))
			}
			t.records++
			continue
		}
		var e *cacheEntry
		if t != nil {
			ids[i] = t.id
			if t.confident {
				ids[i] = confidentTwin
			}
			e = t.e
		} else {
			ids[i] = -1
			e = c.entry(r)
			if solo == nil {
				solo = make([]*cacheEntry, len(recs))
			}
			solo[i] = e
		}
		if keep {
			b.entries[i] = e
		}
		if out != nil {
			out[i] = e.d
		}
		if !e.confident {
			continue
		}
		switch {
		case t == nil:
			if ctx {
				x.addKeys([numCtxKinds]string{r.Account, r.User, r.WorkDir, e.nameFam}, slotOf(e.d.Class), c.sizeOf(r, m.gres))
			}
			mult[e]++
		default:
			if ctx {
				count(t.keys(x), t.slot, m.size(t, r))
			}
			t.records++
		}
	}
	if learn {
		// Token counts per entry; the counts are integers, so the model
		// does not depend on the order they are added in.
		list := make([]*cacheEntry, 0, len(mult))
		for e := range mult {
			list = append(list, e)
		}
		for _, t := range m.list {
			if !t.confident {
				continue
			}
			if _, ok := mult[t.e]; !ok {
				list = append(list, t.e)
			}
			mult[t.e] += t.records
		}
		for _, e := range list {
			x.addTokens(e.out.tokens, slotOf(e.out.class), mult[e])
		}
	}
	if !ctx && !learn {
		return b
	}
	p := laterPass{c: c, x: x, keep: keep, predicted: map[*cacheEntry]*LearnedHit{}}
	for i, r := range recs {
		var l *later
		if ids[i] == confidentTwin {
			continue
		}
		if ids[i] < 0 {
			e := solo[i]
			if e.confident {
				continue
			}
			size := -2
			if ctx {
				size = c.sizeOf(r, m.gres)
			}
			l = p.decide(r, e, size)
		} else {
			t := m.list[ids[i]]
			size := -2 // no context: the later stages do not read the size
			if ctx {
				size = m.size(t, r)
			}
			for _, d := range t.done {
				if d.size == size {
					l = d.l
					break
				}
			}
			if l == nil {
				l = p.decide(t.rep, t.e, size)
				t.done = append(t.done, sizedLater{size, l})
			}
		}
		changed := l.ctxOut != nil || (l.learned != nil && l.learned.Decided)
		if changed && out != nil {
			out[i] = l.d
		}
		if keep || (changed && out == nil) {
			if b.later == nil {
				b.later = make([]*later, len(recs))
			}
			b.later[i] = l
		}
	}
	return b
}

// laterPass is pass 2 of a batch: the context and learned stages.
type laterPass struct {
	c     *RuleClassifier
	x     *Context
	keep  bool
	model *nbModel
	// The model's answer depends on the tokens alone: once per entry.
	predicted map[*cacheEntry]*LearnedHit
}

// decide runs the later stages for record r, whose per-record outcome is
// e, in size bucket size; twins of r of that size share the result.
func (p *laterPass) decide(r *job.Record, e *cacheEntry, size int) *later {
	return p.decideKeys(keysOf(r, e.out), e, size)
}

// decideKeys runs the later stages for a record whose per-record outcome
// is e, whose context keys are keys and whose size bucket is size.
func (p *laterPass) decideKeys(keys [numCtxKinds]string, e *cacheEntry, size int) *later {
	rs, x := p.c.rs, p.x
	o := e.out
	l := &later{d: e.d}
	if rs.context.Enabled {
		l.ctx = x.contextHits(rs.context, keys, size)
		if o.class.IsAI() {
			// The job's own evidence made it AI: context only
			// settles the subtype.
			l.ctx = slices.DeleteFunc(l.ctx, func(h ContextHit) bool { return !h.Subtype })
		} else if o.scores[Other] > math.Max(o.scores[AITraining], o.scores[AIInference]) {
			// The job's own evidence leans other (an analysis
			// script on an accelerator): its account's habits do
			// not make it AI.
			l.ctx = slices.DeleteFunc(l.ctx, func(h ContextHit) bool { return h.Class.IsAI() })
		}
		if !o.class.IsAI() && !aiByContext(rs, o, l.ctx) {
			// Decision 2's hits say which subtype the key's AI
			// jobs are; they are no evidence that this job is AI.
			l.ctx = slices.DeleteFunc(l.ctx, func(h ContextHit) bool { return h.Subtype })
		}
		if len(l.ctx) > 0 {
			co := *o
			co.rules = append([]string(nil), o.rules...)
			scores := o.scores
			for _, h := range l.ctx {
				if h.AI {
					scores[AITraining] += h.Weight
					scores[AIInference] += h.Weight
				} else {
					scores[h.Class] += h.Weight
				}
				co.rules = append(co.rules, h.Rule)
			}
			co.scores = scores
			co.quiet = !p.keep
			rs.decideTwo(&co, &scores)
			keepOwnSubtype(&co, o)
			for _, h := range l.ctx {
				co.rules = appendUnique(co.rules, h.Rule)
			}
			l.ctxOut = &co
			l.d = Decision{Class: co.class, Rules: co.rules}
		}
	}
	if l.d.Class == Unknown && rs.learned.Enabled {
		h := p.predicted[e]
		if h == nil {
			if p.model == nil {
				p.model = x.fit()
			}
			pr := p.model.predict(rs.learned, o.tokens, 8)
			pr.against(o.scores)
			h = &pr
			p.predicted[e] = h
		}
		l.learned = h
		if h.Decided {
			cls, rules := h.Class, append(append([]string(nil), l.d.Rules...), RuleLearned)
			if want := o.cueClass(); cls.IsAI() && want != Unknown && want != cls {
				// The model settles AI or not; the job's own clear
				// shape settles the subtype.
				cls, rules = want, appendUnique(rules, RuleSubtypeCues)
			}
			l.d = Decision{Class: cls, Rules: rules}
		}
	}
	return l
}

// Restore gives a daemon the decision to keep for a stored record when it
// starts again: the per-record stages' decision when it is confident (and
// then it is added to x), else the stored decision when a later stage
// made it (a record is classified once, when it arrives, with the context
// of its time), else the per-record decision. settled reports whether
// Classify(r) gives the decision by itself.
func (c *RuleClassifier) Restore(x *Context, r *job.Record, stored Decision) (d Decision, settled bool) {
	e := c.entry(r)
	o := e.out
	if o.confident {
		x.mu.Lock()
		slot := slotOf(o.class)
		if c.rs.context.Enabled {
			x.addKeys(keysOf(r, o), slot, c.sizeOf(r, nil))
		}
		if c.rs.learned.Enabled {
			x.addTokens(o.tokens, slot, 1)
		}
		x.mu.Unlock()
		return e.d, true
	}
	if laterStage(stored.Rules) {
		return stored, false
	}
	return e.d, false
}

// laterStage reports whether a decision's rules name the context or
// learned stage.
func laterStage(rules []string) bool {
	for _, id := range rules {
		if id == RuleLearned || strings.HasPrefix(id, contextRulePrefix) {
			return true
		}
	}
	return false
}

// aiByContext says whether the job's own scores with the context's hits
// for decision 1 (AI or not, and other) alone make it AI: only then do the
// hits for decision 2 (training or inference) count.
func aiByContext(rs *RuleSet, o *outcome, hits []ContextHit) bool {
	scores := o.scores
	for _, h := range hits {
		switch {
		case h.Subtype:
		case h.AI:
			scores[AITraining] += h.Weight
			scores[AIInference] += h.Weight
		default:
			scores[h.Class] += h.Weight
		}
	}
	t := rs.thresholds
	ai := math.Max(scores[AITraining], scores[AIInference])
	return ai >= t.MinScore && ai-scores[Other] >= t.MinMargin
}
