package planning

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// rowName labels a mix row in a table.
func rowName(r *MixRow) string {
	switch r.Group {
	case MixCores:
		return "cpu cores"
	case MixAll:
		return "accelerators"
	case MixKind:
		return "  " + r.Value
	case MixModel:
		return "    " + r.Value
	case MixOrigin:
		return "  " + r.Value
	}
	return r.Value
}

// WriteMixTable writes the AI mix: the window, then each period, with
// training and inference apart, by accelerator kind, model and origin.
func WriteMixTable(w io.Writer, m *Mix) error {
	return writeMixTable(w, m, true)
}

// WriteMixWindowTable writes the AI mix of the window only.
func WriteMixWindowTable(w io.Writer, m *Mix) error {
	return writeMixTable(w, m, false)
}

func writeMixTable(w io.Writer, m *Mix, series bool) error {
	ew := &errWriter{w: w}
	ew.printf("AI training and inference by accelerator kind, model and origin (shares of allocated hours)\n")
	t := &table{left: 2}
	t.add("Period", "Resource", "Capacity h", "Allocated h", "Utilization", "Training", "Inference", "AI share", "AI upper", "Inference of AI")
	period := func(label string, rows []MixRow) {
		for i := range rows {
			r := &rows[i]
			if r.Group == MixAll && r.CapacitySeconds == 0 && r.AllocatedSeconds == 0 {
				continue // a center without accelerators
			}
			if r.Group == MixOrigin && i > 0 && rows[i-1].Group != MixOrigin {
				t.add(label, "by origin", "", "", "", "", "", "", "", "")
			}
			al := float64(r.AllocatedSeconds)
			t.add(label, rowName(r), hours(float64(r.CapacitySeconds)), hours(al), pct(al, float64(r.CapacitySeconds)),
				pct(float64(r.TrainingSeconds), al), pct(float64(r.InferenceSeconds), al),
				pct(float64(r.TrainingSeconds+r.InferenceSeconds), al), pct(float64(r.TrainingSeconds+r.InferenceSeconds+r.UnknownSeconds), al),
				pct(float64(r.InferenceSeconds), float64(r.TrainingSeconds+r.InferenceSeconds)))
			label = ""
		}
	}
	period("window", m.Rows)
	single := !series || (len(m.Series) == 1 && m.Series[0].From.Equal(m.From) && m.Series[0].To.Equal(m.To))
	for i := range m.Series {
		if single {
			break
		}
		period(m.Series[i].From.Format("2006-01-02"), m.Series[i].Rows)
	}
	if err := t.write(ew); err != nil {
		return err
	}
	return ew.err
}

// WriteMixCSV writes one row per period and resource group, in
// resource-seconds.
func WriteMixCSV(w io.Writer, m *Mix) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"scope", "from", "to", "group", "value", "kind", "origin", "capacity_seconds", "allocated_seconds",
		"training_seconds", "inference_seconds", "unknown_seconds", "ai_share", "inference_of_ai"}); err != nil {
		return err
	}
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	f := func(v float64, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	write := func(scope string, from, to time.Time, rows []MixRow) error {
		for i := range rows {
			r := &rows[i]
			if r.Group == MixAll && r.CapacitySeconds == 0 && r.AllocatedSeconds == 0 {
				continue // a center without accelerators
			}
			if err := cw.Write([]string{scope, from.Format(time.RFC3339), to.Format(time.RFC3339), r.Group, r.Value, r.Kind, r.Origin,
				i64(r.CapacitySeconds), i64(r.AllocatedSeconds), i64(r.TrainingSeconds), i64(r.InferenceSeconds), i64(r.UnknownSeconds),
				f(r.AIShare()), f(r.InferenceOfAI())}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write("window", m.From, m.To, m.Rows); err != nil {
		return err
	}
	for i := range m.Series {
		if err := write("period", m.Series[i].From, m.Series[i].To, m.Series[i].Rows); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
