package daemon

import (
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/source"
)

// sampleInterval is how often the sample source advances its clock.
const sampleInterval = 15 * time.Second

// SampleSource are the settings of a source of kind sample (none): the
// built-in sample center's log, every time moved by the same shift so that
// it ends when the daemon started. Its first poll delivers the whole log
// (jobs still running at the end of the log stay running); later polls
// deliver nothing new but move the time up to which the source is
// complete, so the running jobs' counters keep growing. `sample: true` is
// the same as a sources list of this one entry.
type SampleSource struct{}

func (*SampleSource) jobs() bool { return true }

func (*SampleSource) defaults() (string, time.Duration) { return "sample", sampleInterval }

func (*SampleSource) validate(*Config, string, failFunc) {}

func (*SampleSource) check(*SourceConfig, string) error { return nil }

func (*SampleSource) build(sc *SourceConfig, _ *Config, rt *Runtime) (source.JobSource, source.NodeSource, error) {
	shift := rt.Shift
	src, err := source.NewStatic(source.StaticConfig{Name: sc.Name, Kind: "sample", Format: "slurm-sacct", Data: seeds.SacctLog,
		Options:   collector.Options{Name: "built-in sample log", Location: seeds.Location(), Cluster: seeds.ClusterName},
		Transform: func(r *job.Record) { shiftRecord(r, shift) }, Now: rt.now})
	return src, nil, err
}

func shiftRecord(r *job.Record, by time.Duration) {
	for _, t := range []*time.Time{&r.Submit, &r.Start, &r.End} {
		if !t.IsZero() {
			*t = t.Add(by)
		}
	}
}
