package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/usage"
)

type reportFlags struct {
	sourceFlags
	from, to string
	by       string
	every    string
	output   string
	quiet    bool
	// cpuProfile and memProfile name files for pprof profiles of the
	// whole command (hidden flags, for performance work).
	cpuProfile, memProfile string
	plannerFlags
}

func addSourceFlags(c *cobra.Command, f *sourceFlags) {
	fl := c.Flags()
	fl.StringArrayVarP(&f.inputs, "input", "i", nil, "records to read, as FORMAT:PATH (repeatable); FORMAT is one of "+strings.Join(collector.FormatNames(), ", ")+"; none: the built-in sample center")
	fl.StringVarP(&f.capacity, "capacity", "c", "", "capacity, as FORMAT:PATH; FORMAT is one of "+strings.Join(collector.CapacityFormatNames(), ", "))
	fl.StringVar(&f.timezone, "timezone", "", "zone of the records' wall-clock times and of times and periods given on the command line (default: the inventory's, else UTC)")
	fl.StringVar(&f.cluster, "cluster", "default", "cluster name for records that carry none")
	fl.StringVar(&f.fields, "sacct-fields", "", "comma-separated sacct field list of dumps without a header line (default: the list scmon polls with)")
	fl.IntVar(&f.maxLine, "max-line-bytes", collector.DefaultMaxLine, "longest input line (or record joined from several lines) read; a longer one is skipped as line_too_long")
	fl.StringVar(&f.rules, "rules", "", "classification rules file (default: the built-in rules)")
	fl.BoolVar(&f.strict, "strict", false, "stop at the first bad input line instead of skipping and counting it")
}

func newReportCommand(stdout, stderr io.Writer) *cobra.Command {
	var f reportFlags
	c := &cobra.Command{
		Use:   "report",
		Short: "Utilization and AI share over a window, from job records and capacity",
		Long: `Report computes, for a window, the utilization of the center's capacity
(allocated / capacity) and the AI share of what was allocated (AI training and
inference / all), per resource: cores, nodes, accelerators by kind and model,
and billing units. Unknown jobs give the AI share's upper bound.

With no --input it runs on the built-in sample center.`,
		Example: `  scmon report
  scmon report --input slurm-sacct:jobs.psv --capacity inventory:center.yaml --by partition --every day
  scmon report --input swf:KTH-SP2-1996-2.1-cln.swf.gz -o json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runReport(f, stdout, stderr) },
	}
	addSourceFlags(c, &f.sourceFlags)
	fl := c.Flags()
	fl.StringVar(&f.from, "from", "", "window start: RFC 3339, or YYYY-MM-DDTHH:MM:SS in --timezone (default: from the records)")
	fl.StringVar(&f.to, "to", "", "window end, exclusive (default: from the records)")
	fl.StringVar(&f.by, "by", "", "group by these keys, comma-separated: cluster, partition, account, user, class, kind, model")
	fl.StringVar(&f.every, "every", "", "also give a series by hour, day, week or month")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json or csv")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "do not log skipped lines on stderr (they are still counted)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a heap profile, taken before the output is written, to this file")
	_ = fl.MarkHidden("cpuprofile")
	_ = fl.MarkHidden("memprofile")
	addPlannerFlags(c, &f.plannerFlags)
	return c
}

func runReport(f reportFlags, stdout, stderr io.Writer) error {
	by, err := usage.ParseKeys(f.by)
	if err != nil {
		return usagef("--by: %v", err)
	}
	every, err := usage.ParsePeriod(f.every)
	if err != nil {
		return usagef("--every: %v", err)
	}
	switch f.output {
	case "table", "json", "csv":
	default:
		return usagef("--output %q: want table, json or csv", f.output)
	}
	if err := f.plannerFlags.check(); err != nil {
		return err
	}
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	f.collect = true
	l, err := load(f.sourceFlags, newLogger(stderr, f.quiet))
	if err != nil {
		return err
	}
	// Nothing is added after loading: the deduplication index goes
	// before the figures and views are computed, where memory peaks.
	l.store.Seal()
	from, to, rule, err := window(f, l)
	if err != nil {
		return err
	}
	res, err := l.store.Compute(usage.Query{From: from, To: to, By: by, Every: every, Location: l.location, Inventory: l.inventory})
	if err != nil {
		return err
	}
	meta := report.Meta{Rule: rule, Location: l.location, Inventory: l.inventory, Stats: l.store.Stats(), By: by, Every: every}
	if l.inventory != nil {
		meta.Primary = l.inventory.Primary()
	}
	if l.sample {
		meta.Title = fmt.Sprintf("scmon report: built-in sample center %q (a 30-day Slurm log; see seeds/)", seeds.ClusterName)
	}
	for _, st := range l.stats {
		meta.Inputs = append(meta.Inputs, reportInput(st))
	}
	if f.memProfile != "" {
		if err := writeHeapProfile(f.memProfile); err != nil {
			return err
		}
	}
	r := report.Build(res, meta)
	if l.inventory == nil {
		r.Warnings = append(r.Warnings, "no capacity given (--capacity): utilization is not computed")
	}
	views, warn, err := buildViews(l, from, to, every, f.view)
	if err != nil {
		return err
	}
	r.Warnings = append(r.Warnings, warn...)
	if f.plot != "" {
		if err := writePlot(f, l, meta, from, to, every); err != nil {
			return err
		}
	}
	return writeWithViews(stdout, r, views, f)
}

func reportInput(st *ingest.Stats) report.Input {
	in := report.Input{Input: st.Input.String(), Records: st.Records, Skipped: map[string]int64{}, Notes: st.Notes, Errors: st.Errors}
	for _, reason := range collector.Reasons {
		in.Skipped[reason] = st.Skipped[reason]
	}
	if st.Renamed > 0 {
		if in.Notes == nil {
			in.Notes = map[string]int{}
		}
		in.Notes["cluster_renamed"] = int(st.Renamed)
	}
	return in
}

// window resolves --from and --to, defaulting to the sample's window or
// the span of the records, and says which rule chose it.
func window(f reportFlags, l *loaded) (from, to time.Time, rule string, err error) {
	if f.from != "" {
		if from, err = parseTime("from", f.from, l.location); err != nil {
			return from, to, "", err
		}
	}
	if f.to != "" {
		if to, err = parseTime("to", f.to, l.location); err != nil {
			return from, to, "", err
		}
	}
	switch {
	case f.from != "" && f.to != "":
		rule = "given"
	case l.sample:
		sf, st := seeds.Window()
		rule = "the sample's 30 days"
		if f.from == "" {
			from = sf
		} else {
			rule = "given start, the sample's end"
		}
		if f.to == "" {
			to = st
		} else {
			rule = "the sample's start, given end"
		}
	default:
		sf, st, ok := l.store.Span(l.fromSub)
		if !ok {
			return from, to, "", fmt.Errorf("the inputs hold no allocation that ran: give --from and --to")
		}
		rule = "first start to last end of the records"
		if l.fromSub {
			rule = "first submission to last end of the records"
		}
		if f.from == "" {
			from = sf
		} else {
			rule = "given start, last end of the records"
		}
		if f.to == "" {
			to = st
		} else if f.from == "" {
			rule = "first record, given end"
		}
	}
	if !to.After(from) {
		return from, to, "", usagef("window %s to %s is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, rule, nil
}
