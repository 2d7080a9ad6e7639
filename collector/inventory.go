package collector

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
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
	Name string `mapstructure:"name"`
	// Counts are decoded as any and checked by count: a YAML decoder
	// turns 1e20 or .nan into a wrapped int64 without a word.
	Nodes        any               `mapstructure:"nodes"`
	Cores        any               `mapstructure:"cores"`
	Accelerators []inventoryAccel  `mapstructure:"accelerators"`
	Changes      []inventoryChange `mapstructure:"changes"`
}

type inventoryAccel struct {
	GRES   string `mapstructure:"gres"`
	Count  any    `mapstructure:"count"`
	Kind   string `mapstructure:"kind"`
	Vendor string `mapstructure:"vendor"`
	Model  string `mapstructure:"model"`
}

type inventoryChange struct {
	At    any `mapstructure:"at"`
	Nodes any `mapstructure:"nodes"`
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
	var totNodes, totCores, totAccels int64 // each at its largest over time
	for ci, fc := range f.Clusters {
		key := fmt.Sprintf("clusters[%d]", ci)
		c := &capacity.Cluster{Name: fc.Name, Location: time.UTC, Primary: capacity.Basis(fc.Primary), DefaultWeights: weights(fc.BillingWeights)}
		if fc.Name == "" {
			return nil, fmt.Errorf("inventory %s: %s.name: required", name, key)
		}
		if err := checkWeights(fc.BillingWeights, key+".billing_weights"); err != nil {
			return nil, fmt.Errorf("inventory %s: %w", name, err)
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
			nodes, err := count(fg.Nodes, 0, capacity.MaxGroupNodes, false)
			if err != nil {
				return nil, fmt.Errorf("inventory %s: %s.nodes: %w", name, gkey, err)
			}
			cores, err := count(fg.Cores, 0, capacity.MaxNodeCores, false)
			if err != nil {
				return nil, fmt.Errorf("inventory %s: %s.cores: %w", name, gkey, err)
			}
			g := &capacity.NodeGroup{Name: fg.Name, Cores: cores, Steps: []capacity.Step{{Nodes: nodes}}}
			for ai, fa := range fg.Accelerators {
				akey := fmt.Sprintf("%s.accelerators[%d]", gkey, ai)
				gname, gtype, _ := strings.Cut(fa.GRES, ":")
				if gname == "" {
					return nil, fmt.Errorf("inventory %s: %s.gres: required (such as gpu:a100 or npu:910b)", name, akey)
				}
				n, err := count(fa.Count, 1, capacity.MaxNodeAccels, true)
				if err != nil {
					return nil, fmt.Errorf("inventory %s: %s.count: %w", name, akey, err)
				}
				d, res := table.Lookup(gname, gtype)
				if fa.Kind != "" {
					d = accel.Device{Kind: fa.Kind, Vendor: fa.Vendor, Model: fa.Model}
					res = accel.Accelerator
				}
				if res != accel.Accelerator {
					return nil, fmt.Errorf("inventory %s: %s.gres: %q is not a known accelerator; give kind, vendor and model, or add an accelerators rule", name, akey, fa.GRES)
				}
				g.Accels = append(g.Accels, capacity.Accel{Device: d, GRESName: gname, GRESType: gtype, Count: n})
			}
			for chi, ch := range fg.Changes {
				chkey := fmt.Sprintf("%s.changes[%d]", gkey, chi)
				at, err := inventoryTime(ch.At, c.Location)
				if err != nil {
					return nil, fmt.Errorf("inventory %s: %s.at: %w", name, chkey, err)
				}
				n, err := count(ch.Nodes, 0, capacity.MaxGroupNodes, false)
				if err != nil {
					return nil, fmt.Errorf("inventory %s: %s.nodes: %w", name, chkey, err)
				}
				g.Steps = append(g.Steps, capacity.Step{From: at, Nodes: n})
			}
			// The factors are bounded, so these products cannot wrap.
			most := int64(0)
			for _, st := range g.Steps {
				most = max(most, st.Nodes)
			}
			totNodes += most
			totCores += most * g.Cores
			for _, a := range g.Accels {
				totAccels += most * a.Count
			}
			if totNodes > capacity.MaxTotal || totCores > capacity.MaxTotal || totAccels > capacity.MaxTotal {
				return nil, fmt.Errorf("inventory %s: %s: with this group the inventory's nodes, cores or accelerators pass %d", name, gkey, int64(capacity.MaxTotal))
			}
			groups[g.Name] = g
			c.NodeGroups = append(c.NodeGroups, g)
		}
		for pi, fp := range fc.Partitions {
			pkey := fmt.Sprintf("%s.partitions[%d]", key, pi)
			if fp.Name == "" {
				return nil, fmt.Errorf("inventory %s: %s.name: required", name, pkey)
			}
			if err := checkWeights(fp.BillingWeights, pkey+".billing_weights"); err != nil {
				return nil, fmt.Errorf("inventory %s: %w", name, err)
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

// count reads a count of the file: a whole number in [lo, hi]. An
// absent value is 0 unless required. YAML decodes 1e20 and .nan as floats;
// they are refused here rather than wrapped into some int64.
func count(v any, lo, hi int64, required bool) (int64, error) {
	var n int64
	switch x := v.(type) {
	case nil:
		if required {
			return 0, errors.New("required")
		}
		return 0, nil
	case int:
		n = int64(x)
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range (%d to %d)", x, lo, hi)
		}
		n = int64(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x != math.Trunc(x) || x < float64(lo) || x > float64(hi) {
			return 0, fmt.Errorf("%v is not a whole number from %d to %d", x, lo, hi)
		}
		n = int64(x)
	case string: // a quoted number, which the decoder used to accept
		p, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%.32q is not a whole number from %d to %d", x, lo, hi)
		}
		n = p
	default:
		return 0, fmt.Errorf("%v is not a whole number", v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range (%d to %d)", n, lo, hi)
	}
	return n, nil
}

// checkWeights refuses billing weights that are not finite and
// non-negative: one NaN weight makes every billing figure NaN.
func checkWeights(m map[string]float64, key string) error {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := capacity.CheckWeight(m[k]); err != nil {
			return fmt.Errorf("%s.%s: %w", key, k, err)
		}
	}
	return nil
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
