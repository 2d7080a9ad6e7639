package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/usage"
)

// plannerFlags are the report's flags for the planner's views.
type plannerFlags struct {
	view string
}

// Views of `scmon report --view`.
var reportViews = []string{"idle"}

func addPlannerFlags(c *cobra.Command, f *plannerFlags) {
	fl := c.Flags()
	fl.StringVar(&f.view, "view", "", "print only one of the planner's views, in --output's format: idle (why capacity sat idle)")
}

func (f plannerFlags) check() error {
	switch f.view {
	case "", "idle":
		return nil
	}
	return usagef("--view %q: want one of %v", f.view, reportViews)
}

// planned is the planner's views of one report.
type planned struct {
	Idle *planning.IdleSplit `json:"idle_split,omitempty"`
}

// buildViews computes the planner's views over the report's window and
// series.
func buildViews(l *loaded, from, to time.Time, every usage.Period) (*planned, []string, error) {
	var p planned
	var warn []string
	if l.planner == nil {
		return &p, nil, nil
	}
	jobs := l.planner.Jobs()
	if l.inventory != nil {
		spans, err := usage.Buckets(from, to, every, l.location)
		if err != nil {
			return nil, nil, err
		}
		q := planning.IdleQuery{From: from, To: to, Inventory: l.inventory}
		for _, s := range spans {
			q.Buckets = append(q.Buckets, planning.Span{From: s.From, To: s.To})
		}
		if p.Idle, err = planning.Idle(jobs, q); err != nil {
			return nil, nil, err
		}
	} else {
		warn = append(warn, "no capacity given (--capacity): idle capacity is not split")
	}
	return &p, warn, nil
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
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
