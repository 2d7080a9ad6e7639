package v1

import "time"

// Summary is the answer of /api/v1/summary: the present, from the snapshot
// the daemon published last.
type Summary struct {
	// Time is when the snapshot was built.
	Time time.Time `json:"time"`
	// Ready and Reason are the daemon's readiness: Reason says what it
	// waits for when it is not ready.
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"`
	// Headline is the pair of published figures per cluster and trailing
	// window, on each cluster's primary basis.
	Headline []HeadlineFigure `json:"headline"`
	// Windows are utilization and AI share per cluster, resource and
	// trailing window.
	Windows []WindowFigure `json:"windows"`
	// Current counts running and pending jobs per cluster.
	Current []ClusterNow `json:"current"`
	// Sources is the health of each source.
	Sources []SourceStatus `json:"sources"`
	// Config is the state of the configuration.
	Config ConfigStatus `json:"config"`
}

// HeadlineFigure is one cluster's headline over one trailing window (1h,
// 24h, 7d, 30d). Ratios are in 0..1.
type HeadlineFigure struct {
	Cluster     string  `json:"cluster"`
	Window      string  `json:"window"`
	Basis       string  `json:"basis"`
	Utilization float64 `json:"utilization"`
	AIShare     float64 `json:"ai_share"`
}

// WindowFigure is utilization and AI share of one resource over one
// trailing window. Ratios are in 0..1; AIShareUpper counts unknown jobs as
// AI.
type WindowFigure struct {
	Cluster      string  `json:"cluster"`
	Resource     string  `json:"resource"`
	Window       string  `json:"window"`
	Utilization  float64 `json:"utilization"`
	AIShare      float64 `json:"ai_share"`
	AIShareUpper float64 `json:"ai_share_upper"`
}

// ClusterNow is what runs and waits on one cluster now, summed over its
// partitions and classes. Accelerators count devices of every kind.
type ClusterNow struct {
	Cluster             string  `json:"cluster"`
	RunningJobs         float64 `json:"running_jobs"`
	RunningCores        float64 `json:"running_cores"`
	RunningAccelerators float64 `json:"running_accelerators"`
	PendingJobs         float64 `json:"pending_jobs"`
	PendingCores        float64 `json:"pending_cores"`
	PendingAccelerators float64 `json:"pending_accelerators"`
}

// SourceStatus is the health of one source.
type SourceStatus struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Up   bool   `json:"up"`
	// LastSuccess is the end of the last successful poll, LastRecord the
	// newest time a record of the source names; absent when never.
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastRecord  time.Time `json:"last_record,omitzero"`
	// LagSeconds is how far the source's data trails the present.
	LagSeconds float64 `json:"lag_seconds"`
	// Records counts records by result (stored, duplicate,
	// skipped_<reason>); Skipped sums the skipped_ results.
	Records  map[string]float64 `json:"records"`
	Skipped  float64            `json:"skipped"`
	Polls    float64            `json:"polls"`
	Failures float64            `json:"failures"`
	// PollSecondsAverage is the mean duration of a poll.
	PollSecondsAverage float64 `json:"poll_seconds_average"`
	LastError          string  `json:"last_error,omitempty"`
}

// ConfigStatus is the state of the daemon's configuration.
type ConfigStatus struct {
	// LastReloadSuccess is false when the last reload was refused (the
	// running configuration was kept).
	LastReloadSuccess bool      `json:"last_reload_success"`
	LastReload        time.Time `json:"last_reload,omitzero"`
	// Hash identifies the configuration in force.
	Hash string `json:"hash,omitempty"`
}

// RuleHits is the answer of /api/v1/rules/hits.
type RuleHits struct {
	// Time is when the snapshot was built.
	Time time.Time `json:"time"`
	// Rules lists every rule that fired, most hits first (ties by id).
	Rules []RuleHit `json:"rules"`
}

// RuleHit is how many stored records a classifier rule fired on.
type RuleHit struct {
	Rule string `json:"rule"`
	Hits uint64 `json:"hits"`
}

// Error is the body of every answer other than 200. For a 400 the text
// names the parameter at fault.
type Error struct {
	Error string `json:"error"`
}
