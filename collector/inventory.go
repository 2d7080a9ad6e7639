package collector

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
)

func init() {
	registerCapacityFormat(CapacityFormat{
		Name:        "inventory",
		Description: "YAML inventory: clusters, node groups, partitions, billing weights, dated changes",
		Load: func(path string, opts CapacityOptions) (*capacity.Inventory, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, fmt.Errorf("read inventory: %w", err)
			}
			defer f.Close()
			return ParseInventory(f, path, opts)
		},
	})
}

// The inventory file, as decoded. Unknown keys are refused.
type inventoryFile struct {
	Clusters     []inventoryCluster `mapstructure:"clusters"`
	Accelerators []accel.Rule       `mapstructure:"accelerators"`
}

type inventoryCluster struct {
	Name           string               `mapstructure:"name"`
	Timezone       string               `mapstructure:"timezone"`
	Primary        string               `mapstructure:"primary"`
	BillingWeights map[string]float64   `mapstructure:"billing_weights"`
	NodeGroups     []inventoryNodeGroup `mapstructure:"nodegroups"`
	Partitions     []inventoryPartition `mapstructure:"partitions"`
}

type inventoryNodeGroup struct {
	Name         string            `mapstructure:"name"`
	Nodes        int64             `mapstructure:"nodes"`
	Cores        int64             `mapstructure:"cores"`
	Accelerators []inventoryAccel  `mapstructure:"accelerators"`
	Changes      []inventoryChange `mapstructure:"changes"`
}

type inventoryAccel struct {
	GRES   string `mapstructure:"gres"`
	Count  int64  `mapstructure:"count"`
	Kind   string `mapstructure:"kind"`
	Vendor string `mapstructure:"vendor"`
	Model  string `mapstructure:"model"`
}

type inventoryChange struct {
	At    any   `mapstructure:"at"`
	Nodes int64 `mapstructure:"nodes"`
}

type inventoryPartition struct {
	Name               string             `mapstructure:"name"`
	NodeGroups         []string           `mapstructure:"nodegroups"`
	BillingWeights     map[string]float64 `mapstructure:"billing_weights"`
	ForcedAccelerators bool               `mapstructure:"forced_accelerators"`
}

// ParseInventory reads a YAML inventory. name is used in messages. Each
// error names the key at fault, such as clusters[0].nodegroups[2].changes[0].at.
func ParseInventory(r io.Reader, name string, opts CapacityOptions) (*capacity.Inventory, error) {
	opts = opts.withDefaults()
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(r); err != nil {
		return nil, fmt.Errorf("inventory %s: %w", name, err)
	}
	var f inventoryFile
	if err := v.UnmarshalExact(&f); err != nil {
		return nil, fmt.Errorf("inventory %s: %w", name, err)
	}
	if len(f.Clusters) == 0 {
		return nil, fmt.Errorf("inventory %s: clusters: at least one cluster is required", name)
	}
	table := opts.Accels
	if len(f.Accelerators) > 0 {
		t, err := accel.NewTable(f.Accelerators)
		if err != nil {
			return nil, fmt.Errorf("inventory %s: accelerators: %w", name, err)
		}
		table = t
	}
	inv := &capacity.Inventory{Source: "inventory:" + name, AccelRules: f.Accelerators}
	for ci, fc := range f.Clusters {
		key := fmt.Sprintf("clusters[%d]", ci)
		c := &capacity.Cluster{Name: fc.Name, Location: time.UTC, Primary: capacity.Basis(fc.Primary), DefaultWeights: weights(fc.BillingWeights)}
		if fc.Name == "" {
			return nil, fmt.Errorf("inventory %s: %s.name: required", name, key)
		}
		if fc.Timezone != "" {
			loc, err := time.LoadLocation(fc.Timezone)
			if err != nil {
				return nil, fmt.Errorf("inventory %s: %s.timezone: %w", name, key, err)
			}
			c.Location = loc
		}
		groups := map[string]*capacity.NodeGroup{}
		for gi, fg := range fc.NodeGroups {
			gkey := fmt.Sprintf("%s.nodegroups[%d]", key, gi)
			if fg.Name == "" {
				return nil, fmt.Errorf("inventory %s: %s.name: required", name, gkey)
			}
			if fg.Nodes < 0 || fg.Cores < 0 {
				return nil, fmt.Errorf("inventory %s: %s: nodes and cores must not be negative", name, gkey)
			}
			g := &capacity.NodeGroup{Name: fg.Name, Cores: fg.Cores, Steps: []capacity.Step{{Nodes: fg.Nodes}}}
			for ai, fa := range fg.Accelerators {
				akey := fmt.Sprintf("%s.accelerators[%d]", gkey, ai)
				gname, gtype, _ := strings.Cut(fa.GRES, ":")
				if gname == "" {
					return nil, fmt.Errorf("inventory %s: %s.gres: required (such as gpu:a100 or npu:910b)", name, akey)
				}
				if fa.Count <= 0 {
					return nil, fmt.Errorf("inventory %s: %s.count: must be positive", name, akey)
				}
				d, res := table.Lookup(gname, gtype)
				if fa.Kind != "" {
					d = accel.Device{Kind: fa.Kind, Vendor: fa.Vendor, Model: fa.Model}
					res = accel.Accelerator
				}
				if res != accel.Accelerator {
					return nil, fmt.Errorf("inventory %s: %s.gres: %q is not a known accelerator; give kind, vendor and model, or add an accelerators rule", name, akey, fa.GRES)
				}
				g.Accels = append(g.Accels, capacity.Accel{Device: d, GRESName: gname, GRESType: gtype, Count: fa.Count})
			}
			for chi, ch := range fg.Changes {
				chkey := fmt.Sprintf("%s.changes[%d]", gkey, chi)
				at, err := inventoryTime(ch.At, c.Location)
				if err != nil {
					return nil, fmt.Errorf("inventory %s: %s.at: %w", name, chkey, err)
				}
				if ch.Nodes < 0 {
					return nil, fmt.Errorf("inventory %s: %s.nodes: must not be negative", name, chkey)
				}
				g.Steps = append(g.Steps, capacity.Step{From: at, Nodes: ch.Nodes})
			}
			groups[g.Name] = g
			c.NodeGroups = append(c.NodeGroups, g)
		}
		for pi, fp := range fc.Partitions {
			pkey := fmt.Sprintf("%s.partitions[%d]", key, pi)
			if fp.Name == "" {
				return nil, fmt.Errorf("inventory %s: %s.name: required", name, pkey)
			}
			p := &capacity.Partition{Name: fp.Name, Weights: weights(fp.BillingWeights), ForcedAccelerators: fp.ForcedAccelerators}
			if p.Weights.Empty() {
				p.Weights = c.DefaultWeights
			}
			members := fp.NodeGroups
			if len(members) == 0 {
				members = []string{fp.Name}
			}
			for _, gname := range members {
				g := groups[gname]
				if g == nil {
					return nil, fmt.Errorf("inventory %s: %s.nodegroups: no node group named %q", name, pkey, gname)
				}
				p.NodeGroups = append(p.NodeGroups, g)
			}
			c.Partitions = append(c.Partitions, p)
		}
		inv.Clusters = append(inv.Clusters, c)
	}
	if err := inv.Validate(); err != nil {
		return nil, fmt.Errorf("inventory %s: %w", name, err)
	}
	return inv, nil
}

// weights copies billing weights, lower-casing the keys as Slurm compares
// TRES names without case.
func weights(m map[string]float64) capacity.Weights {
	if len(m) == 0 {
		return nil
	}
	w := capacity.Weights{}
	for k, v := range m {
		w[strings.ToLower(k)] = v
	}
	return w
}

// inventoryTime reads a change date: RFC 3339, or a wall-clock time or a
// date in the cluster's zone. YAML may already have decoded it.
func inventoryTime(v any, loc *time.Location) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case string:
		if ts, err := time.Parse(time.RFC3339, t); err == nil {
			return ts, nil
		}
		for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
			if ts, err := time.ParseInLocation(layout, t, loc); err == nil {
				return ts, nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not a date (want RFC 3339, YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD)", t)
	case nil:
		return time.Time{}, fmt.Errorf("required")
	}
	return time.Time{}, fmt.Errorf("%v is not a date", v)
}
