//lint:file-ignore SA1019 scmon ships classic dashboard JSON (schema 42), which Grafana provisions from files everywhere; the SDK marks it deprecated in favour of the v2 schema, which needs feature flags to provision.

package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// ratioInterval is the minimum query interval of panels that divide two
// counters. scmon's counters step once per poll (every minute for sacct by
// default); a shorter rate window would often see no poll and draw 0/0.
const ratioInterval = "1m"

// clusterVars adds the cluster and partition variables of the center and
// AI dashboards.
func clusterVars(bd *board) {
	bd.queryVar("cluster", "Cluster",
		"Clusters to include. Figures over several clusters are ratios of sums, so they weigh each cluster by its size.",
		"label_values("+mCores+", cluster)")
	bd.queryVar("partition", "Partition",
		"Partitions to include. Panels built on the window gauges (marked in their descriptions) cover whole clusters and ignore this choice.",
		"label_values("+sel(mCores, fCluster)+", partition)")
}

// overview is the center overview: utilization and AI share by resource,
// the capacity ledger, idle capacity against pending demand, per partition
// and per accelerator kind and model.
func overview() (dashboard.Dashboard, error) {
	bd := newBoard("scmon-center-overview", "scmon / Center overview",
		"Utilization and AI share of an HPC center by resource (cores, accelerators, billing units), its capacity by state, and idle capacity against waiting jobs. Built on scmon's resource-second counters, so every figure is exact for any time range and adds up across partitions and clusters.",
		[]string{"scmon", "hpc", "utilization"})
	clusterVars(bd)
	cp := []string{fCluster, fPartition}
	with := func(extra ...string) []string { return append(append([]string{}, cp...), extra...) }

	bd.row("Headline")
	bd.add(panel{kind: vizStat, w: 8, h: 6, unit: "percentunit", decimals: ptr(1.0),
		title:       "Utilization, trailing 30 days",
		description: "Allocated over available resource-seconds in the trailing 30 days, per cluster and basis, as scmon computes it from its job store (the scmon_utilization_ratio window gauge). It is right from the first scrape, even before Prometheus holds 30 days of history. Whole clusters: the partition choice does not apply.",
		queries:     []query{{expr: sel(mUtilization, fCluster, `window="30d"`), legend: "{{cluster}} {{resource}}", instant: true}},
		steps:       utilizationSteps(),
	})
	bd.add(panel{kind: vizStat, w: 8, h: 6, unit: "percentunit", decimals: ptr(1.0),
		title:       "AI share, trailing 30 days",
		description: "Share of the allocated resource-seconds held by AI jobs (training and inference) in the trailing 30 days, counting jobs of unknown class as not AI: the lower bound. From scmon's window gauge scmon_ai_share_ratio; whole clusters.",
		queries:     []query{{expr: sel(mAIShare, fCluster, `window="30d"`), legend: "{{cluster}} {{resource}}", instant: true}},
	})
	bd.add(panel{kind: vizStat, w: 8, h: 6, unit: "percentunit", decimals: ptr(1.0),
		title:       "AI share upper bound, trailing 30 days",
		description: "The AI share if every job of unknown class were AI: the upper bound. The true share lies between this and the lower bound. From scmon's window gauge scmon_ai_share_upper_ratio; whole clusters.",
		queries:     []query{{expr: sel(mAIShareUpper, fCluster, `window="30d"`), legend: "{{cluster}} {{resource}}", instant: true}},
	})
	var utilRange []query
	for _, r := range withCapacity() {
		utilRange = append(utilRange, query{
			expr:    rangeRatio("", sel(r.alloc, cp...), sel(r.capacity, cp...)),
			legend:  r.name,
			instant: true,
		})
	}
	bd.add(panel{kind: vizStat, w: 12, h: 5, unit: "percentunit", decimals: ptr(1.0),
		title:       "Utilization over the selected time range",
		description: "Allocated over available resource-seconds across the selected clusters and partitions over the dashboard's time range, from the counters in Prometheus (a ratio of sums). Billing utilization needs a billing capacity counter, which scmon does not export: see the 30-day headline for it.",
		queries:     utilRange,
		steps:       utilizationSteps(),
	})
	var shareRange []query
	for _, r := range resources {
		shareRange = append(shareRange,
			query{expr: rangeRatio("", sel(r.alloc, with(classAI)...), sel(r.alloc, cp...)), legend: r.name, instant: true},
			query{expr: rangeRatio("", sel(r.alloc, with(classAIUnknown)...), sel(r.alloc, cp...)), legend: r.name + " upper bound", instant: true},
		)
	}
	bd.add(panel{kind: vizStat, w: 12, h: 5, unit: "percentunit", decimals: ptr(1.0),
		title:       "AI share over the selected time range",
		description: "AI share of allocated core-, accelerator- and billing-seconds across the selected clusters and partitions over the dashboard's time range, from the counters: the lower bound counts jobs of unknown class as not AI, the upper bound counts them as AI.",
		queries:     shareRange,
	})

	bd.row("Utilization and AI share over time")
	var util []query
	for _, r := range withCapacity() {
		util = append(util, query{
			expr:   rateRatio("cluster", sel(r.alloc, cp...), sel(r.capacity, cp...)),
			legend: "{{cluster}} " + r.name,
		})
	}
	util = append(util, query{
		expr:   sel(mUtilization, fCluster, `resource="billing"`, `window="1h"`),
		legend: "{{cluster}} billing (trailing hour, whole cluster)",
	})
	bd.add(panel{kind: vizTimeSeries, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true,
		title:       "Utilization by resource",
		description: "Allocated over available core- and accelerator-seconds per cluster, from the counters over each point's rate window (sreport style: down, drained and planned capacity count as available). Billing utilization comes from scmon's trailing-hour window gauge, because no billing capacity counter exists; it covers whole clusters and is drawn dashed.",
		queries:     util,
		dashed:      ".*billing.*",
	})
	var share []query
	for _, r := range resources {
		share = append(share,
			query{expr: rateRatio("cluster", sel(r.alloc, with(classAI)...), sel(r.alloc, cp...)), legend: "{{cluster}} " + r.name},
			query{expr: rateRatio("cluster", sel(r.alloc, with(classAIUnknown)...), sel(r.alloc, cp...)), legend: "{{cluster}} " + r.name + " upper bound"},
		)
	}
	bd.add(panel{kind: vizTimeSeries, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true,
		title:       "AI share by resource",
		description: "Share of allocated core-, accelerator- and billing-seconds held by AI jobs (training and inference) per cluster. Solid: jobs of unknown class counted as not AI (lower bound); dashed: counted as AI (upper bound).",
		queries:     share,
		dashed:      ".*upper bound",
	})
	for _, r := range withCapacity() {
		bd.add(panel{kind: vizTimeSeries, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true, w: 8,
			title:       titleCase(r.name) + " utilization by partition",
			description: "Allocated over available " + r.unit + " per partition. A node shared by several partitions counts its capacity in its first partition only, so partitions add up to the cluster.",
			queries: []query{{
				expr:   rateRatio("cluster, partition", sel(r.alloc, cp...), sel(r.capacity, cp...)),
				legend: "{{cluster}}/{{partition}}",
			}},
		})
	}
	bd.add(panel{kind: vizTimeSeries, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "Accelerator utilization by kind and model",
		description: "Allocated over available accelerator-seconds per accelerator kind (gpu, npu, dcu, ...) and model. A model named \"<kind> (unspecified)\" holds jobs that asked for the kind without a type; it has no capacity of its own and no utilization line.",
		queries: []query{{
			expr:   rateRatio("cluster, kind, model", sel(mAllocAccel, cp...), sel(mCapAccel, cp...)),
			legend: "{{cluster}} {{kind}} {{model}}",
		}},
	})

	bd.row("Capacity ledger")
	bd.add(panel{kind: vizTimeSeries, stacked: true, unit: "short", minInterval: ratioInterval, tableLegend: true,
		title:       "Cores by state",
		description: "Average cores in each state (allocated, idle, down, drained, planned) over each point's rate window, from the capacity counter: the states stack up to the installed cores.",
		queries: []query{{
			expr:   sumBy("state", rate(sel(mCapCore, cp...), rateWindow)),
			legend: "{{state}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, stacked: true, unit: "short", minInterval: ratioInterval, tableLegend: true,
		title:       "Accelerators by state",
		description: "Average accelerators in each state over each point's rate window, from the accelerator capacity counter: the states stack up to the installed accelerators.",
		queries: []query{{
			expr:   sumBy("state", rate(sel(mCapAccel, cp...), rateWindow)),
			legend: "{{state}}",
		}},
	})
	for _, r := range withCapacity() {
		bd.add(panel{kind: vizBarGauge, ratio: true, unit: "percentunit", decimals: ptr(1.0),
			title:       titleCase(r.name) + " capacity by state over the selected time range",
			description: "Share of the " + r.unit + " of capacity spent in each state over the dashboard's time range: the ledger that adds up to 100%.",
			queries: []query{{
				expr:    sumBy("state", increase(sel(r.capacity, cp...), rangeWindow)) + " / ignoring(state) group_left " + sumBy("", increase(sel(r.capacity, cp...), rangeWindow)),
				legend:  "{{state}}",
				instant: true,
			}},
		})
	}

	bd.row("Idle capacity against waiting jobs")
	bd.add(panel{kind: vizTimeSeries, unit: "short", tableLegend: true,
		title:       "Idle and requested accelerators by partition and kind",
		description: "Accelerators on idle nodes now (solid) against accelerators requested by waiting jobs (dashed), per partition and kind. Idle accelerators while jobs of the same partition wait for them point at fragmentation, reservations, limits or a scheduler problem.",
		queries: []query{
			{expr: sumBy("cluster, partition, kind", sel(mAccels, with(`state="idle"`)...)), legend: "{{cluster}}/{{partition}} {{kind}} idle"},
			{expr: sumBy("cluster, partition, kind", sel(mPendAccel, cp...)), legend: "{{cluster}}/{{partition}} {{kind}} requested by waiting jobs"},
		},
		dashed: ".*waiting jobs",
	})
	bd.add(panel{kind: vizTimeSeries, unit: "short", tableLegend: true,
		title:       "Idle and requested cores by partition",
		description: "Cores on idle nodes now (solid) against cores requested by waiting jobs (dashed), per partition.",
		queries: []query{
			{expr: sumBy("cluster, partition", sel(mCores, with(`state="idle"`)...)), legend: "{{cluster}}/{{partition}} idle"},
			{expr: sumBy("cluster, partition", sel(mPendCores, cp...)), legend: "{{cluster}}/{{partition}} requested by waiting jobs"},
		},
		dashed: ".*waiting jobs",
	})
	bd.add(panel{kind: vizTimeSeries, stacked: true, unit: "short", minInterval: ratioInterval, tableLegend: true,
		title:       "Idle cores by reason",
		description: "Average idle cores over each point's rate window, by why they were idle: blocked (eligible jobs of the same partition waited for them: a scheduling problem), mismatch (jobs waited only for other hardware), no_demand (nobody waited: a planning problem). Down, drained and planned cores are in the capacity ledger above.",
		queries: []query{{
			expr:   sumBy("reason", rate(sel(mIdleCore, fCluster), rateWindow)),
			legend: "{{reason}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, stacked: true, unit: "short", minInterval: ratioInterval, tableLegend: true,
		title:       "Idle accelerators by kind and reason",
		description: "Average idle accelerators over each point's rate window, by kind and by why they were idle (the reasons of the cores panel).",
		queries: []query{{
			expr:   sumBy("kind, reason", rate(sel(mIdleAccel, fCluster), rateWindow)),
			legend: "{{kind}} {{reason}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, unit: "short", tableLegend: true,
		title:       "Running and waiting jobs by partition",
		description: "Jobs running (solid) and waiting to start (dashed) now, per partition.",
		queries: []query{
			{expr: sumBy("cluster, partition", sel(mRunJobs, cp...)), legend: "{{cluster}}/{{partition}} running"},
			{expr: sumBy("cluster, partition", sel(mPendJobs, cp...)), legend: "{{cluster}}/{{partition}} waiting"},
		},
		dashed: ".*waiting",
	})
	bd.add(panel{kind: vizTimeSeries, stacked: true, unit: "short", tableLegend: true,
		title:       "Accelerators by model and state",
		description: "Accelerators now by kind, model and node state (states with none are left out).",
		queries: []query{{
			expr:   sumBy("kind, model, state", sel(mAccels, cp...)) + " > 0",
			legend: "{{kind}} {{model}} {{state}}",
		}},
	})

	bd.row("Recorded figures (Prometheus rules)")
	var recUtil, recShare []query
	for _, w := range ruleWindows {
		recUtil = append(recUtil, query{expr: sel(recUtilization(w), fCluster), legend: "{{cluster}} {{resource}} " + w.name, instant: true})
		recShare = append(recShare, query{expr: sel(recAIShare(w), fCluster), legend: "{{cluster}} {{resource}} " + w.name, instant: true})
	}
	bd.add(panel{kind: vizBarGauge, ratio: true, unit: "percentunit", decimals: ptr(1.0), h: 10,
		title:       "Utilization by window (recording rules)",
		description: "The recording rules of dashboards/prometheus (cluster:scmon_utilization:ratio_<window>) for 1 hour, 1 day, 7 days and 30 days. They need those rules loaded, and a window covers only as much history as Prometheus holds.",
		queries:     recUtil,
		steps:       utilizationSteps(),
	})
	bd.add(panel{kind: vizBarGauge, ratio: true, unit: "percentunit", decimals: ptr(1.0), h: 10,
		title:       "AI share by window (recording rules)",
		description: "The recording rules cluster:scmon_ai_share:ratio_<window>: AI share of allocated core-, accelerator- and billing-seconds, jobs of unknown class counted as not AI. They need the rules of dashboards/prometheus loaded.",
		queries:     recShare,
	})
	return bd.dashboard()
}

// utilizationSteps colours utilization: red below 50%, orange below 70%.
func utilizationSteps() []dashboard.Threshold {
	return []dashboard.Threshold{
		{Color: "red"},
		{Value: ptr(0.5), Color: "orange"},
		{Value: ptr(0.7), Color: "green"},
	}
}

// titleCase upper-cases the first letter of an ASCII word.
func titleCase(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	if s == "cpu" {
		return "CPU"
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
