// Package exporter exposes scmon's published figures to Prometheus.
//
// The Exporter is a prometheus.Collector that renders the current
// snapshot.Snapshot as constant metrics at each scrape. A scrape only reads
// the immutable snapshot the daemon swapped in after its last poll: it never
// runs a command, parses a file or touches the store, so its cost is bounded
// by the size of the snapshot and a slow scheduler can never stall it.
//
// The metric names, labels and HELP texts are a contract with the shipped
// dashboards and alert rules; they are defined in one table (metrics.go) and
// MetricNames lists them so that those rules can prove, in a test, that
// every metric they use is emitted.
//
// Label sets that operators enumerate are closed and always emitted, zeros
// included, so that a series exists before its first increment and
// increase() never misses it: every (cluster, partition) of the snapshot
// crossed with every workload class or capacity state, every accelerator
// (kind, model) of the partition crossed with the same. Label values the
// data carries beyond those sets (a partition the inventory does not know,
// an unexpected state) extend the sets rather than being dropped, so no
// resource-second is lost on the way out.
package exporter

import (
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scmon/scmon/snapshot"
)

// Options are the operator's choices about what the exporter exposes.
type Options struct {
	// AccountLabel adds an account label to the scmon_allocated_* counters.
	// It is off by default: accounts are an open set that some sites
	// consider sensitive, and they multiply the series count.
	AccountLabel bool
	// Version and Revision are the build's version and source revision,
	// exposed as labels of scmon_build_info.
	Version, Revision string
}

// Exporter is a prometheus.Collector over the daemon's current snapshot.
// It is safe for concurrent scrapes, and the snapshot may be swapped while
// a scrape runs: each Collect reads the snapshot pointer once and works on
// that value only.
type Exporter struct {
	get   func() *snapshot.Snapshot
	opts  Options
	descs [numFamilies]*prometheus.Desc
	// goVersion is runtime.Version(), a field so tests can pin it.
	goVersion string
}

// Compile-time check that the Exporter is a Collector.
var _ prometheus.Collector = (*Exporter)(nil)

// New returns an Exporter that reads the snapshot returned by get at each
// scrape. get must be cheap and safe for concurrent use (an
// atomic.Pointer's Load is the intended implementation) and may return nil
// before the first snapshot is built; the scrape then carries only
// scmon_build_info. The caller registers the Exporter in its own
// prometheus.Registry; the package registers nothing by itself.
func New(get func() *snapshot.Snapshot, opts Options) *Exporter {
	e := &Exporter{get: get, opts: opts, goVersion: runtime.Version()}
	for i := range families {
		f := &families[i]
		e.descs[i] = prometheus.NewDesc(f.name, f.help, f.labelNames(opts.AccountLabel), nil)
	}
	return e
}

// Describe sends the descriptors of every family the Exporter can emit, so
// that the registry checks them for conflicts at registration.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range e.descs {
		ch <- d
	}
}

// Collect sends the metrics of the current snapshot.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	em := emitter{e: e, ch: ch}
	em.emit(mBuildInfo, 1, e.opts.Version, e.opts.Revision, e.goVersion)
	var s *snapshot.Snapshot
	if e.get != nil {
		s = e.get()
	}
	if s == nil {
		return
	}
	em.partitions(s)
	em.occupied(s)
	em.idle(s)
	em.friction(s)
	em.windows(s)
	em.sources(s)
	em.rest(s)
}

// emitter sends the metrics of one scrape.
type emitter struct {
	e  *Exporter
	ch chan<- prometheus.Metric
}

// emit sends one counter or gauge. Label values that are not valid UTF-8
// (a mangled partition name in a scheduler's output) are repaired rather
// than failing the scrape; any other error is reported through an invalid
// metric, which the registry turns into a gather error for this series
// alone when the handler continues on errors.
func (em emitter) emit(i int, v float64, lvs ...string) {
	f := &families[i]
	m, err := prometheus.NewConstMetric(em.e.descs[i], f.valueType(), v, lvs...)
	if err != nil && repairUTF8(lvs) {
		m, err = prometheus.NewConstMetric(em.e.descs[i], f.valueType(), v, lvs...)
	}
	if err != nil {
		m = prometheus.NewInvalidMetric(em.e.descs[i], err)
	}
	em.ch <- m
}

// emitSummary sends one summary without quantiles.
func (em emitter) emitSummary(i int, count uint64, sum float64, lvs ...string) {
	m, err := prometheus.NewConstSummary(em.e.descs[i], count, sum, nil, lvs...)
	if err != nil && repairUTF8(lvs) {
		m, err = prometheus.NewConstSummary(em.e.descs[i], count, sum, nil, lvs...)
	}
	if err != nil {
		m = prometheus.NewInvalidMetric(em.e.descs[i], err)
	}
	em.ch <- m
}

// repairUTF8 replaces invalid UTF-8 in place and reports whether it
// changed anything.
func repairUTF8(lvs []string) bool {
	changed := false
	for i, v := range lvs {
		if !utf8.ValidString(v) {
			lvs[i] = strings.ToValidUTF8(v, "\uFFFD")
			changed = true
		}
	}
	return changed
}
