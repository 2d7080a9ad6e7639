package classify

import (
	"errors"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
)

// readCorpus reads every record of the labelled corpus through the
// collector's readers, as `scmon classify --input` would.
func readCorpus(t testing.TB) []*job.Record {
	t.Helper()
	var recs []*job.Record
	for _, in := range []struct{ format, path string }{
		{"slurm-sacct", "testdata/corpus/slurm.sacct"},
		{"pbs", "testdata/corpus/pbs"},
	} {
		r, closer, err := collector.Open(in.format, in.path, collector.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", in.path, err)
			}
			recs = append(recs, rec)
		}
		closer.Close()
	}
	return recs
}

func corpusClassifier(t testing.TB, file string) *RuleClassifier {
	t.Helper()
	var rs *RuleSet
	var err error
	if file == "" {
		rs, err = DefaultRules()
	} else {
		rs, err = LoadRules(file)
	}
	if err != nil {
		t.Fatal(err)
	}
	return New(rs, Options{})
}

// TestCorpus classifies the labelled corpus with the default rules plus the
// corpus site's file (its forced-DCU partition and one account override),
// prints the evaluation, and holds the figures to the minimums below,
// which sit a little under the measured ones recorded in RULES.md.
func TestCorpus(t *testing.T) {
	recs := readCorpus(t)
	labels, err := ReadLabelsFile("testdata/corpus/labels.csv")
	if err != nil {
		t.Fatal(err)
	}
	c := corpusClassifier(t, filepath.Join("testdata", "corpus", "site.yaml"))
	ev := Evaluate(c, recs, labels, nil)
	t.Logf("corpus, default rules + testdata/corpus/site.yaml:\n%s", ev)
	var wrong []string
	ds := c.ClassifyBatch(recs)
	for i, r := range recs {
		if d := ds[i]; d.Class != labels[r.JobID] {
			wrong = append(wrong, r.JobID+" "+r.Name+": truth "+labels[r.JobID].String()+", got "+d.Class.String())
		}
	}
	sort.Strings(wrong)
	t.Logf("%d records not classified as labelled:\n  %s", len(wrong), strings.Join(wrong, "\n  "))

	if ev.Unlabelled != 0 || len(ev.MissingRecords) != 0 {
		t.Errorf("corpus and labels disagree: %d unlabelled records, labels without records %v", ev.Unlabelled, ev.MissingRecords)
	}
	if ev.Labelled < 150 {
		t.Errorf("corpus has %d labelled jobs, want at least 150", ev.Labelled)
	}
	atLeast := func(what string, got, min float64) {
		t.Helper()
		if got < min {
			t.Errorf("%s = %.3f, want >= %.3f", what, got, min)
		}
	}
	for _, b := range ev.Bases {
		min := corpusMinHours
		if b.Basis == ByJobs {
			min = corpusMinJobs
		}
		atLeast(b.Basis.String()+" accuracy", b.Accuracy, min.accuracy)
		atLeast(b.Basis.String()+" coverage", b.Coverage, min.coverage)
		for _, m := range b.Classes {
			if m.Support == 0 {
				continue
			}
			atLeast(b.Basis.String()+" precision of "+m.Class.String(), m.Precision, min.precision)
			atLeast(b.Basis.String()+" F1 of "+m.Class.String(), m.F1, min.f1)
		}
		// The bounds must hold the truth: no non-AI work called AI.
		if b.AIShare > b.AIShareTruth+1e-9 || b.AIShareUpper < b.AIShareTruth-1e-9 {
			t.Errorf("%s: AI share bounds [%.3f, %.3f] do not hold the truth %.3f", b.Basis, b.AIShare, b.AIShareUpper, b.AIShareTruth)
		}
	}

	// Per input: PBS accounting carries no command line, only names,
	// queues and resources.
	for _, src := range []string{"slurm", "pbs"} {
		var sub []*job.Record
		for _, r := range recs {
			if strings.Contains(r.Source, "testdata/corpus/pbs") == (src == "pbs") {
				sub = append(sub, r)
			}
		}
		b := Evaluate(c, sub, labels, nil).Bases[ByJobs]
		t.Logf("%s records: %d, accuracy %.1f%%, coverage %.1f%%", src, len(sub), 100*b.Accuracy, 100*b.Coverage)
	}

	// The built-in rules alone, without the site's declarations, for the
	// record: the forced DCU partition and the account override cost a
	// little coverage and no precision.
	plain := Evaluate(corpusClassifier(t, ""), recs, labels, nil)
	t.Logf("corpus, default rules alone:\n%s", plain)
	for _, b := range plain.Bases {
		atLeast("default rules alone, "+b.Basis.String()+" accuracy", b.Accuracy, corpusMinJobs.accuracy-0.05)
	}
}

// corpusMin are the minimum figures TestCorpus accepts.
type corpusMin struct{ accuracy, coverage, precision, f1 float64 }

var (
	corpusMinJobs  = corpusMin{accuracy: 0.88, coverage: 0.88, precision: 0.97, f1: 0.90}
	corpusMinHours = corpusMin{accuracy: 0.95, coverage: 0.95, precision: 0.97, f1: 0.95}
)
