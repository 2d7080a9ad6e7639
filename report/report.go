// Package report turns the engine's resource-seconds into the figures
// people read: hours, utilization, AI share with its bounds, per class, per
// group and per period, and renders them as a table, JSON or CSV.
package report

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/scmon/scmon/accel"
	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/usage"
)

// The figures' JSON types are those of the HTTP API (package api/v1), so
// that `scmon report -o json` and /api/v1/figures speak one format.
type (
	// Window is the reported interval.
	Window = apiv1.Window
	// Resource is one resource's capacity, allocation and utilization.
	Resource = apiv1.Resource
	// Accelerators adds the split by kind and by model.
	Accelerators = apiv1.Accelerators
	// Model is one accelerator model's figures.
	Model = apiv1.Model
	// Share is the AI share per basis.
	Share = apiv1.Share
	// Class is one class's allocation.
	Class = apiv1.Class
	// Figures are the figures of the window, a group or a period.
	Figures = apiv1.Figures
	// Group is one row of a grouped report.
	Group = apiv1.Group
	// Period is one bucket of a series.
	Period = apiv1.Period
	// Input describes one input read.
	Input = apiv1.Input
	// Unmapped is a generic resource the accelerator table does not know.
	Unmapped = apiv1.Unmapped
)

// Headline is the pair of figures the center publishes, on its primary basis.
type Headline struct {
	Basis       capacity.Basis `json:"basis"`
	Utilization float64        `json:"utilization"`
	AIShare     float64        `json:"ai_share"`
	AIShareUp   float64        `json:"ai_share_upper"`
	// AIOfCapacity is utilization x AI share: the AI part of the capacity.
	AIOfCapacity float64 `json:"ai_of_capacity"`
}

// Report is the whole answer of `scmon report`.
type Report struct {
	Title      string     `json:"title"`
	Window     Window     `json:"window"`
	Capacity   string     `json:"capacity_source"`
	Inputs     []Input    `json:"inputs"`
	Headline   Headline   `json:"headline"`
	Figures               // cpu, nodes, accelerator, billing, ai_share, classes
	By         []string   `json:"by,omitempty"`
	Groups     []Group    `json:"groups,omitempty"`
	Every      string     `json:"every,omitempty"`
	Series     []Period   `json:"series,omitempty"`
	Unmapped   []Unmapped `json:"unmapped_gres,omitempty"`
	Skipped    int64      `json:"skipped_lines"`
	Duplicates int64      `json:"duplicate_records"`
	Warnings   []string   `json:"warnings,omitempty"`
	NoCapacity *Class     `json:"no_capacity,omitempty"`
}

// Meta is what Build needs beside the engine's result.
type Meta struct {
	Title     string
	Rule      string
	Location  *time.Location
	Inventory *capacity.Inventory
	Inputs    []Input
	Stats     usage.Stats
	By        []usage.Key
	Every     usage.Period
	Primary   capacity.Basis
}

const hour = 3600.0

// Build assembles the report.
func Build(res *usage.Result, m Meta) *Report {
	loc := m.Location
	if loc == nil {
		loc = time.UTC
	}
	r := &Report{
		Title: m.Title,
		Window: Window{From: res.From.In(loc), To: res.To.In(loc), Rule: m.Rule, Timezone: loc.String(),
			Hours: res.To.Sub(res.From).Hours()},
		Inputs:     m.Inputs,
		Every:      string(m.Every),
		Duplicates: m.Stats.Duplicates,
	}
	if m.Inventory != nil {
		r.Capacity = m.Inventory.Source
	}
	for _, k := range m.By {
		r.By = append(r.By, string(k))
	}
	for _, in := range m.Inputs {
		for _, n := range in.Skipped {
			r.Skipped += n
		}
	}
	r.Figures = figures(&res.Figures, res.Devices, &r.Warnings, "window")
	for _, b := range res.Series {
		r.Series = append(r.Series, Period{From: b.From.In(loc), To: b.To.In(loc), Figures: figures(&b.Figures, res.Devices, &r.Warnings, b.From.In(loc).Format("2006-01-02 15:04"))})
	}
	for _, g := range res.Groups {
		keys := map[string]string{}
		for i, k := range m.By {
			keys[string(k)] = g.Values[i]
		}
		gr := Group{Keys: keys, Figures: figures(&g.Figures, res.Devices, nil, "")}
		for _, b := range g.Series {
			gr.Series = append(gr.Series, Period{From: b.From.In(loc), To: b.To.In(loc), Figures: figures(&b.Figures, res.Devices, nil, "")})
		}
		r.Groups = append(r.Groups, gr)
	}
	total := res.Allocated.Total()
	for i, d := range res.Devices {
		if i == 0 || d.Known || total.Device[i] == 0 {
			continue
		}
		r.Unmapped = append(r.Unmapped, Unmapped{GRES: d.Model, Hours: float64(total.Device[i]) / hour})
	}
	if len(r.Unmapped) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d generic resource(s) are not in the accelerator table and are not counted as accelerators: %v (add an accelerators rule to count them)", len(r.Unmapped), unmappedNames(r.Unmapped)))
	}
	if len(res.NoCapacityClusters) > 0 {
		c := class(&res.NoCapacity)
		r.NoCapacity = &c
		r.Warnings = append(r.Warnings, fmt.Sprintf("clusters %v are not in the inventory: their %.1f core-hours are counted as allocated nowhere", res.NoCapacityClusters, c.CPUHours))
	}
	if m.Stats.NoNodeList > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d allocation(s) have no usable node list: their nodes count as occupied for NNodes x time, as if no other job shared them", m.Stats.NoNodeList))
	}
	r.Headline = HeadlineFor(m.Primary, &r.Figures)
	return r
}

func unmappedNames(u []Unmapped) []string {
	out := make([]string, len(u))
	for i, x := range u {
		out[i] = x.GRES
	}
	return out
}

// HeadlineFor picks the headline pair (utilization, AI share and its upper
// bound) of f on basis; an empty basis means cores. It is the only place
// that decides which figure a basis shows: the report, the daemon's
// snapshot (and so /metrics, /api/v1/summary and the status page's table)
// and the status page's chart all call it, so that they cannot disagree.
// The nodes basis shows node utilization with the AI share of cores, since
// node-hours are not split by class.
func HeadlineFor(basis capacity.Basis, f *Figures) Headline {
	if basis == "" {
		basis = capacity.BasisCores
	}
	h := Headline{Basis: basis}
	switch basis {
	case capacity.BasisBilling:
		h.Utilization, h.AIShare, h.AIShareUp = f.Billing.Utilization, f.AIShare.Billing, f.AIShare.BillingUpper
	case capacity.BasisAccelerator:
		h.Utilization, h.AIShare, h.AIShareUp = f.Accelerator.Utilization, f.AIShare.Accelerator, f.AIShare.AcceleratorUpper
	case capacity.BasisNodes:
		h.Utilization, h.AIShare, h.AIShareUp = f.Nodes.Utilization, f.AIShare.CPU, f.AIShare.CPUUpper
	default:
		h.Utilization, h.AIShare, h.AIShareUp = f.CPU.Utilization, f.AIShare.CPU, f.AIShare.CPUUpper
	}
	h.AIOfCapacity = h.Utilization * h.AIShare
	return h
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func resource(capSec, allocSec float64, hasCap bool, name, where string, warn *[]string) Resource {
	r := Resource{AllocatedHours: allocSec / hour}
	if !hasCap {
		return r
	}
	r.CapacityHours = capSec / hour
	r.Utilization = ratio(allocSec, capSec)
	if allocSec > capSec && capSec >= 0 && allocSec > 0 {
		r.OversubscribedHours = (allocSec - capSec) / hour
		r.Utilization = math.Min(r.Utilization, 1)
		if warn != nil {
			*warn = append(*warn, fmt.Sprintf("%s: %s allocation exceeds capacity by %.1f h (oversubscribed or capacity too small); utilization shown as 100%%", where, name, r.OversubscribedHours))
		}
	}
	return r
}

// nodes states node figures: allocated is the sum of NNodes x time charged
// to jobs, utilization the occupancy (a node held by several jobs at once
// counts once) over the capacity. Without occupancy (a group by partition,
// account or class, which own no node) there is no node utilization.
func nodes(f *usage.Figures, capT *capacity.Totals, allocSec int64, hostCap bool, where string, warn *[]string) Resource {
	if !f.Occupancy {
		return Resource{AllocatedHours: float64(allocSec) / hour}
	}
	r := resource(float64(capT.NodeSeconds), float64(f.OccupiedNodeSeconds), hostCap, "node occupancy", where, warn)
	occ := r.AllocatedHours
	r.OccupiedHours = &occ
	r.AllocatedHours = float64(allocSec) / hour
	return r
}

func class(a *usage.Amount) Class {
	return Class{Jobs: a.Jobs, CPUHours: float64(a.CoreSeconds) / hour, AcceleratorHours: float64(a.AccelSeconds) / hour,
		BillingHours: a.BillingSeconds / hour, NodeHours: float64(a.NodeSeconds) / hour}
}

func figures(f *usage.Figures, devs []usage.Device, warn *[]string, where string) Figures {
	total := f.Allocated.Total()
	ai := f.Allocated.AI()
	unk := &f.Allocated[classify.Unknown]
	out := Figures{Classes: map[string]Class{}, HasCapacity: f.Capacity != nil}
	hostCap := f.Capacity != nil && f.CoreCapacity
	var capT = f.Capacity
	if capT == nil {
		capT = &capacity.Totals{}
	}
	out.CPU = resource(float64(capT.CoreSeconds), float64(total.CoreSeconds), hostCap, "cpu", where, warn)
	out.Nodes = nodes(f, capT, total.NodeSeconds, hostCap, where, warn)
	out.Billing = resource(capT.BillingSeconds, total.BillingSeconds, hostCap && capT.BillingSeconds > 0, "billing", where, warn)
	out.Accelerator.Resource = resource(float64(capT.AccelSeconds), float64(total.AccelSeconds), f.Capacity != nil, "accelerator", where, warn)

	// By kind and model: allocation from the store's devices, capacity
	// from the inventory's.
	kindAlloc, kindCap := map[string]float64{}, map[string]float64{}
	type mk struct{ kind, vendor, model string }
	modelAlloc, modelCap := map[mk]float64{}, map[mk]float64{}
	for i, d := range devs {
		if i == 0 || !d.Known || i >= len(total.Device) {
			continue
		}
		kindAlloc[d.Kind] += float64(total.Device[i])
		modelAlloc[mk{d.Kind, d.Vendor, modelName(d.Device)}] += float64(total.Device[i])
	}
	for d, s := range capT.ByDevice {
		kindCap[d.Kind] += float64(s)
		modelCap[mk{d.Kind, d.Vendor, modelName(d)}] += float64(s)
	}
	out.Accelerator.ByKind = map[string]Resource{}
	for _, k := range accel.Kinds {
		if f.Capacity != nil || kindAlloc[k] > 0 {
			out.Accelerator.ByKind[k] = resource(kindCap[k], kindAlloc[k], f.Capacity != nil, k, where, warn)
		}
	}
	keys := map[mk]bool{}
	for k, v := range modelAlloc {
		if v > 0 {
			keys[k] = true
		}
	}
	for k := range modelCap {
		keys[k] = true
	}
	if len(keys) > 0 {
		out.Accelerator.ByModel = map[string]Model{}
		sorted := make([]mk, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].model < sorted[j].model })
		for _, k := range sorted {
			out.Accelerator.ByModel[k.model] = Model{Kind: k.kind, Vendor: k.vendor, Resource: resource(modelCap[k], modelAlloc[k], f.Capacity != nil, k.model, where, warn)}
		}
	}
	out.AIShare = Share{
		CPU:              ratio(float64(ai.CoreSeconds), float64(total.CoreSeconds)),
		Accelerator:      ratio(float64(ai.AccelSeconds), float64(total.AccelSeconds)),
		Billing:          ratio(ai.BillingSeconds, total.BillingSeconds),
		CPUUpper:         ratio(float64(ai.CoreSeconds+unk.CoreSeconds), float64(total.CoreSeconds)),
		AcceleratorUpper: ratio(float64(ai.AccelSeconds+unk.AccelSeconds), float64(total.AccelSeconds)),
		BillingUpper:     ratio(ai.BillingSeconds+unk.BillingSeconds, total.BillingSeconds),
	}
	for _, c := range classify.Classes {
		out.Classes[c.String()] = class(&f.Allocated[c])
	}
	return out
}

func modelName(d accel.Device) string {
	if d.Model == "" {
		return d.Kind + " (unspecified)"
	}
	return d.Model
}
