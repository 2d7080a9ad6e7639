package planning

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"time"
)

// WriteStatementCSV writes the statement for finance: one line per
// cluster, account and period, then the period totals (account TOTAL), in
// hours with six decimals (exact to the second for resources).
func WriteStatementCSV(w io.Writer, s *Statement) error {
	cw := csv.NewWriter(w)
	head := []string{"cluster", "account", "from", "to", "jobs", "core_hours"}
	for _, k := range s.Kinds {
		head = append(head, k+"_hours")
	}
	head = append(head, "billing_unit_hours", "ai_training_billing_unit_hours", "ai_inference_billing_unit_hours", "other_billing_unit_hours", "unknown_billing_unit_hours")
	if err := cw.Write(head); err != nil {
		return err
	}
	h := func(v float64) string { return strconv.FormatFloat(v/3600, 'f', 6, 64) }
	write := func(l *StatementLine) error {
		row := []string{l.Cluster, l.Account, l.From.Format(time.RFC3339), l.To.Format(time.RFC3339), strconv.FormatInt(l.Jobs, 10), h(float64(l.CoreSeconds))}
		for _, k := range s.Kinds {
			row = append(row, h(float64(l.AccelSeconds[k])))
		}
		row = append(row, h(l.Billing), h(l.BillingTraining), h(l.BillingInference), h(l.BillingOther), h(l.BillingUnknown))
		return cw.Write(row)
	}
	for i := range s.Lines {
		if err := write(&s.Lines[i]); err != nil {
			return err
		}
	}
	for i := range s.Totals {
		if err := write(&s.Totals[i]); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteStatementTable writes the statement for people, one block per
// period, accounts by billing units, largest first.
func WriteStatementTable(w io.Writer, s *Statement) error {
	ew := &errWriter{w: w}
	ew.printf("Statements per account (hours; billing units under the inventory's weights)\n")
	t := &table{left: 3}
	head := []string{"Period", "Cluster", "Account", "Jobs", "Core h"}
	for _, k := range s.Kinds {
		head = append(head, k+" h")
	}
	t.add(append(head, "Billing", "AI training", "AI inference", "Other", "Unknown")...)
	row := func(period string, l *StatementLine) {
		r := []string{period, l.Cluster, l.Account, strconv.FormatInt(l.Jobs, 10), hours(float64(l.CoreSeconds))}
		for _, k := range s.Kinds {
			r = append(r, hours(float64(l.AccelSeconds[k])))
		}
		t.add(append(r, hours(l.Billing), hours(l.BillingTraining), hours(l.BillingInference), hours(l.BillingOther), hours(l.BillingUnknown))...)
	}
	for ti := range s.Totals {
		tot := &s.Totals[ti]
		var lines []*StatementLine
		for i := range s.Lines {
			l := &s.Lines[i]
			if l.Cluster == tot.Cluster && l.From.Equal(tot.From) {
				lines = append(lines, l)
			}
		}
		sortByBilling(lines)
		period := tot.From.Format("2006-01-02")
		for _, l := range lines {
			row(period, l)
			period = ""
		}
		row("", tot)
	}
	if err := t.write(ew); err != nil {
		return err
	}
	return ew.err
}

func sortByBilling(l []*StatementLine) {
	sort.Slice(l, func(a, b int) bool {
		if l[a].Billing != l[b].Billing {
			return l[a].Billing > l[b].Billing
		}
		return l[a].Account < l[b].Account
	})
}
