package collector

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/capacity"
)

// TestSlurmNodesBad reads each bad scontrol file and expects its exact
// error, naming the file, the line and the field.
func TestSlurmNodesBad(t *testing.T) {
	tests := map[string]string{
		"duplicate-node.bad.txt":   `duplicate-node.bad.txt:3: field NodeName: node "cn001" is listed twice (first at line 1): it would be counted twice`,
		"overflow-cores.bad.txt":   `overflow-cores.bad.txt:2: field CPUTot: "18446744073709551680" is not a count from 0 to 1048576`,
		"negative-cores.bad.txt":   `negative-cores.bad.txt:1: field CfgTRES: TRES cpu="-64" is not a count`,
		"huge-gres.bad.txt":        `huge-gres.bad.txt:1: field Gres: GRES gpu count 4294967304 is out of range (0 to 65536)`,
		"huge-tres.bad.txt":        `huge-tres.bad.txt:1: field CfgTRES: out of range: TRES gres/gpu="9223372036854775807" is above 2147483647`,
		"alloc-over-total.bad.txt": `alloc-over-total.bad.txt:1: field CPUAlloc: "640" is not a count from 0 to the node's 64 cores`,
	}
	files, _ := filepath.Glob("testdata/slurmnodes/*.bad.txt")
	if len(files) != len(tests) {
		t.Fatalf("%d bad files, %d expected errors: give every file its error", len(files), len(tests))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, ok := tests[filepath.Base(f)]
			if !ok {
				t.Fatalf("no expected error for %s", f)
			}
			_, err := LoadCapacity("slurm-nodes", f, CapacityOptions{Cluster: "lab"})
			if err == nil || err.Error() != "testdata/slurmnodes/"+want {
				t.Fatalf("error %v\nwant    testdata/slurmnodes/%s", err, want)
			}
		})
	}
}

// checkInventory holds the invariants of any inventory a reader accepts:
// counts in range, finite non-negative weights, and capacities over a long
// window that neither wrap nor turn NaN.
func checkInventory(t *testing.T, inv *capacity.Inventory) {
	t.Helper()
	if err := inv.Validate(); err != nil {
		t.Fatalf("accepted inventory does not validate: %v", err)
	}
	from := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(200 * 365 * 24 * time.Hour)
	for _, c := range inv.Clusters {
		for _, g := range c.NodeGroups {
			if g.Cores < 0 || g.Cores > capacity.MaxNodeCores {
				t.Fatalf("group %s: %d cores", g.Name, g.Cores)
			}
			for _, s := range g.Steps {
				if s.Nodes < 0 || s.Nodes > capacity.MaxGroupNodes {
					t.Fatalf("group %s: %d nodes", g.Name, s.Nodes)
				}
			}
			for _, a := range g.Accels {
				if a.Count < 0 || a.Count > capacity.MaxNodeAccels {
					t.Fatalf("group %s: %d accelerators", g.Name, a.Count)
				}
			}
		}
		for _, p := range c.Partitions {
			for k, w := range p.Weights {
				if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
					t.Fatalf("partition %s: weight %s = %v", p.Name, k, w)
				}
			}
		}
		tot := c.Total(from, to)
		if tot.NodeSeconds < 0 || tot.CoreSeconds < 0 || tot.AccelSeconds < 0 || math.IsNaN(tot.BillingSeconds) || math.IsInf(tot.BillingSeconds, 0) || tot.BillingSeconds < 0 {
			t.Fatalf("cluster %s: capacity over 200 years %+v", c.Name, tot)
		}
	}
}

func FuzzInventory(f *testing.F) {
	files, _ := filepath.Glob("testdata/inventory/*.yaml")
	files = append(files, "../seeds/inventory.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := ParseInventory(bytes.NewReader(b), "fuzz.yaml", CapacityOptions{})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkInventory(t, inv)
	})
}

func FuzzSlurmNodes(f *testing.F) {
	files, _ := filepath.Glob("testdata/slurmnodes/*.txt")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		nodes, err := ParseSlurmNodes(bytes.NewReader(b), "fuzz.txt")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.txt") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		names := map[string]bool{}
		for _, n := range nodes {
			if names[n.Name] {
				t.Fatalf("node %q accepted twice", n.Name)
			}
			names[n.Name] = true
			if n.Cores < 0 || n.CoresAllocated < 0 || n.CoresAllocated > n.Cores {
				t.Fatalf("node %+v", n)
			}
		}
		inv, err := NodesInventory(nodes, CapacityOptions{Cluster: "fuzz"})
		if err != nil {
			return
		}
		checkInventory(t, inv)
		var want int64
		for _, n := range nodes {
			want += n.Cores
		}
		from := time.Unix(0, 0)
		if got := inv.Clusters[0].Total(from, from.Add(time.Second)).CoreSeconds; got != want {
			t.Fatalf("cluster has %d cores, the nodes %d", got, want)
		}
	})
}
