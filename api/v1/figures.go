package v1

import "time"

// Report is the answer of /api/v1/figures, and the document
// `scmon report -o json` prints: the figures of the whole range (the
// embedded Figures), optionally split into calendar periods (Series) and
// groups (Groups, each with its own Series).
type Report struct {
	// Title names the report (`scmon report` only).
	Title  string `json:"title"`
	Window Window `json:"window"`
	// Capacity says where the capacity came from: the inventory file or
	// the daemon's capacity ledger.
	Capacity string `json:"capacity_source"`
	// Inputs describe the inputs read (`scmon report` only).
	Inputs   []Input  `json:"inputs"`
	Headline Headline `json:"headline"`
	Figures           // cpu, nodes, accelerator, billing, ai_share, classes
	// By names the grouping keys in the order of the request.
	By     []string `json:"by,omitempty"`
	Groups []Group  `json:"groups,omitempty"`
	// Every is the period of the series (hour, day, week, month); empty
	// when the report has totals only.
	Every  string   `json:"every,omitempty"`
	Series []Period `json:"series,omitempty"`
	// Unmapped lists generic resources the accelerator table does not
	// know: their hours are in no accelerator figure.
	Unmapped []Unmapped `json:"unmapped_gres,omitempty"`
	// Skipped counts input lines the readers refused, Duplicates records
	// read more than once (`scmon report` only).
	Skipped    int64 `json:"skipped_lines"`
	Duplicates int64 `json:"duplicate_records"`
	// Warnings are remarks on the figures (unmapped generic resources,
	// allocation above capacity, clusters without inventory).
	Warnings []string `json:"warnings,omitempty"`
	// NoCapacity is the allocation of clusters without capacity, which no
	// utilization includes.
	NoCapacity *Class `json:"no_capacity,omitempty"`
}

// Window is the reported interval, in the reporting time zone.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Rule says how the window was chosen (`scmon report` only).
	Rule     string  `json:"rule"`
	Timezone string  `json:"timezone"`
	Hours    float64 `json:"hours"`
}

// Headline is the pair of figures a center publishes, on its primary basis.
type Headline struct {
	// Basis is the resource of the headline: cpu, nodes, accelerator or
	// billing.
	Basis       string  `json:"basis"`
	Utilization float64 `json:"utilization"`
	AIShare     float64 `json:"ai_share"`
	// AIShareUp is the AI share if every unknown job were AI.
	AIShareUp float64 `json:"ai_share_upper"`
	// AIOfCapacity is utilization x AI share: the AI part of the capacity.
	AIOfCapacity float64 `json:"ai_of_capacity"`
}

// Figures are the figures of the range, a group or a period.
type Figures struct {
	CPU         Resource     `json:"cpu"`
	Nodes       Resource     `json:"nodes"`
	Accelerator Accelerators `json:"accelerator"`
	Billing     Resource     `json:"billing"`
	AIShare     Share        `json:"ai_share"`
	// Classes is the allocation per class name (ai_training,
	// ai_inference, other, unknown).
	Classes map[string]Class `json:"classes"`
	// HasCapacity is false where capacity has no meaning (a group by
	// account or class): capacity and utilization are then zero and must
	// not be read as figures.
	HasCapacity bool `json:"has_capacity"`
}

// Resource is one resource's capacity, allocation and utilization, in
// resource-hours.
type Resource struct {
	CapacityHours  float64 `json:"capacity_hours"`
	AllocatedHours float64 `json:"allocated_hours"`
	// Utilization is allocated / capacity in 0..1, clamped at 1 when the
	// allocation exceeds the capacity (OversubscribedHours says by how
	// much).
	Utilization         float64 `json:"utilization"`
	OversubscribedHours float64 `json:"oversubscribed_hours,omitempty"`
	// OccupiedHours is set for nodes only: the node-hours during which at
	// least one allocation held the node (a node shared by several jobs
	// counts once). Node utilization is occupied / capacity, while
	// AllocatedHours stays the node-hours charged to jobs (nodes x time),
	// which sharing can push past the capacity.
	OccupiedHours *float64 `json:"occupied_hours,omitempty"`
}

// Accelerators are the accelerators' figures, with the split by kind (gpu,
// npu, dcu, ...) and by model.
type Accelerators struct {
	Resource
	ByKind  map[string]Resource `json:"by_kind"`
	ByModel map[string]Model    `json:"by_model,omitempty"`
}

// Model is one accelerator model's figures.
type Model struct {
	Kind   string `json:"kind"`
	Vendor string `json:"vendor,omitempty"`
	Resource
}

// Share is the AI share per basis in 0..1: AI allocation over all
// allocation, with unknown jobs counted out (the share) and counted in (the
// upper bound).
type Share struct {
	CPU              float64 `json:"cpu"`
	Accelerator      float64 `json:"accelerator"`
	Billing          float64 `json:"billing"`
	CPUUpper         float64 `json:"cpu_upper"`
	AcceleratorUpper float64 `json:"accelerator_upper"`
	BillingUpper     float64 `json:"billing_upper"`
}

// Class is one class's allocation.
type Class struct {
	Jobs             int64   `json:"jobs"`
	CPUHours         float64 `json:"cpu_hours"`
	AcceleratorHours float64 `json:"accelerator_hours"`
	BillingHours     float64 `json:"billing_hours"`
	NodeHours        float64 `json:"node_hours"`
}

// Group is one group of a grouped report.
type Group struct {
	// Keys maps each grouping key to this group's value.
	Keys map[string]string `json:"keys"`
	Figures
	Series []Period `json:"series,omitempty"`
}

// Period is one bucket [From, To) of a series; the first and last buckets
// of a range are cut to the range.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Figures
}

// Input describes one input `scmon report` read.
type Input struct {
	Input   string           `json:"input"`
	Records int64            `json:"records"`
	Skipped map[string]int64 `json:"skipped"`
	Notes   map[string]int   `json:"notes,omitempty"`
	Errors  []string         `json:"errors,omitempty"`
}

// Unmapped is a generic resource the accelerator table does not know, with
// the hours it was held.
type Unmapped struct {
	GRES  string  `json:"gres"`
	Hours float64 `json:"hours"`
}
