package planning

import (
	"strings"
	"testing"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/internal/setup"
)

// TestInventoryOrigin: an inventory's accelerator rule can set a model's
// origin, and the AI mix reports the device under it.
func TestInventoryOrigin(t *testing.T) {
	const yaml = `
accelerators:
  - {name: gpu, type: "c500*", kind: gpu, vendor: metax, model: C500}
  - {name: gpu, type: "h20*", kind: gpu, vendor: nvidia, model: H20, origin: domestic}
clusters:
  - name: c
    nodegroups:
      - {name: metax, nodes: 2, cores: 64, accelerators: [{gres: "gpu:c500", count: 8}]}
      - {name: h20, nodes: 1, cores: 64, accelerators: [{gres: "gpu:h20", count: 8}]}
      - {name: a100, nodes: 1, cores: 64, accelerators: [{gres: "gpu:a100", count: 8}]}
`
	inv, err := collector.ParseInventory(strings.NewReader(yaml), "test.yaml", collector.CapacityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	table, err := setup.Table(inv)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"C500": accel.OriginDomestic, "H20": accel.OriginDomestic, "A100": accel.OriginImported}
	for _, d := range inv.Devices() {
		if got := table.Origin(d); got != want[d.Model] {
			t.Errorf("%s: origin %q, want %q", d.Model, got, want[d.Model])
		}
	}
	if _, err := collector.ParseInventory(strings.NewReader("accelerators:\n  - {name: gpu, type: x, kind: gpu, origin: local}\nclusters: [{name: c}]\n"), "bad.yaml", collector.CapacityOptions{}); err == nil || !strings.Contains(err.Error(), "origin") {
		t.Errorf("a bad origin: %v", err)
	}
}
