package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/usage"
)

var (
	from = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	to   = from.Add(10 * time.Hour)
	a100 = accel.Device{Kind: "gpu", Vendor: "nvidia", Model: "A100"}
)

// result builds an engine result by hand: capacity 100 cores and 10 GPUs
// for 10 h; allocated per class as given, in core-hours and GPU-hours.
func result(cores, gpus [4]int64) *usage.Result {
	devs := []usage.Device{{}, {Device: a100, GRESName: "gpu", GRESType: "a100", Known: true}}
	r := &usage.Result{From: from, To: to, Devices: devs}
	for c := range 4 {
		r.Allocated[c] = usage.Amount{Jobs: 1, CoreSeconds: cores[c] * 3600, AccelSeconds: gpus[c] * 3600,
			BillingSeconds: float64(cores[c]*3600 + 10*gpus[c]*3600), Device: []int64{0, gpus[c] * 3600}}
	}
	r.Capacity = &capacity.Totals{CoreSeconds: 1000 * 3600, AccelSeconds: 100 * 3600, NodeSeconds: 100 * 3600,
		BillingSeconds: (1000 + 10*100) * 3600, ByDevice: map[accel.Device]int64{a100: 100 * 3600}}
	r.CoreCapacity = true
	return r
}

func TestBuildShareAndBounds(t *testing.T) {
	// unknown, training, inference, other (classify.Class order).
	cores := [4]int64{50, 100, 50, 400}
	gpus := [4]int64{10, 40, 20, 10}
	rep := Build(result(cores, gpus), Meta{Primary: capacity.BasisBilling, Rule: "given"})
	near := func(name string, got, want float64) {
		t.Helper()
		if d := got - want; d > 1e-12 || d < -1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("cpu utilization", rep.CPU.Utilization, 600.0/1000)
	near("accelerator utilization", rep.Accelerator.Utilization, 80.0/100)
	near("gpu utilization", rep.Accelerator.ByKind["gpu"].Utilization, 80.0/100)
	near("A100 utilization", rep.Accelerator.ByModel["A100"].Utilization, 80.0/100)
	near("ai share cpu", rep.AIShare.CPU, 150.0/600)
	near("ai share cpu upper", rep.AIShare.CPUUpper, 200.0/600)
	near("ai share accelerator", rep.AIShare.Accelerator, 60.0/80)
	near("ai share accelerator upper", rep.AIShare.AcceleratorUpper, 70.0/80)
	// Billing: cores + 10 x GPUs = 600 + 800 = 1400 of 2000; AI 150 + 600 = 750.
	near("billing utilization", rep.Billing.Utilization, 1400.0/2000)
	near("headline utilization", rep.Headline.Utilization, 0.7)
	near("headline ai share", rep.Headline.AIShare, 750.0/1400)
	near("headline ai of capacity", rep.Headline.AIOfCapacity, 0.7*750.0/1400)
	if rep.Headline.Basis != capacity.BasisBilling {
		t.Errorf("basis %s", rep.Headline.Basis)
	}
	if got := rep.Classes["ai_training"]; got.CPUHours != 100 || got.AcceleratorHours != 40 || got.Jobs != 1 {
		t.Errorf("ai_training %+v", got)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings %v", rep.Warnings)
	}
}

// TestBuildOversubscribed: allocation above capacity is clamped to 100%
// and said, never printed as 104%.
func TestBuildOversubscribed(t *testing.T) {
	rep := Build(result([4]int64{0, 0, 0, 1040}, [4]int64{}), Meta{})
	if rep.CPU.Utilization != 1 || rep.CPU.OversubscribedHours != 40 {
		t.Errorf("cpu %+v", rep.CPU)
	}
	if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "exceeds capacity by 40.0 h") {
		t.Errorf("warnings %v", rep.Warnings)
	}
}

// TestJSONKeys checks the keys the issue promises in -o json, as plain
// JSON numbers.
func TestJSONKeys(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Build(result([4]int64{1, 2, 3, 4}, [4]int64{1, 2, 3, 4}), Meta{})); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	paths := []string{
		"window.from", "window.to",
		"cpu.capacity_hours", "cpu.allocated_hours", "cpu.utilization",
		"accelerator.capacity_hours", "accelerator.allocated_hours", "accelerator.utilization",
		"accelerator.by_kind.gpu.capacity_hours", "accelerator.by_kind.gpu.allocated_hours", "accelerator.by_kind.gpu.utilization",
		"ai_share.cpu", "ai_share.accelerator", "ai_share.cpu_upper", "ai_share.accelerator_upper",
		"headline.basis", "headline.utilization", "headline.ai_share",
	}
	for _, c := range classify.Classes {
		for _, f := range []string{"jobs", "cpu_hours", "accelerator_hours"} {
			paths = append(paths, "classes."+c.String()+"."+f)
		}
	}
	for _, p := range paths {
		var v any = doc
		for _, part := range strings.Split(p, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%s: %v is not an object", p, v)
			}
			v, ok = m[part]
			if !ok {
				t.Fatalf("key %s missing", p)
			}
		}
		switch p {
		case "window.from", "window.to", "headline.basis":
			if _, ok := v.(string); !ok {
				t.Errorf("%s = %v, want a string", p, v)
			}
		default:
			if _, ok := v.(float64); !ok {
				t.Errorf("%s = %v (%T), want a number", p, v, v)
			}
		}
	}
}

func TestCSVAndTable(t *testing.T) {
	res := result([4]int64{1, 2, 3, 4}, [4]int64{1, 2, 3, 4})
	res.Series = []usage.Bucket{{From: from, To: from.Add(5 * time.Hour), Figures: res.Figures}, {From: from.Add(5 * time.Hour), To: to, Figures: res.Figures}}
	rep := Build(res, Meta{Every: usage.Day, Title: "t"})
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "scope" || rows[1][0] != "window" || rows[2][0] != "period" {
		t.Fatalf("csv rows %v", rows)
	}
	buf.Reset()
	if err := Write(&buf, rep, "table"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Headline (core-hours basis)", "cpu cores", "ai_training", "Every day"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	if err := Write(&buf, rep, "xml"); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestNodesOccupiedAndCharged: four jobs share one node of a 2-node
// cluster for 10 h. Charged node-hours are 40 (XDMoD's figure, 200% of the
// capacity), occupied 10: node utilization is 50%, with no
// oversubscription warning; the table prints the occupancy.
func TestNodesOccupiedAndCharged(t *testing.T) {
	s := usage.NewStore(nil)
	for i := range 4 {
		r := &job.Record{Cluster: "c", JobID: fmt.Sprint(i), Partition: "cpu", Start: from, End: to, Cores: 1, Nodes: 1, NodeList: "cn01"}
		if err := s.Add(r, classify.Decision{Class: classify.Other}); err != nil {
			t.Fatal(err)
		}
	}
	inv := &capacity.Inventory{Clusters: []*capacity.Cluster{{Name: "c", NodeGroups: []*capacity.NodeGroup{{Name: "g", Cores: 4, Steps: []capacity.Step{{Nodes: 2}}}}}}}
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := s.Compute(usage.Query{From: from, To: to, Inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	rep := Build(res, Meta{Stats: s.Stats()})
	if rep.Nodes.AllocatedHours != 40 || rep.Nodes.OccupiedHours == nil || *rep.Nodes.OccupiedHours != 10 || rep.Nodes.Utilization != 0.5 || rep.Nodes.OversubscribedHours != 0 {
		t.Errorf("nodes %+v (occupied %v); want 40 charged, 10 occupied, 50%%", rep.Nodes, rep.Nodes.OccupiedHours)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings %v", rep.Warnings)
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Nodes map[string]float64 `json:"nodes"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Nodes["allocated_hours"] != 40 || back.Nodes["occupied_hours"] != 10 || back.Nodes["utilization"] != 0.5 {
		t.Errorf("JSON nodes %v", back.Nodes)
	}
	var tab bytes.Buffer
	if err := WriteTable(&tab, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tab.String(), "nodes (occupied)          20           10        50.0%") {
		t.Errorf("table:\n%s", tab.String())
	}
	// A node list missing: the job counts NNodes x time, and the report says so.
	r := &job.Record{Cluster: "c", JobID: "x", Partition: "cpu", Start: from, End: to, Cores: 1, Nodes: 1}
	if err := s.Add(r, classify.Decision{Class: classify.Other}); err != nil {
		t.Fatal(err)
	}
	res, _ = s.Compute(usage.Query{From: from, To: to, Inventory: inv})
	rep = Build(res, Meta{Stats: s.Stats()})
	if *rep.Nodes.OccupiedHours != 20 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "1 allocation(s) have no usable node list") {
		t.Errorf("occupied %v, warnings %v", *rep.Nodes.OccupiedHours, rep.Warnings)
	}
}
