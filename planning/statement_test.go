package planning

import (
	"bytes"
	"encoding/csv"
	"math"
	"strconv"
	"testing"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/usage"
)

// TestStatementSample checks that the sample's weekly statements add up,
// per week, to the usage engine's figures for the center, and that the
// CSV's lines add up to its totals.
func TestStatementSample(t *testing.T) {
	sc := loadSample(t)
	from, to := seeds.Window()
	spans, err := usage.Buckets(from, to, usage.Week, seeds.Location())
	if err != nil {
		t.Fatal(err)
	}
	var b []Span
	for _, s := range spans {
		b = append(b, Span{s.From, s.To})
	}
	st, err := Statements(sc.jobs, from, to, b)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.store.Compute(usage.Query{From: from, To: to, Every: usage.Week, Location: seeds.Location(), Inventory: sc.inv})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Totals) != len(res.Series) {
		t.Fatalf("%d totals, %d weeks", len(st.Totals), len(res.Series))
	}
	kindOfDev := map[int]string{}
	for i, d := range res.Devices {
		if d.Known {
			kindOfDev[i] = d.Kind
		}
	}
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	for i, bk := range res.Series {
		tot := st.Totals[i]
		eng := bk.Allocated.Total()
		if !tot.From.Equal(bk.From) || tot.CoreSeconds != eng.CoreSeconds || tot.Jobs != eng.Jobs || !close(tot.Billing, eng.BillingSeconds) {
			t.Errorf("week %s: cores %d jobs %d billing %f, engine %d %d %f", bk.From, tot.CoreSeconds, tot.Jobs, tot.Billing, eng.CoreSeconds, eng.Jobs, eng.BillingSeconds)
		}
		ai := bk.Allocated.AI()
		if !close(tot.BillingTraining+tot.BillingInference, ai.BillingSeconds) || !close(tot.BillingUnknown, bk.Allocated[classify.Unknown].BillingSeconds) {
			t.Errorf("week %s: AI billing %f unknown %f, engine %f %f", bk.From, tot.BillingTraining+tot.BillingInference, tot.BillingUnknown, ai.BillingSeconds, bk.Allocated[classify.Unknown].BillingSeconds)
		}
		byKind := map[string]int64{}
		for di, v := range eng.Device {
			if k, ok := kindOfDev[di]; ok {
				byKind[k] += v
			}
		}
		for k, v := range byKind {
			if tot.AccelSeconds[k] != v {
				t.Errorf("week %s: %s %d, engine %d", bk.From, k, tot.AccelSeconds[k], v)
			}
		}
		// The lines add up to the total.
		sum := StatementLine{AccelSeconds: map[string]int64{}}
		for _, l := range st.Lines {
			if l.From.Equal(tot.From) {
				sum.add(&l)
			}
		}
		if sum.CoreSeconds != tot.CoreSeconds || sum.Jobs != tot.Jobs || !close(sum.Billing, tot.Billing) || len(sum.AccelSeconds) != len(tot.AccelSeconds) {
			t.Errorf("week %s: lines sum to %+v, total %+v", bk.From, sum, tot)
		}
	}

	var buf bytes.Buffer
	if err := WriteStatementCSV(&buf, st); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	sums := map[string]float64{}
	totals := map[string]float64{}
	n := map[string]int{}
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[col["billing_unit_hours"]], 64)
		if err != nil {
			t.Fatal(err)
		}
		if r[col["account"]] == "TOTAL" {
			totals[r[col["from"]]] = v
		} else {
			sums[r[col["from"]]] += v
			n[r[col["from"]]]++
		}
	}
	if len(totals) != len(res.Series) {
		t.Fatalf("CSV has %d totals", len(totals))
	}
	for p, tot := range totals {
		if math.Abs(sums[p]-tot) > float64(n[p]+1)*0.5e-6 {
			t.Errorf("CSV %s: lines sum to %.6f billing unit-hours, total %.6f", p, sums[p], tot)
		}
	}
}
