package accel

import (
	"strings"
	"testing"
)

func TestLookupDefaults(t *testing.T) {
	tests := []struct {
		name, typ string
		want      Device
		res       Result
	}{
		{"gpu", "a100", Device{KindGPU, "nvidia", "A100"}, Accelerator},
		{"gpu", "A100-SXM4-80GB", Device{KindGPU, "nvidia", "A100"}, Accelerator},
		{"gpu", "h100", Device{KindGPU, "nvidia", "H100"}, Accelerator},
		{"gpu", "h20", Device{KindGPU, "nvidia", "H20"}, Accelerator},
		{"gpu", "mi250x", Device{KindGPU, "amd", "MI250X"}, Accelerator},
		{"gpu", "", Device{Kind: KindGPU}, Accelerator},
		{"gpu", "weird9000", Device{Kind: KindGPU, Model: "WEIRD9000"}, Accelerator},
		{"npu", "910b3", Device{KindNPU, "huawei", "Ascend 910B"}, Accelerator},
		{"npu", "", Device{Kind: KindNPU, Vendor: "huawei"}, Accelerator},
		{"dcu", "k100_ai", Device{KindDCU, "hygon", "K100-AI"}, Accelerator},
		{"dcu", "z100l", Device{KindDCU, "hygon", "Z100L"}, Accelerator},
		{"mlu", "mlu370-x8", Device{KindMLU, "cambricon", "MLU370"}, Accelerator},
		{"xpu", "p800", Device{KindXPU, "kunlunxin", "P800"}, Accelerator},
		{"xpu", "R300", Device{KindXPU, "kunlunxin", "R300"}, Accelerator},
		{"xpu", "k200", Device{KindXPU, "kunlunxin", "K200"}, Accelerator},
		{"xpu", "", Device{Kind: KindXPU, Vendor: "kunlunxin"}, Accelerator},
		{"mps", "", Device{}, Ignored},
		{"shard", "a100", Device{}, Ignored},
		{"fpga", "u280", Device{}, Unknown},
	}
	tab := Default()
	for _, tt := range tests {
		got, res := tab.Lookup(tt.name, tt.typ)
		if got != tt.want || res != tt.res {
			t.Errorf("Lookup(%q, %q) = %+v, %v; want %+v, %v", tt.name, tt.typ, got, res, tt.want, tt.res)
		}
	}
}

func TestSiteRulesComeFirst(t *testing.T) {
	tab, err := NewTable([]Rule{{Name: "gpu", Type: "a100", Kind: KindGPU, Vendor: "nvidia", Model: "A100 80GB"}, {Name: "fpga", Type: "*", Kind: KindGPU, Vendor: "xilinx"}})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := tab.Lookup("gpu", "a100"); d.Model != "A100 80GB" {
		t.Errorf("site rule not first: %+v", d)
	}
	if d, res := tab.Lookup("fpga", "u280"); res != Accelerator || d.Model != "U280" {
		t.Errorf("fpga %+v %v", d, res)
	}
}

func TestNewTableRefuses(t *testing.T) {
	tests := []struct {
		rule Rule
		want string
	}{
		{Rule{Type: "x", Kind: KindGPU}, "name is empty"},
		{Rule{Name: "gpu", Type: "[", Kind: KindGPU}, "type pattern"},
		{Rule{Name: "tpu", Kind: "tpu"}, `kind "tpu" is not one of`},
	}
	for _, tt := range tests {
		if _, err := NewTable([]Rule{tt.rule}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewTable(%+v) error %v, want %q", tt.rule, err, tt.want)
		}
	}
}
