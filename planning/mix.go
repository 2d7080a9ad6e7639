package planning

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
)

// Groups of the AI mix's rows.
const (
	MixCores  = "cores"
	MixAll    = "accelerators"
	MixKind   = "kind"
	MixModel  = "model"
	MixOrigin = "origin"
)

// MixRow is what one resource group held, by class, beside its capacity,
// in resource-seconds: AI training and inference side by side.
type MixRow struct {
	Group string `json:"group"`
	// Value names the kind, model or origin ("" for cores and all
	// accelerators).
	Value string `json:"value,omitempty"`
	// Kind and Origin qualify a model row.
	Kind   string `json:"kind,omitempty"`
	Origin string `json:"origin,omitempty"`

	CapacitySeconds  int64 `json:"capacity_seconds"`
	AllocatedSeconds int64 `json:"allocated_seconds"`
	TrainingSeconds  int64 `json:"training_seconds"`
	InferenceSeconds int64 `json:"inference_seconds"`
	UnknownSeconds   int64 `json:"unknown_seconds"`
}

// AIShare returns (training + inference) / allocated; ok is false when
// nothing was allocated.
func (r *MixRow) AIShare() (float64, bool) {
	return ratio(r.TrainingSeconds+r.InferenceSeconds, r.AllocatedSeconds)
}

// InferenceOfAI returns inference / (training + inference): the shift
// toward inference; ok is false when no AI ran.
func (r *MixRow) InferenceOfAI() (float64, bool) {
	return ratio(r.InferenceSeconds, r.TrainingSeconds+r.InferenceSeconds)
}

func ratio(a, b int64) (float64, bool) {
	if b <= 0 {
		return 0, false
	}
	return float64(a) / float64(b), true
}

// MixPeriod is the mix of one period.
type MixPeriod struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Rows []MixRow  `json:"rows"`
}

// Mix is the answer of AIMix: the window's rows and a series.
type Mix struct {
	From   time.Time   `json:"from"`
	To     time.Time   `json:"to"`
	Rows   []MixRow    `json:"rows"`
	Series []MixPeriod `json:"series,omitempty"`
}

// MixQuery says what to compute.
type MixQuery struct {
	From, To time.Time
	Buckets  []Span
	// Inventory gives capacity (nil: none).
	Inventory *capacity.Inventory
	// Origin names a device's origin (Table.Origin; nil: the vendor's).
	Origin func(accel.Device) string
}

// AIMix splits what every resource group held into training, inference,
// other and unknown, over the window and each bucket: cores, all
// accelerators, and accelerators by kind, by model and by origin.
func AIMix(jobs []Job, q MixQuery) (*Mix, error) {
	if !q.To.After(q.From) {
		return nil, fmt.Errorf("AI mix: window %s to %s is empty", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	origin := q.Origin
	if origin == nil {
		origin = func(d accel.Device) string { return accel.VendorOrigin(d.Vendor) }
	}
	m := &Mix{From: q.From, To: q.To, Rows: mixRows(jobs, q.From, q.To, q.Inventory, origin)}
	for _, b := range q.Buckets {
		m.Series = append(m.Series, MixPeriod{From: b.From, To: b.To, Rows: mixRows(jobs, b.From, b.To, q.Inventory, origin)})
	}
	return m, nil
}

// overlap returns the seconds job j held resources inside [from, to).
func overlap(j *Job, from, to time.Time) int64 {
	if j.Start.IsZero() {
		return 0
	}
	a, b := j.Start, j.End
	if b.IsZero() || b.After(to) {
		b = to
	}
	if a.Before(from) {
		a = from
	}
	if !b.After(a) {
		return 0
	}
	return int64(b.Sub(a) / time.Second)
}

func mixRows(jobs []Job, from, to time.Time, inv *capacity.Inventory, origin func(accel.Device) string) []MixRow {
	type key struct{ group, value string }
	rows := map[key]*MixRow{}
	row := func(group, value string) *MixRow {
		k := key{group, value}
		if rows[k] == nil {
			rows[k] = &MixRow{Group: group, Value: value}
		}
		return rows[k]
	}
	devRows := func(d accel.Device) []*MixRow {
		mr := row(MixModel, ModelName(d))
		mr.Kind, mr.Origin = d.Kind, origin(d)
		return []*MixRow{row(MixAll, ""), row(MixKind, d.Kind), mr, row(MixOrigin, origin(d))}
	}
	row(MixCores, "")
	row(MixAll, "")
	if inv != nil {
		for _, c := range inv.Clusters {
			t := c.Total(from, to)
			row(MixCores, "").CapacitySeconds += t.CoreSeconds
			for d, s := range t.ByDevice {
				for _, r := range devRows(d) {
					r.CapacitySeconds += s
				}
			}
		}
	}
	add := func(r *MixRow, class classify.Class, v int64) {
		r.AllocatedSeconds += v
		switch class {
		case classify.AITraining:
			r.TrainingSeconds += v
		case classify.AIInference:
			r.InferenceSeconds += v
		case classify.Unknown:
			r.UnknownSeconds += v
		}
	}
	// A device's rows, found once per device rather than per job.
	byDev := map[accel.Device][]*MixRow{}
	cores := row(MixCores, "")
	for i := range jobs {
		j := &jobs[i]
		if inv != nil && inv.Cluster(j.Cluster) == nil {
			continue // no capacity: the report counts it apart
		}
		sec := overlap(j, from, to)
		if sec == 0 {
			continue
		}
		add(cores, j.Class, sec*j.Cores)
		for _, d := range j.Devices {
			rs, ok := byDev[d.Device]
			if !ok {
				rs = devRows(d.Device)
				byDev[d.Device] = rs
			}
			for _, r := range rs {
				add(r, j.Class, sec*d.Count)
			}
		}
	}
	out := make([]MixRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	order := map[string]int{MixCores: 0, MixAll: 1, MixKind: 2, MixModel: 2, MixOrigin: 4}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if order[a.Group] != order[b.Group] {
			return order[a.Group] < order[b.Group]
		}
		if a.Group == MixOrigin {
			return slices.Index(accel.Origins, a.Value) < slices.Index(accel.Origins, b.Value)
		}
		// A kind, then its models.
		if ka, kb := kindOf(a), kindOf(b); ka != kb {
			ia, ib := slices.Index(accel.Kinds, ka), slices.Index(accel.Kinds, kb)
			if ia != ib {
				return ia < ib
			}
			return ka < kb
		}
		if a.Group != b.Group {
			return a.Group == MixKind
		}
		return a.Value < b.Value
	})
	return out
}

func kindOf(r MixRow) string {
	if r.Group == MixKind {
		return r.Value
	}
	return r.Kind
}
