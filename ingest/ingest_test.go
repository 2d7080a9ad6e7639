package ingest

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

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

// oneRecord is a reader of one record.
type oneRecord struct{ r *job.Record }

func (o *oneRecord) Next() (*job.Record, error) {
	if o.r == nil {
		return nil, io.EOF
	}
	r := o.r
	o.r = nil
	return r, nil
}

// refuser fails a test that classifies anything.
type refuser struct{ t *testing.T }

func (c refuser) Classify(r *job.Record) classify.Decision {
	c.t.Errorf("record %s classified", r.JobID)
	return classify.Decision{}
}

// TestTooManyDevicesSkipped: a record with 70,000 distinct GRES is skipped
// as bad_tres before it is classified (which alone would take minutes).
func TestTooManyDevicesSkipped(t *testing.T) {
	r := &job.Record{Cluster: "c", JobID: "h", Start: time.Unix(1e9, 0), End: time.Unix(1e9+60, 0), Cores: 1}
	for i := range 70_000 {
		r.Accels = append(r.Accels, job.Accel{Name: "gpu", Type: fmt.Sprint("t", i), Count: 1})
	}
	s := usage.NewStore(nil)
	st, err := LoadReader(s, &oneRecord{r}, Input{Format: "test", Path: "x"}, Options{Classifier: refuser{t}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 0 || st.Skipped[collector.ReasonTRES] != 1 || s.Len() != 0 {
		t.Errorf("records %d, skipped %v, stored %d", st.Records, st.Skipped, s.Len())
	}
}
