package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// ruleWindow is one standard window of the recording rules.
type ruleWindow struct {
	// name is the window in record names and PromQL ranges (1h, 1d, ...).
	name string
	// interval is how often its group is evaluated. It stays below
	// Prometheus's default lookback of 5 minutes, so that a recorded
	// series never goes stale between two evaluations; longer windows
	// read more samples and are evaluated less often.
	interval string
}

// ruleWindows are the standard windows: an hour, a day, a week, a month.
var ruleWindows = []ruleWindow{
	{name: "1h", interval: "1m"},
	{name: "1d", interval: "2m"},
	{name: "7d", interval: "4m"},
	{name: "30d", interval: "4m"},
}

// Record names. The level prefix names the labels a series keeps
// (cluster; cluster and class; cluster and state), as Prometheus's naming
// practice for recording rules asks. The ratios also carry a static
// resource label (cpu, accelerator, billing) like scmon's window gauges.
func recAlloc(r resource, w ruleWindow) string {
	return "cluster_class:" + strings.TrimSuffix(r.alloc, "_total") + ":increase" + w.name
}

func recCapacity(r resource, w ruleWindow) string {
	return "cluster_state:" + strings.TrimSuffix(r.capacity, "_total") + ":increase" + w.name
}

// recUtilization, recAIShare, recAIShareUpper, recUnknownShare and
// recCapacityShare name the ratios recorded over window w.
func recUtilization(w ruleWindow) string { return "cluster:scmon_utilization:ratio_" + w.name }

func recAIShare(w ruleWindow) string { return "cluster:scmon_ai_share:ratio_" + w.name }

func recAIShareUpper(w ruleWindow) string { return "cluster:scmon_ai_share_upper:ratio_" + w.name }

func recUnknownShare(w ruleWindow) string { return "cluster:scmon_unknown_share:ratio_" + w.name }

func recCapacityShare(w ruleWindow) string {
	return "cluster_state:scmon_capacity_share:ratio_" + w.name
}

// Thresholds are the alerts' tunables. The defaults suit a mid-sized
// center; a site regenerates the rules with its own values through the
// generator's flags (-idle-cores and so on: RegisterFlags), so that the
// expressions and the annotations that explain them always agree.
type Thresholds struct {
	// IdleAccelerators is how many accelerators of one kind must sit on
	// idle nodes of a partition while jobs of that partition wait for
	// accelerators of that kind; IdleFor how long.
	IdleAccelerators float64
	// IdleCores is the same for cores, in partitions without
	// accelerators (in accelerator partitions cores follow the devices).
	IdleCores float64
	IdleFor   model.Duration
	// CPUUtilizationTarget and AcceleratorUtilizationTarget are the
	// utilization over the last day below which a cluster is reported,
	// once it has stayed below for LowUtilizationFor.
	CPUUtilizationTarget         float64
	AcceleratorUtilizationTarget float64
	LowUtilizationFor            model.Duration
	// SourceDownFor is how long a source's last poll may keep failing.
	SourceDownFor model.Duration
	// PollStalledAfter is how old a source's last successful poll may be.
	PollStalledAfter model.Duration
	// NoNewRecordsAfter is how old the newest time named by a source's
	// records may be (a stuck scheduler database, a log no longer
	// written).
	NoNewRecordsAfter model.Duration
	// UnknownShareRise is how far the last day's unknown share may exceed
	// the last week's; UnknownShareMax the day's share that is too high in
	// any case; UnknownShareFor how long either must hold.
	UnknownShareRise float64
	UnknownShareMax  float64
	UnknownShareFor  model.Duration
	// LagMax is how far a source's watermark may trail the present, for
	// LagFor.
	LagMax model.Duration
	LagFor model.Duration
	// SnapshotStaleAfter is how old the published figures may be.
	SnapshotStaleAfter model.Duration
	// ClockAheadMax is how far scmon's clock may run ahead of
	// Prometheus's, for ClockAheadFor.
	ClockAheadMax model.Duration
	ClockAheadFor model.Duration
	// ConfigReloadFailedFor is how long a refused configuration may stand.
	ConfigReloadFailedFor model.Duration
	// StoreNotWritableFor is how long the daemon may be unable to write
	// its store (its PostgreSQL writer lock lost) before an alert.
	StoreNotWritableFor model.Duration
	// NoDemandShare is the share of a kind's accelerator capacity over the
	// last day that may sit idle with nobody waiting (a planning problem,
	// where idle while jobs wait is a scheduling one), for NoDemandFor.
	NoDemandShare float64
	NoDemandFor   model.Duration
	// FrictionRatio is how many times the failure share of AI jobs on
	// domestic accelerators over the last day may exceed that on imported
	// ones, once at least FrictionMinJobs AI jobs ended on domestic
	// accelerators that day, for FrictionFor.
	FrictionRatio   float64
	FrictionMinJobs float64
	FrictionFor     model.Duration
}

// DefaultThresholds returns the thresholds of the committed rules.
func DefaultThresholds() Thresholds {
	return Thresholds{
		IdleAccelerators:             8,
		IdleCores:                    256,
		IdleFor:                      model.Duration(30 * time.Minute),
		CPUUtilizationTarget:         0.70,
		AcceleratorUtilizationTarget: 0.60,
		LowUtilizationFor:            model.Duration(time.Hour),
		SourceDownFor:                model.Duration(10 * time.Minute),
		PollStalledAfter:             model.Duration(15 * time.Minute),
		NoNewRecordsAfter:            model.Duration(2 * time.Hour),
		UnknownShareRise:             0.05,
		UnknownShareMax:              0.25,
		UnknownShareFor:              model.Duration(time.Hour),
		LagMax:                       model.Duration(30 * time.Minute),
		LagFor:                       model.Duration(15 * time.Minute),
		SnapshotStaleAfter:           model.Duration(15 * time.Minute),
		ClockAheadMax:                model.Duration(time.Minute),
		ClockAheadFor:                model.Duration(10 * time.Minute),
		ConfigReloadFailedFor:        model.Duration(5 * time.Minute),
		StoreNotWritableFor:          model.Duration(2 * time.Minute),
		NoDemandShare:                0.25,
		NoDemandFor:                  model.Duration(time.Hour),
		FrictionRatio:                2,
		FrictionMinJobs:              20,
		FrictionFor:                  model.Duration(time.Hour),
	}
}

// RegisterFlags binds every threshold to a flag of fs, with t's values as
// defaults.
func (t *Thresholds) RegisterFlags(fs *flag.FlagSet) {
	fs.Float64Var(&t.IdleAccelerators, "idle-accelerators", t.IdleAccelerators, "idle accelerators of one kind in a partition with waiting jobs that raise ScmonIdleAcceleratorsWhileJobsWait")
	fs.Float64Var(&t.IdleCores, "idle-cores", t.IdleCores, "idle cores in a partition without accelerators with waiting jobs that raise ScmonIdleCoresWhileJobsWait")
	fs.Var(&t.IdleFor, "idle-for", "how long idle capacity must coexist with waiting jobs")
	fs.Float64Var(&t.NoDemandShare, "no-demand-share", t.NoDemandShare, "share of a kind's accelerator capacity over the last day idle with nobody waiting that raises ScmonAcceleratorsIdleWithoutDemand (0..1)")
	fs.Var(&t.NoDemandFor, "no-demand-for", "how long the share idle without demand must stay above -no-demand-share")
	fs.Float64Var(&t.FrictionRatio, "friction-ratio", t.FrictionRatio, "how many times the last day's failure share of AI jobs on domestic accelerators may exceed that on imported ones before ScmonDomesticAIFailuresHigh")
	fs.Float64Var(&t.FrictionMinJobs, "friction-min-jobs", t.FrictionMinJobs, "AI jobs that must have ended on domestic accelerators over the last day for ScmonDomesticAIFailuresHigh to judge")
	fs.Var(&t.FrictionFor, "friction-for", "how long the failure shares must stay apart")
	fs.Float64Var(&t.CPUUtilizationTarget, "cpu-utilization-target", t.CPUUtilizationTarget, "CPU utilization over the last day below which ScmonUtilizationBelowTarget fires (0..1)")
	fs.Float64Var(&t.AcceleratorUtilizationTarget, "accelerator-utilization-target", t.AcceleratorUtilizationTarget, "accelerator utilization over the last day below which ScmonUtilizationBelowTarget fires (0..1)")
	fs.Var(&t.LowUtilizationFor, "low-utilization-for", "how long utilization must stay below target")
	fs.Var(&t.SourceDownFor, "source-down-for", "how long a source's polls may keep failing before ScmonSourceDown")
	fs.Var(&t.PollStalledAfter, "poll-stalled-after", "age of a source's last successful poll that raises ScmonSourcePollStalled")
	fs.Var(&t.NoNewRecordsAfter, "no-new-records-after", "age of a source's newest record time that raises ScmonSourceNoNewRecords")
	fs.Float64Var(&t.UnknownShareRise, "unknown-share-rise", t.UnknownShareRise, "rise of the day's unknown share over the week's that raises ScmonUnknownShareRising (0..1)")
	fs.Float64Var(&t.UnknownShareMax, "unknown-share-max", t.UnknownShareMax, "day's unknown share that raises ScmonUnknownShareRising in any case (0..1)")
	fs.Var(&t.UnknownShareFor, "unknown-share-for", "how long the unknown share must stay high")
	fs.Var(&t.LagMax, "lag-max", "collection lag (watermark behind now) that raises ScmonSourceLagging")
	fs.Var(&t.LagFor, "lag-for", "how long the lag must last")
	fs.Var(&t.SnapshotStaleAfter, "snapshot-stale-after", "age of the published figures that raises ScmonSnapshotStale")
	fs.Var(&t.ClockAheadMax, "clock-ahead-max", "how far scmon's clock may run ahead of Prometheus's before ScmonClockAhead")
	fs.Var(&t.ClockAheadFor, "clock-ahead-for", "how long the clock must be ahead")
	fs.Var(&t.ConfigReloadFailedFor, "config-reload-failed-for", "how long a refused configuration reload may stand before ScmonConfigReloadFailed")
	fs.Var(&t.StoreNotWritableFor, "store-not-writable-for", "how long the daemon may be unable to write its store before ScmonStoreNotWritable")
}

// Validate reports thresholds that would make an alert meaningless.
func (t Thresholds) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{
		{"cpu-utilization-target", t.CPUUtilizationTarget},
		{"accelerator-utilization-target", t.AcceleratorUtilizationTarget},
		{"unknown-share-rise", t.UnknownShareRise},
		{"unknown-share-max", t.UnknownShareMax},
		{"no-demand-share", t.NoDemandShare},
	} {
		if r.v <= 0 || r.v > 1 {
			return fmt.Errorf("-%s %g: want a ratio in (0, 1]", r.name, r.v)
		}
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"idle-accelerators", t.IdleAccelerators}, {"idle-cores", t.IdleCores}, {"friction-ratio", t.FrictionRatio}, {"friction-min-jobs", t.FrictionMinJobs}} {
		if c.v < 1 {
			return fmt.Errorf("-%s %g: want at least 1", c.name, c.v)
		}
	}
	for _, d := range []struct {
		name string
		v    model.Duration
	}{
		{"poll-stalled-after", t.PollStalledAfter}, {"no-new-records-after", t.NoNewRecordsAfter},
		{"lag-max", t.LagMax}, {"snapshot-stale-after", t.SnapshotStaleAfter}, {"clock-ahead-max", t.ClockAheadMax},
	} {
		if d.v <= 0 {
			return fmt.Errorf("-%s %s: want a positive duration", d.name, d.v)
		}
	}
	return nil
}

// ruleFile is a Prometheus rule file.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

// ruleGroup is a group of rules evaluated together, in order.
type ruleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []rule `yaml:"rules"`
}

// rule is a recording or an alerting rule.
type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// recordingRules returns one group per standard window. Each group first
// records the increases of the counters summed by cluster and class (or
// state), then the ratios of those sums: rules of a group run in order, so
// the ratios use the increases of the same evaluation, and a center-wide
// figure is the ratio of the sums of the recorded increases.
func recordingRules() ruleFile {
	var f ruleFile
	for _, w := range ruleWindows {
		g := ruleGroup{Name: "scmon-recording-" + w.name, Interval: w.interval}
		add := func(record, expr string, labels map[string]string) {
			g.Rules = append(g.Rules, rule{Record: record, Expr: expr, Labels: labels})
		}
		for _, r := range resources {
			add(recAlloc(r, w), sumBy("cluster, class", increase(r.alloc, w.name)), nil)
		}
		for _, r := range withCapacity() {
			add(recCapacity(r, w), sumBy("cluster, state", increase(r.capacity, w.name)), nil)
		}
		for _, r := range withCapacity() {
			res := map[string]string{"resource": r.name}
			add(recUtilization(w), ratio("cluster", recAlloc(r, w), recCapacity(r, w)), res)
		}
		for _, r := range resources {
			res := map[string]string{"resource": r.name}
			a := recAlloc(r, w)
			add(recAIShare(w), ratio("cluster", sel(a, classAI), a), res)
			add(recAIShareUpper(w), ratio("cluster", sel(a, classAIUnknown), a), res)
			add(recUnknownShare(w), ratio("cluster", sel(a, classUnknown), a), res)
		}
		for _, r := range withCapacity() {
			c := recCapacity(r, w)
			// sum without (state), not sum by (cluster): the ratio must keep
			// every other label (a center's external label in a central store).
			add(recCapacityShare(w), c+" / ignoring(state) group_left sum without (state) ("+c+")", map[string]string{"resource": r.name})
		}
		f.Groups = append(f.Groups, g)
	}
	return f
}

// dur renders a duration the way Prometheus writes it (30m, 1h, 2h30m).
func dur(d model.Duration) string { return d.String() }

// num renders a threshold without a trailing .0 or exponent.
func num(v float64) string { return fmt.Sprintf("%g", v) }

// points renders a ratio in percentage points, rounded to a millionth of
// a point so that 0.07 prints as 7 and not 7.000000000000001.
func points(v float64) string { return num(math.Round(v*1e8) / 1e6) }

// pct renders a ratio as a percentage for annotations.
func pct(v float64) string { return points(v) + "%" }

// alertingRules returns the alerts, with t's thresholds in their
// expressions and their descriptions.
func alertingRules(t Thresholds) ruleFile {
	var rules []rule
	alert := func(name, severity, expr string, forDur model.Duration, summary, description string) {
		r := rule{
			Alert:  name,
			Expr:   expr,
			Labels: map[string]string{"severity": severity},
			Annotations: map[string]string{
				"summary":     summary,
				"description": description,
			},
		}
		if forDur > 0 {
			r.For = dur(forDur)
		}
		rules = append(rules, r)
	}

	ai := ruleWindows[1] // 1d
	week := ruleWindows[2]

	alert("ScmonIdleAcceleratorsWhileJobsWait", "warning",
		"(\n  "+sumBy("cluster, partition, kind", sel(mAccels, `state="idle"`))+" >= "+num(t.IdleAccelerators)+
			"\n)\nand on (cluster, partition, kind)\n(\n  "+sumBy("cluster, partition, kind", mPendAccel)+" > 0\n)\n",
		t.IdleFor,
		"{{ $value }} {{ $labels.kind }} accelerators idle in {{ $labels.cluster }}/{{ $labels.partition }} while jobs wait for them",
		"At least "+num(t.IdleAccelerators)+" accelerators of kind {{ $labels.kind }} have been on idle nodes of partition {{ $labels.partition }} for "+dur(t.IdleFor)+" while jobs of that partition wait for accelerators of that kind. Look for jobs too large for the free nodes, reservations, limits or a stuck scheduler. Thresholds: -idle-accelerators "+num(t.IdleAccelerators)+", -idle-for "+dur(t.IdleFor)+".")

	alert("ScmonAcceleratorsIdleWithoutDemand", "warning",
		"(\n  "+sumBy("cluster, kind", increase(sel(mIdleAccel, `reason="no_demand"`), ai.name))+"\n  /\n  "+
			sumBy("cluster, kind", increase(mCapAccel, ai.name))+"\n) > "+num(t.NoDemandShare)+"\n",
		t.NoDemandFor,
		"{{ $value | humanizePercentage }} of the {{ $labels.kind }} capacity of {{ $labels.cluster }} sat idle over the last day with no job waiting",
		"Over the last day more than "+pct(t.NoDemandShare)+" of cluster {{ $labels.cluster }}'s {{ $labels.kind }} accelerator-seconds were idle while no job waited for anything they could serve: a planning question (too many of this kind, users not ported to it, a missing software stack), not a scheduling one. Thresholds: -no-demand-share "+num(t.NoDemandShare)+" ("+pct(t.NoDemandShare)+"), -no-demand-for "+dur(t.NoDemandFor)+".")

	failShare := func(origin string) string {
		return sumBy("cluster", increase(sel(mAIJobsEnded, `origin="`+origin+`"`, outcomeFailed), ai.name)) +
			"\n    /\n    " + sumBy("cluster", increase(sel(mAIJobsEnded, `origin="`+origin+`"`), ai.name))
	}
	alert("ScmonDomesticAIFailuresHigh", "warning",
		"(\n  (\n    "+failShare("domestic")+"\n  )\n  /\n  (\n    "+failShare("imported")+"\n  )\n) > "+num(t.FrictionRatio)+
			"\nand on (cluster)\n"+sumBy("cluster", increase(sel(mAIJobsEnded, `origin="domestic"`), ai.name))+" >= "+num(t.FrictionMinJobs)+"\n",
		t.FrictionFor,
		"AI jobs on domestic accelerators of {{ $labels.cluster }} fail {{ $value | printf \"%.1f\" }} times as often as on imported ones",
		"Over the last day the share of AI jobs on domestic accelerators of cluster {{ $labels.cluster }} that ended FAILED, NODE_FAIL, OUT_OF_MEMORY or cancelled within 10 minutes of their start was more than "+num(t.FrictionRatio)+" times that on imported accelerators: software adaptation (drivers, frameworks, operators) is hurting users. scmon report --view friction names the models and how often users resubmit. Thresholds: -friction-ratio "+num(t.FrictionRatio)+", -friction-min-jobs "+num(t.FrictionMinJobs)+", -friction-for "+dur(t.FrictionFor)+".")

	alert("ScmonIdleCoresWhileJobsWait", "warning",
		"(\n  "+sumBy("cluster, partition", sel(mCores, `state="idle"`))+" >= "+num(t.IdleCores)+
			"\n)\nand on (cluster, partition)\n(\n  "+sumBy("cluster, partition", mPendCores)+" > 0\n)\nunless on (cluster, partition)\n(\n  "+
			sumBy("cluster, partition", mAccels)+" > 0\n)\n",
		t.IdleFor,
		"{{ $value }} cores idle in {{ $labels.cluster }}/{{ $labels.partition }} while jobs wait",
		"At least "+num(t.IdleCores)+" cores have been on idle nodes of partition {{ $labels.partition }} for "+dur(t.IdleFor)+" while jobs of that partition wait. Partitions with accelerators are left to ScmonIdleAcceleratorsWhileJobsWait: their cores follow the devices. Thresholds: -idle-cores "+num(t.IdleCores)+", -idle-for "+dur(t.IdleFor)+".")

	alert("ScmonUtilizationBelowTarget", "warning",
		sel(recUtilization(ai), `resource="cpu"`)+" < "+num(t.CPUUtilizationTarget)+
			"\nor\n"+sel(recUtilization(ai), `resource="accelerator"`)+" < "+num(t.AcceleratorUtilizationTarget)+"\n",
		t.LowUtilizationFor,
		"{{ $labels.resource }} utilization of {{ $labels.cluster }} over the last day is {{ $value | humanizePercentage }}",
		"The "+"{{ $labels.resource }} utilization of cluster {{ $labels.cluster }} over the last day (allocated over all capacity, down and drained included) has been below its target for "+dur(t.LowUtilizationFor)+". Thresholds: -cpu-utilization-target "+num(t.CPUUtilizationTarget)+" ("+pct(t.CPUUtilizationTarget)+"), -accelerator-utilization-target "+num(t.AcceleratorUtilizationTarget)+" ("+pct(t.AcceleratorUtilizationTarget)+"), -low-utilization-for "+dur(t.LowUtilizationFor)+". Needs the recording rules.")

	alert("ScmonSourceDown", "critical",
		mSourceUp+" == 0\n",
		t.SourceDownFor,
		"scmon source {{ $labels.source }} on {{ $labels.instance }} is failing",
		"Every poll of source {{ $labels.source }} has failed for "+dur(t.SourceDownFor)+"; its figures are frozen. The scmon log and /api/v1 status name the error. Threshold: -source-down-for "+dur(t.SourceDownFor)+".")

	alert("ScmonSourcePollStalled", "critical",
		"time() - "+mLastSuccess+" > "+num(time.Duration(t.PollStalledAfter).Seconds())+"\n",
		model.Duration(5*time.Minute),
		"scmon source {{ $labels.source }} on {{ $labels.instance }} has not polled successfully for {{ $value | humanizeDuration }}",
		"The last successful poll of source {{ $labels.source }} is older than "+dur(t.PollStalledAfter)+" (or it never succeeded): the source is stuck or failing. Threshold: -poll-stalled-after "+dur(t.PollStalledAfter)+".")

	alert("ScmonSourceNoNewRecords", "warning",
		"(time() - "+mLastRecord+" > "+num(time.Duration(t.NoNewRecordsAfter).Seconds())+")\nand\n"+mLastRecord+" > 0\n",
		model.Duration(5*time.Minute),
		"scmon source {{ $labels.source }} on {{ $labels.instance }} has delivered no new record for {{ $value | humanizeDuration }}",
		"The newest submit, start or end time named by any record of source {{ $labels.source }} is older than "+dur(t.NoNewRecordsAfter)+", although its polls may succeed: the scheduler's accounting may have stopped, or the file is no longer written. Sources that never delivered a record (node inventories) are left out. Threshold: -no-new-records-after "+dur(t.NoNewRecordsAfter)+".")

	alert("ScmonUnknownShareRising", "warning",
		"(\n  "+sel(recUnknownShare(ai), `resource=~"cpu|accelerator"`)+"\n  - "+sel(recUnknownShare(week), `resource=~"cpu|accelerator"`)+
			"\n) > "+num(t.UnknownShareRise)+"\nor\n"+sel(recUnknownShare(ai), `resource=~"cpu|accelerator"`)+" > "+num(t.UnknownShareMax)+"\n",
		t.UnknownShareFor,
		"Unclassified {{ $labels.resource }} usage is rising on {{ $labels.cluster }}",
		"The share of {{ $labels.resource }}-seconds held by jobs of unknown class over the last day exceeds the last week's by more than "+points(t.UnknownShareRise)+" percentage points, or exceeds "+pct(t.UnknownShareMax)+": new workloads the classification rules do not know widen the AI share's bounds. Review scmon_classifier_rule_hits_total and the rules. Thresholds: -unknown-share-rise "+num(t.UnknownShareRise)+", -unknown-share-max "+num(t.UnknownShareMax)+", -unknown-share-for "+dur(t.UnknownShareFor)+". Needs the recording rules.")

	alert("ScmonSourceLagging", "warning",
		mLag+" > "+num(time.Duration(t.LagMax).Seconds())+"\n",
		t.LagFor,
		"scmon source {{ $labels.source }} on {{ $labels.instance }} trails the present by {{ $value | humanizeDuration }}",
		"The time up to which source {{ $labels.source }} has delivered every record is more than "+dur(t.LagMax)+" behind the snapshot: recent figures are incomplete (sacct catching up, a large backlog, a slow file). Thresholds: -lag-max "+dur(t.LagMax)+", -lag-for "+dur(t.LagFor)+".")

	alert("ScmonSnapshotStale", "critical",
		"time() - "+mSnapshotTime+" > "+num(time.Duration(t.SnapshotStaleAfter).Seconds())+"\n",
		model.Duration(5*time.Minute),
		"scmon on {{ $labels.instance }} has published no new figures for {{ $value | humanizeDuration }}",
		"The figures scmon exports were built more than "+dur(t.SnapshotStaleAfter)+" ago: the daemon is stuck, or its clock is behind Prometheus's. Threshold: -snapshot-stale-after "+dur(t.SnapshotStaleAfter)+".")

	alert("ScmonClockAhead", "warning",
		mSnapshotTime+" - timestamp("+mSnapshotTime+") > "+num(time.Duration(t.ClockAheadMax).Seconds())+"\n",
		t.ClockAheadFor,
		"scmon's clock on {{ $labels.instance }} is {{ $value | humanizeDuration }} ahead of Prometheus's",
		"scmon stamps its figures with a time later than the scrape that read them: its clock runs ahead, and windows ending \"now\" reach into the future. Check NTP on the scmon host. Thresholds: -clock-ahead-max "+dur(t.ClockAheadMax)+", -clock-ahead-for "+dur(t.ClockAheadFor)+".")

	alert("ScmonConfigReloadFailed", "warning",
		mReloadOK+" == 0\n",
		t.ConfigReloadFailedFor,
		"scmon on {{ $labels.instance }} refused its new configuration",
		"The last configuration reload of scmon failed; it keeps running with the previous configuration. `scmon serve --config.check` names the error. Threshold: -config-reload-failed-for "+dur(t.ConfigReloadFailedFor)+".")

	alert("ScmonStoreNotWritable", "critical",
		mStoreWritable+" == 0\n",
		t.StoreNotWritableFor,
		"scmon on {{ $labels.instance }} cannot write its store",
		"scmon lost the PostgreSQL session that holds its store's writer lock (the server restarted, the session was terminated, or the connection broke) and has not taken the lock back: it writes nothing, its sources poll again from their stored cursors, and /-/ready fails. Another daemon may hold the lock: the scmon log names the holder. Threshold: -store-not-writable-for "+dur(t.StoreNotWritableFor)+".")

	return ruleFile{Groups: []ruleGroup{{Name: "scmon-alerts", Rules: rules}}}
}

// renderRules renders a rule file as YAML with a header comment.
func renderRules(f ruleFile, header string) ([]byte, error) {
	var buf bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		buf.WriteString("# " + line + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
