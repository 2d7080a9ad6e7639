package labgen

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
)

// WriteSacct writes the center as `sacct --allusers --parsable2
// --duplicates` prints it with scmon's field list (collector's
// DefaultSacctFields) and a header line, times in UTC: every allocation
// line followed by its batch, extern and srun steps. Like a dump made of
// overlapping polls, it first shows some long jobs as they were while
// still running, and repeats the lines of a few jobs; read back and
// deduplicated by record key (last version wins), it gives Records.
func (c *Center) WriteSacct(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fields := collector.DefaultSacctFields
	bw.WriteString(strings.Join(fields, "|"))
	bw.WriteByte('\n')
	lw := &lineWriter{w: bw, fields: fields}
	// The earlier poll: long jobs seen while running, half way through.
	for i, rec := range c.Records {
		if !c.early[i] {
			continue
		}
		cp := *rec
		mid := rec.Start.Add(rec.End.Sub(rec.Start) / 2).Truncate(time.Second)
		cp.End, cp.State, cp.StateRaw, cp.ExitCode = time.Time{}, job.StateRunning, "RUNNING", "0:0"
		lw.run(c, &cp, mid)
	}
	for i, rec := range c.Records {
		lw.run(c, rec, c.End)
		if c.dup[i] {
			lw.run(c, rec, c.End)
		}
	}
	if lw.err != nil {
		return lw.err
	}
	return bw.Flush()
}

type lineWriter struct {
	w      *bufio.Writer
	fields []string
	err    error
	cells  map[string]string
}

func (l *lineWriter) put() {
	if l.err != nil {
		return
	}
	for i, f := range l.fields {
		if i > 0 {
			l.w.WriteByte('|')
		}
		l.w.WriteString(l.cells[f])
	}
	_, l.err = l.w.WriteString("\n")
	clear(l.cells)
}

// stamp prints a time as sacct does with SLURM_TIME_FORMAT=standard.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "Unknown"
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

// slurmDuration prints a duration as sacct's Elapsed and Timelimit.
func slurmDuration(d time.Duration) string {
	s := int64(d / time.Second)
	days, s := s/86400, s%86400
	hms := fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
	if days > 0 {
		return strconv.FormatInt(days, 10) + "-" + hms
	}
	return hms
}

// tres prints a TRES string; typed adds the typed GRES as AllocTRES does.
func tres(p *partition, nodes, cores, accels int64, typed bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cpu=%d,", cores)
	if accels > 0 {
		if typed {
			fmt.Fprintf(&b, "gres/%s:%s=%d,", p.gres, p.gtype, accels)
		}
		fmt.Fprintf(&b, "gres/%s=%d,", p.gres, accels)
	}
	fmt.Fprintf(&b, "mem=%dG,node=%d", cores*p.memPerCore/1000, nodes)
	return b.String()
}

// run writes one run and its steps as of the dump time.
func (l *lineWriter) run(c *Center, rec *job.Record, dump time.Time) {
	if l.cells == nil {
		l.cells = map[string]string{}
	}
	p := c.parts[rec.Partition]
	accels := rec.AccelCount("")
	raw := rec.RawID
	if raw == "" {
		raw = rec.JobID
	}
	cl := l.cells
	cl["JobID"], cl["JobIDRaw"], cl["Cluster"], cl["Partition"], cl["QOS"] = rec.JobID, raw, rec.Cluster, rec.Partition, rec.QOS
	cl["Account"], cl["User"], cl["Group"] = rec.Account, rec.User, rec.Group
	cl["Submit"], cl["Eligible"] = stamp(rec.Submit), stamp(rec.Submit)
	cl["Timelimit"], cl["State"], cl["ExitCode"] = slurmDuration(rec.Timelimit), rec.StateRaw, rec.ExitCode
	cl["NNodes"], cl["NCPUS"] = strconv.FormatInt(rec.Nodes, 10), strconv.FormatInt(rec.Cores, 10)
	cl["ReqTRES"] = tres(p, rec.Nodes, rec.Cores, accels, false)
	cl["NodeList"], cl["WCKey"], cl["WorkDir"], cl["Comment"] = rec.NodeList, rec.WCKey, rec.WorkDir, rec.Comment
	cl["JobName"], cl["SubmitLine"] = rec.Name, rec.SubmitLine
	end := rec.End
	switch {
	case !rec.Started():
		cl["Start"], cl["End"], cl["Elapsed"] = "Unknown", "Unknown", "00:00:00"
		if rec.State == job.StateCancelled {
			cl["Start"], cl["End"] = stamp(rec.Submit.Add(time.Minute)), stamp(rec.Submit.Add(time.Minute))
		}
	case end.IsZero():
		cl["Start"], cl["End"], cl["Elapsed"] = stamp(rec.Start), "Unknown", slurmDuration(dump.Sub(rec.Start))
		cl["AllocTRES"] = tres(p, rec.Nodes, rec.Cores, accels, true)
		end = dump
	default:
		cl["Start"], cl["End"], cl["Elapsed"] = stamp(rec.Start), stamp(rec.End), slurmDuration(rec.End.Sub(rec.Start))
		cl["AllocTRES"] = tres(p, rec.Nodes, rec.Cores, accels, true)
	}
	l.put()
	if !rec.Started() {
		return
	}
	running := rec.End.IsZero()
	for k, st := range rec.Steps {
		// Steps share the run's time: batch and extern span it, srun
		// steps split it.
		a, b := rec.Start, end
		n, cores := rec.Nodes, rec.Cores
		if st.Name == "batch" {
			n, cores = 1, rec.Cores/max(rec.Nodes, 1)
		}
		if strings.HasSuffix(st.ID, ".batch") || strings.HasSuffix(st.ID, ".extern") {
			// whole run
		} else {
			a = rec.Start.Add(time.Duration(k) * time.Second)
		}
		state, exit := "COMPLETED", "0:0"
		switch {
		case running:
			state = "RUNNING"
		case rec.State != job.StateCompleted && st.Name != "extern":
			state, exit = "CANCELLED", "0:15"
			if rec.State == job.StateFailed || rec.State == job.StateOutOfMemory {
				state, exit = rec.StateRaw, rec.ExitCode
			}
		}
		cl["JobID"], cl["JobIDRaw"], cl["Cluster"], cl["Account"] = st.ID, raw+st.ID[len(rec.JobID):], rec.Cluster, rec.Account
		cl["Submit"], cl["Eligible"], cl["Start"] = stamp(a), stamp(a), stamp(a)
		if running {
			cl["End"], cl["Elapsed"] = "Unknown", slurmDuration(dump.Sub(a))
		} else {
			cl["End"], cl["Elapsed"] = stamp(b), slurmDuration(b.Sub(a))
		}
		cl["State"], cl["ExitCode"] = state, exit
		cl["NNodes"], cl["NCPUS"] = strconv.FormatInt(n, 10), strconv.FormatInt(cores, 10)
		cl["AllocTRES"] = tres(p, n, cores, accels*n/max(rec.Nodes, 1), true)
		cl["NodeList"], cl["JobName"], cl["SubmitLine"] = rec.NodeList, st.Name, st.Command
		l.put()
	}
}
