package scmon

import "time"

// The types below decode the parts of scmon's /api/v1 answers that the
// plugin reads. They are the plugin's own, not the daemon's: the JSON API is
// the contract between the two, so a field the daemon adds is ignored here
// and a field it renames shows up in the tests against a real `scmon serve`.

// Report is the answer of /api/v1/figures: the figures of the whole range,
// optionally split into calendar periods (Series) and groups (Groups, each
// with its own Series).
type Report struct {
	Window   Window   `json:"window"`
	Headline Headline `json:"headline"`
	Figures
	// By names the grouping keys in the order of the request.
	By     []string `json:"by"`
	Groups []Group  `json:"groups"`
	// Every is the period of the series (hour, day, week, month); empty
	// when the report has totals only.
	Every  string   `json:"every"`
	Series []Period `json:"series"`
	// Warnings are scmon's remarks on the figures (unmapped generic
	// resources, allocation above capacity, clusters without inventory).
	Warnings []string `json:"warnings"`
}

// Window is the range a report covers, in scmon's reporting time zone.
type Window struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Timezone string    `json:"timezone"`
	Hours    float64   `json:"hours"`
}

// Headline is the pair of figures a center publishes, on its primary basis.
type Headline struct {
	// Basis is the resource of the headline: cpu, nodes, accelerator or
	// billing.
	Basis       string  `json:"basis"`
	Utilization float64 `json:"utilization"`
	AIShare     float64 `json:"ai_share"`
	AIShareUp   float64 `json:"ai_share_upper"`
}

// Figures are the figures of a range, a group or a period.
type Figures struct {
	CPU         Resource         `json:"cpu"`
	Nodes       Resource         `json:"nodes"`
	Accelerator Resource         `json:"accelerator"`
	Billing     Resource         `json:"billing"`
	AIShare     Share            `json:"ai_share"`
	Classes     map[string]Class `json:"classes"`
	// HasCapacity is false where capacity has no meaning (a group by
	// account or class): capacity and utilization are then zero and must
	// not be read as figures.
	HasCapacity bool `json:"has_capacity"`
}

// Resource is one resource's capacity, allocation and utilization. Hours
// are resource-hours (core-hours, accelerator-hours, billing-hours).
type Resource struct {
	CapacityHours  float64 `json:"capacity_hours"`
	AllocatedHours float64 `json:"allocated_hours"`
	// Utilization is allocated / capacity in 0..1.
	Utilization float64 `json:"utilization"`
}

// Share is the AI share per basis in 0..1: AI jobs over all allocation,
// with unknown jobs counted out and, for the upper bound, counted in.
type Share struct {
	CPU              float64 `json:"cpu"`
	Accelerator      float64 `json:"accelerator"`
	Billing          float64 `json:"billing"`
	CPUUpper         float64 `json:"cpu_upper"`
	AcceleratorUpper float64 `json:"accelerator_upper"`
	BillingUpper     float64 `json:"billing_upper"`
}

// Class is one class's allocation; only the job count is read.
type Class struct {
	Jobs int64 `json:"jobs"`
}

// Group is one group of a grouped report.
type Group struct {
	// Keys maps each grouping key to this group's value.
	Keys map[string]string `json:"keys"`
	Figures
	Series []Period `json:"series"`
}

// Period is one bucket [From, To) of a series; the first and last buckets
// of a range are cut to the range.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Figures
}

// JobsPage is the answer of /api/v1/jobs.
type JobsPage struct {
	Limit  int  `json:"limit"`
	Offset int  `json:"offset"`
	More   bool `json:"more"`
	// Jobs are ordered by start time.
	Jobs []Job `json:"jobs"`
}

// Job is one run of a job with the class scmon gave it.
type Job struct {
	JobID     string `json:"job_id"`
	Cluster   string `json:"cluster"`
	Partition string `json:"partition"`
	Account   string `json:"account"`
	User      string `json:"user"`
	Name      string `json:"name"`
	State     string `json:"state"`
	// Start is zero for a run that never started, End for one still
	// running.
	Start        time.Time     `json:"start"`
	End          time.Time     `json:"end"`
	Nodes        int64         `json:"nodes"`
	Cores        int64         `json:"cores"`
	Accelerators []Accelerator `json:"accelerators"`
	// Class is ai_training, ai_inference, other or unknown; Rules are the
	// ids of the classifier rules that fired.
	Class string   `json:"class"`
	Rules []string `json:"rules"`
}

// Accelerator is a count of one generic resource held by a run.
type Accelerator struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Count int64  `json:"count"`
}

// Summary is the answer of /api/v1/summary: the present, from the snapshot
// scmon published last.
type Summary struct {
	Time     time.Time        `json:"time"`
	Ready    bool             `json:"ready"`
	Reason   string           `json:"reason"`
	Headline []HeadlineFigure `json:"headline"`
	Current  []ClusterNow     `json:"current"`
	Sources  []SourceStatus   `json:"sources"`
}

// HeadlineFigure is one cluster's headline over one trailing window.
type HeadlineFigure struct {
	Cluster     string  `json:"cluster"`
	Window      string  `json:"window"`
	Basis       string  `json:"basis"`
	Utilization float64 `json:"utilization"`
	AIShare     float64 `json:"ai_share"`
}

// ClusterNow is what runs and waits on one cluster now; only its name is
// read.
type ClusterNow struct {
	Cluster string `json:"cluster"`
}

// SourceStatus is the health of one of scmon's sources.
type SourceStatus struct {
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Up         bool      `json:"up"`
	LastRecord time.Time `json:"last_record"`
	LagSeconds float64   `json:"lag_seconds"`
	LastError  string    `json:"last_error"`
}
