package planning

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// duration formats seconds as "3h05m" or "42m" or "15s".
func duration(sec int64) string {
	d := time.Duration(sec) * time.Second
	switch {
	case d >= time.Hour:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h" + pad2(int64(d%time.Hour/time.Minute)) + "m"
	case d >= time.Minute:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(sec, 10) + "s"
}

func pad2(v int64) string {
	if v < 10 {
		return "0" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}

// WriteFrictionTable writes adaptation friction for people.
func WriteFrictionTable(w io.Writer, f *Friction) error {
	ew := &errWriter{w: w}
	ew.printf("Adaptation friction of AI jobs (ended FAILED, NODE_FAIL, OUT_OF_MEMORY or cancelled within %s of start; resubmitted by the same user under the same name within %s)\n",
		duration(int64(EarlyCancel/time.Second)), duration(int64(ResubmitWithin/time.Second)))
	t := &table{left: 1}
	t.add("Accelerator", "Jobs", "Failed", "failed", "node_fail", "oom", "early cancel", "Median run", "Resubmitted")
	prevOrigin := false
	for i := range f.Rows {
		r := &f.Rows[i]
		name := "  " + r.Value
		switch r.Group {
		case MixKind:
			name = r.Value
		case MixOrigin:
			if !prevOrigin {
				t.add("by origin", "", "", "", "", "", "", "", "")
				prevOrigin = true
			}
		}
		median := "-"
		if r.Jobs > 0 {
			median = duration(r.MedianRunSeconds)
		}
		t.add(name, strconv.FormatInt(r.Jobs, 10), pct(float64(r.Failed), float64(r.Jobs)),
			strconv.FormatInt(r.StateFailed, 10), strconv.FormatInt(r.NodeFail, 10), strconv.FormatInt(r.OutOfMemory, 10), strconv.FormatInt(r.EarlyCancel, 10),
			median, pct(float64(r.Resubmitted), float64(r.Failed)))
	}
	if len(f.Rows) == 0 {
		ew.printf("  no AI job on accelerators ended in the window\n")
		return ew.err
	}
	if err := t.write(ew); err != nil {
		return err
	}
	return ew.err
}

// WriteFrictionCSV writes one row per kind, model and origin.
func WriteFrictionCSV(w io.Writer, f *Friction) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"from", "to", "group", "value", "kind", "origin", "jobs", "failed", "state_failed", "node_fail", "out_of_memory",
		"cancelled_early", "failure_share", "median_run_seconds", "resubmitted", "resubmit_rate"}); err != nil {
		return err
	}
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	fl := func(v float64, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	for i := range f.Rows {
		r := &f.Rows[i]
		if err := cw.Write([]string{f.From.Format(time.RFC3339), f.To.Format(time.RFC3339), r.Group, r.Value, r.Kind, r.Origin,
			i64(r.Jobs), i64(r.Failed), i64(r.StateFailed), i64(r.NodeFail), i64(r.OutOfMemory), i64(r.EarlyCancel), fl(r.FailureShare()),
			i64(r.MedianRunSeconds), i64(r.Resubmitted), fl(r.ResubmitRate())}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
