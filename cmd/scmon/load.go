package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/internal/setup"
	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/usage"
)

// sourceFlags are the flags every command reading records shares.
type sourceFlags struct {
	inputs   []string
	capacity string
	timezone string
	cluster  string
	fields   string
	maxLine  int
	rules    string
	strict   bool
	// collect keeps the jobs for the planner's views (scmon report).
	collect bool
}

// loaded is what reading the inputs produced.
type loaded struct {
	sample    bool
	inventory *capacity.Inventory
	location  *time.Location
	table     *accel.Table
	rules     *classify.RuleSet
	classer   *classify.RuleClassifier
	store     *usage.Store
	stats     []*ingest.Stats
	fromSub   bool
	planner   *planning.Collector
}

func parseInput(s string) (ingest.Input, error) {
	format, path, ok := strings.Cut(s, ":")
	if !ok || format == "" || path == "" {
		return ingest.Input{}, usagef("--input %q: want FORMAT:PATH with FORMAT one of %s", s, strings.Join(collector.FormatNames(), ", "))
	}
	if _, known := collector.LookupFormat(format); !known {
		return ingest.Input{}, usagef("--input %q: unknown format %q (known: %s)", s, format, strings.Join(collector.FormatNames(), ", "))
	}
	return ingest.Input{Format: format, Path: path}, nil
}

// load reads capacity and records as the flags say, or the built-in sample
// center when no input is given.
func load(f sourceFlags, logger *slog.Logger) (*loaded, error) {
	l := &loaded{sample: len(f.inputs) == 0}
	var inputs []ingest.Input
	for _, s := range f.inputs {
		in, err := parseInput(s)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, in)
	}

	var tzLoc *time.Location
	if f.timezone != "" {
		loc, err := time.LoadLocation(f.timezone)
		if err != nil {
			return nil, usagef("--timezone: %v", err)
		}
		tzLoc = loc
	}

	// Capacity first: its zone and accelerator rules apply to the records.
	var err error
	switch {
	case f.capacity != "":
		if format, path, ok := strings.Cut(f.capacity, ":"); !ok || format == "" || path == "" {
			return nil, usagef("--capacity %q: want FORMAT:PATH with FORMAT one of %s", f.capacity, strings.Join(collector.CapacityFormatNames(), ", "))
		}
		l.inventory, err = setup.Capacity(f.capacity, tzLoc, f.cluster)
	case l.sample:
		l.inventory, err = setup.SampleInventory()
	}
	if err != nil {
		return nil, err
	}
	if l.location, err = setup.Location(f.timezone, l.inventory); err != nil {
		return nil, err
	}
	if l.table, err = setup.Table(l.inventory); err != nil {
		return nil, err
	}
	if l.rules, err = setup.Rules(f.rules, l.inventory); err != nil {
		return nil, err
	}
	table := l.table
	l.classer = classify.New(l.rules, classify.Options{Accel: table})

	var clusters []string
	if l.inventory != nil {
		for _, c := range l.inventory.Clusters {
			clusters = append(clusters, c.Name)
		}
	}
	var fields []string
	if f.fields != "" {
		fields = strings.Split(f.fields, ",")
	}
	opts := ingest.Options{Location: l.location, Cluster: f.cluster, Clusters: clusters, Fields: fields, MaxLine: f.maxLine,
		Strict: f.strict, Classifier: l.classer, Logger: logger, Defer: &ingest.Deferred{}}
	if f.collect {
		l.planner = planning.NewCollector(l.inventory, table)
		opts.Observer = l.planner
	}
	l.store = usage.NewStore(table)
	if l.sample {
		st, err := loadSample(l.store, opts)
		if err != nil {
			return nil, err
		}
		l.stats = append(l.stats, st)
		// The whole input classified at once, with every stage.
		if err := opts.Defer.Flush(l.store, l.classer, f.strict); err != nil {
			return nil, err
		}
		return l, nil
	}
	for _, in := range inputs {
		st, err := ingest.Load(l.store, in, opts)
		if err != nil {
			return nil, err
		}
		l.stats = append(l.stats, st)
		l.fromSub = l.fromSub || st.WindowFromSubmit
	}
	if err := opts.Defer.Flush(l.store, l.classer, f.strict); err != nil {
		return nil, err
	}
	if err := unreadable(l.stats, f.fields != ""); err != nil {
		return nil, err
	}
	if l.inventory == nil {
		l.inventory = hintInventory(l.stats, f.cluster)
		if l.inventory != nil && f.timezone == "" {
			l.location = l.inventory.Clusters[0].Location
		}
	}
	return l, nil
}

func loadSample(store *usage.Store, opts ingest.Options) (*ingest.Stats, error) {
	zr, err := collector.MaybeGzip(strings.NewReader(string(seeds.SacctLog())))
	if err != nil {
		return nil, fmt.Errorf("built-in sample log: %w", err)
	}
	name := "built-in sample log (seeds/sample.sacct.gz)"
	r := collector.NewSacctReader(zr, collector.Options{Name: name, Location: opts.Location, Cluster: seeds.ClusterName})
	return ingest.LoadReader(store, r, ingest.Input{Format: "slurm-sacct", Path: name}, opts)
}

// hintInventory builds a capacity from the inputs' own hints (the SWF
// header's MaxProcs) when no capacity is given.
func hintInventory(stats []*ingest.Stats, cluster string) *capacity.Inventory {
	for _, st := range stats {
		h := st.Capacity
		if h == nil || h.Cores <= 0 {
			continue
		}
		loc := h.Location
		if loc == nil {
			loc = time.UTC
		}
		// The header gives processors, not nodes of known size: one
		// "machine" of MaxProcs cores.
		g := &capacity.NodeGroup{Name: "machine", Cores: h.Cores, Steps: []capacity.Step{{Nodes: 1}}}
		inv := &capacity.Inventory{Source: fmt.Sprintf("%s (%s: %d processors)", st.Input, h.Source, h.Cores),
			Clusters: []*capacity.Cluster{{Name: cluster, Location: loc, NodeGroups: []*capacity.NodeGroup{g}}}}
		if inv.Validate() != nil {
			return nil
		}
		return inv
	}
	return nil
}

// parseTime reads RFC 3339, YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD in loc.
func parseTime(flag, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--%s %q: want RFC 3339, YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD", flag, s)
}

func newLogger(w io.Writer, quiet bool) *slog.Logger {
	level := slog.LevelWarn
	if quiet {
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
