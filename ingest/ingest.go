// Package ingest connects record readers, the classifier and the usage
// store: it reads inputs, classifies each allocation, stores it, and counts
// what it skipped and why, so that a bad line never changes a figure
// silently.
package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/usage"
)

// Input is one FORMAT:PATH pair.
type Input struct {
	Format string
	Path   string
}

// String returns the FORMAT:PATH form.
func (in Input) String() string { return in.Format + ":" + in.Path }

// Options configure loading.
type Options struct {
	// Location is the zone of wall-clock timestamps in the inputs.
	Location *time.Location
	// Cluster names the cluster of records that carry none.
	Cluster string
	// Clusters lists the clusters the capacity knows. When it holds one
	// name, records of any other cluster are counted as that cluster (a
	// dump's cluster name often differs from the inventory's).
	Clusters []string
	// Fields is the sacct field list of headerless dumps.
	Fields []string
	// MaxLine is the readers' line cap (collector.Options.MaxLine).
	MaxLine int
	// Strict makes the first skipped line fatal.
	Strict bool
	// Classifier decides each allocation's class.
	Classifier classify.Classifier
	// Logger receives one warning per skipped line (up to MaxLogged).
	Logger *slog.Logger
	// Observe, when set, is given every record stored, with its class, so
	// that views needing more than the store keeps (when a job became
	// eligible, its name) read the same records once.
	Observe func(rec *job.Record, d classify.Decision)
	// Defer, when set, holds the records read instead of storing them, so
	// that Defer.Flush classifies the whole input at once with every stage
	// (the context and learned stages draw on the other jobs of the input).
	Defer *Deferred
}

// Deferred holds records read by LoadReader until Flush classifies them
// all at once and stores them. It keeps the records, so it costs memory in
// proportion to the input.
type Deferred struct {
	recs    []*job.Record
	stats   []*Stats
	observe func(rec *job.Record, d classify.Decision)
}

// Len returns the number of records held.
func (d *Deferred) Len() int { return len(d.recs) }

// Flush classifies every record held with c's batch path (pending jobs,
// which allocate nothing, alone, as the daemon classifies them) and adds
// them to store; a record the store refuses is counted as skipped in the stats of
// its input (or fails the flush in strict mode). The records are released.
func (d *Deferred) Flush(store *usage.Store, c classify.BatchClassifier, strict bool) error {
	// Pending jobs allocate nothing and are no evidence for the others:
	// they are classified alone, as the daemon classifies them, so that
	// the batch is the one the daemon sees.
	held := make([]*job.Record, 0, len(d.recs))
	for _, rec := range d.recs {
		if rec.State != job.StatePending {
			held = append(held, rec)
		}
	}
	batch := c.ClassifyBatch(held)
	ds := make([]classify.Decision, len(d.recs))
	k := 0
	for i, rec := range d.recs {
		if rec.State == job.StatePending {
			ds[i] = c.Classify(rec)
			continue
		}
		ds[i] = batch[k]
		k++
	}
	// The observer (the planner's views) reads the stored records while
	// the store takes the next ones: the two share nothing, and the
	// observer sees the records in the same order, from one goroutine.
	obs := newObserver(d.observe)
	defer obs.close()
	for i, rec := range d.recs {
		if err := store.Add(rec, ds[i]); err != nil {
			if strict {
				return fmt.Errorf("strict mode: %s:%d: %w", rec.Source, rec.Line, err)
			}
			st := d.stats[i]
			st.Records--
			st.Skipped[collector.ReasonRecord]++
			if len(st.Errors) < MaxLogged {
				st.Errors = append(st.Errors, fmt.Sprintf("%s:%d: %v", rec.Source, rec.Line, err))
			}
			continue
		}
		obs.add(rec, ds[i])
	}
	obs.close()
	d.recs, d.stats = nil, nil
	return nil
}

// observer hands records to an Observe function on a goroutine of its
// own, in batches, in order. close waits until every record is observed.
type observer struct {
	fn    func(*job.Record, classify.Decision)
	batch []observed
	ch    chan []observed
	done  chan struct{}
}

type observed struct {
	rec *job.Record
	d   classify.Decision
}

const observeBatch = 4096

func newObserver(fn func(*job.Record, classify.Decision)) *observer {
	o := &observer{fn: fn}
	if fn == nil {
		return o
	}
	o.ch, o.done = make(chan []observed, 4), make(chan struct{})
	go func() {
		defer close(o.done)
		for b := range o.ch {
			for _, x := range b {
				o.fn(x.rec, x.d)
			}
		}
	}()
	return o
}

func (o *observer) add(rec *job.Record, d classify.Decision) {
	if o.ch == nil {
		return
	}
	o.batch = append(o.batch, observed{rec, d})
	if len(o.batch) == observeBatch {
		o.ch <- o.batch
		o.batch = make([]observed, 0, observeBatch)
	}
}

// close sends what is left and waits for the observer; it may be called
// more than once.
func (o *observer) close() {
	if o.ch == nil {
		return
	}
	if len(o.batch) > 0 {
		o.ch <- o.batch
	}
	close(o.ch)
	<-o.done
	o.ch = nil
}

// MaxLogged bounds the skipped lines logged one by one per input; all are
// counted.
const MaxLogged = 20

// Stats says what loading one input did.
type Stats struct {
	Input   Input
	Records int64
	// Skipped counts skipped lines by reason (collector.Reasons).
	Skipped map[string]int64
	// Notes counts what the reader repaired or ignored without skipping.
	Notes map[string]int
	// Renamed counts records counted under the inventory's cluster name.
	Renamed int64
	// Errors holds the first skipped lines' messages.
	Errors []string
	// Capacity is the input's own capacity hint (SWF header), if any.
	Capacity *collector.CapacityHint
	// WindowFromSubmit is the format's default window rule.
	WindowFromSubmit bool
}

// SkippedTotal sums Skipped.
func (s *Stats) SkippedTotal() int64 {
	var n int64
	for _, v := range s.Skipped {
		n += v
	}
	return n
}

// Load reads one input into store.
func Load(store *usage.Store, in Input, opts Options) (*Stats, error) {
	r, c, err := collector.Open(in.Format, in.Path, collector.Options{Location: opts.Location, Cluster: opts.Cluster, Fields: opts.Fields, MaxLine: opts.MaxLine})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	f, _ := collector.LookupFormat(in.Format)
	st, err := LoadReader(store, r, in, opts)
	if st != nil {
		st.WindowFromSubmit = f.WindowFromSubmit
	}
	return st, err
}

// LoadReader reads every record of r into store.
func LoadReader(store *usage.Store, r collector.Reader, in Input, opts Options) (*Stats, error) {
	if opts.Classifier == nil {
		return nil, errors.New("load: no classifier")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st := &Stats{Input: in, Skipped: map[string]int64{}}
	// refuse counts a record the engine would not take: fatal in strict
	// mode, else skipped under reason with its message.
	var failed error
	refuse := func(rec *job.Record, reason string, err error) bool {
		if opts.Strict {
			failed = fmt.Errorf("strict mode: %s:%d: %w", rec.Source, rec.Line, err)
			return false
		}
		st.Skip(reason, fmt.Sprintf("%s:%d: %v", rec.Source, rec.Line, err), MaxLogged)
		return true
	}
	_, err := Drain(r, st, MaxLogged, func(rec *job.Record, le *collector.LineError) bool {
		if le != nil {
			if opts.Strict {
				failed = fmt.Errorf("strict mode: %w", le)
				return false
			}
			if len(st.Errors) < MaxLogged {
				log.Warn("skipped line", "file", le.File, "line", le.Line, "field", le.Field, "reason", le.Reason, "err", le.Err)
			}
			return true
		}
		rename(rec, opts.Clusters, st)
		// A record the engine refuses (70,000 distinct GRES) is not
		// classified: that alone would take minutes.
		if err := usage.CheckRecord(rec); err != nil {
			return refuse(rec, collector.ReasonTRES, err)
		}
		if opts.Defer != nil {
			opts.Defer.recs = append(opts.Defer.recs, rec)
			opts.Defer.stats = append(opts.Defer.stats, st)
			opts.Defer.observe = opts.Observe
			st.Records++
			return true
		}
		d := opts.Classifier.Classify(rec)
		if err := store.Add(rec, d); err != nil {
			return refuse(rec, collector.ReasonRecord, err)
		}
		if opts.Observe != nil {
			opts.Observe(rec, d)
		}
		st.Records++
		return true
	})
	if failed != nil {
		return st, failed
	}
	if err != nil {
		return st, fmt.Errorf("read %s: %w", in, err)
	}
	if n, ok := r.(collector.Noter); ok {
		st.Notes = n.Notes()
	}
	if h, ok := r.(interface {
		Capacity() *collector.CapacityHint
	}); ok {
		st.Capacity = h.Capacity()
	}
	return st, nil
}

func rename(rec *job.Record, clusters []string, st *Stats) {
	if len(clusters) != 1 || slices.Contains(clusters, rec.Cluster) {
		return
	}
	if rec.Cluster != "" {
		st.Renamed++
	}
	rec.Cluster = clusters[0]
}
