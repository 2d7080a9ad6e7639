package planning

import (
	"testing"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/usage"
)

// TestMixSample checks the AI mix of the sample against the usage engine
// (the headline's engine): per class for cores and per kind for
// accelerators, and that kinds, origins and the weekly series each add up
// to the whole.
func TestMixSample(t *testing.T) {
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
	m, err := AIMix(sc.jobs, MixQuery{From: from, To: to, Inventory: sc.inv, Buckets: b, Origin: accel.Default().Origin})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.store.Compute(usage.Query{From: from, To: to, Inventory: sc.inv, By: []usage.Key{usage.KeyKind}})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]MixRow{}
	for _, r := range m.Rows {
		rows[r.Group+"/"+r.Value] = r
	}
	cores := rows[MixCores+"/"]
	a := &res.Allocated
	if cores.AllocatedSeconds != a.Total().CoreSeconds || cores.TrainingSeconds != a[classify.AITraining].CoreSeconds ||
		cores.InferenceSeconds != a[classify.AIInference].CoreSeconds || cores.UnknownSeconds != a[classify.Unknown].CoreSeconds {
		t.Errorf("cores %+v, engine total %d training %d inference %d", cores, a.Total().CoreSeconds, a[classify.AITraining].CoreSeconds, a[classify.AIInference].CoreSeconds)
	}
	if cores.CapacitySeconds != res.Capacity.CoreSeconds {
		t.Errorf("core capacity %d, engine %d", cores.CapacitySeconds, res.Capacity.CoreSeconds)
	}
	for _, g := range res.Groups {
		kind := g.Values[0]
		if kind == "" {
			continue
		}
		r := rows[MixKind+"/"+kind]
		ga := &g.Allocated
		if r.AllocatedSeconds != ga.Total().AccelSeconds || r.TrainingSeconds != ga[classify.AITraining].AccelSeconds || r.InferenceSeconds != ga[classify.AIInference].AccelSeconds {
			t.Errorf("kind %s: %+v, engine total %d training %d inference %d", kind, r, ga.Total().AccelSeconds, ga[classify.AITraining].AccelSeconds, ga[classify.AIInference].AccelSeconds)
		}
	}
	all := rows[MixAll+"/"]
	var kinds, origins MixRow
	for _, r := range m.Rows {
		switch r.Group {
		case MixKind:
			kinds.AllocatedSeconds += r.AllocatedSeconds
			kinds.TrainingSeconds += r.TrainingSeconds
			kinds.CapacitySeconds += r.CapacitySeconds
		case MixOrigin:
			origins.AllocatedSeconds += r.AllocatedSeconds
			origins.TrainingSeconds += r.TrainingSeconds
			origins.CapacitySeconds += r.CapacitySeconds
		}
	}
	for name, s := range map[string]MixRow{"kinds": kinds, "origins": origins} {
		if s.AllocatedSeconds != all.AllocatedSeconds || s.TrainingSeconds != all.TrainingSeconds || s.CapacitySeconds != all.CapacitySeconds {
			t.Errorf("%s sum to %+v, all accelerators %+v", name, s, all)
		}
	}
	if d, i := rows[MixOrigin+"/"+accel.OriginDomestic], rows[MixOrigin+"/"+accel.OriginImported]; d.AllocatedSeconds != rows[MixKind+"/npu"].AllocatedSeconds+rows[MixKind+"/dcu"].AllocatedSeconds ||
		i.AllocatedSeconds != rows[MixKind+"/gpu"].AllocatedSeconds {
		t.Errorf("domestic %+v imported %+v: want the NPUs and DCUs, and the A100s", d, i)
	}
	var series MixRow
	for _, p := range m.Series {
		for _, r := range p.Rows {
			if r.Group == MixAll {
				series.AllocatedSeconds += r.AllocatedSeconds
				series.InferenceSeconds += r.InferenceSeconds
				series.CapacitySeconds += r.CapacitySeconds
			}
		}
	}
	if series.AllocatedSeconds != all.AllocatedSeconds || series.InferenceSeconds != all.InferenceSeconds || series.CapacitySeconds != all.CapacitySeconds {
		t.Errorf("weekly series sum to %+v, window %+v", series, all)
	}
	if _, ok := (&MixRow{}).AIShare(); ok {
		t.Error("AI share of nothing allocated is computable")
	}
}
