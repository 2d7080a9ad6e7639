package classify

import (
	"reflect"
	"testing"
)

// TestLitIndexAgreesWithContains holds the literal index to the search it
// replaces: for every condition with literals and every text value of
// varied records and the corpus, "holds one of the literals" is the same.
func TestLitIndexAgreesWithContains(t *testing.T) {
	rs := mustDefault(t)
	x := newLitIndex(rs.rules)
	if len(x.ids) == 0 || len(x.lits) < 100 {
		t.Fatalf("index of %d conditions and %d literals: the default rules hold hundreds", len(x.ids), len(x.lits))
	}
	var values []string
	for _, r := range append(variedRecords(500, 11), readCorpus(t)...) {
		values = append(values, r.Name, r.SubmitLine, r.WorkDir, r.Comment, r.Account, r.Partition)
		for _, s := range r.Steps {
			values = append(values, s.Name, s.Command)
		}
	}
	// Values made of the literals themselves, cut and joined, so that
	// literals at the very start and end and overlapping ones are tried.
	for i, l := range x.lits {
		next := x.lits[(i+1)%len(x.lits)]
		values = append(values, l, l[1:], l[:len(l)-1], "x"+l+next, next[:1]+l[:len(l)-1])
	}
	found, missed := 0, 0
	for c, ids := range x.ids {
		if len(ids) != len(c.lits) {
			t.Fatalf("condition %s: %d ids for %d literals", c, len(ids), len(c.lits))
		}
		for _, v := range values {
			folded := foldKey(v)
			ev := &evidence{lits: x}
			ev.foldSingle[c.field] = folded
			ev.foldDone.add(c.field)
			ev.single[c.field] = v
			if fieldInfos[c.field].multi {
				ev.foldMulti[c.field] = []string{folded}
			}
			want := containsAny(folded, c.lits)
			if got := ev.mayMatch(c, 0); got != want {
				t.Fatalf("condition %s on %q: index says %v, search %v", c, v, got, want)
			}
			if want {
				found++
			} else {
				missed++
			}
		}
	}
	if found == 0 || missed == 0 {
		t.Fatalf("%d values held a literal and %d did not: both must occur", found, missed)
	}
}

// TestEvaluateWithoutIndex holds the per-record stages with the literal
// index and the shared regular expressions to the same stages searching
// each condition's literals and running each expression: the same
// outcome, field for field, on the corpus and the generated center.
func TestEvaluateWithoutIndex(t *testing.T) {
	recs := append(readCorpus(t), generatedCenter(t)...)
	for _, rules := range []string{"", "testdata/corpus/site.yaml"} {
		fast := corpusClassifier(t, rules)
		plain := corpusClassifier(t, rules)
		plain.x.lits = nil
		if fast.x.lits.nRegexp == 0 || len(fast.x.lits.regexps) <= fast.x.lits.nRegexp {
			t.Fatalf("%d expressions for %d conditions: the default rules share some", fast.x.lits.nRegexp, len(fast.x.lits.regexps))
		}
		step := 1
		if testing.Short() {
			step = 7
		}
		for i := 0; i < len(recs); i += step {
			got, want := fast.compute(recs[i]), plain.compute(recs[i])
			if !reflect.DeepEqual(got.out, want.out) || !reflect.DeepEqual(got.d, want.d) {
				t.Fatalf("record %d (job %s): with the index %+v, without %+v", i, recs[i].JobID, got.out, want.out)
			}
		}
	}
}
