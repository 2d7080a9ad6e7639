package ingest

import (
	"strings"
	"testing"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/usage"
)

type fixed classify.Class

func (f fixed) Classify(*job.Record) classify.Decision {
	return classify.Decision{Class: classify.Class(f)}
}

const dump = `JobID|Cluster|Start|End|NCPUS|State
1|east|2026-01-01T00:00:00|2026-01-01T01:00:00|4|COMPLETED
2|east|2026-01-01T00:00:00|not-a-time|4|COMPLETED
3||2026-01-01T00:00:00|2026-01-01T01:00:00|2|COMPLETED
1|east|2026-01-01T00:00:00|2026-01-01T01:00:00|4|COMPLETED
`

func TestLoadReaderCountsAndRenames(t *testing.T) {
	s := usage.NewStore(nil)
	r := collector.NewSacctReader(strings.NewReader(dump), collector.Options{Name: "d.psv"})
	st, err := LoadReader(s, r, Input{Format: "slurm-sacct", Path: "d.psv"}, Options{Classifier: fixed(classify.Other), Clusters: []string{"center"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 3 || st.Skipped[collector.ReasonTime] != 1 || st.SkippedTotal() != 1 {
		t.Errorf("records %d skipped %v", st.Records, st.Skipped)
	}
	if len(st.Errors) != 1 || !strings.HasPrefix(st.Errors[0], "d.psv:3: field End") {
		t.Errorf("errors %v", st.Errors)
	}
	// Both "east" records (job 1 and its duplicate) are renamed to the
	// inventory's only cluster; job 3 names none, which is not a rename.
	if st.Renamed != 2 {
		t.Errorf("renamed %d", st.Renamed)
	}
	if s.Len() != 2 || s.Stats().Duplicates != 1 {
		t.Errorf("store holds %d, duplicates %d", s.Len(), s.Stats().Duplicates)
	}
}

func TestLoadReaderStrict(t *testing.T) {
	r := collector.NewSacctReader(strings.NewReader(dump), collector.Options{Name: "d.psv"})
	_, err := LoadReader(usage.NewStore(nil), r, Input{}, Options{Classifier: fixed(classify.Other), Strict: true})
	if err == nil || !strings.Contains(err.Error(), "strict mode: d.psv:3: field End") {
		t.Errorf("strict error %v", err)
	}
	if _, err := LoadReader(usage.NewStore(nil), r, Input{}, Options{}); err == nil {
		t.Error("no classifier accepted")
	}
}
