package collector

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
)

// TestInventoryBad loads every *.bad.yaml under testdata/inventory and
// expects the error its first line announces ("# error: ...").
func TestInventoryBad(t *testing.T) {
	files, err := filepath.Glob("testdata/inventory/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad inventories: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := expectedError(t, f)
			_, err := LoadCapacity("inventory", f, CapacityOptions{})
			if err == nil {
				t.Fatalf("loaded; want error %q", want)
			}
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), f) {
				t.Fatalf("error %q; want it to name %s and contain %q", err, f, want)
			}
		})
	}
}

func expectedError(t *testing.T, path string) string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Scan()
	want, ok := strings.CutPrefix(sc.Text(), "# error: ")
	if !ok {
		t.Fatalf("%s does not start with '# error: '", path)
	}
	return want
}

func TestInventoryGood(t *testing.T) {
	inv, err := LoadCapacity("inventory", "testdata/inventory/two-clusters.good.yaml", CapacityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Clusters) != 2 {
		t.Fatalf("%d clusters", len(inv.Clusters))
	}
	east, west := inv.Cluster("east"), inv.Cluster("west")
	if east.Location.String() != "Asia/Shanghai" || west.Location != time.UTC {
		t.Errorf("zones %v %v", east.Location, west.Location)
	}
	if east.Primary != "billing" || west.Primary != "cpu" || inv.Primary() != "cpu" {
		t.Errorf("primary bases %s %s %s", east.Primary, west.Primary, inv.Primary())
	}
	// thin: 100 nodes until 2026-10-16 00:00 Shanghai (= 10-15 16:00 UTC), then 120.
	from := time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)
	to := from.Add(48 * time.Hour)
	thin := east.NodeGroups[0]
	if got, want := thin.NodeSeconds(from, to), int64(100*16*3600+120*32*3600); got != want {
		t.Errorf("thin node-seconds = %d, want %d", got, want)
	}
	// The shared group counts once in the cluster, once per partition.
	tot := east.Total(from, to)
	cpu := east.PartitionTotal(east.Partition("cpu"), from, to)
	debug := east.PartitionTotal(east.Partition("debug"), from, to)
	if cpu.CoreSeconds != debug.CoreSeconds || tot.CoreSeconds != cpu.CoreSeconds+10*64*48*3600 {
		t.Errorf("cluster %d, cpu %d, debug %d core-seconds", tot.CoreSeconds, cpu.CoreSeconds, debug.CoreSeconds)
	}
	gpu := east.NodeGroups[1].Accels[0]
	if gpu.Device != (accel.Device{Kind: "gpu", Vendor: "biren", Model: "BR100"}) || gpu.Count != 8 {
		t.Errorf("inventory accelerator rule not applied: %+v", gpu)
	}
	if got := east.WeightsFor("gpu").Accel("gpu", "bw1000"); got != 20 {
		t.Errorf("gpu weight %v", got)
	}
	if got := east.WeightsFor("debug")["cpu"]; got != 1 {
		t.Errorf("debug inherits the cluster weights: %v", got)
	}
	npu := west.NodeGroups[0].Accels[0].Device
	if npu.Kind != "npu" || npu.Model != "Ascend 910B" {
		t.Errorf("npu device %+v", npu)
	}
}

func TestSlurmNodes(t *testing.T) {
	tests := []struct {
		file       string
		nodes      int
		cores      int64 // cluster cores
		gpus, npus int64
		dcus       int64
		partitions map[string]int64 // cores per partition
		firstState string
		firstFlags []string
		firstInUse int64
		firstCores int64
	}{
		{file: "lab-idle.txt", nodes: 4, cores: 32, gpus: 8, partitions: map[string]int64{"cpu": 16, "gpu": 16}, firstState: "idle", firstCores: 8},
		{file: "lab-busy.txt", nodes: 4, cores: 32, gpus: 8, partitions: map[string]int64{"cpu": 16, "gpu": 16}, firstState: "mixed", firstInUse: 7, firstCores: 8},
		{file: "mixed.txt", nodes: 6, cores: 64*2 + 192 + 32 + 64*2, gpus: 8, npus: 8, dcus: 4,
			partitions: map[string]int64{"cpu": 128, "debug": 128, "npu": 192, "dcu": 32, "gpu": 128},
			firstState: "allocated", firstInUse: 64, firstCores: 64},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/slurmnodes/" + tt.file
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			nodes, err := ParseSlurmNodes(fh, path)
			if err != nil {
				t.Fatal(err)
			}
			if len(nodes) != tt.nodes {
				t.Fatalf("%d nodes, want %d", len(nodes), tt.nodes)
			}
			n0 := nodes[0]
			if n0.State != tt.firstState || n0.CoresAllocated != tt.firstInUse || n0.Cores != tt.firstCores {
				t.Errorf("first node %+v", n0)
			}
			inv, err := LoadCapacity("slurm-nodes", path, CapacityOptions{Cluster: "lab"})
			if err != nil {
				t.Fatal(err)
			}
			c := inv.Cluster("lab")
			from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			to := from.Add(time.Hour)
			tot := c.Total(from, to)
			if tot.CoreSeconds != tt.cores*3600 {
				t.Errorf("cluster cores %d, want %d", tot.CoreSeconds/3600, tt.cores)
			}
			kinds := map[string]int64{}
			for d, s := range tot.ByDevice {
				kinds[d.Kind] += s / 3600
			}
			if kinds["gpu"] != tt.gpus || kinds["npu"] != tt.npus || kinds["dcu"] != tt.dcus {
				t.Errorf("accelerators by kind %v", kinds)
			}
			if len(c.Partitions) != len(tt.partitions) {
				t.Errorf("%d partitions, want %d", len(c.Partitions), len(tt.partitions))
			}
			for name, cores := range tt.partitions {
				p := c.Partition(name)
				if p == nil {
					t.Errorf("no partition %s", name)
					continue
				}
				if got := c.PartitionTotal(p, from, to).CoreSeconds / 3600; got != cores {
					t.Errorf("partition %s cores %d, want %d", name, got, cores)
				}
			}
		})
	}
}

func TestSlurmNodesState(t *testing.T) {
	nodes, err := ParseSlurmNodes(strings.NewReader("NodeName=x CPUTot=4 State=IDLE+DRAIN+MAINT\nNodeName=y CPUTot=4 State=DOWN*\n"), "s")
	if err != nil {
		t.Fatal(err)
	}
	if nodes[0].State != "idle" || strings.Join(nodes[0].Flags, ",") != "drain,maint" || nodes[1].State != "down" {
		t.Errorf("%+v %+v", nodes[0], nodes[1])
	}
	_, err = ParseSlurmNodes(strings.NewReader("NodeName=x CPUTot=four\n"), "s.txt")
	if err == nil || !strings.Contains(err.Error(), "s.txt:1: field CPUTot") {
		t.Errorf("error %v", err)
	}
	_, err = ParseSlurmNodes(strings.NewReader("garbage\n"), "g.txt")
	if err == nil || !strings.Contains(err.Error(), "g.txt:1") {
		t.Errorf("error %v", err)
	}
}
