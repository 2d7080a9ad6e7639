package build

import (
	"cmp"
	"slices"
	"sort"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

func sortStrings(s []string) { sort.Strings(s) }

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
		kind, model := DevName(dv)
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
	slices.SortFunc(out, func(a, b snapshot.Current) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Class, b.Class))
	})
	return out
}

// stagePresent publishes the present: running jobs (from the counters'
// set of active allocations, not a pass over every one), pending demand
// and node states.
func stagePresent(b *Builder, in *Inputs, s *snapshot.Snapshot) error {
	var running []uint32
	if c := b.c; c != nil {
		eng := c.eng
		jobs := eng.Jobs()
		m := map[curKey]*snapshot.Current{}
		for i := range c.active {
			j := &jobs[i]
			if j.Start == 0 || j.End != usage.OpenEnd {
				continue
			}
			running = append(running, i)
			devs := map[accel.Device]float64{}
			for _, dc := range eng.JobDevices(int(i)) {
				if dv := eng.Device(dc.Device); dv.Known {
					devs[dv.Device] += float64(dc.Count)
				}
			}
			addCurrent(m, curKey{eng.Label(uint32(j.Cluster)), eng.Label(uint32(j.Partition)), j.Class.String()}, float64(j.Cores), devs)
		}
		s.Running = flatten(m)
	}
	pm := map[curKey]*snapshot.Current{}
	for _, p := range in.Pending {
		devs := map[accel.Device]float64{}
		for _, d := range p.Devices {
			devs[d.Device] += float64(d.Count)
		}
		addCurrent(pm, curKey{p.Cluster, p.Partition, p.Class.String()}, float64(p.Cores), devs)
	}
	s.Pending = flatten(pm)
	for _, c := range s.Running {
		b.labels.part(c.Cluster, c.Partition)
	}
	for _, c := range s.Pending {
		b.labels.part(c.Cluster, c.Partition)
	}
	if in.PolledNodes != nil {
		s.Nodes = in.PolledNodes
	} else if in.Inventory != nil {
		s.Nodes = b.inventoryNodes(in, s.Running, running)
	}
	return nil
}

// inventoryNodes counts nodes, cores and accelerators by state now from
// the inventory, with the running jobs' resources allocated and the rest
// idle.
func (b *Builder) inventoryNodes(in *Inputs, running []snapshot.Current, runIdx []uint32) []snapshot.NodeState {
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
		kind, model := DevName(dv)
		for i := range n.Accel {
			if n.Accel[i].Kind == kind && n.Accel[i].Model == model {
				n.Accel[i].Seconds += v
				return
			}
		}
		n.Accel = append(n.Accel, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: v})
	}
	now := in.NodesAt
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
	for _, c := range in.Inventory.Clusters {
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
	if b.c != nil {
		eng := b.c.eng
		eng.LiveNodes(func(cl, part string) {
			busyNodes[[2]string{cl, owner[[2]string{cl, part}]}]++
		})
		jobs := eng.Jobs()
		for _, i := range runIdx {
			j := &jobs[i]
			if j.Nodes > 0 && eng.Unlisted(int(i)) {
				cl, part := eng.Label(uint32(j.Cluster)), eng.Label(uint32(j.Partition))
				busyNodes[[2]string{cl, owner[[2]string{cl, part}]}] += float64(j.Nodes)
			}
		}
	}
	for _, c := range in.Inventory.Clusters {
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
				kind, model := DevName(dv)
				u := min(runAccel[[4]string{c.Name, p.Name, kind, model}], total)
				addAccel(get(key{c.Name, p.Name, snapshot.StateAllocated}), dv, u)
				addAccel(get(key{c.Name, p.Name, snapshot.StateIdle}), dv, total-u)
			}
		}
	}
	out := make([]snapshot.NodeState, 0, len(m))
	for _, n := range m {
		sortAccel(n.Accel)
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b snapshot.NodeState) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.State, b.State))
	})
	return out
}
