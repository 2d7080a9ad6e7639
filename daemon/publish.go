package daemon

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
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

func devName(d accel.Device) (kind, model string) {
	kind, model = d.Kind, d.Model
	if model == "" {
		model = kind + " (unspecified)"
	}
	return kind, model
}

func (d *Daemon) buildSnapshot() (*snapshot.Snapshot, error) {
	rt := d.rt.Load()
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
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
	s := &snapshot.Snapshot{Time: now, Complete: complete, RuleHits: ruleHits(rt.Rules, d.mem), Config: d.lastReload}
	inv := rt.Inventory
	if inv == nil {
		inv = d.nodeInventory(rt)
	}

	parts := map[snapshot.ClusterPartition]bool{}
	devs := map[snapshot.Device]bool{}
	clusters := map[string]bool{}
	if inv != nil {
		for _, c := range inv.Clusters {
			clusters[c.Name] = true
			for _, p := range c.Partitions {
				parts[snapshot.ClusterPartition{Cluster: c.Name, Partition: p.Name}] = true
				for _, g := range p.NodeGroups {
					for _, a := range g.Accels {
						k, m := devName(a.Device)
						devs[snapshot.Device{Cluster: c.Name, Partition: p.Name, Kind: k, Model: m}] = true
					}
				}
			}
		}
	}

	// Counters: everything held from the start of history to complete.
	if !complete.IsZero() && d.mem.Len() > 0 {
		by := []usage.Key{usage.KeyCluster, usage.KeyPartition, usage.KeyClass}
		if rt.Config.Metrics.AccountLabel {
			by = append(by, usage.KeyAccount)
		}
		res, err := d.mem.Compute(usage.Query{From: time.Unix(1, 0), To: complete, By: by, Inventory: inv})
		if err != nil {
			return nil, fmt.Errorf("allocated counters: %w", err)
		}
		byKey := map[string]*snapshot.Allocated{}
		for _, g := range res.Groups {
			cl, part, class := g.Values[0], g.Values[1], g.Values[2]
			acct := ""
			if len(g.Values) > 3 {
				acct = g.Values[3]
			}
			clusters[cl] = true
			parts[snapshot.ClusterPartition{Cluster: cl, Partition: part}] = true
			tot := g.Allocated.Total()
			a := &snapshot.Allocated{Cluster: cl, Partition: part, Account: acct, Class: class,
				CoreSeconds:    d.monotone("c|"+cl+"|"+part+"|"+acct+"|"+class, float64(tot.CoreSeconds)),
				NodeSeconds:    d.monotone("n|"+cl+"|"+part+"|"+acct+"|"+class, float64(tot.NodeSeconds)),
				BillingSeconds: d.monotone("b|"+cl+"|"+part+"|"+acct+"|"+class, tot.BillingSeconds)}
			byKey[cl+"|"+part+"|"+acct+"|"+class] = a
			s.Allocated = append(s.Allocated, *a)
		}
		// Accelerator-seconds by device, with the same monotone guard.
		dres, err := d.mem.Compute(usage.Query{From: time.Unix(1, 0), To: complete, By: append(slices.Clone(by), usage.KeyKind, usage.KeyModel)})
		if err != nil {
			return nil, fmt.Errorf("accelerator counters: %w", err)
		}
		accels := map[string][]snapshot.AccelSeconds{}
		for _, g := range dres.Groups {
			n := len(g.Values)
			kind, model := g.Values[n-2], g.Values[n-1]
			if kind == "none" || kind == "unmapped" {
				continue
			}
			var base string
			if len(by) == 3 {
				base = g.Values[0] + "|" + g.Values[1] + "||" + g.Values[2]
			} else {
				base = g.Values[0] + "|" + g.Values[1] + "|" + g.Values[3] + "|" + g.Values[2]
			}
			sec := float64(g.Allocated.Total().AccelSeconds)
			accels[base] = append(accels[base], snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: d.monotone("a|"+base+"|"+kind+"|"+model, sec)})
			devs[snapshot.Device{Cluster: g.Values[0], Partition: g.Values[1], Kind: kind, Model: model}] = true
		}
		for i := range s.Allocated {
			a := &s.Allocated[i]
			a.Accel = accels[a.Cluster+"|"+a.Partition+"|"+a.Account+"|"+a.Class]
		}
		// Node occupancy: a node shared by several jobs counts once.
		for cl, sec := range d.mem.Occupied(time.Unix(1, 0), complete) {
			clusters[cl] = true
			s.Occupied = append(s.Occupied, snapshot.Occupied{Cluster: cl, NodeSeconds: d.monotone("o|"+cl, float64(sec))})
		}
		sort.Slice(s.Occupied, func(i, j int) bool { return s.Occupied[i].Cluster < s.Occupied[j].Cluster })
	}
	s.Quarantined = float64(len(d.quarantined))

	// Capacity counters by state.
	s.Capacity = d.capacityCounters(rt, complete)
	s.Idle, s.Demand = d.idleCounters(rt, inv, complete)
	s.Origins = deviceOrigins(rt.Table, inv, d.storeDevices())
	s.Friction = d.frictionCounters(rt, inv, complete)

	// Trailing windows.
	if !complete.IsZero() && inv != nil {
		basis := map[string]capacity.Basis{}
		for _, c := range inv.Clusters {
			basis[c.Name] = c.Primary
		}
		for _, w := range rt.Config.Metrics.Windows {
			res, err := d.mem.Compute(usage.Query{From: complete.Add(-w), To: complete, By: []usage.Key{usage.KeyCluster}, Inventory: inv})
			if err != nil {
				return nil, fmt.Errorf("window %s: %w", w, err)
			}
			r := report.Build(res, report.Meta{By: []usage.Key{usage.KeyCluster}})
			label := WindowLabel(w)
			seen := map[string]bool{}
			for _, g := range r.Groups {
				cl := g.Keys["cluster"]
				seen[cl] = true
				s.Windows = append(s.Windows, windowFigures(cl, label, &g.Figures)...)
				if b, ok := basis[cl]; ok {
					h := report.HeadlineFor(b, &g.Figures)
					s.Headline = append(s.Headline, snapshot.Headline{Cluster: cl, Window: label, Basis: string(h.Basis), Utilization: h.Utilization, AIShare: h.AIShare})
				}
			}
			for _, c := range inv.Clusters {
				if !seen[c.Name] {
					s.Windows = append(s.Windows, windowFigures(c.Name, label, &report.Figures{})...)
					s.Headline = append(s.Headline, snapshot.Headline{Cluster: c.Name, Window: label, Basis: string(c.Primary)})
				}
			}
		}
	}

	// The present: running jobs, pending demand, node states.
	s.Running = d.running(rt)
	s.Pending = d.pendingDemand(rt)
	for _, c := range s.Running {
		parts[snapshot.ClusterPartition{Cluster: c.Cluster, Partition: c.Partition}] = true
	}
	for _, c := range s.Pending {
		parts[snapshot.ClusterPartition{Cluster: c.Cluster, Partition: c.Partition}] = true
	}
	s.Nodes = d.nodeStates(rt, s.Running)

	// Health.
	names := make([]string, 0, len(d.health))
	for n := range d.health {
		names = append(names, n)
	}
	sort.Strings(names)
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
		s.Sources = append(s.Sources, sh)
	}

	for c := range clusters {
		s.Clusters = append(s.Clusters, c)
	}
	sort.Strings(s.Clusters)
	for p := range parts {
		s.Partitions = append(s.Partitions, p)
	}
	sort.Slice(s.Partitions, func(i, j int) bool {
		a, b := s.Partitions[i], s.Partitions[j]
		return a.Cluster < b.Cluster || (a.Cluster == b.Cluster && a.Partition < b.Partition)
	})
	for dv := range devs {
		s.Devices = append(s.Devices, dv)
	}
	sort.Slice(s.Devices, func(i, j int) bool {
		a, b := s.Devices[i], s.Devices[j]
		return strings.Join([]string{a.Cluster, a.Partition, a.Kind, a.Model}, "\x00") < strings.Join([]string{b.Cluster, b.Partition, b.Kind, b.Model}, "\x00")
	})
	return s, nil
}

// monotone returns v, or the value last published under key when v is
// lower: a counter never goes down within a process. A lower value means a
// record shrank (a clock step, a corrected record); it is logged.
func (d *Daemon) monotone(key string, v float64) float64 {
	if prev, ok := d.published[key]; ok && v < prev {
		if prev-v > 1 {
			d.log.Warn("counter would decrease; kept", "series", key, "was", prev, "now", v)
		}
		return prev
	}
	d.published[key] = v
	return v
}

// windowFigures turns a window's figures into gauges. A ratio without a
// denominator (no accelerators in a CPU-only cluster, nothing allocated)
// is NaN, not 0: 0 would read as "idle" and trip utilization alerts.
func windowFigures(cluster, window string, f *report.Figures) []snapshot.Window {
	w := func(resource string, r report.Resource, share, upper float64) snapshot.Window {
		out := snapshot.Window{Cluster: cluster, Resource: resource, Window: window, Utilization: r.Utilization, AIShare: share, AIShareUpper: upper}
		if r.CapacityHours <= 0 {
			out.Utilization = math.NaN()
		}
		if r.AllocatedHours <= 0 {
			out.AIShare, out.AIShareUpper = math.NaN(), math.NaN()
		}
		return out
	}
	return []snapshot.Window{
		w(snapshot.ResourceCPU, f.CPU, f.AIShare.CPU, f.AIShare.CPUUpper),
		w(snapshot.ResourceAccelerator, f.Accelerator.Resource, f.AIShare.Accelerator, f.AIShare.AcceleratorUpper),
		w(snapshot.ResourceBilling, f.Billing, f.AIShare.Billing, f.AIShare.BillingUpper),
		// Node occupancy over node capacity; no AI share on nodes.
		w(snapshot.ResourceNodes, f.Nodes, math.NaN(), math.NaN()),
	}
}

// capacityCounters returns the capacity-seconds by state: from node polls
// when a node source runs, otherwise from the inventory since the first
// allocation, with allocated from the jobs and the rest idle.
func (d *Daemon) capacityCounters(rt *Runtime, complete time.Time) []snapshot.Capacity {
	var out []snapshot.Capacity
	if d.nodes != nil && len(d.nodes.sums) > 0 {
		keys := make([]capKey, 0, len(d.nodes.sums))
		for k := range d.nodes.sums {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].cluster+"\x00"+keys[i].partition+"\x00"+keys[i].state < keys[j].cluster+"\x00"+keys[j].partition+"\x00"+keys[j].state
		})
		for _, k := range keys {
			sum := d.nodes.sums[k]
			c := snapshot.Capacity{Cluster: k.cluster, Partition: k.partition, State: k.state, CoreSeconds: sum.coreSeconds, BillingSeconds: sum.billingSeconds}
			for dv, v := range sum.accel {
				kind, model := devName(dv)
				c.Accel = append(c.Accel, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: v})
			}
			sortAccel(c.Accel)
			out = append(out, c)
		}
		return out
	}
	inv := rt.Inventory
	if inv == nil || complete.IsZero() || d.origin.IsZero() || !complete.After(d.origin) {
		return nil
	}
	// Allocated per (cluster, partition) from the jobs over the same span.
	res, err := d.mem.Compute(usage.Query{From: d.origin, To: complete, By: []usage.Key{usage.KeyCluster, usage.KeyPartition, usage.KeyKind, usage.KeyModel}, Inventory: inv})
	if err != nil {
		return nil
	}
	allocCores := map[[2]string]float64{}
	allocBilling := map[[2]string]float64{}
	allocAccel := map[[4]string]float64{}
	for _, g := range res.Groups {
		t := g.Allocated.Total()
		allocCores[[2]string{g.Values[0], g.Values[1]}] += float64(t.CoreSeconds)
		allocBilling[[2]string{g.Values[0], g.Values[1]}] += t.BillingSeconds
		allocAccel[[4]string{g.Values[0], g.Values[1], g.Values[2], g.Values[3]}] += float64(t.AccelSeconds)
	}
	for _, c := range inv.Clusters {
		owner := map[*capacity.NodeGroup]string{}
		for _, p := range c.Partitions {
			for _, g := range p.NodeGroups {
				if _, ok := owner[g]; !ok {
					owner[g] = p.Name
				}
			}
		}
		totCores := map[string]float64{}
		totBilling := map[string]float64{}
		totAccel := map[string]map[accel.Device]float64{}
		for _, g := range c.NodeGroups {
			p := owner[g]
			ns := float64(g.NodeSeconds(d.origin, complete))
			totCores[p] += ns * float64(g.Cores)
			totBilling[p] += ns * c.WeightsFor(p).Billing(g.Cores, 1, g.Accels)
			if totAccel[p] == nil {
				totAccel[p] = map[accel.Device]float64{}
			}
			for _, a := range g.Accels {
				totAccel[p][a.Device] += ns * float64(a.Count)
			}
		}
		pnames := make([]string, 0, len(totCores))
		for p := range totCores {
			pnames = append(pnames, p)
		}
		sort.Strings(pnames)
		for _, p := range pnames {
			alloc := min(allocCores[[2]string{c.Name, p}], totCores[p])
			billing := min(allocBilling[[2]string{c.Name, p}], totBilling[p])
			var aAlloc, aIdle []snapshot.AccelSeconds
			for dv, total := range totAccel[p] {
				kind, model := devName(dv)
				used := min(allocAccel[[4]string{c.Name, p, kind, model}], total)
				aAlloc = append(aAlloc, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: used})
				aIdle = append(aIdle, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: total - used})
			}
			sortAccel(aAlloc)
			sortAccel(aIdle)
			out = append(out,
				snapshot.Capacity{Cluster: c.Name, Partition: p, State: snapshot.StateAllocated, CoreSeconds: d.monotone("ca|"+c.Name+"|"+p, alloc),
					BillingSeconds: d.monotone("cab|"+c.Name+"|"+p, billing), Accel: d.monotoneAccel("caa|"+c.Name+"|"+p, aAlloc)},
				snapshot.Capacity{Cluster: c.Name, Partition: p, State: snapshot.StateIdle, CoreSeconds: d.monotone("ci|"+c.Name+"|"+p, totCores[p]-alloc),
					BillingSeconds: d.monotone("cib|"+c.Name+"|"+p, totBilling[p]-billing), Accel: d.monotoneAccel("cia|"+c.Name+"|"+p, aIdle)},
			)
		}
	}
	return out
}

func (d *Daemon) monotoneAccel(prefix string, in []snapshot.AccelSeconds) []snapshot.AccelSeconds {
	for i := range in {
		in[i].Seconds = d.monotone(prefix+"|"+in[i].Kind+"|"+in[i].Model, in[i].Seconds)
	}
	return in
}

func sortAccel(a []snapshot.AccelSeconds) {
	sort.Slice(a, func(i, j int) bool { return a[i].Kind+"\x00"+a[i].Model < a[j].Kind+"\x00"+a[j].Model })
}

type curKey struct{ cluster, partition, class string }

func addCurrent(m map[curKey]*snapshot.Current, k curKey, cores float64, devs map[accel.Device]float64) {
	c := m[k]
	if c == nil {
		c = &snapshot.Current{Cluster: k.cluster, Partition: k.partition, Class: k.class}
		m[k] = c
	}
	c.Jobs++
	c.Cores += cores
	for dv, n := range devs {
		kind, model := devName(dv)
		found := false
		for i := range c.Accel {
			if c.Accel[i].Kind == kind && c.Accel[i].Model == model {
				c.Accel[i].Seconds += n
				found = true
			}
		}
		if !found {
			c.Accel = append(c.Accel, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: n})
		}
	}
}

func flatten(m map[curKey]*snapshot.Current) []snapshot.Current {
	out := make([]snapshot.Current, 0, len(m))
	for _, c := range m {
		sortAccel(c.Accel)
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Cluster+"\x00"+a.Partition+"\x00"+a.Class < b.Cluster+"\x00"+b.Partition+"\x00"+b.Class
	})
	return out
}

func (d *Daemon) running(rt *Runtime) []snapshot.Current {
	m := map[curKey]*snapshot.Current{}
	d.mem.Running(func(j *usage.Job, dcs []usage.DeviceCount) {
		devs := map[accel.Device]float64{}
		for _, dc := range dcs {
			if dv := d.mem.Device(dc.Device); dv.Known {
				devs[dv.Device] += float64(dc.Count)
			}
		}
		addCurrent(m, curKey{d.mem.Label(uint32(j.Cluster)), d.mem.Label(uint32(j.Partition)), j.Class.String()}, float64(j.Cores), devs)
	})
	return flatten(m)
}

func (d *Daemon) pendingDemand(rt *Runtime) []snapshot.Current {
	m := map[curKey]*snapshot.Current{}
	for _, list := range d.pending {
		for _, r := range list {
			cl := r.Cluster
			if cl == "" {
				cl = rt.Config.Cluster
			}
			part := r.Partition
			if i := strings.IndexByte(part, ','); i >= 0 {
				part = part[:i] // a job pending on several partitions counts in the first
			}
			devs := map[accel.Device]float64{}
			for _, a := range r.Accels {
				if dv, res := rt.Table.Lookup(a.Name, a.Type); res == accel.Accelerator {
					devs[rt.Inventory.ResolveDevice(cl, part, dv)] += float64(a.Count)
				}
			}
			addCurrent(m, curKey{cl, part, rt.Classer.Classify(r).Class.String()}, float64(r.Cores), devs)
		}
	}
	return flatten(m)
}

// nodeStates counts nodes, cores and accelerators by state now: from the
// last node poll when there is one, otherwise from the inventory with the
// running jobs' cores allocated and the rest idle.
func (d *Daemon) nodeStates(rt *Runtime, running []snapshot.Current) []snapshot.NodeState {
	type key struct{ cluster, partition, state string }
	m := map[key]*snapshot.NodeState{}
	get := func(k key) *snapshot.NodeState {
		n := m[k]
		if n == nil {
			n = &snapshot.NodeState{Cluster: k.cluster, Partition: k.partition, State: k.state}
			m[k] = n
		}
		return n
	}
	addAccel := func(n *snapshot.NodeState, dv accel.Device, v float64) {
		kind, model := devName(dv)
		for i := range n.Accel {
			if n.Accel[i].Kind == kind && n.Accel[i].Model == model {
				n.Accel[i].Seconds += v
				return
			}
		}
		n.Accel = append(n.Accel, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: v})
	}
	if d.nodes != nil && len(d.nodes.last) > 0 {
		for cl, snap := range d.nodes.last {
			for _, nd := range snap.Nodes {
				sh := shareOf(nd, rt.Table)
				alloc := get(key{cl, sh.partition, snapshot.StateAllocated})
				rest := get(key{cl, sh.partition, sh.rest})
				if sh.coresAlloc > 0 {
					alloc.Nodes++
				} else {
					rest.Nodes++
				}
				alloc.Cores += sh.coresAlloc
				rest.Cores += sh.coresRest
				for _, a := range sh.accels {
					addAccel(alloc, a.dev, a.used)
					addAccel(rest, a.dev, a.free)
				}
			}
		}
	} else if rt.Inventory != nil {
		now := d.completeTime()
		if now.IsZero() {
			now = d.now()
		}
		runCores := map[[2]string]float64{}
		runAccel := map[[4]string]float64{}
		for _, r := range running {
			runCores[[2]string{r.Cluster, r.Partition}] += r.Cores
			for _, a := range r.Accel {
				runAccel[[4]string{r.Cluster, r.Partition, a.Kind, a.Model}] += a.Seconds
			}
		}
		// Nodes held now: each node a running job's node list names counts
		// once (a node shared by several jobs is one busy node), under the
		// partition that counts the job partition's first node group; jobs
		// without a node list count their NNodes.
		owner := map[[2]string]string{}
		for _, c := range rt.Inventory.Clusters {
			first := map[*capacity.NodeGroup]string{}
			for _, p := range c.Partitions {
				for _, g := range p.NodeGroups {
					if _, ok := first[g]; !ok {
						first[g] = p.Name
					}
				}
			}
			for _, p := range c.Partitions {
				if len(p.NodeGroups) > 0 {
					owner[[2]string{c.Name, p.Name}] = first[p.NodeGroups[0]]
				}
			}
		}
		busyNodes := map[[2]string]float64{}
		d.mem.RunningNodes(func(cl, part string) {
			busyNodes[[2]string{cl, owner[[2]string{cl, part}]}]++
		}, func(cl, part string, n uint32) {
			busyNodes[[2]string{cl, owner[[2]string{cl, part}]}] += float64(n)
		})
		for _, c := range rt.Inventory.Clusters {
			seen := map[*capacity.NodeGroup]bool{}
			for _, p := range c.Partitions {
				var nodes, cores float64
				accels := map[accel.Device]float64{}
				for _, g := range p.NodeGroups {
					if seen[g] {
						continue
					}
					seen[g] = true
					n := float64(g.NodesAt(now))
					nodes += n
					cores += n * float64(g.Cores)
					for _, a := range g.Accels {
						accels[a.Device] += n * float64(a.Count)
					}
				}
				used := min(runCores[[2]string{c.Name, p.Name}], cores)
				get(key{c.Name, p.Name, snapshot.StateAllocated}).Cores += used
				get(key{c.Name, p.Name, snapshot.StateIdle}).Cores += cores - used
				busy := min(busyNodes[[2]string{c.Name, p.Name}], nodes)
				get(key{c.Name, p.Name, snapshot.StateAllocated}).Nodes += busy
				get(key{c.Name, p.Name, snapshot.StateIdle}).Nodes += nodes - busy
				for dv, total := range accels {
					kind, model := devName(dv)
					u := min(runAccel[[4]string{c.Name, p.Name, kind, model}], total)
					addAccel(get(key{c.Name, p.Name, snapshot.StateAllocated}), dv, u)
					addAccel(get(key{c.Name, p.Name, snapshot.StateIdle}), dv, total-u)
				}
			}
		}
	}
	out := make([]snapshot.NodeState, 0, len(m))
	for _, n := range m {
		sortAccel(n.Accel)
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Cluster+"\x00"+a.Partition+"\x00"+a.State < b.Cluster+"\x00"+b.Partition+"\x00"+b.State
	})
	return out
}

// nodeInventory derives the capacity from the last node polls when no
// capacity file is configured: the nodes as scontrol shows them now.
func (d *Daemon) nodeInventory(rt *Runtime) *capacity.Inventory {
	if d.nodes == nil || len(d.nodes.last) == 0 {
		return nil
	}
	inv := &capacity.Inventory{Source: "scontrol show node (last poll)"}
	names := make([]string, 0, len(d.nodes.last))
	for cl := range d.nodes.last {
		names = append(names, cl)
	}
	sort.Strings(names)
	for _, cl := range names {
		ni, err := collector.NodesInventory(d.nodes.last[cl].Nodes, collector.CapacityOptions{Cluster: cl, Location: rt.Location, Accels: rt.Table})
		if err != nil || len(ni.Clusters) == 0 {
			continue
		}
		inv.Clusters = append(inv.Clusters, ni.Clusters...)
	}
	if len(inv.Clusters) == 0 || inv.Validate() != nil {
		return nil
	}
	return inv
}
