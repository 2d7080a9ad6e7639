package planning

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// WriteIdleTable writes the idle split for people: hours idle per
// resource and each reason's share of them.
func WriteIdleTable(w io.Writer, s *IdleSplit) error {
	ew := &errWriter{w: w}
	ew.printf("Why capacity sat idle (share of idle hours; demand = hours waiting jobs asked for)\n")
	t := &table{left: 1}
	head := append([]string{"Resource", "Idle h", "of capacity"}, Reasons...)
	t.add(append(head, "Demand h")...)
	row := func(name string, sp *Split) {
		idle := float64(sp.Idle())
		cells := []string{name, hours(idle), pct(idle, float64(sp.CapacitySeconds))}
		for _, r := range Reasons {
			if !s.NodeStates && (r == ReasonDown || r == ReasonDrained || r == ReasonPlanned) {
				cells = append(cells, "-")
				continue
			}
			cells = append(cells, pct(float64(sp.Reason(r)), idle))
		}
		t.add(append(cells, hours(float64(sp.DemandSeconds)))...)
	}
	row("cpu cores", &s.Cores)
	if s.Accelerators.CapacitySeconds > 0 || s.Accelerators.AllocatedSeconds > 0 {
		row("accelerators", &s.Accelerators)
		for i := range s.Devices {
			row("  "+s.Devices[i].Kind+" "+s.Devices[i].Model, &s.Devices[i].Split)
		}
	}
	if len(s.Pools) > 1 {
		for i := range s.Pools {
			p := &s.Pools[i]
			row("partition "+p.Name()+" cores", &p.Cores)
			for k := range p.Devices {
				row("partition "+p.Name()+" "+p.Devices[k].Model, &p.Devices[k].Split)
			}
		}
	}
	if err := t.write(ew); err != nil {
		return err
	}
	for _, l := range s.Limits {
		ew.printf("  note: %s\n", l)
	}
	return ew.err
}

// WriteIdleCSV writes one row per scope (window, period), pool and
// resource, with every reason in resource-seconds.
func WriteIdleCSV(w io.Writer, s *IdleSplit) error {
	cw := csv.NewWriter(w)
	head := []string{"scope", "from", "to", "cluster", "partitions", "resource", "kind", "model",
		"capacity_seconds", "allocated_seconds", "oversubscribed_seconds", "idle_seconds"}
	for _, r := range Reasons {
		head = append(head, r+"_seconds")
	}
	head = append(head, "demand_seconds")
	if err := cw.Write(head); err != nil {
		return err
	}
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	write := func(scope string, from, to time.Time, cluster, parts, res, kind, model string, sp *Split) error {
		row := []string{scope, from.Format(time.RFC3339), to.Format(time.RFC3339), cluster, parts, res, kind, model,
			i64(sp.CapacitySeconds), i64(sp.AllocatedSeconds), i64(sp.OversubscribedSeconds), i64(sp.Idle())}
		for _, r := range Reasons {
			row = append(row, i64(sp.Reason(r)))
		}
		return cw.Write(append(row, i64(sp.DemandSeconds)))
	}
	if err := write("window", s.From, s.To, "", "", "cores", "", "", &s.Cores); err != nil {
		return err
	}
	if err := write("window", s.From, s.To, "", "", "accelerators", "", "", &s.Accelerators); err != nil {
		return err
	}
	for i := range s.Devices {
		d := &s.Devices[i]
		if err := write("window", s.From, s.To, "", "", "accelerator", d.Kind, d.Model, &d.Split); err != nil {
			return err
		}
	}
	for i := range s.Pools {
		p := &s.Pools[i]
		if err := write("pool", s.From, s.To, p.Cluster, p.Name(), "cores", "", "", &p.Cores); err != nil {
			return err
		}
		for k := range p.Devices {
			d := &p.Devices[k]
			if err := write("pool", s.From, s.To, p.Cluster, p.Name(), "accelerator", d.Kind, d.Model, &d.Split); err != nil {
				return err
			}
		}
	}
	for i := range s.Series {
		b := &s.Series[i]
		if err := write("period", b.From, b.To, "", "", "cores", "", "", &b.Cores); err != nil {
			return err
		}
		for k := range b.Devices {
			d := &b.Devices[k]
			if err := write("period", b.From, b.To, "", "", "accelerator", d.Kind, d.Model, &d.Split); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
