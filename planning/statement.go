package planning

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/classify"
)

// StatementLine is what one account used in one period on one cluster, in
// resource-seconds and billing unit-seconds: what compute vouchers are
// settled against.
type StatementLine struct {
	Cluster string    `json:"cluster"`
	Account string    `json:"account"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	// Jobs counts allocations that held resources in the period.
	Jobs        int64 `json:"jobs"`
	CoreSeconds int64 `json:"core_seconds"`
	// AccelSeconds are accelerator-seconds by kind.
	AccelSeconds map[string]int64 `json:"accelerator_seconds"`
	// Billing is billing unit-seconds under the inventory's weights, in
	// total and by class.
	Billing          float64 `json:"billing_seconds"`
	BillingTraining  float64 `json:"billing_ai_training_seconds"`
	BillingInference float64 `json:"billing_ai_inference_seconds"`
	BillingOther     float64 `json:"billing_other_seconds"`
	BillingUnknown   float64 `json:"billing_unknown_seconds"`
}

func (l *StatementLine) add(o *StatementLine) {
	l.Jobs += o.Jobs
	l.CoreSeconds += o.CoreSeconds
	for k, v := range o.AccelSeconds {
		l.AccelSeconds[k] += v
	}
	l.Billing += o.Billing
	l.BillingTraining += o.BillingTraining
	l.BillingInference += o.BillingInference
	l.BillingOther += o.BillingOther
	l.BillingUnknown += o.BillingUnknown
}

// Statement is every account's lines, with each period's total.
type Statement struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Kinds are the accelerator kinds that appear, in display order.
	Kinds []string        `json:"accelerator_kinds"`
	Lines []StatementLine `json:"lines"`
	// Totals holds one line per cluster and period with Account "TOTAL":
	// the sum of that period's lines, equal to the center's figures.
	Totals []StatementLine `json:"totals"`
}

// Statements splits use by cluster, account and period (the buckets, or
// the window as one period). An account with nothing held in a period has
// no line for it.
func Statements(jobs []Job, from, to time.Time, buckets []Span) (*Statement, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("statement: window %s to %s is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if len(buckets) == 0 {
		buckets = []Span{{from, to}}
	}
	type key struct {
		cluster, account string
		period           int
	}
	lines := map[key]*StatementLine{}
	kinds := map[string]bool{}
	for i := range jobs {
		j := &jobs[i]
		for p, b := range buckets {
			sec := overlap(j, b.From, b.To)
			if sec == 0 {
				continue
			}
			k := key{j.Cluster, j.Account, p}
			l := lines[k]
			if l == nil {
				l = &StatementLine{Cluster: j.Cluster, Account: j.Account, From: b.From, To: b.To, AccelSeconds: map[string]int64{}}
				lines[k] = l
			}
			l.Jobs++
			l.CoreSeconds += sec * j.Cores
			for _, d := range j.Devices {
				l.AccelSeconds[d.Device.Kind] += sec * d.Count
				kinds[d.Device.Kind] = true
			}
			bill := j.Billing * float64(sec)
			l.Billing += bill
			switch j.Class {
			case classify.AITraining:
				l.BillingTraining += bill
			case classify.AIInference:
				l.BillingInference += bill
			case classify.Other:
				l.BillingOther += bill
			default:
				l.BillingUnknown += bill
			}
		}
	}
	st := &Statement{From: from, To: to}
	for k := range kinds {
		st.Kinds = append(st.Kinds, k)
	}
	sort.Slice(st.Kinds, func(a, b int) bool {
		ia, ib := slices.Index(accel.Kinds, st.Kinds[a]), slices.Index(accel.Kinds, st.Kinds[b])
		if ia != ib {
			return ia < ib
		}
		return st.Kinds[a] < st.Kinds[b]
	})
	totals := map[key]*StatementLine{}
	for k, l := range lines {
		st.Lines = append(st.Lines, *l)
		tk := key{k.cluster, "TOTAL", k.period}
		if totals[tk] == nil {
			b := buckets[k.period]
			totals[tk] = &StatementLine{Cluster: k.cluster, Account: "TOTAL", From: b.From, To: b.To, AccelSeconds: map[string]int64{}}
		}
		totals[tk].add(l)
	}
	for _, t := range totals {
		st.Totals = append(st.Totals, *t)
	}
	less := func(s []StatementLine) func(a, b int) bool {
		return func(a, b int) bool {
			x, y := &s[a], &s[b]
			if !x.From.Equal(y.From) {
				return x.From.Before(y.From)
			}
			if x.Cluster != y.Cluster {
				return x.Cluster < y.Cluster
			}
			return x.Account < y.Account
		}
	}
	sort.Slice(st.Lines, less(st.Lines))
	sort.Slice(st.Totals, less(st.Totals))
	return st, nil
}
