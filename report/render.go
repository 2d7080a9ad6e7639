package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
)

// Formats lists the output formats of Write.
var Formats = []string{"table", "json", "csv"}

// Write renders r in the named format.
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case "table", "":
		return WriteTable(w, r)
	case "json":
		return WriteJSON(w, r)
	case "csv":
		return WriteCSV(w, r)
	}
	return fmt.Errorf("unknown output format %q (want one of %v)", format, Formats)
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" }

// hours formats a figure of hours with thousands separators.
func hours(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

const stamp = "2006-01-02 15:04"

// WriteTable writes the report for people: the window and bases first,
// then the headline, resources, classes, groups and series.
func WriteTable(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	p := ew.printf
	if r.Title != "" {
		p("%s\n\n", r.Title)
	}
	p("Window     %s to %s %s (%.1f days; %s)\n", r.Window.From.Format(stamp), r.Window.To.Format(stamp), r.Window.Timezone, r.Window.Hours/24, r.Window.Rule)
	if r.Capacity != "" {
		p("Capacity   %s\n", r.Capacity)
	}
	for _, in := range r.Inputs {
		var skipped int64
		for _, n := range in.Skipped {
			skipped += n
		}
		p("Input      %s: %d allocations read, %d lines skipped", in.Input, in.Records, skipped)
		if len(in.Notes) > 0 {
			p(" (%s)", notes(in.Notes))
		}
		p("\n")
	}
	if r.Duplicates > 0 {
		p("           %d records were read more than once and counted once\n", r.Duplicates)
	}
	hb := basisResource(r.Headline.Basis, &r.Figures)
	p("\nHeadline (%s basis): utilization %s, AI share %s (%s if every unknown job were AI); AI uses %s of capacity\n\n",
		basisName(string(r.Headline.Basis)), util(hb.CapacityHours > 0, hb), share(hb.AllocatedHours > 0, r.Headline.AIShare), share(hb.AllocatedHours > 0, r.Headline.AIShareUp), share(hb.CapacityHours > 0 && hb.AllocatedHours > 0, r.Headline.AIOfCapacity))

	tw := &table{leftKeys: 1}
	tw.add("Resource", "Capacity h", "Allocated h", "Utilization", "AI share", "AI upper")
	row := func(name string, res Resource, share, upper string) {
		tw.add(name, hours(res.CapacityHours), hours(res.AllocatedHours), util(res.CapacityHours > 0, res), share, upper)
	}
	row("cpu cores", r.CPU, share(r.CPU.AllocatedHours > 0, r.AIShare.CPU), share(r.CPU.AllocatedHours > 0, r.AIShare.CPUUpper))
	if r.Nodes.AllocatedHours > 0 && r.Nodes.OccupiedHours != nil {
		// Nodes: held by at least one job (occupied), so that a node shared
		// by several jobs counts once; what jobs were charged is below.
		occ := r.Nodes
		occ.AllocatedHours = *r.Nodes.OccupiedHours
		row("nodes (occupied)", occ, "", "")
	}
	row("accelerators", r.Accelerator.Resource, share(r.Accelerator.AllocatedHours > 0, r.AIShare.Accelerator), share(r.Accelerator.AllocatedHours > 0, r.AIShare.AcceleratorUpper))
	models := make([]string, 0, len(r.Accelerator.ByModel))
	for m := range r.Accelerator.ByModel {
		models = append(models, m)
	}
	sort.Strings(models)
	for _, k := range accel.Kinds {
		if res, ok := r.Accelerator.ByKind[k]; ok && (res.CapacityHours > 0 || res.AllocatedHours > 0) {
			row("  "+k, res, "", "")
			for _, m := range models {
				if r.Accelerator.ByModel[m].Kind == k {
					row("    "+m, r.Accelerator.ByModel[m].Resource, "", "")
				}
			}
		}
	}
	if r.Billing.CapacityHours > 0 {
		row("billing units", r.Billing, share(r.Billing.AllocatedHours > 0, r.AIShare.Billing), share(r.Billing.AllocatedHours > 0, r.AIShare.BillingUpper))
	}
	if err := tw.write(ew); err != nil {
		return err
	}
	if r.Nodes.OccupiedHours != nil && r.Nodes.AllocatedHours > 0 {
		p("Node-hours charged to jobs (NNodes x time, nodes shared by several jobs counted for each): %s\n", hours(r.Nodes.AllocatedHours))
	}

	p("\n")
	tw = &table{leftKeys: 1}
	tw.add("Class", "Jobs", "Core h", "Accelerator h", "Billing h", "Share of "+basisName(string(r.Headline.Basis)))
	pick := func(c Class) float64 {
		switch r.Headline.Basis {
		case "billing":
			return c.BillingHours
		case "accelerator":
			return c.AcceleratorHours
		case "nodes":
			return c.NodeHours
		}
		return c.CPUHours
	}
	var tot float64
	for _, c := range r.Classes {
		tot += pick(c)
	}
	for _, c := range classify.Classes {
		cl := r.Classes[c.String()]
		tw.add(c.String(), strconv.FormatInt(cl.Jobs, 10), hours(cl.CPUHours), hours(cl.AcceleratorHours), hours(cl.BillingHours), share(tot > 0, ratio(pick(cl), tot)))
	}
	if err := tw.write(ew); err != nil {
		return err
	}

	if len(r.Groups) > 0 {
		p("\nBy %s\n", strings.Join(r.By, ", "))
		tw = &table{leftKeys: len(r.By)}
		tw.add(append(append([]string(nil), r.By...), "Jobs", "Core h", "CPU util", "Accel h", "Accel util", "AI share cpu", "AI share accel", "Unknown h")...)
		for _, g := range r.Groups {
			vals := make([]string, len(r.By))
			for i, k := range r.By {
				vals[i] = g.Keys[k]
			}
			var jobs int64
			for _, c := range g.Classes {
				jobs += c.Jobs
			}
			unk := g.Classes[classify.Unknown.String()]
			tw.add(append(vals, strconv.FormatInt(jobs, 10), hours(g.CPU.AllocatedHours), util(g.HasCapacity && g.CPU.CapacityHours > 0, g.CPU),
				hours(g.Accelerator.AllocatedHours), util(g.HasCapacity && g.Accelerator.CapacityHours > 0, g.Accelerator.Resource), share(g.CPU.AllocatedHours > 0, g.AIShare.CPU), share(g.Accelerator.AllocatedHours > 0, g.AIShare.Accelerator), hours(unk.CPUHours+unk.AcceleratorHours))...)
		}
		if err := tw.write(ew); err != nil {
			return err
		}
	}
	if len(r.Series) > 0 {
		p("\nEvery %s\n", r.Every)
		tw = &table{leftKeys: 2}
		basis := string(r.Headline.Basis)
		tw.add("From", "To", "Utilization ("+basis+")", "AI share ("+basis+")", "AI upper", "CPU util", "Accel util")
		for _, s := range r.Series {
			h := HeadlineFor(r.Headline.Basis, &s.Figures)
			b := basisResource(r.Headline.Basis, &s.Figures)
			tw.add(s.From.Format(stamp), s.To.Format(stamp), util(b.CapacityHours > 0, b), share(b.AllocatedHours > 0, h.AIShare), share(b.AllocatedHours > 0, h.AIShareUp),
				util(s.CPU.CapacityHours > 0, s.CPU), util(s.Accelerator.CapacityHours > 0, s.Accelerator.Resource))
		}
		if err := tw.write(ew); err != nil {
			return err
		}
	}
	if len(r.Unmapped) > 0 {
		p("\nGeneric resources not counted as accelerators:\n")
		for _, u := range r.Unmapped {
			p("  %s: %s h\n", u.GRES, hours(u.Hours))
		}
	}
	for _, w := range r.Warnings {
		p("\nwarning: %s", w)
	}
	if len(r.Warnings) > 0 {
		p("\n")
	}
	return ew.err
}

func util(ok bool, r Resource) string {
	if !ok {
		return "-"
	}
	return pct(r.Utilization)
}

// share formats a ratio that is only defined when ok (something to divide
// by): a figure that cannot be computed prints "-", never 0.0%.
func share(ok bool, v float64) string {
	if !ok {
		return "-"
	}
	return pct(v)
}

// basisResource returns the figures of the headline's basis.
func basisResource(b capacity.Basis, f *Figures) Resource {
	switch b {
	case capacity.BasisBilling:
		return f.Billing
	case capacity.BasisAccelerator:
		return f.Accelerator.Resource
	case capacity.BasisNodes:
		return f.Nodes
	}
	return f.CPU
}

func basisName(b string) string {
	switch b {
	case "cpu":
		return "core-hours"
	case "billing":
		return "billing units"
	case "accelerator":
		return "accelerator-hours"
	}
	return b
}

func notes(n map[string]int) string {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), n[k])
	}
	return strings.Join(parts, ", ")
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// WriteCSV writes one row for the window, one per period and one per
// group (and group period), with the same columns, for spreadsheets.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	head := []string{"scope", "from", "to"}
	head = append(head, r.By...)
	head = append(head,
		"cpu_capacity_hours", "cpu_allocated_hours", "cpu_utilization",
		"accelerator_capacity_hours", "accelerator_allocated_hours", "accelerator_utilization",
		"billing_capacity_hours", "billing_allocated_hours", "billing_utilization",
		"ai_share_cpu", "ai_share_cpu_upper", "ai_share_accelerator", "ai_share_accelerator_upper", "ai_share_billing", "ai_share_billing_upper")
	for _, c := range classify.Classes {
		head = append(head, c.String()+"_jobs", c.String()+"_cpu_hours", c.String()+"_accelerator_hours")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	write := func(scope string, from, to time.Time, keys map[string]string, fg *Figures) error {
		row := []string{scope, from.Format(time.RFC3339), to.Format(time.RFC3339)}
		for _, k := range r.By {
			row = append(row, keys[k])
		}
		row = append(row,
			f(fg.CPU.CapacityHours), f(fg.CPU.AllocatedHours), f(fg.CPU.Utilization),
			f(fg.Accelerator.CapacityHours), f(fg.Accelerator.AllocatedHours), f(fg.Accelerator.Utilization),
			f(fg.Billing.CapacityHours), f(fg.Billing.AllocatedHours), f(fg.Billing.Utilization),
			f(fg.AIShare.CPU), f(fg.AIShare.CPUUpper), f(fg.AIShare.Accelerator), f(fg.AIShare.AcceleratorUpper), f(fg.AIShare.Billing), f(fg.AIShare.BillingUpper))
		for _, c := range classify.Classes {
			cl := fg.Classes[c.String()]
			row = append(row, strconv.FormatInt(cl.Jobs, 10), f(cl.CPUHours), f(cl.AcceleratorHours))
		}
		return cw.Write(row)
	}
	if err := write("window", r.Window.From, r.Window.To, nil, &r.Figures); err != nil {
		return err
	}
	for i := range r.Series {
		if err := write("period", r.Series[i].From, r.Series[i].To, nil, &r.Series[i].Figures); err != nil {
			return err
		}
	}
	for i := range r.Groups {
		g := &r.Groups[i]
		if err := write("group", r.Window.From, r.Window.To, g.Keys, &g.Figures); err != nil {
			return err
		}
		for j := range g.Series {
			if err := write("group_period", g.Series[j].From, g.Series[j].To, g.Keys, &g.Series[j].Figures); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
