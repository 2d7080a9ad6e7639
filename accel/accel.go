// Package accel maps scheduler generic resources (Slurm GRES names and
// types, PBS ngpus) to accelerator kind, vendor and model, so that NVIDIA and
// AMD GPUs, Huawei Ascend NPUs, Hygon DCUs and Cambricon MLUs are all counted
// as accelerators, each under its own kind and model. Kunlunxin XPUs
// (Baidu's Kunlun chips, Slurm GRES "xpu") are kind xpu.
//
// GRES names are site-defined, so the table is configurable; the defaults
// cover the common spellings. A GRES the table does not know is reported by
// the caller, never silently dropped, and never counted as an accelerator.
package accel

import (
	"fmt"
	"path"
	"strings"
)

// Kinds of accelerators.
const (
	KindGPU = "gpu"
	KindNPU = "npu"
	KindDCU = "dcu"
	KindMLU = "mlu"
	KindXPU = "xpu"
)

// Kinds lists the accelerator kinds in display order; closed label sets of
// metrics iterate over it.
var Kinds = []string{KindGPU, KindNPU, KindDCU, KindMLU, KindXPU}

// Device is what a GRES name and type resolve to.
type Device struct {
	Kind   string `mapstructure:"kind" json:"kind"`
	Vendor string `mapstructure:"vendor" json:"vendor"`
	Model  string `mapstructure:"model" json:"model"`
}

// Rule maps GRES entries whose name equals Name and whose type matches the
// shell pattern Type (case-insensitive; empty matches the untyped entry
// only, "*" any type) to a device. An empty Model means the upper-cased
// GRES type. Ignore marks a GRES that is not an accelerator at all (mps,
// shard): it is neither counted nor reported as unknown.
type Rule struct {
	Name   string `mapstructure:"name"`
	Type   string `mapstructure:"type"`
	Kind   string `mapstructure:"kind"`
	Vendor string `mapstructure:"vendor"`
	Model  string `mapstructure:"model"`
	Ignore bool   `mapstructure:"ignore"`
	// Origin overrides the vendor's origin (domestic, imported) for the
	// devices this rule names; empty keeps the vendor's.
	Origin string `mapstructure:"origin"`
}

// Table resolves GRES to devices. The first matching rule wins; rules given
// by an operator come before the defaults.
type Table struct {
	rules []Rule
}

// DefaultRules are the built-in mappings.
var DefaultRules = []Rule{
	// NVIDIA data-centre and workstation GPUs.
	{Name: "gpu", Type: "a100*", Kind: KindGPU, Vendor: "nvidia", Model: "A100"},
	{Name: "gpu", Type: "a800*", Kind: KindGPU, Vendor: "nvidia", Model: "A800"},
	{Name: "gpu", Type: "h100*", Kind: KindGPU, Vendor: "nvidia", Model: "H100"},
	{Name: "gpu", Type: "h800*", Kind: KindGPU, Vendor: "nvidia", Model: "H800"},
	{Name: "gpu", Type: "h200*", Kind: KindGPU, Vendor: "nvidia", Model: "H200"},
	{Name: "gpu", Type: "h20*", Kind: KindGPU, Vendor: "nvidia", Model: "H20"},
	{Name: "gpu", Type: "gh200*", Kind: KindGPU, Vendor: "nvidia", Model: "GH200"},
	{Name: "gpu", Type: "b200*", Kind: KindGPU, Vendor: "nvidia", Model: "B200"},
	{Name: "gpu", Type: "l40s*", Kind: KindGPU, Vendor: "nvidia", Model: "L40S"},
	{Name: "gpu", Type: "l40*", Kind: KindGPU, Vendor: "nvidia", Model: "L40"},
	{Name: "gpu", Type: "l4", Kind: KindGPU, Vendor: "nvidia", Model: "L4"},
	{Name: "gpu", Type: "l20*", Kind: KindGPU, Vendor: "nvidia", Model: "L20"},
	{Name: "gpu", Type: "v100*", Kind: KindGPU, Vendor: "nvidia", Model: "V100"},
	{Name: "gpu", Type: "p100*", Kind: KindGPU, Vendor: "nvidia", Model: "P100"},
	{Name: "gpu", Type: "t4", Kind: KindGPU, Vendor: "nvidia", Model: "T4"},
	{Name: "gpu", Type: "a40", Kind: KindGPU, Vendor: "nvidia", Model: "A40"},
	{Name: "gpu", Type: "a30", Kind: KindGPU, Vendor: "nvidia", Model: "A30"},
	{Name: "gpu", Type: "a10*", Kind: KindGPU, Vendor: "nvidia", Model: "A10"},
	{Name: "gpu", Type: "k80", Kind: KindGPU, Vendor: "nvidia", Model: "K80"},
	{Name: "gpu", Type: "rtx*", Kind: KindGPU, Vendor: "nvidia"},
	{Name: "gpu", Type: "tesla*", Kind: KindGPU, Vendor: "nvidia"},
	{Name: "gpu", Type: "volta*", Kind: KindGPU, Vendor: "nvidia", Model: "V100"},
	// AMD Instinct.
	{Name: "gpu", Type: "mi*", Kind: KindGPU, Vendor: "amd"},
	// Huawei Ascend NPUs.
	{Name: "npu", Type: "910b*", Kind: KindNPU, Vendor: "huawei", Model: "Ascend 910B"},
	{Name: "npu", Type: "910c*", Kind: KindNPU, Vendor: "huawei", Model: "Ascend 910C"},
	{Name: "npu", Type: "910*", Kind: KindNPU, Vendor: "huawei", Model: "Ascend 910"},
	{Name: "npu", Type: "310p*", Kind: KindNPU, Vendor: "huawei", Model: "Ascend 310P"},
	{Name: "npu", Type: "ascend*", Kind: KindNPU, Vendor: "huawei"},
	{Name: "npu", Type: "*", Kind: KindNPU, Vendor: "huawei"},
	{Name: "npu", Kind: KindNPU, Vendor: "huawei"},
	// Hygon DCUs.
	{Name: "dcu", Type: "k100_ai", Kind: KindDCU, Vendor: "hygon", Model: "K100-AI"},
	{Name: "dcu", Type: "k100*", Kind: KindDCU, Vendor: "hygon", Model: "K100"},
	{Name: "dcu", Type: "z100l*", Kind: KindDCU, Vendor: "hygon", Model: "Z100L"},
	{Name: "dcu", Type: "z100*", Kind: KindDCU, Vendor: "hygon", Model: "Z100"},
	{Name: "dcu", Type: "*", Kind: KindDCU, Vendor: "hygon"},
	{Name: "dcu", Kind: KindDCU, Vendor: "hygon"},
	// Cambricon MLUs.
	{Name: "mlu", Type: "*370*", Kind: KindMLU, Vendor: "cambricon", Model: "MLU370"},
	{Name: "mlu", Type: "*590*", Kind: KindMLU, Vendor: "cambricon", Model: "MLU590"},
	{Name: "mlu", Type: "*", Kind: KindMLU, Vendor: "cambricon"},
	{Name: "mlu", Kind: KindMLU, Vendor: "cambricon"},
	// Kunlunxin XPUs (Kunlun P800, R300, R200); "xpu" is how Baidu's
	// PaddlePaddle and the Kunlunxin runtime (XPU_VISIBLE_DEVICES) name them.
	{Name: "xpu", Type: "p800*", Kind: KindXPU, Vendor: "kunlunxin", Model: "P800"},
	{Name: "xpu", Type: "r300*", Kind: KindXPU, Vendor: "kunlunxin", Model: "R300"},
	{Name: "xpu", Type: "r200*", Kind: KindXPU, Vendor: "kunlunxin", Model: "R200"},
	{Name: "xpu", Type: "*", Kind: KindXPU, Vendor: "kunlunxin"},
	{Name: "xpu", Kind: KindXPU, Vendor: "kunlunxin"},
	// Any other GPU type, and untyped GPUs: kind known, vendor not.
	{Name: "gpu", Type: "*", Kind: KindGPU},
	{Name: "gpu", Kind: KindGPU},
	// Generic resources that are not accelerators.
	{Name: "mps", Type: "*", Ignore: true},
	{Name: "mps", Ignore: true},
	{Name: "shard", Type: "*", Ignore: true},
	{Name: "shard", Ignore: true},
}

// NewTable returns a table that tries the given rules first, then the
// defaults. It refuses a rule that names an unknown kind or a bad pattern.
func NewTable(extra []Rule) (*Table, error) {
	for i, r := range extra {
		if r.Name == "" {
			return nil, fmt.Errorf("accelerator rule %d: name is empty", i+1)
		}
		if _, err := path.Match(strings.ToLower(r.Type), ""); err != nil {
			return nil, fmt.Errorf("accelerator rule %d (%s): type pattern %q: %w", i+1, r.Name, r.Type, err)
		}
		if err := checkOrigin(i, r); err != nil {
			return nil, err
		}
		if !r.Ignore && !validKind(r.Kind) {
			return nil, fmt.Errorf("accelerator rule %d (%s): kind %q is not one of %v", i+1, r.Name, r.Kind, Kinds)
		}
	}
	t := &Table{rules: make([]Rule, 0, len(extra)+len(DefaultRules))}
	t.rules = append(t.rules, extra...)
	t.rules = append(t.rules, DefaultRules...)
	return t, nil
}

// Default returns the table of built-in rules only.
func Default() *Table {
	t, _ := NewTable(nil)
	return t
}

func validKind(k string) bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Result of a lookup.
type Result int

// Lookup results.
const (
	// Accelerator: the GRES is an accelerator of the returned device.
	Accelerator Result = iota
	// Ignored: the GRES is known not to be an accelerator.
	Ignored
	// Unknown: no rule matched; the caller reports it.
	Unknown
)

// Lookup resolves one GRES name and type.
func (t *Table) Lookup(name, typ string) (Device, Result) {
	name = strings.ToLower(name)
	ltyp := strings.ToLower(typ)
	for _, r := range t.rules {
		if strings.ToLower(r.Name) != name {
			continue
		}
		if r.Type == "" {
			if ltyp != "" {
				continue
			}
		} else if ok, _ := path.Match(strings.ToLower(r.Type), ltyp); !ok {
			continue
		}
		if r.Ignore {
			return Device{}, Ignored
		}
		d := Device{Kind: r.Kind, Vendor: r.Vendor, Model: r.Model}
		if d.Model == "" && typ != "" {
			d.Model = strings.ToUpper(typ)
		}
		return d, Accelerator
	}
	return Device{}, Unknown
}
