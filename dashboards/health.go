//lint:file-ignore SA1019 scmon ships classic dashboard JSON (schema 42), which Grafana provisions from files everywhere; the SDK marks it deprecated in favour of the v2 schema, which needs feature flags to provision.

package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// collectorHealth is the collector health dashboard: whether each source
// polls, how far behind it is, what it reads and rejects, and the state of
// the daemon (configuration, snapshot, build).
func collectorHealth() (dashboard.Dashboard, error) {
	bd := newBoard("scmon-collector-health", "scmon / Collector health",
		"Whether scmon's sources (sacct, node inventories, jobcomp and PBS logs) poll and keep up, what they read and reject, and the state of the daemon. The figures of the other scmon dashboards are only as good as this.",
		[]string{"scmon", "health"})
	bd.queryVar("instance", "Instance",
		"scmon daemons to include (Prometheus's instance label).",
		"label_values("+mBuildInfo+", instance)")
	bd.queryVar("source", "Source",
		"Sources to include, by the names given in scmon's configuration.",
		"label_values("+sel(mSourceUp, fInstance)+", source)")
	is := []string{fInstance, fSource}
	with := func(extra ...string) []string { return append(append([]string{}, is...), extra...) }

	bd.row("Sources")
	bd.add(panel{kind: vizStat, unit: "none", w: 8, h: 6,
		title:       "Source up",
		description: "Whether the last poll of each source succeeded (scmon_source_up).",
		queries:     []query{{expr: sel(mSourceUp, is...), legend: "{{instance}} {{source}}", instant: true}},
		mappings:    stateMappings("down", "up"),
		steps:       []dashboard.Threshold{{Color: "red"}, {Value: ptr(1.0), Color: "green"}},
	})
	bd.add(panel{kind: vizStat, unit: "s", w: 8, h: 6,
		title:       "Time since the last successful poll",
		description: "Seconds since each source's last successful poll ended. The alert ScmonSourcePollStalled fires when it exceeds its threshold (15 minutes by default); a source that never succeeded shows the age of the Unix epoch.",
		queries:     []query{{expr: "time() - " + sel(mLastSuccess, is...), legend: "{{instance}} {{source}}", instant: true}},
		steps:       ageSteps(300, 900),
	})
	bd.add(panel{kind: vizStateTimeline, unit: "none", w: 8, h: 6,
		title:       "Source up over time",
		description: "Each source's poll result over time: up (last poll succeeded) or down.",
		queries:     []query{{expr: sel(mSourceUp, is...), legend: "{{instance}} {{source}}"}},
		mappings:    stateMappings("down", "up"),
		steps:       []dashboard.Threshold{{Color: "red"}, {Value: ptr(1.0), Color: "green"}},
	})
	bd.add(panel{kind: vizTimeSeries, unit: "s", tableLegend: true,
		title:       "Collection lag (watermark)",
		description: "How far each source trails the present: the snapshot time minus the time up to which the source has delivered every record. Recent figures are incomplete by this much. The alert ScmonSourceLagging watches it.",
		queries:     []query{{expr: sel(mLag, is...), legend: "{{instance}} {{source}}"}},
	})
	bd.add(panel{kind: vizTimeSeries, unit: "s", tableLegend: true,
		title:       "Age of the newest record",
		description: "Seconds since the newest submit, start or end time named by any record of each source. Sources that never delivered a record (node inventories) are left out. The alert ScmonSourceNoNewRecords watches it.",
		queries: []query{{
			expr:   "(time() - " + sel(mLastRecord, is...) + ") and " + sel(mLastRecord, is...) + " > 0",
			legend: "{{instance}} {{source}}",
		}},
	})

	bd.row("Records")
	bd.add(panel{kind: vizTimeSeries, unit: "cps", tableLegend: true,
		title:       "Records read by result",
		description: "Records read per second by each source, by result: stored (new), duplicate (read again by an overlapping poll) or skipped_<reason> (an input line rejected).",
		queries: []query{{
			expr:   sumBy("instance, source, result", rate(sel(mRecords, is...), rateWindow)),
			legend: "{{source}} {{result}}",
		}},
	})
	bd.add(panel{kind: vizBarGauge, unit: "short", decimals: ptr(0.0),
		title:       "Skipped lines by reason over the selected time range",
		description: "Input lines each source rejected over the dashboard's time range, by reason (bad_time, bad_tres, field_count, ...). Any is worth a look in the scmon log: a rejected line is a job whose resources are not counted.",
		queries: []query{{
			expr:    sumBy("source, result", increase(sel(mRecords, with(`result=~"skipped_.*"`)...), rangeWindow)),
			legend:  "{{source}} {{result}}",
			instant: true,
		}},
	})

	bd.row("Polls")
	bd.add(panel{kind: vizTimeSeries, unit: "s", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "Mean poll duration",
		description: "Mean duration of each source's polls over each point's rate window (scmon_source_poll_duration_seconds). A duration near the source's timeout warns of failures to come.",
		queries: []query{{
			expr:   ratio("instance, source", rate(sel(mPollSum, is...), rateWindow), rate(sel(mPollCount, is...), rateWindow)),
			legend: "{{instance}} {{source}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, unit: "cpm", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "Polls per minute",
		description: "Polls per minute of each source, successful or not.",
		queries: []query{{
			expr:   sumBy("instance, source", rate(sel(mPollCount, is...), rateWindow)) + " * 60",
			legend: "{{instance}} {{source}}",
		}},
	})
	bd.add(panel{kind: vizTimeSeries, unit: "cpm", minInterval: ratioInterval, tableLegend: true, w: 8,
		title:       "Poll failures per minute",
		description: "Failed polls per minute of each source (scmon_source_poll_failures_total). The alert ScmonSourceDown fires when every poll fails for its threshold (10 minutes by default).",
		queries: []query{{
			expr:   sumBy("instance, source", rate(sel(mPollFailures, is...), rateWindow)) + " * 60",
			legend: "{{instance}} {{source}}",
		}},
	})

	bd.row("Daemon")
	bd.add(panel{kind: vizStat, unit: "none", w: 6, h: 6,
		title:       "Configuration reload",
		description: "Whether the last configuration load or reload succeeded. After a refused reload scmon keeps the previous configuration; `scmon serve --config.check` names the error.",
		queries:     []query{{expr: sel(mReloadOK, fInstance), legend: "{{instance}}", instant: true}},
		mappings:    stateMappings("failed", "ok"),
		steps:       []dashboard.Threshold{{Color: "red"}, {Value: ptr(1.0), Color: "green"}},
	})
	bd.add(panel{kind: vizStat, unit: "s", w: 6, h: 6,
		title:       "Time since the configuration was loaded",
		description: "Seconds since the last successful configuration load or reload.",
		queries:     []query{{expr: "time() - " + sel(mReloadTime, fInstance), legend: "{{instance}}", instant: true}},
	})
	bd.add(panel{kind: vizStat, unit: "s", w: 6, h: 6,
		title:       "Snapshot age",
		description: "Seconds since scmon built the figures it exports; they are rebuilt after every poll. The alert ScmonSnapshotStale fires past its threshold (15 minutes by default).",
		queries:     []query{{expr: "time() - " + sel(mSnapshotTime, fInstance), legend: "{{instance}}", instant: true}},
		steps:       ageSteps(300, 900),
	})
	bd.add(panel{kind: vizTable, unit: "none", w: 6, h: 6,
		title:       "Build",
		description: "Version, source revision and Go version of each scmon daemon (scmon_build_info).",
		queries:     []query{{expr: sel(mBuildInfo, fInstance), legend: "{{version}}", instant: true, table: true}},
		hideColumns: []string{"Time", "Value", "__name__", "job"},
	})
	return bd.dashboard()
}
