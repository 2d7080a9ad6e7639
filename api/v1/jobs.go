package v1

import "time"

// JobsPage is the answer of /api/v1/jobs: one page of job rows, ordered by
// start time.
type JobsPage struct {
	// Limit and Offset are those of the request (Limit defaulted).
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
	// More reports that rows follow this page: ask again with
	// offset = Offset + len(Jobs).
	More bool  `json:"more"`
	Jobs []Job `json:"jobs"`
}

// Job is one run of a job: what the scheduler recorded, and the class scmon
// gave it with the rules that decided.
type Job struct {
	// JobID is the id as the scheduler prints it ("123", "123_7").
	JobID     string `json:"job_id"`
	Cluster   string `json:"cluster"`
	Partition string `json:"partition"`
	Account   string `json:"account"`
	User      string `json:"user"`
	Name      string `json:"name"`
	// State is the base state in the scheduler's spelling (COMPLETED,
	// RUNNING, TIMEOUT, ...).
	State string `json:"state"`
	// Start is absent for a run that never started, End for one still
	// running.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	Nodes int64     `json:"nodes"`
	Cores int64     `json:"cores"`
	// Accelerators lists the generic resources held, one entry per name
	// and type; empty (never absent) when the run held none.
	Accelerators []Accelerator `json:"accelerators"`
	// Class is ai_training, ai_inference, other or unknown.
	Class string `json:"class"`
	// Rules are the ids of the classifier rules that fired; empty (never
	// absent) when none did.
	Rules []string `json:"rules"`
}

// Accelerator is a count of one generic resource held by a run.
type Accelerator struct {
	// Name is the GRES name (gpu, npu, dcu, ...), Type its optional type
	// (a100, 910b3).
	Name  string `json:"name"`
	Type  string `json:"type,omitempty"`
	Count int64  `json:"count"`
}
