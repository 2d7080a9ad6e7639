package classify

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/scmon/scmon/job"
)

// TestTallyEqualsBatch: a tally's decisions, read back per record, equal
// ClassifyBatch's over the same records, with the context and learned
// stages on and off, with repeated records (combinations counted more than
// once) and without the signature cache (no two records share an entry).
func TestTallyEqualsBatch(t *testing.T) {
	recs := readCorpus(t)
	// Record i of the corpus 1 to 7 times, the copies under other ids:
	// combinations are then counted several times, unevenly, as in a real
	// month, which moves the keys' shares.
	var tripled []*job.Record
	for i, r := range recs {
		for k := range 1 + (i*5)%7 {
			c := *r
			c.JobID = r.JobID + "-" + string(rune('a'+k))
			tripled = append(tripled, &c)
		}
	}
	// Eight alike training jobs of an account (one combination counted
	// eight times) and one job the account's context decides.
	var lab []*job.Record
	for i := range 8 {
		lab = append(lab, mk(id(fmt.Sprint(i)), gpu(8), nodes(2), step("torchrun pretrain_gpt.py"), func(r *job.Record) { r.Account = "llm-lab" }))
	}
	lab = append(lab, mk(id("99"), gpu(4), name("exp"), step("bash go.sh"), func(r *job.Record) { r.Account = "llm-lab" }))
	site := filepath.Join("testdata", "corpus", "site.yaml")
	for _, tc := range []struct {
		name  string
		rules string
		recs  []*job.Record
		opts  Options
		stage func(*RuleSet)
	}{
		{"default rules", "", recs, Options{}, nil},
		{"account context", "", lab, Options{}, nil},
		{"site rules", site, recs, Options{}, nil},
		{"site rules, tripled", site, tripled, Options{}, nil},
		{"no cache", site, tripled, Options{CacheSize: -1}, nil},
		{"no context", site, tripled, Options{}, func(rs *RuleSet) { rs.context.Enabled = false }},
		{"no learned", site, tripled, Options{}, func(rs *RuleSet) { rs.learned.Enabled = false }},
		{"neither", site, tripled, Options{}, func(rs *RuleSet) { rs.context.Enabled, rs.learned.Enabled = false, false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := corpusClassifier(t, tc.rules).rs
			if tc.stage != nil {
				cp := *rs
				tc.stage(&cp)
				rs = &cp
			}
			c := New(rs, tc.opts)
			want := c.ClassifyBatch(tc.recs)
			tl := c.NewTally()
			rows := make([]uint32, len(tc.recs))
			for i, r := range tc.recs {
				rows[i] = tl.Add(r)
			}
			if tl.Len() >= len(tc.recs) && tc.opts.CacheSize >= 0 && len(tc.recs) == len(tripled) {
				t.Errorf("%d combinations for %d records: repeated records not counted together", tl.Len(), len(tc.recs))
			}
			got := tl.Decisions()
			later := 0
			for i, r := range tc.recs {
				g, w := got[rows[i]], want[i]
				if g.Class != w.Class || !slices.Equal(g.Rules, w.Rules) {
					t.Errorf("%s: tally %v %v, batch %v %v", r.JobID, g.Class, g.Rules, w.Class, w.Rules)
				}
				if laterStage(w.Rules) {
					later++
				}
			}
			t.Logf("%d records, %d combinations, %d decided by a later stage", len(tc.recs), tl.Len(), later)
		})
	}
}
