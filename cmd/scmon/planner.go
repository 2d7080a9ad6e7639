package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/usage"
)

// plannerFlags are the report's flags for the planner's views.
type plannerFlags struct {
	view      string
	statement bool
	plot      string
}

// Views of `scmon report --view`.
var reportViews = []string{"idle", "mix", "friction", "statement"}

func addPlannerFlags(c *cobra.Command, f *plannerFlags) {
	fl := c.Flags()
	fl.StringVar(&f.view, "view", "", "print only one of the planner's views, in --output's format: idle (why capacity sat idle), mix (AI training and inference by accelerator kind, model and origin, every --every or month), friction (how AI jobs end per accelerator), statement (as --statement)")
	fl.StringVar(&f.plot, "plot", "", "also draw utilization by class with the AI share, and the idle split, every --every (default day), into this .svg or .png file")
	fl.BoolVar(&f.statement, "statement", false, "print statements per account and month (or --every): core-hours, accelerator-hours by kind, billing units by class, with totals; -o csv for finance")
}

func (f *plannerFlags) check() error {
	if f.plot != "" {
		switch strings.ToLower(filepath.Ext(f.plot)) {
		case ".svg", ".png":
		default:
			return usagef("--plot %q: the file must end in .svg or .png", f.plot)
		}
	}
	if f.statement {
		if f.view != "" && f.view != "statement" {
			return usagef("--statement and --view %s: give one", f.view)
		}
		f.view = "statement"
	}
	switch f.view {
	case "", "idle", "mix", "friction", "statement":
		return nil
	}
	return usagef("--view %q: want one of %v", f.view, reportViews)
}

// planned is the planner's views of one report.
type planned struct {
	Idle      *planning.IdleSplit `json:"idle_split,omitempty"`
	Mix       *planning.Mix       `json:"ai_mix,omitempty"`
	Friction  *planning.Friction  `json:"friction,omitempty"`
	Statement *planning.Statement `json:"statement,omitempty"`
}

// buildViews computes the planner's views over the report's window and
// series.
func buildViews(l *loaded, from, to time.Time, every usage.Period, view string) (*planned, []string, error) {
	var p planned
	var warn []string
	if l.planner == nil {
		return &p, nil, nil
	}
	jobs := l.planner.Jobs()
	// --view prints one view alone: the others are not computed.
	want := func(v string) bool { return view == "" || view == v }
	// The mix is a monthly series unless the report asks for another.
	mixEvery := every
	if mixEvery == usage.None {
		mixEvery = usage.Month
	}
	mixSpans, err := usage.Buckets(from, to, mixEvery, l.location)
	if err != nil {
		return nil, nil, err
	}
	mq := planning.MixQuery{From: from, To: to, Inventory: l.inventory, Origin: l.table.Origin, Buckets: spans(mixSpans)}
	if want("mix") {
		if p.Mix, err = planning.AIMix(jobs, mq); err != nil {
			return nil, nil, err
		}
	}
	if want("friction") {
		if p.Friction, err = planning.AdaptationFriction(jobs, from, to, l.table.Origin); err != nil {
			return nil, nil, err
		}
	}
	if view == "statement" {
		if p.Statement, err = planning.Statements(jobs, from, to, spans(mixSpans)); err != nil {
			return nil, nil, err
		}
	}
	if !want("idle") {
		return &p, warn, nil
	}
	if l.inventory != nil {
		idleSpans, err := usage.Buckets(from, to, every, l.location)
		if err != nil {
			return nil, nil, err
		}
		q := planning.IdleQuery{From: from, To: to, Inventory: l.inventory, Buckets: spans(idleSpans)}
		if p.Idle, err = planning.Idle(jobs, q); err != nil {
			return nil, nil, err
		}
	} else {
		warn = append(warn, "no capacity given (--capacity): idle capacity is not split")
	}
	return &p, warn, nil
}

func spans(s []usage.Span) []planning.Span {
	out := make([]planning.Span, len(s))
	for i, x := range s {
		out[i] = planning.Span{From: x.From, To: x.To}
	}
	return out
}

// writeWithViews writes the report and the planner's views: one view
// alone when --view names it, else the views after the report (table),
// beside it (JSON) or not at all (CSV has one table per view).
func writeWithViews(w io.Writer, r *report.Report, p *planned, f reportFlags) error {
	if f.view != "" {
		return writeView(w, p, f.view, f.output)
	}
	switch f.output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*report.Report
			*planned
		}{r, p})
	case "table":
		if err := report.WriteTable(w, r); err != nil {
			return err
		}
		if p.Idle != nil {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
			if err := planning.WriteIdleTable(w, p.Idle); err != nil {
				return err
			}
		}
		if p.Mix != nil {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
			// The series with --every; --view mix gives the monthly one.
			write := planning.WriteMixWindowTable
			if f.every != "" {
				write = planning.WriteMixTable
			}
			if err := write(w, p.Mix); err != nil {
				return err
			}
		}
		if p.Friction != nil {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
			if err := planning.WriteFrictionTable(w, p.Friction); err != nil {
				return err
			}
		}
		return nil
	}
	return report.Write(w, r, f.output)
}

func writeView(w io.Writer, p *planned, view, format string) error {
	var v any
	switch view {
	case "idle":
		if p.Idle == nil {
			return fmt.Errorf("the idle split needs the capacity (--capacity)")
		}
		v = p.Idle
		switch format {
		case "table":
			return planning.WriteIdleTable(w, p.Idle)
		case "csv":
			return planning.WriteIdleCSV(w, p.Idle)
		}
	case "mix":
		v = p.Mix
		switch format {
		case "table":
			return planning.WriteMixTable(w, p.Mix)
		case "csv":
			return planning.WriteMixCSV(w, p.Mix)
		}
	case "statement":
		v = p.Statement
		switch format {
		case "table":
			return planning.WriteStatementTable(w, p.Statement)
		case "csv":
			return planning.WriteStatementCSV(w, p.Statement)
		}
	case "friction":
		v = p.Friction
		switch format {
		case "table":
			return planning.WriteFrictionTable(w, p.Friction)
		case "csv":
			return planning.WriteFrictionCSV(w, p.Friction)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writePlot draws the report's series (every --every, else day) and the
// idle split of the same periods into f.plot.
func writePlot(f reportFlags, l *loaded, meta report.Meta, from, to time.Time, every usage.Period) error {
	if l.inventory == nil || l.planner == nil {
		return fmt.Errorf("--plot needs the capacity (--capacity)")
	}
	if every == usage.None {
		every = usage.Day
	}
	res, err := l.store.Compute(usage.Query{From: from, To: to, Every: every, Location: l.location, Inventory: l.inventory})
	if err != nil {
		return err
	}
	meta.Every = every
	r := report.Build(res, meta)
	bk, err := usage.Buckets(from, to, every, l.location)
	if err != nil {
		return err
	}
	idle, err := planning.Idle(l.planner.Jobs(), planning.IdleQuery{From: from, To: to, Inventory: l.inventory, Buckets: spans(bk)})
	if err != nil {
		return err
	}
	d := &planning.PlotData{Title: "scmon: " + r.Window.From.Format("2006-01-02") + " to " + r.Window.To.Format("2006-01-02") + " (" + r.Window.Timezone + "), every " + string(every),
		Basis: basisLabel(r.Headline.Basis), Location: l.location}
	for i, s := range r.Series {
		p := planning.PlotPeriod{From: s.From, To: s.To}
		switch r.Headline.Basis {
		case "billing":
			p.Capacity = s.Billing.CapacityHours
		case "accelerator":
			p.Capacity = s.Accelerator.CapacityHours
		case "nodes":
			p.Capacity = s.Nodes.CapacityHours
		default:
			p.Capacity = s.CPU.CapacityHours
		}
		for _, c := range classify.Classes {
			cl := s.Classes[c.String()]
			switch r.Headline.Basis {
			case "billing":
				p.Held[c] = cl.BillingHours
			case "accelerator":
				p.Held[c] = cl.AcceleratorHours
			case "nodes":
				p.Held[c] = cl.NodeHours
			default:
				p.Held[c] = cl.CPUHours
			}
		}
		if i < len(idle.Series) {
			p.Cores = idle.Series[i].Cores
			for _, dv := range idle.Series[i].Devices {
				p.Accel.CapacitySeconds += dv.CapacitySeconds
				p.Accel.AllocatedSeconds += dv.AllocatedSeconds
				p.Accel.Down += dv.Down
				p.Accel.Drained += dv.Drained
				p.Accel.Planned += dv.Planned
				p.Accel.Blocked += dv.Blocked
				p.Accel.Mismatch += dv.Mismatch
				p.Accel.NoDemand += dv.NoDemand
			}
		}
		d.Periods = append(d.Periods, p)
	}
	format := planning.PlotSVG
	if strings.EqualFold(filepath.Ext(f.plot), ".png") {
		format = planning.PlotPNG
	}
	var buf bytes.Buffer
	if err := planning.Plot(&buf, d, format); err != nil {
		return err
	}
	if err := os.WriteFile(f.plot, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	return nil
}

func basisLabel(b capacity.Basis) string {
	switch b {
	case "billing":
		return "billing units"
	case "accelerator":
		return "accelerator-hours"
	case "nodes":
		return "node-hours"
	}
	return "core-hours"
}
