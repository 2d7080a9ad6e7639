package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/source"
)

// sampleInterval is how often the sample source advances its clock.
const sampleInterval = 15 * time.Second

// sampleSource serves the built-in sample center's log, every time moved by
// the same shift so that it ends when the daemon started. Its first poll
// delivers the whole log (jobs still running at the end of the log stay
// running); later polls deliver nothing new but move the time up to which
// the source is complete, so the running jobs' counters keep growing.
type sampleSource struct {
	shift time.Duration
	now   func() time.Time
}

func (s *sampleSource) Name() string { return "sample" }

// Kind says what the source is, for the health table.
func (s *sampleSource) Kind() string { return "sample" }

func (s *sampleSource) Poll(_ context.Context, cursor []byte) (*source.Batch, error) {
	b := &source.Batch{Source: s.Name(), Cursor: []byte("done"), Complete: s.now()}
	if string(cursor) == "done" {
		return b, nil
	}
	zr, err := collector.MaybeGzip(strings.NewReader(string(seeds.SacctLog())))
	if err != nil {
		return nil, fmt.Errorf("sample log: %w", err)
	}
	r := collector.NewSacctReader(zr, collector.Options{Name: "built-in sample log", Location: seeds.Location(), Cluster: seeds.ClusterName})
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sample log: %w", err)
		}
		shiftRecord(rec, s.shift)
		if rec.State == job.StatePending {
			b.Pending = append(b.Pending, rec)
			continue
		}
		b.Records = append(b.Records, rec)
	}
	if b.Pending == nil {
		b.Pending = []*job.Record{}
	}
	return b, nil
}

func shiftRecord(r *job.Record, by time.Duration) {
	for _, t := range []*time.Time{&r.Submit, &r.Start, &r.End} {
		if !t.IsZero() {
			*t = t.Add(by)
		}
	}
}

// BuildSources makes the sources a configuration names.
func BuildSources(c *Config, rt *Runtime) ([]source.JobSource, []source.NodeSource, error) {
	if c.Sample {
		return []source.JobSource{&sampleSource{shift: rt.Shift, now: rt.now}}, nil, nil
	}
	return buildConfiguredSources(c, rt)
}
