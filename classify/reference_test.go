package classify

import (
	"math"
	"slices"

	"github.com/scmon/scmon/job"
)

// runReference is the batch as it was computed record by record, before
// the batch memo: every record's signature looked up in the cache, its
// context keys looked up by string, its later stages redone. The tests
// hold the batch to it decision for decision and explanation for
// explanation, so that a change made for speed cannot change a result.
func (c *RuleClassifier) runReference(x *Context, recs []*job.Record, keep bool) *Batch {
	b := &Batch{c: c, recs: recs, entries: make([]*cacheEntry, len(recs))}
	rs := c.rs
	mult := map[*cacheEntry]uint32{}
	memo := map[[2]string]bool{}
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, r := range recs {
		e := c.entry(r)
		b.entries[i] = e
		if e.confident {
			slot := slotOf(e.d.Class)
			if rs.context.Enabled {
				x.addKeys([numCtxKinds]string{r.Account, r.User, r.WorkDir, e.nameFam}, slot, c.sizeOf(r, memo))
			}
			if rs.learned.Enabled {
				mult[e]++
			}
		}
	}
	if rs.learned.Enabled && len(mult) > 0 {
		// Entries in a fixed order keep the counts, and so the model,
		// independent of map order (the counts are integers anyway).
		list := make([]*cacheEntry, 0, len(mult))
		for e := range mult {
			list = append(list, e)
		}
		for _, e := range list {
			x.addTokens(e.out.tokens, slotOf(e.out.class), mult[e])
		}
	}
	var model *nbModel
	// The model's answer depends on the tokens alone: once per signature.
	predicted := map[*cacheEntry]*LearnedHit{}
	for i, r := range recs {
		if b.entries[i].confident || (!rs.context.Enabled && !rs.learned.Enabled) {
			continue
		}
		o := b.entries[i].out
		l := &later{d: b.entries[i].d}
		if rs.context.Enabled {
			l.ctx = x.contextHits(rs.context, keysOf(r, o), c.sizeOf(r, memo))
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
				co.quiet = !keep
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
			h := predicted[b.entries[i]]
			if h == nil {
				if model == nil {
					model = x.fit()
				}
				p := model.predict(rs.learned, o.tokens, 8)
				p.against(o.scores)
				h = &p
				predicted[b.entries[i]] = h
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
		if keep || l.ctxOut != nil || (l.learned != nil && l.learned.Decided) {
			if b.later == nil {
				b.later = make([]*later, len(recs))
			}
			b.later[i] = l
		}
	}
	return b
}
