// Package capacity models what a center has to sell: clusters made of node
// groups (identical nodes, whose number may change on given dates), the
// partitions that expose them, and the billing weights that turn cores and
// accelerators into one unit. It integrates that inventory over any time
// interval, so that utilization = allocated / capacity is exact even when
// nodes are added or retired inside the window.
//
// A node group belongs to one or more partitions; cluster totals count each
// node group once, partition totals count every group of the partition.
package capacity

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
)

// Basis names a resource in which utilization is stated.
type Basis string

// The bases.
const (
	BasisCores       Basis = "cpu"
	BasisAccelerator Basis = "accelerator"
	BasisBilling     Basis = "billing"
	BasisNodes       Basis = "nodes"
)

// Bounds of an inventory. They sit far above any machine built, and low
// enough that a capacity integrated over any window the engine can hold
// (up to 2^33 seconds) fits in an int64: a cluster's cores or accelerators
// (at most MaxTotal) times 2^33 seconds stays below 2^63.
const (
	// MaxGroupNodes bounds the nodes of one node group.
	MaxGroupNodes = 1 << 24
	// MaxNodeCores bounds the cores of one node.
	MaxNodeCores = 1 << 20
	// MaxNodeAccels bounds the accelerators of one kind on one node.
	MaxNodeAccels = 1 << 16
	// MaxTotal bounds the nodes, the cores and the accelerators of the
	// whole inventory, each counted at its largest over time.
	MaxTotal = 1 << 30
	// MaxWeight bounds a billing weight, so that billing capacities stay
	// finite numbers.
	MaxWeight = 1e9
)

// CheckWeight refuses a billing weight that is not a finite, non-negative
// number: a NaN weight makes every billing figure NaN, a negative one
// lets AI jobs exceed all jobs.
func CheckWeight(w float64) error {
	switch {
	case math.IsNaN(w):
		return errors.New("NaN is not a billing weight")
	case math.IsInf(w, 0):
		return fmt.Errorf("%v is not a billing weight", w)
	case w < 0:
		return fmt.Errorf("%v is negative", w)
	case w > MaxWeight:
		return fmt.Errorf("%v is above the bound of %v", w, float64(MaxWeight))
	}
	return nil
}

// Inventory is the capacity of one or more clusters.
type Inventory struct {
	Clusters []*Cluster
	// Source says where the inventory came from, for reports.
	Source string
	// AccelRules are the inventory's own GRES mappings, tried before the
	// defaults; jobs must be mapped with the same rules as the capacity.
	AccelRules []accel.Rule
}

// Cluster is one scheduler's machine.
type Cluster struct {
	Name     string
	Location *time.Location
	// Primary is the basis of the headline figure: billing when weights
	// are given, cores otherwise, unless the inventory names one.
	Primary    Basis
	NodeGroups []*NodeGroup
	Partitions []*Partition
	// DefaultWeights bill jobs of partitions the inventory does not list.
	DefaultWeights Weights
}

// NodeGroup is a set of identical nodes.
type NodeGroup struct {
	Name  string
	Cores int64
	// Accels are the accelerators of one node.
	Accels []Accel
	// Steps give the node count over time, sorted by From; the first
	// step's From is the zero time (since always).
	Steps []Step
}

// Accel is a count of one accelerator device per node.
type Accel struct {
	Device accel.Device
	// GRES is the scheduler's name and type ("gpu:a100"), kept for billing
	// weights written against it.
	GRESName, GRESType string
	Count              int64
}

// Step says that from From on the group has Nodes nodes.
type Step struct {
	From  time.Time
	Nodes int64
}

// Partition exposes node groups to jobs.
type Partition struct {
	Name       string
	NodeGroups []*NodeGroup
	Weights    Weights
	// ForcedAccelerators says the scheduler puts an accelerator on every
	// job of the partition, so that holding one is no evidence of AI.
	ForcedAccelerators bool
}

// Weights are billing weights per resource, like Slurm's
// TRESBillingWeights: "cpu", "node", "gres/<name>" and the more specific
// "gres/<name>:<type>", which wins over the untyped weight.
type Weights map[string]float64

// Empty reports whether no weight is set.
func (w Weights) Empty() bool { return len(w) == 0 }

// Accel returns the weight of one accelerator of the given GRES name and type.
func (w Weights) Accel(name, typ string) float64 {
	if typ != "" {
		if v, ok := w["gres/"+name+":"+typ]; ok {
			return v
		}
	}
	return w["gres/"+name]
}

// Billing returns the billing units of a set of resources under w.
func (w Weights) Billing(cores, nodes int64, accels []Accel) float64 {
	b := w["cpu"]*float64(cores) + w["node"]*float64(nodes)
	for _, a := range accels {
		b += w.Accel(a.GRESName, a.GRESType) * float64(a.Count)
	}
	return b
}

// NodesAt returns the node count at instant t.
func (g *NodeGroup) NodesAt(t time.Time) int64 {
	n := int64(0)
	for _, s := range g.Steps {
		if s.From.After(t) {
			break
		}
		n = s.Nodes
	}
	return n
}

// NodeSeconds integrates the node count over [from, to).
func (g *NodeGroup) NodeSeconds(from, to time.Time) int64 {
	if !to.After(from) {
		return 0
	}
	var total int64
	for i, s := range g.Steps {
		a := s.From
		var b time.Time
		if i+1 < len(g.Steps) {
			b = g.Steps[i+1].From
		}
		if a.Before(from) {
			a = from
		}
		if b.IsZero() || b.After(to) {
			b = to
		}
		if b.After(a) {
			total += s.Nodes * int64(b.Sub(a)/time.Second)
		}
	}
	return total
}

// Totals are capacity resource-seconds over an interval.
type Totals struct {
	NodeSeconds    int64
	CoreSeconds    int64
	AccelSeconds   int64
	BillingSeconds float64
	// ByDevice splits AccelSeconds by device.
	ByDevice map[accel.Device]int64
	// ByGRES splits accelerator seconds by GRES name and type, for billing.
	ByGRES map[string]int64
}

func (t *Totals) add(g *NodeGroup, w Weights, nodeSec int64) {
	t.NodeSeconds += nodeSec
	t.CoreSeconds += nodeSec * g.Cores
	t.BillingSeconds += float64(nodeSec) * w.Billing(g.Cores, 1, g.Accels)
	for _, a := range g.Accels {
		s := nodeSec * a.Count
		t.AccelSeconds += s
		if t.ByDevice == nil {
			t.ByDevice = map[accel.Device]int64{}
		}
		t.ByDevice[a.Device] += s
	}
}

// Add sums another Totals into t.
func (t *Totals) Add(o Totals) {
	t.NodeSeconds += o.NodeSeconds
	t.CoreSeconds += o.CoreSeconds
	t.AccelSeconds += o.AccelSeconds
	t.BillingSeconds += o.BillingSeconds
	for d, s := range o.ByDevice {
		if t.ByDevice == nil {
			t.ByDevice = map[accel.Device]int64{}
		}
		t.ByDevice[d] += s
	}
}

// Total integrates the whole cluster over [from, to), each node group
// once, billed with the weights of the first partition that lists it.
func (c *Cluster) Total(from, to time.Time) Totals {
	var t Totals
	for _, g := range c.NodeGroups {
		t.add(g, c.weightsOf(g), g.NodeSeconds(from, to))
	}
	return t
}

// PartitionTotal integrates one partition over [from, to).
func (c *Cluster) PartitionTotal(p *Partition, from, to time.Time) Totals {
	var t Totals
	for _, g := range p.NodeGroups {
		t.add(g, p.Weights, g.NodeSeconds(from, to))
	}
	return t
}

func (c *Cluster) weightsOf(g *NodeGroup) Weights {
	for _, p := range c.Partitions {
		for _, pg := range p.NodeGroups {
			if pg == g {
				return p.Weights
			}
		}
	}
	return c.DefaultWeights
}

// Partition returns the named partition, or nil.
func (c *Cluster) Partition(name string) *Partition {
	for _, p := range c.Partitions {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// WeightsFor returns the billing weights of a partition, or the cluster's
// default weights when the partition is unknown.
func (c *Cluster) WeightsFor(partition string) Weights {
	if p := c.Partition(partition); p != nil {
		return p.Weights
	}
	return c.DefaultWeights
}

// HasWeights reports whether any billing weight is configured.
func (c *Cluster) HasWeights() bool {
	if !c.DefaultWeights.Empty() {
		return true
	}
	for _, p := range c.Partitions {
		if !p.Weights.Empty() {
			return true
		}
	}
	return false
}

// Cluster returns the named cluster, or nil.
func (inv *Inventory) Cluster(name string) *Cluster {
	for _, c := range inv.Clusters {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Primary returns the headline basis of the inventory: the basis of its
// clusters when they agree, cores otherwise.
func (inv *Inventory) Primary() Basis {
	var b Basis
	for i, c := range inv.Clusters {
		if i == 0 {
			b = c.Primary
		} else if c.Primary != b {
			return BasisCores
		}
	}
	if b == "" {
		return BasisCores
	}
	return b
}

// Validate checks the inventory's internal consistency and fills in
// defaults: a cluster without partitions gets one per node group, steps
// are sorted, the primary basis is chosen.
func (inv *Inventory) Validate() error {
	seen := map[string]bool{}
	var totNodes, totCores, totAccels int64
	for _, c := range inv.Clusters {
		if c.Name == "" {
			return fmt.Errorf("a cluster has no name")
		}
		if seen[c.Name] {
			return fmt.Errorf("cluster %q is listed twice", c.Name)
		}
		seen[c.Name] = true
		if c.Location == nil {
			c.Location = time.UTC
		}
		groups := map[string]bool{}
		for _, g := range c.NodeGroups {
			if groups[g.Name] {
				return fmt.Errorf("cluster %s: node group %q is listed twice", c.Name, g.Name)
			}
			groups[g.Name] = true
			if g.Cores < 0 || g.Cores > MaxNodeCores {
				return fmt.Errorf("cluster %s: node group %s: cores %d is out of range (0 to %d)", c.Name, g.Name, g.Cores, MaxNodeCores)
			}
			sort.SliceStable(g.Steps, func(i, j int) bool { return g.Steps[i].From.Before(g.Steps[j].From) })
			var most int64
			for _, s := range g.Steps {
				if s.Nodes < 0 || s.Nodes > MaxGroupNodes {
					return fmt.Errorf("cluster %s: node group %s: node count %d is out of range (0 to %d)", c.Name, g.Name, s.Nodes, MaxGroupNodes)
				}
				most = max(most, s.Nodes)
			}
			// Each factor is bounded, so the products below cannot wrap.
			totNodes += most
			totCores += most * g.Cores
			for _, a := range g.Accels {
				if a.Count < 0 || a.Count > MaxNodeAccels {
					return fmt.Errorf("cluster %s: node group %s: %s count %d is out of range (0 to %d)", c.Name, g.Name, a.Device.Kind, a.Count, MaxNodeAccels)
				}
				totAccels += most * a.Count
			}
			if totNodes > MaxTotal || totCores > MaxTotal || totAccels > MaxTotal {
				return fmt.Errorf("cluster %s: node group %s: the inventory's nodes, cores or accelerators pass %d", c.Name, g.Name, int64(MaxTotal))
			}
		}
		if len(c.Partitions) == 0 {
			for _, g := range c.NodeGroups {
				c.Partitions = append(c.Partitions, &Partition{Name: g.Name, NodeGroups: []*NodeGroup{g}, Weights: c.DefaultWeights})
			}
		}
		if err := checkWeights(c.DefaultWeights); err != nil {
			return fmt.Errorf("cluster %s: billing weight %w", c.Name, err)
		}
		parts := map[string]bool{}
		for _, p := range c.Partitions {
			if parts[p.Name] {
				return fmt.Errorf("cluster %s: partition %q is listed twice", c.Name, p.Name)
			}
			parts[p.Name] = true
			if err := checkWeights(p.Weights); err != nil {
				return fmt.Errorf("cluster %s: partition %s: billing weight %w", c.Name, p.Name, err)
			}
		}
		if c.Primary == "" {
			if c.HasWeights() {
				c.Primary = BasisBilling
			} else {
				c.Primary = BasisCores
			}
		}
		switch c.Primary {
		case BasisCores, BasisAccelerator, BasisBilling, BasisNodes:
		default:
			return fmt.Errorf("cluster %s: primary basis %q is not one of cpu, accelerator, billing, nodes", c.Name, c.Primary)
		}
		if c.Primary == BasisBilling && !c.HasWeights() {
			return fmt.Errorf("cluster %s: primary basis is billing but no billing weights are given", c.Name)
		}
	}
	return nil
}

func checkWeights(w Weights) error {
	names := make([]string, 0, len(w))
	for k := range w {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := CheckWeight(w[k]); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// Devices returns every accelerator device of the inventory, sorted.
func (inv *Inventory) Devices() []accel.Device {
	set := map[accel.Device]bool{}
	for _, c := range inv.Clusters {
		for _, g := range c.NodeGroups {
			for _, a := range g.Accels {
				set[a.Device] = true
			}
		}
	}
	out := make([]accel.Device, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return strings.Compare(out[i].Model, out[j].Model) < 0
	})
	return out
}

// ResolveDevice resolves an untyped request ("--gres=gpu:2", a device with
// a kind but no model) to the one model of that kind the partition has, as
// the scheduler will allocate it. A typed device, an unknown partition, or
// one with several or no models of the kind, keeps d. A nil inventory
// resolves nothing.
func (inv *Inventory) ResolveDevice(cluster, partition string, d accel.Device) accel.Device {
	if d.Model != "" || inv == nil {
		return d
	}
	c := inv.Cluster(cluster)
	if c == nil {
		return d
	}
	p := c.Partition(partition)
	if p == nil {
		return d
	}
	var found []accel.Device
	for _, g := range p.NodeGroups {
		for _, a := range g.Accels {
			if a.Device.Kind == d.Kind && !slices.Contains(found, a.Device) {
				found = append(found, a.Device)
			}
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return d
}

// ForcedPartitions names the partitions marked forced_accelerators, where
// an accelerator is put on every job. A nil inventory has none.
func (inv *Inventory) ForcedPartitions() []string {
	if inv == nil {
		return nil
	}
	var out []string
	for _, c := range inv.Clusters {
		for _, p := range c.Partitions {
			if p.ForcedAccelerators && !slices.Contains(out, p.Name) {
				out = append(out, p.Name)
			}
		}
	}
	return out
}
