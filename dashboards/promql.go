package main

import (
	"fmt"
	"strings"
)

// Metric names used by the dashboards and rules. They are scmon's contract
// (exporter.MetricNames); a test fails when one of them is not in it.
const (
	mAllocCore     = "scmon_allocated_core_seconds_total"
	mAllocAccel    = "scmon_allocated_accelerator_seconds_total"
	mAllocBilling  = "scmon_allocated_billing_seconds_total"
	mCapCore       = "scmon_capacity_core_seconds_total"
	mCapAccel      = "scmon_capacity_accelerator_seconds_total"
	mCapBilling    = "scmon_capacity_billing_seconds_total"
	mUtilization   = "scmon_utilization_ratio"
	mAIShare       = "scmon_ai_share_ratio"
	mAIShareUpper  = "scmon_ai_share_upper_ratio"
	mRunJobs       = "scmon_running_jobs"
	mPendJobs      = "scmon_pending_jobs"
	mPendCores     = "scmon_pending_cores"
	mPendAccel     = "scmon_pending_accelerators"
	mCores         = "scmon_cores"
	mAccels        = "scmon_accelerators"
	mSourceUp      = "scmon_source_up"
	mLastSuccess   = "scmon_source_last_success_timestamp_seconds"
	mLastRecord    = "scmon_source_last_record_timestamp_seconds"
	mLag           = "scmon_source_lag_seconds"
	mRecords       = "scmon_records_total"
	mPollSum       = "scmon_source_poll_duration_seconds_sum"
	mPollCount     = "scmon_source_poll_duration_seconds_count"
	mPollFailures  = "scmon_source_poll_failures_total"
	mRuleHits      = "scmon_classifier_rule_hits_total"
	mReloadOK      = "scmon_config_last_reload_successful"
	mStoreWritable = "scmon_store_writable"
	mReloadTime    = "scmon_config_last_reload_success_timestamp_seconds"
	mSnapshotTime  = "scmon_snapshot_timestamp_seconds"
	mBuildInfo     = "scmon_build_info"
	mIdleCore      = "scmon_idle_core_seconds_total"
	mIdleAccel     = "scmon_idle_accelerator_seconds_total"
	mAIJobsEnded   = "scmon_ai_jobs_ended_total"
	mAIJobRun      = "scmon_ai_job_run_seconds_total"
	// outcomeFailed are the endings that count as a failure to run as
	// meant (scmon report --view friction): where porting hurts.
	outcomeFailed  = `outcome=~"failed|node_fail|out_of_memory|cancelled_early"`
	classAI        = `class=~"ai_training|ai_inference"`
	classAIUnknown = `class=~"ai_training|ai_inference|unknown"`
	classUnknown   = `class="unknown"`
)

// Dashboard variables as label matchers. Every variable is multi-valued
// with an All value of .*, so it is always matched with =~.
const (
	fCluster   = `cluster=~"$cluster"`
	fPartition = `partition=~"$partition"`
	fInstance  = `instance=~"$instance"`
	fSource    = `source=~"$source"`
)

// rateWindow is the range of rate() in dashboards: Grafana's
// $__rate_interval, at least four scrape intervals and one query step.
const rateWindow = "$__rate_interval"

// rangeWindow is the whole time range of the dashboard, for figures over
// "the selected range".
const rangeWindow = "$__range"

// sel returns a selector of metric with the given matchers.
func sel(metric string, matchers ...string) string {
	if len(matchers) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(matchers, ", ") + "}"
}

// sumBy returns sum by (labels) (expr), or sum (expr) when labels is empty.
func sumBy(labels, expr string) string {
	if labels == "" {
		return "sum(" + expr + ")"
	}
	return "sum by (" + labels + ") (" + expr + ")"
}

// rate returns rate(selector[window]).
func rate(selector, window string) string {
	return fmt.Sprintf("rate(%s[%s])", selector, window)
}

// increase returns increase(selector[window]).
func increase(selector, window string) string {
	return fmt.Sprintf("increase(%s[%s])", selector, window)
}

// ratio returns the ratio of two sums over the same labels: the only
// correct way to aggregate utilization or a share across partitions and
// clusters (a sum or an average of per-partition ratios is wrong whenever
// partitions differ in size).
func ratio(by, num, den string) string {
	return sumBy(by, num) + " / " + sumBy(by, den)
}

// rateRatio is ratio over rate() of two counter selectors in the
// dashboard's rate window.
func rateRatio(by, num, den string) string {
	return ratio(by, rate(num, rateWindow), rate(den, rateWindow))
}

// rangeRatio is ratio over increase() of two counter selectors across the
// dashboard's whole time range.
func rangeRatio(by, num, den string) string {
	return ratio(by, increase(num, rangeWindow), increase(den, rangeWindow))
}

// resource is one basis of utilization and AI share, with the counters
// that measure it.
type resource struct {
	// name is the value of the resource label (snapshot.Resources).
	name string
	// alloc counts allocated resource-seconds by class.
	alloc string
	// capacity counts capacity resource-seconds by state; empty when
	// scmon exports no such counter (billing).
	capacity string
	// unit names one resource-second in descriptions.
	unit string
}

// resources are the bases, in display order. Billing has no capacity
// counter: scmon exports billing capacity only through the window gauge
// scmon_utilization_ratio{resource="billing"}.
var resources = []resource{
	{name: "cpu", alloc: mAllocCore, capacity: mCapCore, unit: "core-seconds"},
	{name: "accelerator", alloc: mAllocAccel, capacity: mCapAccel, unit: "accelerator-seconds"},
	{name: "billing", alloc: mAllocBilling, capacity: mCapBilling, unit: "billing-seconds"},
}

// withCapacity returns the resources that have a capacity counter.
func withCapacity() []resource {
	var out []resource
	for _, r := range resources {
		if r.capacity != "" {
			out = append(out, r)
		}
	}
	return out
}
