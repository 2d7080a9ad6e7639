// Package snapshot holds the figures the daemon publishes: one immutable
// value, rebuilt after each poll and swapped atomically, that a Prometheus
// scrape, the status page and the JSON API only read. No scrape ever runs a
// command or parses a file.
package snapshot

import "time"

// Resources of the window gauges.
const (
	ResourceCPU         = "cpu"
	ResourceAccelerator = "accelerator"
	ResourceBilling     = "billing"
	// ResourceNodes is node occupancy: node-hours held by at least one
	// job over node capacity (a node shared by several jobs counts once).
	// It has no AI share.
	ResourceNodes = "nodes"
)

// Resources lists the window-gauge resources, a closed label set.
var Resources = []string{ResourceCPU, ResourceAccelerator, ResourceBilling, ResourceNodes}

// Capacity states; they sum to the total capacity.
const (
	StateAllocated = "allocated"
	StateIdle      = "idle"
	StateDown      = "down"
	StateDrained   = "drained"
	StatePlanned   = "planned"
)

// States lists the capacity states, a closed label set.
var States = []string{StateAllocated, StateIdle, StateDown, StateDrained, StatePlanned}

// Snapshot is everything published at one instant.
type Snapshot struct {
	// Time is when the snapshot was built.
	Time time.Time
	// Complete is the instant up to which every source had delivered its
	// records: the counters hold the resource-seconds up to it.
	Complete time.Time
	// Clusters and Partitions name the closed label sets: every
	// (cluster, partition) pair the inventory or the records know.
	Clusters   []string
	Partitions []ClusterPartition
	// Devices lists every accelerator (kind, model) the inventory or the
	// records know, per cluster and partition, so that zeros are emitted.
	Devices []Device

	// Allocated are the cumulative resource-seconds held by jobs, from the
	// start of history up to each cluster's Complete time: the counters.
	Allocated []Allocated
	// Occupied are the cumulative node-seconds during which at least one
	// job held each node (a node shared by several jobs counts once), per
	// cluster, over the same span as Allocated: the occupancy counters.
	Occupied []Occupied
	// Capacity are cumulative capacity-seconds by state.
	Capacity []Capacity
	// Idle and Demand are the cumulative idle split and pending demand.
	Idle   []IdleSeconds
	Demand []DemandSeconds
	// Origins give the origin of every accelerator kind and model, and
	// Friction counts how AI jobs on them ended.
	Origins  []DeviceOrigin
	Friction []Friction
	// Windows are utilization and AI share over trailing windows.
	Windows []Window
	// Running and Pending describe the present.
	Running []Current
	Pending []Current
	// Nodes counts nodes and cores by current state.
	Nodes []NodeState

	// Sources is the health of each source.
	Sources []SourceHealth
	// RuleHits counts, per rule id, the records each rule fired on.
	RuleHits map[string]uint64
	// Config is the state of the configuration.
	Config ConfigState
	// Quarantined counts stored records the engine could not load (the
	// daemon started without them; each is logged once with its key).
	Quarantined float64
	// StoreLockLost says why the daemon does not hold its job store's
	// writer lock ("" while it does, and for figures not made by a daemon
	// on a store): it writes no record then.
	StoreLockLost string
	// Headline is what the status page shows first.
	Headline []Headline
}

// ClusterPartition is a (cluster, partition) pair.
type ClusterPartition struct {
	Cluster, Partition string
}

// Device is an accelerator kind and model available or used in a partition.
type Device struct {
	Cluster, Partition, Kind, Model string
}

// Allocated holds counter values for one label set. Account is empty
// unless the operator enabled the account label.
type Allocated struct {
	Cluster, Partition, Account, Class string
	CoreSeconds                        float64
	NodeSeconds                        float64
	BillingSeconds                     float64
	// Accel splits accelerator-seconds by device.
	Accel []AccelSeconds
}

// Occupied holds the occupied node-seconds of one cluster. A node is not
// owned by a partition, class or account, so occupancy has no such label.
type Occupied struct {
	Cluster     string
	NodeSeconds float64
}

// AccelSeconds are accelerator-seconds of one kind and model.
type AccelSeconds struct {
	Kind, Model string
	Seconds     float64
}

// Capacity holds capacity counter values of one partition and state. A node
// in several partitions counts under its first partition only, so that sums
// over partitions equal the cluster's capacity.
type Capacity struct {
	Cluster, Partition, State string
	CoreSeconds               float64
	// BillingSeconds is the capacity in billing units x seconds, with the
	// partition's billing weights.
	BillingSeconds float64
	Accel          []AccelSeconds
}

// Window is a utilization and AI-share figure over a trailing window.
type Window struct {
	Cluster, Resource, Window string
	Utilization               float64
	AIShare                   float64
	AIShareUpper              float64
}

// Current is a count of jobs and the resources they hold or request.
type Current struct {
	Cluster, Partition, Class string
	Jobs                      float64
	Cores                     float64
	Accel                     []AccelSeconds // Seconds holds a count here
}

// NodeState counts nodes and cores in one state now.
type NodeState struct {
	Cluster, Partition, State string
	Nodes, Cores              float64
	Accel                     []AccelSeconds // Seconds holds a count here
}

// SourceHealth is the health of one source.
type SourceHealth struct {
	Name, Kind string
	Up         bool
	// LastSuccess is the end of the last successful poll; LastRecord the
	// newest time any record of the source names (submit, start or end).
	LastSuccess, LastRecord time.Time
	// Records counts records by result: stored, duplicate, skipped_<reason>.
	Records map[string]float64
	// PollSeconds sums poll durations and PollCount counts polls; Failures
	// counts failed polls.
	PollSeconds         float64
	PollCount, Failures float64
	LastError           string
	Lag                 time.Duration
}

// ConfigState is the state of the configuration.
type ConfigState struct {
	LastReloadSuccess bool
	LastReload        time.Time
	Hash              string
}

// Headline is the pair of published figures of one cluster and window.
type Headline struct {
	Cluster, Window, Basis string
	Utilization, AIShare   float64
}
