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
	// Observer, when set, is given every record stored, with its class,
	// so that views needing more than the store keeps (when a job became
	// eligible, its name) read the same records once.
	Observer Observer
	// Defer, when set, classifies the records read at Flush instead of one
	// by one, so that the whole input is classified at once with every
	// stage (the context and learned stages draw on the other jobs of the
	// input).
	Defer *Deferred
}

// Observer is given the records a store takes, by their index in the
// store (usage.Store.AddAt): a record that replaces an earlier one comes
// with the earlier one's index.
type Observer interface {
	// ObserveAt gives the record stored at index i with its decision (the
	// zero Decision when Deferred decides it later, through Decide).
	ObserveAt(i uint32, rec *job.Record, d classify.Decision)
	// Decide gives the decision Deferred.Flush made for the record stored
	// at index i.
	Decide(i uint32, d classify.Decision)
}

// Deferred classifies the records LoadReader reads at Flush, all at once,
// with every stage. The records are stored as they are read (their class
// set at Flush) and not held: what the batch stages read of each is
// counted in a classify.Tally, a few thousand distinct combinations for a
// million allocations, and each record costs 8 bytes until Flush.
type Deferred struct {
	tally    *classify.Tally
	items    []deferredItem
	refused  []refusal
	store    *usage.Store
	observer Observer
}

// deferredItem is one record stored: its index in the store and its
// combination in the tally (decidedRow for a record decided when read).
type deferredItem struct {
	idx, row uint32
}

const decidedRow = ^uint32(0)

// refusal is a record the store refused, counted at Flush as the records
// it classifies are.
type refusal struct {
	st  *Stats
	msg string
	err error
}

// Len returns the number of records read and not yet flushed.
func (d *Deferred) Len() int { return len(d.items) + len(d.refused) }

// Tallier is a classifier whose batch path works on compact tallies
// (classify.RuleClassifier); Deferred needs one.
type Tallier interface {
	classify.Classifier
	NewTally() *classify.Tally
}

// add stores one record read: a pending job, which allocates nothing and is
// no evidence for the others, is classified alone, as the daemon
// classifies it; any other is counted in the tally and decided at Flush.
func (d *Deferred) add(store *usage.Store, c Tallier, rec *job.Record, st *Stats, obs Observer) {
	if d.store == nil {
		d.store, d.observer = store, obs
	}
	var dec classify.Decision
	row := decidedRow
	if rec.State == job.StatePending {
		dec = c.Classify(rec)
	} else {
		if d.tally == nil {
			d.tally = c.NewTally()
		}
		row = d.tally.Add(rec)
	}
	i, err := store.AddAt(rec, dec)
	if err != nil {
		d.refused = append(d.refused, refusal{st: st, msg: fmt.Sprintf("%s:%d: %v", rec.Source, rec.Line, err),
			err: fmt.Errorf("strict mode: %s:%d: %w", rec.Source, rec.Line, err)})
		return
	}
	d.items = append(d.items, deferredItem{idx: i, row: row})
	if obs != nil {
		obs.ObserveAt(i, rec, dec)
	}
}

// Flush classifies every record read with the batch path and sets the
// decisions in store (the store the records went to) and the observer. A
// record the store refused is counted as skipped in the stats of its input
// (or fails the flush in strict mode). The tally is released.
func (d *Deferred) Flush(store *usage.Store, _ classify.BatchClassifier, strict bool) error {
	if d.store != nil && store != d.store {
		return errors.New("flush: not the store the records were added to")
	}
	if strict && len(d.refused) > 0 {
		return d.refused[0].err
	}
	var decs []classify.Decision
	if d.tally != nil {
		decs = d.tally.Decisions()
	}
	// A record that replaced an earlier one holds its index: the last
	// record of each index decides it, as if they were stored in order.
	seen := make([]uint64, (store.Len()+63)/64)
	for k := len(d.items) - 1; k >= 0; k-- {
		it := d.items[k]
		if seen[it.idx/64]&(1<<(it.idx%64)) != 0 {
			continue
		}
		seen[it.idx/64] |= 1 << (it.idx % 64)
		if it.row == decidedRow {
			continue
		}
		store.SetDecision(it.idx, decs[it.row])
		if d.observer != nil {
			d.observer.Decide(it.idx, decs[it.row])
		}
	}
	for _, r := range d.refused {
		r.st.Records--
		r.st.Skipped[collector.ReasonRecord]++
		if len(r.st.Errors) < MaxLogged {
			r.st.Errors = append(r.st.Errors, r.msg)
		}
	}
	*d = Deferred{}
	return nil
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
	var tallier Tallier
	if opts.Defer != nil {
		t, ok := opts.Classifier.(Tallier)
		if !ok {
			return nil, errors.New("load: deferred classification needs a classifier with a batch tally")
		}
		tallier = t
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
		if tallier != nil {
			opts.Defer.add(store, tallier, rec, st, opts.Observer)
			st.Records++
			return true
		}
		d := opts.Classifier.Classify(rec)
		i, err := store.AddAt(rec, d)
		if err != nil {
			return refuse(rec, collector.ReasonRecord, err)
		}
		if opts.Observer != nil {
			opts.Observer.ObserveAt(i, rec, d)
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
