package daemon

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/snapshot/build"
)

// publish builds a new snapshot from the engine and swaps it in.
//
// The daemon is ready once it publishes a snapshot built after every
// source's first successful poll: before that, the figures lack whole
// sources (an empty store seconds after a first start would read as an
// idle center).
func (d *Daemon) publish() {
	start := time.Now()
	waiting := d.waitingFor()
	s, err := d.buildSnapshot()
	if err != nil {
		d.log.Error("figures not published", "err", err)
		return
	}
	s.StoreLockLost = d.lockLost.Load().(string)
	d.snap.Store(s)
	d.log.Debug("figures published", "seconds", time.Since(start).Seconds())
	if d.ready.Load() {
		return
	}
	if waiting == "" {
		d.ready.Store(true)
		d.log.Info("ready: every source has delivered its first poll")
		return
	}
	d.notReady.Store(waiting)
}

// waitingFor says which sources have not yet had a successful poll, with
// their last error; "" when none (and at least one source is known).
func (d *Daemon) waitingFor() string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if len(d.health) == 0 {
		return "waiting for the sources to start"
	}
	var names []string
	for n, h := range d.health {
		if h.lastSuccess.IsZero() {
			w := n
			if h.lastError != "" {
				w += " (last error: " + h.lastError + ")"
			}
			names = append(names, w)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return "waiting for the first successful poll of " + strings.Join(names, ", ")
}

// completeTime is the instant up to which every job source has delivered
// its records: running jobs are counted up to it and no further, so that a
// job seen running is never counted past a time at which it might already
// have ended (the counters could then go down).
//
// A source that has made no claim yet (a dump in the middle of its first
// file: the rest can hold records of any time) is left out; with no claim
// at all the time is zero and no counter is published.
//
// A source that will deliver nothing more (a finished dump) does not hold
// the others back; when every source is finished, the latest of their times
// counts.
func (d *Daemon) completeTime() time.Time {
	var t, finished time.Time
	for name, c := range d.complete {
		if c.IsZero() {
			continue
		}
		if d.done[name] {
			if c.After(finished) {
				finished = c
			}
			continue
		}
		if t.IsZero() || c.Before(t) {
			t = c
		}
	}
	if t.IsZero() {
		return finished
	}
	return t
}

// publisher keeps what publishing carries from one snapshot to the next:
// the builder's counters and the decisions of the pending jobs.
type publisher struct {
	// mu makes one build at a time.
	mu sync.Mutex
	b  *build.Builder
	// decided are the pending jobs' decisions, by source and fingerprint:
	// a pending job is classified when it first appears or changes, not
	// on every snapshot. rt is the runtime they were made with.
	decided map[string]classify.Class
	rt      *Runtime
}

// buildSnapshot builds the figures of now. The daemon's lock is held for
// writing only to advance countedTo; the build itself reads the engine
// under the read lock, so that polls wait for it but queries do not.
func (d *Daemon) buildSnapshot() (*snapshot.Snapshot, error) {
	rt := d.rt.Load()
	now := d.now()
	p := &d.pub
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.b == nil {
		p.b = build.New()
	}
	d.mu.Lock()
	// The counters hold everything up to complete. It never moves back: a
	// source that a reload adds, or a dump file older than those before it,
	// claims an earlier time, and counting up to it would lower the
	// counters. Their running jobs are cut at their own claim instead
	// (capRunning), so that nothing counted up to here is taken back.
	complete := d.completeTime()
	if complete.Before(d.countedTo) {
		complete = d.countedTo
	}
	d.countedTo = complete
	d.mu.Unlock()

	d.mu.RLock()
	defer d.mu.RUnlock()
	inv := rt.Inventory
	if inv == nil {
		inv = d.nodeInventory(rt)
	}
	in := &build.Inputs{Now: now, Complete: complete, Origin: d.origin, Engine: d.mem, Inventory: inv,
		AccountLabel: rt.Config.Metrics.AccountLabel, Config: d.lastReload, Quarantined: float64(len(d.quarantined)),
		RuleHits: ruleHits(rt.Rules, d.mem), Pending: d.pendingInputs(rt, inv), DeviceOrigin: deviceOrigin(rt.Table)}
	for _, w := range rt.Config.Metrics.Windows {
		in.Windows = append(in.Windows, build.Window{Label: WindowLabel(w), Length: w})
	}
	if d.nodes != nil && len(d.nodes.sums) > 0 {
		in.NodeCapacity = d.nodes.capacity()
	}
	if d.nodes != nil && len(d.nodes.last) > 0 {
		in.PolledNodes = d.nodes.states(rt.Table)
	}
	in.NodesAt = d.completeTime()
	if in.NodesAt.IsZero() {
		in.NodesAt = now
	}
	in.Sources = d.sourceHealth(now)
	s, err := p.b.Build(in)
	if err != nil {
		return nil, err
	}
	s.Origins = deviceOrigins(rt.Table, inv, d.storeDevices())
	return s, nil
}

// sourceHealth is the health of every source, by name.
func (d *Daemon) sourceHealth(now time.Time) []snapshot.SourceHealth {
	names := make([]string, 0, len(d.health))
	for n := range d.health {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]snapshot.SourceHealth, 0, len(names))
	for _, n := range names {
		h := d.health[n]
		sh := snapshot.SourceHealth{Name: n, Kind: h.kind, Up: h.up, LastSuccess: h.lastSuccess, LastRecord: h.lastRecord,
			Records: map[string]float64{}, PollSeconds: h.pollSeconds, PollCount: h.polls, Failures: h.failures, LastError: h.lastError}
		for k, v := range h.records {
			sh.Records[k] = v
		}
		// A finished source (every dump file imported) trails nothing: its
		// claim is the time of its newest file, however old that is.
		if c, ok := d.complete[n]; ok && !d.done[n] {
			sh.Lag = now.Sub(c)
		}
		out = append(out, sh)
	}
	return out
}

// pendingInputs resolves the pending jobs of every source to their
// cluster, first partition and devices, with their decisions: those of
// jobs seen before and unchanged are kept, the others classified now.
func (d *Daemon) pendingInputs(rt *Runtime, inv *capacity.Inventory) []build.Pending {
	p := &d.pub
	if p.rt != rt {
		p.rt, p.decided = rt, nil
	}
	decided := make(map[string]classify.Class, len(p.decided))
	var out []build.Pending
	srcs := make([]string, 0, len(d.pending))
	for name := range d.pending {
		srcs = append(srcs, name)
	}
	sort.Strings(srcs)
	for _, name := range srcs {
		for _, r := range d.pending[name] {
			fp := name + "\x00" + fingerprint(r)
			class, ok := p.decided[fp]
			if !ok {
				class = rt.Classer.Classify(r).Class
			}
			decided[fp] = class
			cl := r.Cluster
			if cl == "" {
				cl = rt.Config.Cluster
			}
			part := r.Partition
			if i := strings.IndexByte(part, ','); i >= 0 {
				part = part[:i] // a job pending on several partitions counts in the first
			}
			pj := build.Pending{Cluster: cl, Partition: part, Account: r.Account, User: r.User, Class: class,
				Submit: r.Submit, Eligible: r.Eligible, Cores: r.Cores, Nodes: r.Nodes}
			for _, a := range r.Accels {
				if dv, res := rt.Table.Lookup(a.Name, a.Type); res == accel.Accelerator {
					pj.Devices = append(pj.Devices, build.DeviceCount{Device: inv.ResolveDevice(cl, part, dv), Count: a.Count})
				}
			}
			out = append(out, pj)
		}
	}
	p.decided = decided
	return out
}

// fingerprint names a pending record with everything the classifier
// reads: the same fingerprint, the same decision.
func fingerprint(r *job.Record) string {
	var b strings.Builder
	for _, s := range []string{r.Cluster, r.JobID, r.RawID, r.Name, r.User, r.Group, r.Account, r.Partition, r.QOS, r.WCKey,
		r.Comment, r.SubmitLine, r.WorkDir, r.NodeList, r.StateRaw, r.ExitCode} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	b.WriteString(strconv.FormatInt(r.Cores, 10))
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(r.Nodes, 10))
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(int64(r.Timelimit), 10))
	b.WriteByte(0)
	b.WriteString(strconv.FormatBool(r.Unlimited))
	for _, v := range []int64{int64(r.State), r.Submit.Unix(), r.Eligible.Unix(), int64(len(r.Steps))} {
		b.WriteByte(0)
		b.WriteString(strconv.FormatInt(v, 10))
	}
	for _, a := range r.Accels {
		b.WriteByte(0)
		b.WriteString(a.Name)
		b.WriteByte(':')
		b.WriteString(a.Type)
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(a.Count, 10))
	}
	return b.String()
}
