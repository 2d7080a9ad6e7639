package source

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/job"
)

// StaticConfig configures a source of a fixed input held in memory.
type StaticConfig struct {
	// Name names the source in cursors, logs and metrics.
	Name string
	// Kind says what the source is, for the health table.
	Kind string
	// Format is the registered record format of the input.
	Format string
	// Data returns the input (gzip-compressed or not); it is called on the
	// first poll only.
	Data func() []byte
	// Options are the reader's options (the input's name, zone, cluster).
	Options collector.Options
	// Transform, when set, is applied to every record read (the built-in
	// sample moves its times to end at start).
	Transform func(*job.Record)
	// Now is the clock of Batch.Complete; nil means time.Now.
	Now func() time.Time
}

// Static delivers a fixed input once: its first poll returns every record
// (pending jobs as the source's demand), later polls nothing new but move
// the time up to which the source is complete, so that the jobs it left
// running keep running.
type Static struct {
	cfg    StaticConfig
	format collector.Format
}

// NewStatic returns a source of a fixed input.
func NewStatic(cfg StaticConfig) (*Static, error) {
	f, err := lookupFormat(cfg.Name, cfg.Format)
	if err != nil {
		return nil, err
	}
	if cfg.Data == nil {
		return nil, fmt.Errorf("source %s: no data", cfg.Name)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Kind == "" {
		cfg.Kind = "static"
	}
	return &Static{cfg: cfg, format: f}, nil
}

// Name returns the source's name.
func (s *Static) Name() string { return s.cfg.Name }

// Kind says what the source is, for the health table.
func (s *Static) Kind() string { return s.cfg.Kind }

// staticDone is the cursor of a delivered input.
const staticDone = "done"

// Poll delivers the input on the first poll and nothing after.
func (s *Static) Poll(ctx context.Context, cursor []byte) (*Batch, error) {
	b := newBatch(s.cfg.Name)
	b.Cursor, b.Complete = []byte(staticDone), s.cfg.Now()
	if string(cursor) == staticDone {
		return b, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	zr, err := collector.MaybeGzip(bytes.NewReader(s.cfg.Data()))
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	r, err := s.format.NewReader(zr, s.cfg.Options)
	if err == nil {
		b.Pending = []*job.Record{}
		_, err = ingest.Drain(r, &b.Stats, DefaultMaxErrors, func(rec *job.Record, le *collector.LineError) bool {
			if rec == nil {
				return true
			}
			if s.cfg.Transform != nil {
				s.cfg.Transform(rec)
			}
			if rec.State == job.StatePending {
				b.Pending = append(b.Pending, rec)
			} else {
				b.Records = append(b.Records, rec)
			}
			return true
		})
	}
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	b.AddNotes(r)
	return b, nil
}
