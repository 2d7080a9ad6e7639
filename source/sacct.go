package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/job"
)

// Defaults of SacctConfig.
const (
	DefaultSacctOverlap  = 10 * time.Minute
	DefaultSacctChunk    = 24 * time.Hour
	DefaultSacctLookback = time.Hour
	// chaseBatch bounds the job ids given to one sacct --jobs run.
	chaseBatch = 200
)

// SacctConfig configures a Sacct poller. The poll interval is the
// daemon's business: the poller only answers one Poll at a time.
type SacctConfig struct {
	// Name names the source in cursors, logs and metrics; default "sacct".
	Name string
	// Client says how to run sacct (path, timeout, environment).
	Client SlurmClient
	// Clusters restricts the poll to these clusters (--clusters); empty
	// means sacct's default, the local cluster.
	Clusters []string
	// Overlap is how far each window reaches back before the watermark, so
	// that records slurmdbd writes late (a job's end arrives after it
	// happened) are still seen; zero means DefaultSacctOverlap. The first
	// poll (no cursor) starts at Start without it.
	Overlap time.Duration
	// Chunk bounds how far one poll reaches past the watermark, so that a
	// catch-up after downtime goes in bounded steps; default
	// DefaultSacctChunk.
	Chunk time.Duration
	// Start is where the first window starts when there is no cursor;
	// zero means DefaultSacctLookback before the first poll.
	Start time.Time
	// Settle keeps the window's end this far behind the clock, for
	// clusters where slurmdbd records a job's end noticeably after it
	// happened; zero (the default) polls up to now.
	Settle time.Duration
	// MaxErrors bounds the line-error messages a batch keeps; default
	// DefaultMaxErrors.
	MaxErrors int
	// Logger receives warnings sacct wrote to stderr on success; nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests inject one.
	Now func() time.Time
}

// Sacct polls Slurm's accounting database with sacct over a moving window.
//
// Each poll runs
//
//	sacct --allusers --parsable2 --noheader --duplicates [--clusters=C]
//	      --starttime S --endtime E --format=<collector.DefaultSacctFields>
//
// with TZ=UTC and SLURM_TIME_FORMAT=standard, and reads it with
// collector.NewSacctReader. It leaves out --allocations (-X) on purpose: the
// step lines (123.batch, 123.0) that follow each allocation carry the
// names and command lines of what actually ran, the strongest evidence the
// classifier has; the reader folds them into their allocation and never
// adds their resources to it. --duplicates keeps every run of a requeued
// job: each consumed resources.
//
// Without --state, sacct returns every job that was eligible before E and
// had not ended before S: running jobs, pending jobs, and jobs that ended
// inside the window, each in its current state. A held job has no
// eligible time, so it is not listed at all (not even once cancelled): it
// never held resources and is not demand. A new job reaches slurmdbd a few
// seconds after slurmctld starts it (up to 3 s on the test cluster), well
// inside the overlap.
//
// The window is [watermark - Overlap, min(watermark + Chunk, now)): the
// overlap re-reads recent minutes so that late database writes are not
// missed (the store upserts by job.Record.Key, so re-reading never double
// counts), and the chunk bounds a catch-up after downtime (Batch.More stays
// true until a window reaches now). The cursor's watermark, and
// Batch.Complete, are the end of the last window.
//
// Records are allocations that started (running or ended) and those that
// ended without starting; a running job comes back with the same Key when it
// has completed, since its id and start do not change. Pending jobs go to
// Batch.Pending, and only from a window that reaches now: older windows
// cannot say what is waiting now.
//
// A job that ended while slurmdbd was unreachable can have its end written
// much later, with an end time already behind the next window: it would
// never be seen again and would stay "running" in the store. So the cursor
// also keeps the ids of the allocations last seen running; when one of them
// is missing from a window, the poller asks for it by id (sacct --jobs) and
// returns its final state, or reports it in Batch.Errors when sacct no
// longer knows it.
//
// Lines sacct prints that cannot be read are counted in Batch.Skipped and
// quoted in Batch.Errors (with line numbers relative to that poll's sacct
// output) and never fail the poll; a sacct that fails, hangs past its
// timeout or is cancelled fails the poll, and nothing of it may be
// committed.
type Sacct struct {
	cfg    SacctConfig
	fields []string
	log    *slog.Logger
}

// sacctCursor is the persisted position of a Sacct poller. Encoded as JSON:
//
//	{"watermark":"2026-11-28T17:49:00Z","running":["scmonlab/5","scmonlab/7"],"running_since":"2026-11-28T17:40:12Z"}
//
// running lists cluster/JobIDRaw of the allocations running at the last
// poll (about 20 bytes each), running_since the earliest start among them.
type sacctCursor struct {
	Watermark    time.Time `json:"watermark"`
	Running      []string  `json:"running,omitempty"`
	RunningSince time.Time `json:"running_since,omitzero"`
}

// NewSacct returns a poller, or an error naming the invalid setting.
func NewSacct(cfg SacctConfig) (*Sacct, error) {
	if cfg.Name == "" {
		cfg.Name = "sacct"
	}
	switch {
	case cfg.Overlap < 0:
		return nil, fmt.Errorf("source %s: overlap %v is negative", cfg.Name, cfg.Overlap)
	case cfg.Chunk < 0:
		return nil, fmt.Errorf("source %s: chunk %v is negative", cfg.Name, cfg.Chunk)
	case cfg.Settle < 0:
		return nil, fmt.Errorf("source %s: settle %v is negative", cfg.Name, cfg.Settle)
	case cfg.Client.Timeout < 0:
		return nil, fmt.Errorf("source %s: timeout %v is negative", cfg.Name, cfg.Client.Timeout)
	}
	for _, c := range cfg.Clusters {
		if c == "" || strings.ContainsAny(c, ", ") {
			return nil, fmt.Errorf("source %s: cluster name %q is empty or holds a comma or blank", cfg.Name, c)
		}
	}
	if cfg.Overlap == 0 {
		cfg.Overlap = DefaultSacctOverlap
	}
	if cfg.Chunk == 0 {
		cfg.Chunk = DefaultSacctChunk
	}
	if cfg.MaxErrors <= 0 {
		cfg.MaxErrors = DefaultMaxErrors
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sacct{cfg: cfg, fields: slices.Clone(collector.DefaultSacctFields), log: orDiscard(cfg.Logger)}, nil
}

// Name returns the source's name.
func (s *Sacct) Name() string { return s.cfg.Name }

// Kind returns "sacct", the kind of source, for health metrics.
func (s *Sacct) Kind() string { return "sacct" }

// Window returns the window the next poll after cursor will ask for, and
// whether it reaches now. It fails only on a cursor it cannot decode.
func (s *Sacct) Window(cursor []byte) (from, to time.Time, reachesNow bool, err error) {
	cur, first, err := s.decode(cursor)
	if err != nil {
		return time.Time{}, time.Time{}, false, err
	}
	from, to, reachesNow = s.window(cur, first)
	return from, to, reachesNow, nil
}

func (s *Sacct) window(cur sacctCursor, first bool) (from, to time.Time, reachesNow bool) {
	now := s.cfg.Now().UTC().Add(-s.cfg.Settle).Truncate(time.Second)
	from = cur.Watermark.Add(-s.cfg.Overlap)
	if first {
		from = cur.Watermark
	}
	// The overlap never reaches back before a configured start: jobs that
	// ended before it are not the operator's to count.
	if start := s.cfg.Start.UTC().Truncate(time.Second); !s.cfg.Start.IsZero() && from.Before(start) {
		from = start
	}
	to = cur.Watermark.Add(s.cfg.Chunk)
	if !to.Before(now) {
		to = now
	}
	// A clock that went back never moves the watermark back.
	if to.Before(cur.Watermark) {
		to = cur.Watermark
	}
	return from, to, !to.Before(now)
}

func (s *Sacct) decode(cursor []byte) (cur sacctCursor, first bool, err error) {
	if len(bytes.TrimSpace(cursor)) == 0 {
		start := s.cfg.Start
		if start.IsZero() {
			start = s.cfg.Now().Add(-DefaultSacctLookback)
		}
		return sacctCursor{Watermark: start.UTC().Truncate(time.Second)}, true, nil
	}
	dec := json.NewDecoder(bytes.NewReader(cursor))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cur); err != nil {
		return cur, false, errCursor(s.cfg.Name, err)
	}
	if cur.Watermark.IsZero() {
		return cur, false, errCursor(s.cfg.Name, errors.New("no watermark"))
	}
	return cur, false, nil
}

// Poll runs one sacct window after cursor (nil: from the configured start)
// and returns its records and the cursor to commit with them.
func (s *Sacct) Poll(ctx context.Context, cursor []byte) (*Batch, error) {
	cur, first, err := s.decode(cursor)
	if err != nil {
		return nil, err
	}
	from, to, reachesNow := s.window(cur, first)

	b := newBatch(s.cfg.Name)
	var pending []*job.Record
	seen := map[string]bool{}
	running := map[string]time.Time{}
	// A chase by id can return allocations the window returned already
	// (sacct --jobs=<array id> lists the whole array): keep one of each.
	index, pendingIndex := map[string]int{}, map[string]int{}
	keep := func(rec *job.Record) {
		id := runID(rec)
		seen[id] = true
		key := rec.Key()
		if rec.State == job.StatePending {
			if i, ok := pendingIndex[key]; ok {
				pending[i] = rec
				return
			}
			pendingIndex[key] = len(pending)
			pending = append(pending, rec)
			return
		}
		if rec.Running() {
			running[id] = rec.Start
		}
		if i, ok := index[key]; ok {
			b.Records[i] = rec
			return
		}
		index[key] = len(b.Records)
		b.Records = append(b.Records, rec)
	}
	if err := s.query(ctx, b, s.cfg.Clusters, nil, from, to, keep); err != nil {
		return nil, err
	}

	// Allocations running at the last poll that this window did not
	// return ended before it began: fetch their final state by id.
	var missing []string
	for _, id := range cur.Running {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		since := cur.RunningSince
		if since.IsZero() || since.After(from) {
			since = from
		}
		if err := s.chase(ctx, b, missing, since, to, keep); err != nil {
			return nil, err
		}
		for _, id := range missing {
			if !seen[id] {
				b.Notes["running_lost"]++
				if len(b.Errors) < s.cfg.MaxErrors {
					b.Errors = append(b.Errors, fmt.Sprintf("allocation %s was running at the last poll and sacct no longer reports it; its stored state stays as it was", id))
				}
			}
		}
	}

	next := sacctCursor{Watermark: to}
	for id, start := range running {
		next.Running = append(next.Running, id)
		if next.RunningSince.IsZero() || start.Before(next.RunningSince) {
			next.RunningSince = start
		}
	}
	sort.Strings(next.Running)
	if b.Cursor, err = json.Marshal(next); err != nil {
		return nil, err
	}
	if reachesNow {
		b.Pending = pending
		if b.Pending == nil {
			b.Pending = []*job.Record{}
		}
	}
	b.Complete = to
	b.More = !reachesNow
	return b, nil
}

// chase asks sacct for allocations by id ("cluster/rawid"), per cluster and
// in groups of chaseBatch.
func (s *Sacct) chase(ctx context.Context, b *Batch, ids []string, from, to time.Time, keep func(*job.Record)) error {
	byCluster := map[string][]string{}
	var clusters []string
	for _, id := range ids {
		cluster, raw, _ := strings.Cut(id, "/")
		if _, ok := byCluster[cluster]; !ok {
			clusters = append(clusters, cluster)
		}
		byCluster[cluster] = append(byCluster[cluster], raw)
	}
	for _, cluster := range clusters {
		var filter []string
		if cluster != "" {
			filter = []string{cluster}
		}
		raws := byCluster[cluster]
		for i := 0; i < len(raws); i += chaseBatch {
			group := raws[i:min(i+chaseBatch, len(raws))]
			b.Notes["running_chased"] += len(group)
			if err := s.query(ctx, b, filter, group, from, to, keep); err != nil {
				return err
			}
		}
	}
	return nil
}

// query runs sacct once and passes every record to keep.
func (s *Sacct) query(ctx context.Context, b *Batch, clusters, jobs []string, from, to time.Time, keep func(*job.Record)) error {
	res, err := s.cfg.Client.run(ctx, s.log, s.cfg.Name, "sacct", s.Args(clusters, jobs, from, to))
	if err != nil {
		return fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	f, err := lookupFormat(s.cfg.Name, "slurm-sacct")
	if err != nil {
		return err
	}
	r, err := f.NewReader(bytes.NewReader(res.Stdout), collector.Options{
		Name: "sacct", Location: time.UTC, Fields: s.fields,
	})
	if err == nil {
		_, err = ingest.Drain(r, &b.Stats, s.cfg.MaxErrors, func(rec *job.Record, le *collector.LineError) bool {
			if rec != nil {
				keep(rec)
			}
			return true
		})
	}
	if err != nil {
		return fmt.Errorf("source %s: read sacct output: %w", s.cfg.Name, err)
	}
	b.AddNotes(r)
	return nil
}

// sacctTime is how windows are written on sacct's command line: UTC wall
// clock, which sacct reads in its TZ (forced to UTC).
const sacctTime = "2006-01-02T15:04:05"

// Args returns the sacct arguments of one window, optionally restricted to
// clusters and to job ids.
func (s *Sacct) Args(clusters, jobs []string, from, to time.Time) []string {
	a := []string{"--allusers", "--parsable2", "--noheader", "--duplicates"}
	if len(clusters) > 0 {
		a = append(a, "--clusters="+strings.Join(clusters, ","))
	}
	if len(jobs) > 0 {
		a = append(a, "--jobs="+strings.Join(jobs, ","))
	}
	return append(a,
		"--starttime", from.UTC().Format(sacctTime),
		"--endtime", to.UTC().Format(sacctTime),
		"--format="+strings.Join(s.fields, ","))
}

// runID identifies an allocation for sacct --jobs: its cluster and raw id.
func runID(rec *job.Record) string {
	raw := rec.RawID
	if raw == "" {
		raw = rec.JobID
	}
	return rec.Cluster + "/" + raw
}
