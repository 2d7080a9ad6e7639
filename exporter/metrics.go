package exporter

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// Label names. They are the only labels scmon emits: bounded sets that an
// operator can enumerate, never a job id or a user.
const (
	labelCluster   = "cluster"
	labelPartition = "partition"
	labelAccount   = "account"
	labelClass     = "class"
	labelKind      = "kind"
	labelModel     = "model"
	labelState     = "state"
	labelResource  = "resource"
	labelWindow    = "window"
	labelSource    = "source"
	labelResult    = "result"
	labelRule      = "rule"
	labelVersion   = "version"
	labelRevision  = "revision"
	labelGoVersion = "goversion"
	labelReason    = "reason"
	labelOrigin    = "origin"
	labelOutcome   = "outcome"
)

// Metric indexes: one per family, in the order of the families table.
const (
	mAllocCore = iota
	mAllocAccel
	mAllocBilling
	mAllocNode
	mCapCore
	mCapAccel
	mCapBilling
	mUtilization
	mAIShare
	mAIShareUpper
	mRunJobs
	mRunCores
	mRunAccel
	mPendJobs
	mPendCores
	mPendAccel
	mNodes
	mCores
	mAccels
	mSourceUp
	mSourceLastSuccess
	mSourceLastRecord
	mSourceLag
	mRecords
	mPollDuration
	mPollFailures
	mRuleHits
	mConfigReloadOK
	mConfigReloadTime
	mSnapshotTime
	mBuildInfo
	mOccupiedNode
	mQuarantined
	mStoreWritable
	mIdleCore
	mIdleAccel
	mDemandCore
	mDemandAccel
	mComplete
	mAIJobsEnded
	mAIJobRun
	numFamilies
)

// kind is the Prometheus type of a family.
type kind uint8

const (
	counter kind = iota
	gauge
	summary
)

// family is the contract of one metric family: its name, HELP text, type
// and labels. The families table is the single place that defines what the
// exporter emits; Describe, Collect and MetricNames all derive from it.
type family struct {
	name   string
	help   string
	kind   kind
	labels []string
	// account marks the families that take the account label, inserted
	// after partition, when Options.AccountLabel is set.
	account bool
}

var (
	partitionClass       = []string{labelCluster, labelPartition, labelClass}
	partitionDeviceClass = []string{labelCluster, labelPartition, labelKind, labelModel, labelClass}
	partitionState       = []string{labelCluster, labelPartition, labelState}
	partitionDeviceState = []string{labelCluster, labelPartition, labelKind, labelModel, labelState}
	// The accelerator-second counters carry the device's origin (domestic,
	// imported, unknown): a function of the device, so it adds no series,
	// and a planner can sum by it without a join.
	partitionOriginClass = []string{labelCluster, labelPartition, labelKind, labelModel, labelOrigin, labelClass}
	partitionOriginState = []string{labelCluster, labelPartition, labelKind, labelModel, labelOrigin, labelState}
	deviceOutcome        = []string{labelCluster, labelKind, labelModel, labelOrigin, labelClass, labelOutcome}
	clusterWindow        = []string{labelCluster, labelResource, labelWindow}
	bySource             = []string{labelSource}
)

var families = [numFamilies]family{
	mAllocCore: {
		name: "scmon_allocated_core_seconds_total", kind: counter, labels: partitionClass, account: true,
		help: "Core-seconds (cores x seconds) allocated to jobs since the start of the job history, attributed to the time the cores were held; increase() over a window gives that window's core-seconds.",
	},
	mAllocAccel: {
		name: "scmon_allocated_accelerator_seconds_total", kind: counter, labels: partitionOriginClass, account: true,
		help: "Accelerator-seconds (devices x seconds) allocated to jobs since the start of the job history, by accelerator kind, model and origin (domestic, imported, unknown), attributed to the time the devices were held.",
	},
	mAllocBilling: {
		name: "scmon_allocated_billing_seconds_total", kind: counter, labels: partitionClass, account: true,
		help: "Billing-seconds (the scheduler's billing weight x seconds) allocated to jobs since the start of the job history, attributed to the time the resources were held.",
	},
	mAllocNode: {
		name: "scmon_allocated_node_seconds_total", kind: counter, labels: partitionClass, account: true,
		help: "Node-seconds (nodes x seconds) allocated to jobs since the start of the job history, attributed to the time the nodes were held.",
	},
	mCapCore: {
		name: "scmon_capacity_core_seconds_total", kind: counter, labels: partitionState,
		help: "Core-seconds (cores x seconds) of capacity since the start of the job history, by node state; the states of a partition sum to its total capacity, and a node shared by several partitions counts in its first partition only.",
	},
	mCapAccel: {
		name: "scmon_capacity_accelerator_seconds_total", kind: counter, labels: partitionOriginState,
		help: "Accelerator-seconds (devices x seconds) of capacity since the start of the job history, by accelerator kind, model and origin (domestic, imported, unknown) and node state; the states sum to the total capacity.",
	},
	mCapBilling: {
		name: "scmon_capacity_billing_seconds_total", kind: counter, labels: partitionState,
		help: "Billing-seconds (billing units x seconds, with the partition's billing weights) of capacity since the start of the job history, by node state; the states sum to the total, so billing utilization aggregates like the core and accelerator counters.",
	},
	mUtilization: {
		name: "scmon_utilization_ratio", kind: gauge, labels: clusterWindow,
		help: "Allocated over available resource in the trailing window, a ratio from 0 to 1 (NaN when the figure is undefined); for resource nodes, the node-hours held by at least one job over node capacity (a shared node counts once); a convenience: the _seconds_total counters are the source of truth.",
	},
	mAIShare: {
		name: "scmon_ai_share_ratio", kind: gauge, labels: clusterWindow,
		help: "Share of the allocated resource held by AI jobs (ai_training and ai_inference) in the trailing window, a ratio from 0 to 1, counting jobs of unknown class as not AI (NaN when undefined).",
	},
	mAIShareUpper: {
		name: "scmon_ai_share_upper_ratio", kind: gauge, labels: clusterWindow,
		help: "Upper bound of the AI share in the trailing window, a ratio from 0 to 1, counting jobs of unknown class as AI (NaN when undefined).",
	},
	mRunJobs: {
		name: "scmon_running_jobs", kind: gauge, labels: partitionClass,
		help: "Jobs running now (a count).",
	},
	mRunCores: {
		name: "scmon_running_cores", kind: gauge, labels: partitionClass,
		help: "Cores allocated to running jobs now (a count).",
	},
	mRunAccel: {
		name: "scmon_running_accelerators", kind: gauge, labels: partitionDeviceClass,
		help: "Accelerators allocated to running jobs now, by kind and model (a count).",
	},
	mPendJobs: {
		name: "scmon_pending_jobs", kind: gauge, labels: partitionClass,
		help: "Jobs waiting to start now (a count): the demand.",
	},
	mPendCores: {
		name: "scmon_pending_cores", kind: gauge, labels: partitionClass,
		help: "Cores requested by jobs waiting to start now (a count): the demand.",
	},
	mPendAccel: {
		name: "scmon_pending_accelerators", kind: gauge, labels: partitionDeviceClass,
		help: "Accelerators requested by jobs waiting to start now, by kind and model (a count): the demand.",
	},
	mNodes: {
		name: "scmon_nodes", kind: gauge, labels: partitionState,
		help: "Nodes by current state (a count); the states sum to the partition's nodes.",
	},
	mCores: {
		name: "scmon_cores", kind: gauge, labels: partitionState,
		help: "Cores by current node state (a count); the states sum to the partition's cores.",
	},
	mAccels: {
		name: "scmon_accelerators", kind: gauge, labels: partitionDeviceState,
		help: "Accelerators by kind, model and current node state (a count); the states sum to the partition's accelerators.",
	},
	mSourceUp: {
		name: "scmon_source_up", kind: gauge, labels: bySource,
		help: "Whether the last poll of the source succeeded (1) or failed (0).",
	},
	mSourceLastSuccess: {
		name: "scmon_source_last_success_timestamp_seconds", kind: gauge, labels: bySource,
		help: "Unix time in seconds of the end of the source's last successful poll (0 if it never succeeded).",
	},
	mSourceLastRecord: {
		name: "scmon_source_last_record_timestamp_seconds", kind: gauge, labels: bySource,
		help: "Unix time in seconds of the newest submit, start or end time named by any record of the source (0 if none).",
	},
	mSourceLag: {
		name: "scmon_source_lag_seconds", kind: gauge, labels: bySource,
		help: "How far the source trails the present in seconds: the snapshot time minus the time up to which the source has delivered every record.",
	},
	mRecords: {
		name: "scmon_records_total", kind: counter, labels: []string{labelSource, labelResult},
		help: "Records read from the source, by result: stored, duplicate (already stored), or skipped_<reason> (the input line was rejected).",
	},
	mPollDuration: {
		name: "scmon_source_poll_duration_seconds", kind: summary, labels: bySource,
		help: "Duration of the source's polls in seconds.",
	},
	mPollFailures: {
		name: "scmon_source_poll_failures_total", kind: counter, labels: bySource,
		help: "Polls of the source that failed (a count).",
	},
	mRuleHits: {
		name: "scmon_classifier_rule_hits_total", kind: counter, labels: []string{labelRule},
		help: "Job records each classifier rule fired on (a count).",
	},
	mConfigReloadOK: {
		name: "scmon_config_last_reload_successful", kind: gauge,
		help: "Whether the last configuration load or reload succeeded (1) or was refused (0).",
	},
	mConfigReloadTime: {
		name: "scmon_config_last_reload_success_timestamp_seconds", kind: gauge,
		help: "Unix time in seconds of the last successful configuration load or reload.",
	},
	mSnapshotTime: {
		name: "scmon_snapshot_timestamp_seconds", kind: gauge,
		help: "Unix time in seconds at which the published figures were built.",
	},
	mComplete: {
		name: "scmon_complete_timestamp_seconds", kind: gauge,
		help: "Unix time in seconds up to which every source had delivered its records when the figures were built: the counters hold everything before it and nothing after. It never moves back.",
	},
	mOccupiedNode: {
		name: "scmon_occupied_node_seconds_total", kind: counter, labels: []string{labelCluster},
		help: "Node-seconds during which at least one job held the node, since the start of the job history: per node the union of the jobs' intervals, so a node shared by several jobs counts once (jobs without a node list count nodes x seconds). Over node capacity it is the node utilization; scmon_allocated_node_seconds_total is what jobs were charged.",
	},
	mQuarantined: {
		name: "scmon_store_records_quarantined", kind: gauge,
		help: "Stored job records the engine could not load and does not count (the daemon starts without them and logs each once with its key).",
	},
	mStoreWritable: {
		name: "scmon_store_writable", kind: gauge,
		help: "1 while the daemon may write its job store; 0 while it has lost the writer lock of its PostgreSQL store (the server ended its session: restart, killed connection): it then stores no record, /-/ready fails, and it takes the lock again once free.",
	},
	mBuildInfo: {
		name: "scmon_build_info", kind: gauge, labels: []string{labelVersion, labelRevision, labelGoVersion},
		help: "Always 1; the labels name the scmon version, the source revision and the Go version it was built with.",
	},
	mIdleCore: {
		name: "scmon_idle_core_seconds_total", kind: counter, labels: []string{labelCluster, labelReason},
		help: "Idle core-seconds since the first allocation, by why they were idle: blocked (eligible jobs waited for them in the same partition), mismatch (jobs waited only for other hardware), no_demand (nobody waited); down, drained and planned are in scmon_capacity_core_seconds_total. Waits are dated from submission.",
	},
	mIdleAccel: {
		name: "scmon_idle_accelerator_seconds_total", kind: counter, labels: []string{labelCluster, labelKind, labelModel, labelReason},
		help: "Idle accelerator-seconds since the first allocation, by accelerator kind and model and by why they were idle (the reasons of scmon_idle_core_seconds_total).",
	},
	mDemandCore: {
		name: "scmon_pending_demand_core_seconds_total", kind: counter, labels: []string{labelCluster},
		help: "Core-seconds that waiting jobs asked for, integrated over their wait (from submission to start, or to now while pending), since the first allocation.",
	},
	mAIJobsEnded: {
		name: "scmon_ai_jobs_ended_total", kind: counter, labels: deviceOutcome,
		help: "AI jobs (ai_training, ai_inference) on accelerators that ran and ended since the start of the job history, by accelerator kind, model and origin and by outcome: completed, failed, node_fail, out_of_memory, cancelled_early (cancelled within 10 minutes of its start), cancelled, timeout, other. The first four are failures to run as meant: where porting hurts. A job holding two models counts under each.",
	},
	mAIJobRun: {
		name: "scmon_ai_job_run_seconds_total", kind: counter, labels: deviceOutcome,
		help: "Run time in seconds (end minus start) of the jobs counted by scmon_ai_jobs_ended_total, with the same labels: over the job count, the mean run time.",
	},
	mDemandAccel: {
		name: "scmon_pending_demand_accelerator_seconds_total", kind: counter, labels: []string{labelCluster, labelKind, labelModel},
		help: "Accelerator-seconds that waiting jobs asked for, by kind and model, integrated over their wait, since the first allocation.",
	},
}

// valueType is the client_golang type of a counter or gauge family.
func (f *family) valueType() prometheus.ValueType {
	if f.kind == counter {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

// labelNames returns the family's labels, with account after partition
// when the family takes it and the operator enabled it.
func (f *family) labelNames(account bool) []string {
	if !account || !f.account {
		return f.labels
	}
	out := make([]string, 0, len(f.labels)+1)
	out = append(out, f.labels[:2]...) // cluster, partition
	out = append(out, labelAccount)
	return append(out, f.labels[2:]...)
}

// MetricNames returns every series name the exporter can emit, sorted: the
// names a PromQL query uses. A summary contributes its _sum and _count
// series (scmon's summaries carry no quantiles). Dashboards and alert rules
// check their queries against this list; a test proves it equals what a
// scrape of a full snapshot returns.
func MetricNames() []string {
	var names []string
	for i := range families {
		f := &families[i]
		if f.kind == summary {
			names = append(names, f.name+"_sum", f.name+"_count")
			continue
		}
		names = append(names, f.name)
	}
	slices.Sort(names)
	return names
}

// Family is one metric family of the contract, as other producers of
// scmon's series (the backfill generator) read it: they take names, types
// and labels from here, so that their series and the exporter's are the
// same by construction.
type Family struct {
	// Name is the series name (a counter's with its _total suffix).
	Name string
	// Type is "counter", "gauge" or "summary".
	Type string
	Help string
	// Labels are the label names without the account label; Account says
	// whether the family takes it (after partition) when the operator
	// enables metrics.account_label.
	Labels  []string
	Account bool
}

// LabelNames returns the family's label names, with account after
// partition when the family takes it and account is set.
func (f *Family) LabelNames(account bool) []string {
	if !account || !f.Account {
		return slices.Clone(f.Labels)
	}
	out := make([]string, 0, len(f.Labels)+1)
	out = append(out, f.Labels[:2]...) // cluster, partition
	out = append(out, labelAccount)
	return append(out, f.Labels[2:]...)
}

// Families returns every metric family the exporter emits, in the order
// of its table.
func Families() []Family {
	out := make([]Family, len(families))
	for i := range families {
		f := &families[i]
		typ := "gauge"
		switch f.kind {
		case counter:
			typ = "counter"
		case summary:
			typ = "summary"
		}
		out[i] = Family{Name: f.name, Type: typ, Help: f.help, Labels: slices.Clone(f.labels), Account: f.account}
	}
	return out
}

// FamilyByName returns the family named name (with a counter's _total
// suffix); ok is false for a name the exporter does not emit.
func FamilyByName(name string) (f Family, ok bool) {
	for _, f := range Families() {
		if f.Name == name {
			return f, true
		}
	}
	return Family{}, false
}
