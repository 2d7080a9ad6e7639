//lint:file-ignore SA1019 scmon ships classic dashboard JSON (schema 42), which Grafana provisions from files everywhere; the SDK marks it deprecated in favour of the v2 schema, which needs feature flags to provision.

package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// aiWorkloads is the AI workloads dashboard: training against inference
// over time, by partition, account and accelerator model, the unknown
// share and the classifier rules that decide it.
func aiWorkloads() (dashboard.Dashboard, error) {
	bd := newBoard("scmon-ai-workloads", "scmon / AI workloads",
		"How much of the center AI training and inference use, where (partition, account, accelerator model), and how sure the classification is (unknown share, rules that fired). Built on scmon's resource-second counters.",
		[]string{"scmon", "hpc", "ai"})
	clusterVars(bd)
	cp := []string{fCluster, fPartition}
	with := func(extra ...string) []string { return append(append([]string{}, cp...), extra...) }

	bd.row("Training and inference over time")
	bd.add(panel{kind: vizTimeSeries, stacked: true, unit: "short", minInterval: ratioInterval, tableLegend: true,
		title:       "Accelerators held by workload class",
		description: "Average accelerators held by jobs of each class (ai_training, ai_inference, other, unknown) over each point's rate window: the rate of the accelerator-second counter.",
		queries:     []query{{expr: sumBy("class", rate(sel(mAllocAccel, cp...), rateWindow)), legend: "{{class}}"}},
	})
	bd.add(panel{kind: vizTimeSeries, stacked: true, unit: "short", minInterval: ratioInterval, tableLegend: true,
		title:       "Cores held by workload class",
		description: "Average cores held by jobs of each class over each point's rate window.",
		queries:     []query{{expr: sumBy("class", rate(sel(mAllocCore, cp...), rateWindow)), legend: "{{class}}"}},
	})
	bd.add(panel{kind: vizTimeSeries, stacked: true, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true,
		title:       "Training and inference share of billing units",
		description: "Share of all allocated billing-seconds (cores and accelerators weighted as the scheduler bills them) held by AI training and by AI inference; stacked, the two add up to the AI share (lower bound).",
		queries: []query{{
			expr:   sumBy("class", rate(sel(mAllocBilling, with(classAI)...), rateWindow)) + " / ignoring(class) group_left " + sumBy("", rate(sel(mAllocBilling, cp...), rateWindow)),
			legend: "{{class}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, unit: "short", tableLegend: true,
		title:       "Running and waiting AI jobs",
		description: "AI jobs running (solid) and waiting to start (dashed) now, by class.",
		queries: []query{
			{expr: sumBy("class", sel(mRunJobs, with(classAI)...)), legend: "{{class}} running"},
			{expr: sumBy("class", sel(mPendJobs, with(classAI)...)), legend: "{{class}} waiting"},
		},
		dashed: ".*waiting",
	})

	bd.row("By partition")
	bd.add(panel{kind: vizTimeSeries, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "AI share of accelerator-seconds by partition",
		description: "Share of each partition's allocated accelerator-seconds held by AI jobs (unknown counted as not AI). Partitions without accelerators have no line.",
		queries: []query{{
			expr:   rateRatio("cluster, partition", sel(mAllocAccel, with(classAI)...), sel(mAllocAccel, cp...)),
			legend: "{{cluster}}/{{partition}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "AI share of core-seconds by partition",
		description: "Share of each partition's allocated core-seconds held by AI jobs (unknown counted as not AI).",
		queries: []query{{
			expr:   rateRatio("cluster, partition", sel(mAllocCore, with(classAI)...), sel(mAllocCore, cp...)),
			legend: "{{cluster}}/{{partition}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, stacked: true, unit: "short", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "AI accelerators held by partition and class",
		description: "Average accelerators held by AI training and inference jobs per partition.",
		queries: []query{{
			expr:   sumBy("cluster, partition, class", rate(sel(mAllocAccel, with(classAI)...), rateWindow)),
			legend: "{{cluster}}/{{partition}} {{class}}",
		}},
	})

	bd.row("By account")
	bd.add(panel{kind: vizBarGauge, unit: "short", decimals: ptr(0.0), h: 10,
		title:       "AI billing-hours by account over the selected time range (top 15)",
		description: "Billing-unit hours held by AI jobs per account over the dashboard's time range. Empty unless scmon runs with metrics.account_label: true (off by default, because accounts are an open set some sites keep private).",
		queries: []query{{
			expr:    "topk(15, " + sumBy("account", increase(sel(mAllocBilling, with(classAI, `account!=""`)...), rangeWindow)) + ") / 3600",
			legend:  "{{account}}",
			instant: true,
		}},
	})
	bd.add(panel{kind: vizTimeSeries, unit: "short", minInterval: ratioInterval, tableLegend: true, h: 10,
		title:       "AI accelerators held by account (top 10)",
		description: "Average accelerators held by AI jobs of the ten largest accounts at each point. Empty unless scmon runs with metrics.account_label: true.",
		queries: []query{{
			expr:   "topk(10, " + sumBy("account", rate(sel(mAllocAccel, with(classAI, `account!=""`)...), rateWindow)) + ")",
			legend: "{{account}}",
		}},
	})

	bd.row("By accelerator model")
	bd.add(panel{kind: vizTimeSeries, stacked: true, unit: "short", minInterval: ratioInterval, tableLegend: true,
		title:       "AI accelerators held by model and class",
		description: "Average accelerators held by AI training and inference jobs per accelerator kind and model.",
		queries: []query{{
			expr:   sumBy("kind, model, class", rate(sel(mAllocAccel, with(classAI)...), rateWindow)),
			legend: "{{kind}} {{model}} {{class}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true,
		title:       "AI share by accelerator model",
		description: "Share of each accelerator model's allocated accelerator-seconds held by AI jobs (unknown counted as not AI).",
		queries: []query{{
			expr:   rateRatio("kind, model", sel(mAllocAccel, with(classAI)...), sel(mAllocAccel, cp...)),
			legend: "{{kind}} {{model}}",
		}},
	})

	bd.row("By origin: domestic and imported accelerators")
	bd.add(panel{kind: vizTimeSeries, stacked: true, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "AI share of accelerator-seconds by origin, training and inference",
		description: "Share of the allocated accelerator-seconds of each origin (domestic: Ascend, Hygon, Cambricon, Kunlunxin, MetaX, Moore Threads, Iluvatar, Enflame, Biren; imported: NVIDIA, AMD, Intel; an inventory can override) held by AI training and by AI inference; stacked, the two add up to the origin's AI share (unknown counted as not AI).",
		queries: []query{{
			expr:   sumBy("origin, class", rate(sel(mAllocAccel, with(classAI)...), rateWindow)) + " / ignoring(class) group_left " + sumBy("origin", rate(sel(mAllocAccel, cp...), rateWindow)),
			legend: "{{origin}} {{class}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "Accelerator utilization by origin",
		description: "Allocated over available accelerator-seconds of domestic and of imported accelerators.",
		queries: []query{{
			expr:   rateRatio("origin", sel(mAllocAccel, cp...), sel(mCapAccel, cp...)),
			legend: "{{origin}}",
		}},
	})
	bd.add(panel{kind: vizBarGauge, ratio: true, unit: "percentunit", decimals: ptr(1.0), w: 8,
		title:       "Inference share of AI by origin over the selected time range",
		description: "AI inference over AI training and inference accelerator-seconds of each origin over the dashboard's time range: the shift toward inference, by origin.",
		queries: []query{{
			expr:    rangeRatio("origin", sel(mAllocAccel, with(`class="ai_inference"`)...), sel(mAllocAccel, with(classAI)...)),
			legend:  "{{origin}}",
			instant: true,
		}},
	})

	bd.row("Adaptation friction: how AI jobs end on each accelerator")
	bd.add(panel{kind: vizBarGauge, ratio: true, unit: "percentunit", decimals: ptr(1.0), w: 12, h: 10,
		title:       "Failure share of AI jobs by accelerator model over the selected time range",
		description: "Share of the AI jobs that ended on each accelerator model in the dashboard's time range and failed to run as meant: FAILED, NODE_FAIL, OUT_OF_MEMORY, or cancelled within 10 minutes of their start. Domestic models beside imported ones show where porting hurts. A job holding two models counts under each. Resubmissions need job names, which the daemon's counters do not keep: scmon report --view friction gives them.",
		queries: []query{{
			expr:    rangeRatio("kind, model, origin", sel(mAIJobsEnded, fCluster, outcomeFailed), sel(mAIJobsEnded, fCluster)),
			legend:  "{{origin}} {{kind}} {{model}}",
			instant: true,
		}},
	})
	bd.add(panel{kind: vizBarGauge, ratio: true, unit: "percentunit", decimals: ptr(1.0), w: 12, h: 10,
		title:       "Failure share of AI jobs by origin over the selected time range",
		description: "Share of the AI jobs that ended on domestic and on imported accelerators in the dashboard's time range and failed (FAILED, NODE_FAIL, OUT_OF_MEMORY, cancelled within 10 minutes): the comparison the alert ScmonDomesticAIFailuresHigh makes over a day. Jobs end too rarely for a rate window: widen the time range rather than read short ones.",
		queries: []query{{
			expr:    rangeRatio("origin", sel(mAIJobsEnded, fCluster, outcomeFailed), sel(mAIJobsEnded, fCluster)),
			legend:  "{{origin}}",
			instant: true,
		}},
	})
	bd.add(panel{kind: vizTable, unit: "short", decimals: ptr(0.0), w: 12, h: 10,
		title:       "AI jobs ended by accelerator model and outcome over the selected time range",
		description: "AI jobs that ended on each accelerator model in the dashboard's time range, by how they ended: completed, failed, node_fail, out_of_memory, cancelled_early (within 10 minutes of the start), cancelled, timeout, other.",
		queries: []query{{
			expr:    sumBy("origin, kind, model, outcome", increase(sel(mAIJobsEnded, fCluster), rangeWindow)),
			legend:  "{{origin}} {{kind}} {{model}} {{outcome}}",
			instant: true,
			table:   true,
		}},
	})
	bd.add(panel{kind: vizBarGauge, unit: "s", decimals: ptr(0.0), w: 12, h: 10,
		title:       "Mean run time of AI jobs by accelerator model and outcome over the selected time range",
		description: "Run seconds over jobs ended, per accelerator model, for completed jobs and for failures: failures that run long before they fail cost more than those that fail at once.",
		queries: []query{{
			expr: sumBy("origin, kind, model, outcome", increase(sel(mAIJobRun, fCluster, `outcome=~"completed|failed|node_fail|out_of_memory"`), rangeWindow)) +
				" / " + sumBy("origin, kind, model, outcome", increase(sel(mAIJobsEnded, fCluster, `outcome=~"completed|failed|node_fail|out_of_memory"`), rangeWindow)),
			legend:  "{{origin}} {{model}} {{outcome}}",
			instant: true,
		}},
	})

	bd.row("Classification")
	var bounds []query
	for _, r := range resources {
		bounds = append(bounds,
			query{expr: rangeRatio("", sel(r.alloc, with(classAI)...), sel(r.alloc, cp...)), legend: r.name + " lower bound", instant: true},
			query{expr: rangeRatio("", sel(r.alloc, with(classAIUnknown)...), sel(r.alloc, cp...)), legend: r.name + " upper bound", instant: true},
		)
	}
	bd.add(panel{kind: vizStat, unit: "percentunit", decimals: ptr(1.0), w: 24, h: 5,
		title:       "AI share bounds over the selected time range",
		description: "AI share of allocated core-, accelerator- and billing-seconds over the dashboard's time range: the lower bound counts jobs of unknown class as not AI, the upper bound as AI. The gap between them is the unknown share.",
		queries:     bounds,
	})
	var unknown []query
	for _, r := range resources {
		unknown = append(unknown, query{
			expr:   rateRatio("cluster", sel(r.alloc, with(classUnknown)...), sel(r.alloc, cp...)),
			legend: "{{cluster}} " + r.name,
		})
	}
	bd.add(panel{kind: vizTimeSeries, ratio: true, unit: "percentunit", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "Unknown share by resource",
		description: "Share of allocated core-, accelerator- and billing-seconds held by jobs no rule could classify. A rising share means workloads the rules do not know; the alert ScmonUnknownShareRising watches it.",
		queries:     unknown,
	})
	bd.add(panel{kind: vizBarGauge, unit: "short", decimals: ptr(0.0), w: 8, h: 10,
		title:       "Top classifier rules over the selected time range",
		description: "Job records each classification rule fired on over the dashboard's time range, the fifteen busiest (all clusters of each scmon: the counter has no cluster label).",
		queries: []query{{
			expr:    "topk(15, " + sumBy("rule", increase(mRuleHits, rangeWindow)) + ")",
			legend:  "{{rule}}",
			instant: true,
		}},
	})
	bd.add(panel{kind: vizTimeSeries, unit: "cpm", minInterval: ratioInterval, tableLegend: true, w: 8, h: 10,
		title:       "Classifier rule hits per minute (top 10)",
		description: "Records per minute each of the ten busiest classification rules fires on (all clusters of each scmon).",
		queries: []query{{
			expr:   "topk(10, " + sumBy("rule", rate(mRuleHits, rateWindow)) + ") * 60",
			legend: "{{rule}}",
		}},
	})
	return bd.dashboard()
}
