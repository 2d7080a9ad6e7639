package exporter

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/snapshot"
)

// Results of reading a record, the values of scmon_records_total's result
// label. The daemon fills snapshot.SourceHealth.Records with these keys.
const (
	// ResultStored counts records written to the store.
	ResultStored = "stored"
	// ResultDuplicate counts records the store already held (read again by
	// an overlapping poll or a replayed file).
	ResultDuplicate = "duplicate"
	// ResultSkippedPrefix, followed by a job.SkipReasons entry, counts
	// input lines a reader rejected for that reason.
	ResultSkippedPrefix = "skipped_"
)

// RecordResults returns the closed set of result label values, emitted for
// every source, zeros included: stored, duplicate and skipped_<reason> for
// every reason in job.SkipReasons.
func RecordResults() []string {
	out := []string{ResultStored, ResultDuplicate}
	for _, r := range job.SkipReasons {
		out = append(out, ResultSkippedPrefix+r)
	}
	return out
}

// classNames is the closed set of workload classes, in display order.
var classNames = func() []string {
	out := make([]string, len(job.Classes))
	for i, c := range job.Classes {
		out[i] = c.String()
	}
	return out
}()

// recordResults is RecordResults computed once.
var recordResults = RecordResults()

// pair is a (cluster, partition).
type pair struct{ cluster, partition string }

// key names one series of the per-partition families. class holds the
// workload class or the capacity state; account is empty unless the
// account label is enabled; kind and model are empty for families that are
// not per device.
type key struct {
	cluster, partition, account, kind, model, class string
}

// row holds the values of every family at one key; a family that does not
// use the key's shape leaves its slot at zero.
type row [numFamilies]float64

// zeroRow is the row of a key no data names.
var zeroRow row

// view is a snapshot's per-partition figures summed by label set, with the
// closed label sets extended by the values the data carries.
type view struct {
	pairs    []pair
	pairSeen map[pair]struct{}
	devices  []key // cluster, partition, kind, model
	devSeen  map[key]struct{}
	classes  []string
	states   []string
	accounts []key // cluster, partition, account, class (account label only)
	acctSeen map[key]struct{}
	rows     map[key]*row
	// origins gives the origin label of an accelerator (kind, model).
	origins map[[2]string]string
}

func (v *view) pair(cluster, partition string) {
	p := pair{cluster, partition}
	if _, ok := v.pairSeen[p]; !ok {
		v.pairSeen[p] = struct{}{}
		v.pairs = append(v.pairs, p)
	}
}

func (v *view) device(cluster, partition, kind, model string) {
	k := key{cluster: cluster, partition: partition, kind: kind, model: model}
	if _, ok := v.devSeen[k]; !ok {
		v.devSeen[k] = struct{}{}
		v.devices = append(v.devices, k)
		v.pair(cluster, partition)
	}
}

func (v *view) class(c string) {
	if !slices.Contains(v.classes, c) {
		v.classes = append(v.classes, c)
	}
}

func (v *view) state(s string) {
	if !slices.Contains(v.states, s) {
		v.states = append(v.states, s)
	}
}

func (v *view) account(k key) {
	k.kind, k.model = "", ""
	if _, ok := v.acctSeen[k]; !ok {
		v.acctSeen[k] = struct{}{}
		v.accounts = append(v.accounts, k)
	}
}

func (v *view) add(i int, k key, x float64) {
	r := v.rows[k]
	if r == nil {
		r = new(row)
		v.rows[k] = r
	}
	r[i] += x
}

// addAccel adds per-device counts or seconds to family i under k's
// cluster, partition, account and class, registering each device.
func (v *view) addAccel(i int, k key, accel []snapshot.AccelSeconds) {
	for _, a := range accel {
		v.device(k.cluster, k.partition, a.Kind, a.Model)
		k.kind, k.model = a.Kind, a.Model
		v.add(i, k, a.Seconds)
	}
}

// get returns the row at k, zeros if no data names it.
func (v *view) get(k key) *row {
	if r := v.rows[k]; r != nil {
		return r
	}
	return &zeroRow
}

// index sums a snapshot's per-partition rows. Rows that share a label set
// add up: several accounts fold into one series when the account label is
// off, and a producer may split a label set over several rows.
func (e *Exporter) index(s *snapshot.Snapshot) *view {
	v := &view{
		pairSeen: make(map[pair]struct{}, len(s.Partitions)),
		devSeen:  make(map[key]struct{}, len(s.Devices)),
		classes:  slices.Clone(classNames),
		states:   slices.Clone(snapshot.States),
		acctSeen: map[key]struct{}{},
		rows:     make(map[key]*row, len(s.Allocated)+len(s.Capacity)+len(s.Running)+len(s.Pending)+len(s.Nodes)),
		origins:  originIndex(s),
	}
	for _, p := range s.Partitions {
		v.pair(p.Cluster, p.Partition)
	}
	for _, d := range s.Devices {
		v.device(d.Cluster, d.Partition, d.Kind, d.Model)
	}
	for _, a := range s.Allocated {
		v.pair(a.Cluster, a.Partition)
		v.class(a.Class)
		k := key{cluster: a.Cluster, partition: a.Partition, class: a.Class}
		if e.opts.AccountLabel {
			k.account = a.Account
			v.account(k)
		}
		v.add(mAllocCore, k, a.CoreSeconds)
		v.add(mAllocBilling, k, a.BillingSeconds)
		v.add(mAllocNode, k, a.NodeSeconds)
		v.addAccel(mAllocAccel, k, a.Accel)
	}
	for _, c := range s.Capacity {
		v.pair(c.Cluster, c.Partition)
		v.state(c.State)
		k := key{cluster: c.Cluster, partition: c.Partition, class: c.State}
		v.add(mCapCore, k, c.CoreSeconds)
		v.add(mCapBilling, k, c.BillingSeconds)
		v.addAccel(mCapAccel, k, c.Accel)
	}
	current := func(rows []snapshot.Current, jobs, cores, accel int) {
		for _, c := range rows {
			v.pair(c.Cluster, c.Partition)
			v.class(c.Class)
			k := key{cluster: c.Cluster, partition: c.Partition, class: c.Class}
			v.add(jobs, k, c.Jobs)
			v.add(cores, k, c.Cores)
			v.addAccel(accel, k, c.Accel)
		}
	}
	current(s.Running, mRunJobs, mRunCores, mRunAccel)
	current(s.Pending, mPendJobs, mPendCores, mPendAccel)
	for _, n := range s.Nodes {
		v.pair(n.Cluster, n.Partition)
		v.state(n.State)
		k := key{cluster: n.Cluster, partition: n.Partition, class: n.State}
		v.add(mNodes, k, n.Nodes)
		v.add(mCores, k, n.Cores)
		v.addAccel(mAccels, k, n.Accel)
	}

	// Sort every dimension in the order the registry sorts series: by
	// label values, labels taken in name order (account, class, cluster,
	// kind, model, partition, state). Emitting each family already sorted
	// makes the registry's sort nearly linear.
	slices.Sort(v.classes)
	slices.Sort(v.states)
	slices.SortFunc(v.pairs, func(a, b pair) int {
		return cmpStrings(a.cluster, b.cluster, a.partition, b.partition)
	})
	slices.SortFunc(v.devices, func(a, b key) int {
		return cmpStrings(a.cluster, b.cluster, a.kind, b.kind, a.model, b.model, a.partition, b.partition)
	})
	return v
}

// cmpStrings compares pairs of strings in turn: a0 with b0, then a1 with
// b1, and so on.
func cmpStrings(ab ...string) int {
	for i := 0; i < len(ab); i += 2 {
		if c := strings.Compare(ab[i], ab[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

// partitions emits the per-partition families: every (cluster, partition)
// crossed with every class or state, and every device of the partition
// crossed with the same. Each family comes out in the registry's order.
func (em emitter) partitions(s *snapshot.Snapshot) {
	v := em.e.index(s)
	acct := em.e.opts.AccountLabel
	for _, c := range v.classes {
		for _, p := range v.pairs {
			r := v.get(key{cluster: p.cluster, partition: p.partition, class: c})
			if !acct {
				em.emit(mAllocCore, r[mAllocCore], p.cluster, p.partition, c)
				em.emit(mAllocBilling, r[mAllocBilling], p.cluster, p.partition, c)
				em.emit(mAllocNode, r[mAllocNode], p.cluster, p.partition, c)
			}
			em.emit(mRunJobs, r[mRunJobs], p.cluster, p.partition, c)
			em.emit(mRunCores, r[mRunCores], p.cluster, p.partition, c)
			em.emit(mPendJobs, r[mPendJobs], p.cluster, p.partition, c)
			em.emit(mPendCores, r[mPendCores], p.cluster, p.partition, c)
		}
		for _, d := range v.devices {
			r := v.get(key{cluster: d.cluster, partition: d.partition, kind: d.kind, model: d.model, class: c})
			if !acct {
				em.emit(mAllocAccel, r[mAllocAccel], d.cluster, d.partition, d.kind, d.model, v.origin(d.kind, d.model), c)
			}
			em.emit(mRunAccel, r[mRunAccel], d.cluster, d.partition, d.kind, d.model, c)
			em.emit(mPendAccel, r[mPendAccel], d.cluster, d.partition, d.kind, d.model, c)
		}
	}
	for _, p := range v.pairs {
		for _, st := range v.states {
			r := v.get(key{cluster: p.cluster, partition: p.partition, class: st})
			em.emit(mCapCore, r[mCapCore], p.cluster, p.partition, st)
			em.emit(mCapBilling, r[mCapBilling], p.cluster, p.partition, st)
			em.emit(mNodes, r[mNodes], p.cluster, p.partition, st)
			em.emit(mCores, r[mCores], p.cluster, p.partition, st)
		}
	}
	for _, d := range v.devices {
		for _, st := range v.states {
			r := v.get(key{cluster: d.cluster, partition: d.partition, kind: d.kind, model: d.model, class: st})
			em.emit(mCapAccel, r[mCapAccel], d.cluster, d.partition, d.kind, d.model, v.origin(d.kind, d.model), st)
			em.emit(mAccels, r[mAccels], d.cluster, d.partition, d.kind, d.model, st)
		}
	}
	if acct {
		em.accounts(v)
	}
}

// accounts emits the allocated families with the account label: every
// account an allocation names for a (cluster, partition, class), and one
// series with an empty account for a (cluster, partition, class) that no
// allocation names, so that the closed set is emitted with the label on.
func (em emitter) accounts(v *view) {
	named := make(map[key]bool, len(v.accounts))
	for _, k := range v.accounts {
		k.account = ""
		named[k] = true
	}
	keys := slices.Clone(v.accounts)
	for _, c := range v.classes {
		for _, p := range v.pairs {
			if k := (key{cluster: p.cluster, partition: p.partition, class: c}); !named[k] {
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmpStrings(a.account, b.account, a.class, b.class, a.cluster, b.cluster, a.partition, b.partition)
	})
	for _, k := range keys {
		r := v.get(k)
		em.emit(mAllocCore, r[mAllocCore], k.cluster, k.partition, k.account, k.class)
		em.emit(mAllocBilling, r[mAllocBilling], k.cluster, k.partition, k.account, k.class)
		em.emit(mAllocNode, r[mAllocNode], k.cluster, k.partition, k.account, k.class)
	}
	devs := make(map[pair][]key, len(v.pairs))
	for _, d := range v.devices {
		p := pair{d.cluster, d.partition}
		devs[p] = append(devs[p], d)
	}
	var accel []key
	for _, k := range keys {
		for _, d := range devs[pair{k.cluster, k.partition}] {
			k.kind, k.model = d.kind, d.model
			accel = append(accel, k)
		}
	}
	slices.SortFunc(accel, func(a, b key) int {
		return cmpStrings(a.account, b.account, a.class, b.class, a.cluster, b.cluster,
			a.kind, b.kind, a.model, b.model, a.partition, b.partition)
	})
	for _, k := range accel {
		em.emit(mAllocAccel, v.get(k)[mAllocAccel], k.cluster, k.partition, k.account, k.kind, k.model, v.origin(k.kind, k.model), k.class)
	}
}

// windows emits the window gauges for every cluster, resource and window
// the snapshot names. A combination the snapshot lacks is NaN (undefined),
// so that every cluster has every resource and window and an alert on a low
// ratio does not fire on a missing figure. The first row of a duplicated
// label set wins.
func (em emitter) windows(s *snapshot.Snapshot) {
	if len(s.Windows) == 0 {
		return
	}
	type wkey struct{ cluster, resource, window string }
	rows := make(map[wkey]snapshot.Window, len(s.Windows))
	var clusters []string
	for _, c := range s.Clusters {
		clusters = appendNew(clusters, c)
	}
	for _, p := range s.Partitions {
		clusters = appendNew(clusters, p.Cluster)
	}
	resources := slices.Clone(snapshot.Resources)
	var windows []string
	for _, w := range s.Windows {
		k := wkey{w.Cluster, w.Resource, w.Window}
		if _, dup := rows[k]; !dup {
			rows[k] = w
		}
		clusters = appendNew(clusters, w.Cluster)
		resources = appendNew(resources, w.Resource)
		windows = appendNew(windows, w.Window)
	}
	slices.Sort(clusters)
	slices.Sort(resources)
	slices.Sort(windows)
	nan := math.NaN()
	for _, c := range clusters {
		for _, r := range resources {
			for _, win := range windows {
				util, share, upper := nan, nan, nan
				if w, ok := rows[wkey{c, r, win}]; ok {
					util, share, upper = w.Utilization, w.AIShare, w.AIShareUpper
				}
				em.emit(mUtilization, util, c, r, win)
				em.emit(mAIShare, share, c, r, win)
				em.emit(mAIShareUpper, upper, c, r, win)
			}
		}
	}
}

// sources emits the health of every source; the first entry of a
// duplicated name wins. Every result of RecordResults is emitted, zeros
// included, plus any other result the daemon counted.
func (em emitter) sources(s *snapshot.Snapshot) {
	seen := make(map[string]struct{}, len(s.Sources))
	for i := range s.Sources {
		src := &s.Sources[i]
		if _, dup := seen[src.Name]; dup {
			continue
		}
		seen[src.Name] = struct{}{}
		n := src.Name
		em.emit(mSourceUp, boolValue(src.Up), n)
		em.emit(mSourceLastSuccess, unixSeconds(src.LastSuccess), n)
		em.emit(mSourceLastRecord, unixSeconds(src.LastRecord), n)
		em.emit(mSourceLag, src.Lag.Seconds(), n)
		for _, r := range recordResults {
			em.emit(mRecords, src.Records[r], n, r)
		}
		for _, r := range slices.Sorted(maps.Keys(src.Records)) {
			if !slices.Contains(recordResults, r) {
				em.emit(mRecords, src.Records[r], n, r)
			}
		}
		em.emitSummary(mPollDuration, count(src.PollCount), src.PollSeconds, n)
		em.emit(mPollFailures, src.Failures, n)
	}
}

// rest emits the classifier, configuration and snapshot families.
func (em emitter) rest(s *snapshot.Snapshot) {
	for _, rule := range slices.Sorted(maps.Keys(s.RuleHits)) {
		em.emit(mRuleHits, float64(s.RuleHits[rule]), rule)
	}
	em.emit(mConfigReloadOK, boolValue(s.Config.LastReloadSuccess))
	em.emit(mConfigReloadTime, unixSeconds(s.Config.LastReload))
	em.emit(mSnapshotTime, unixSeconds(s.Time))
	if !s.Complete.IsZero() {
		em.emit(mComplete, unixSeconds(s.Complete))
	}
	em.emit(mQuarantined, s.Quarantined)
	em.emit(mStoreWritable, boolValue(s.StoreLockLost == ""))
}

// occupied emits the occupancy counter of every cluster the snapshot
// names, zeros included; the first row of a duplicated cluster wins.
func (em emitter) occupied(s *snapshot.Snapshot) {
	vals := make(map[string]float64, len(s.Occupied))
	var clusters []string
	for _, c := range s.Clusters {
		clusters = appendNew(clusters, c)
	}
	for _, o := range s.Occupied {
		if _, dup := vals[o.Cluster]; !dup {
			vals[o.Cluster] = o.NodeSeconds
		}
		clusters = appendNew(clusters, o.Cluster)
	}
	if len(s.Occupied) == 0 && len(s.Allocated) == 0 {
		return // no counters yet: nothing complete
	}
	slices.Sort(clusters)
	for _, c := range clusters {
		em.emit(mOccupiedNode, vals[c], c)
	}
}

// boolValue is 1 for true, 0 for false.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// unixSeconds is t as fractional Unix seconds, 0 for the zero time ("never").
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// count converts a float count to the summary's integer count, clamping
// negative and NaN values to 0.
func count(x float64) uint64 {
	if !(x > 0) {
		return 0
	}
	return uint64(x)
}

// appendNew appends s to list unless list holds it already.
func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
