package v1

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var (
	t0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)
)

func res(c, a float64) Resource {
	occ := a * 0.9
	return Resource{CapacityHours: c, AllocatedHours: a, Utilization: a / c, OversubscribedHours: 1.5, OccupiedHours: &occ}
}

func figures() Figures {
	return Figures{
		CPU:   res(24000, 18000),
		Nodes: res(240, 200),
		Accelerator: Accelerators{
			Resource: res(1920, 1200),
			ByKind:   map[string]Resource{"gpu": res(1920, 1200)},
			ByModel:  map[string]Model{"A100": {Kind: "gpu", Vendor: "nvidia", Resource: res(1920, 1200)}},
		},
		Billing:     res(50000, 40000),
		AIShare:     Share{CPU: 0.1, Accelerator: 0.6, Billing: 0.25, CPUUpper: 0.12, AcceleratorUpper: 0.65, BillingUpper: 0.3},
		Classes:     map[string]Class{"ai_training": {Jobs: 3, CPUHours: 1000, AcceleratorHours: 700, BillingHours: 9000, NodeHours: 20}},
		HasCapacity: true,
	}
}

// examples are one value of every answer type with every field set, so
// that the golden files show every field's name and encoding.
func examples() map[string]any {
	return map[string]any{
		"report": &Report{
			Title:    "October 2026",
			Window:   Window{From: t0, To: t1, Rule: "from, to", Timezone: "UTC", Hours: 24},
			Capacity: "inventory.yaml",
			Inputs: []Input{{Input: "slurm-sacct:jobs.psv", Records: 12, Skipped: map[string]int64{"bad_time": 1},
				Notes: map[string]int{"steps": 4}, Errors: []string{"jobs.psv:3: field End: bad_time"}}},
			Headline: Headline{Basis: "billing", Utilization: 0.8, AIShare: 0.25, AIShareUp: 0.3, AIOfCapacity: 0.2},
			Figures:  figures(),
			By:       []string{"cluster"},
			Groups: []Group{{Keys: map[string]string{"cluster": "alpha"}, Figures: figures(),
				Series: []Period{{From: t0, To: t1, Figures: figures()}}}},
			Every:      "day",
			Series:     []Period{{From: t0, To: t1, Figures: figures()}},
			Unmapped:   []Unmapped{{GRES: "gres/fpga", Hours: 3}},
			Skipped:    1,
			Duplicates: 2,
			Warnings:   []string{"cluster beta has no inventory"},
			NoCapacity: &Class{Jobs: 1, CPUHours: 2, AcceleratorHours: 3, BillingHours: 4, NodeHours: 5},
		},
		"jobs": &JobsPage{Limit: 2, Offset: 4, More: true, Jobs: []Job{{
			JobID: "123_7", Cluster: "alpha", Partition: "gpu", Account: "ml", User: "ada", Name: "train.sh",
			State: "COMPLETED", Start: t0, End: t1, Nodes: 2, Cores: 64,
			Accelerators: []Accelerator{{Name: "gpu", Type: "a100", Count: 8}},
			Class:        "ai_training", Rules: []string{"torchrun"},
		}}},
		"summary": &Summary{
			Time: t1, Ready: true, Reason: "store loading",
			Headline: []HeadlineFigure{{Cluster: "alpha", Window: "24h", Basis: "billing", Utilization: 0.8, AIShare: 0.25}},
			Windows:  []WindowFigure{{Cluster: "alpha", Resource: "cpu", Window: "24h", Utilization: 0.7, AIShare: 0.1, AIShareUpper: 0.12}},
			Current: []ClusterNow{{Cluster: "alpha", RunningJobs: 10, RunningCores: 640, RunningAccelerators: 16,
				PendingJobs: 3, PendingCores: 96, PendingAccelerators: 8}},
			Sources: []SourceStatus{{Name: "sacct", Kind: "sacct", Up: true, LastSuccess: t1, LastRecord: t0,
				LagSeconds: 60, Records: map[string]float64{"stored": 12, "skipped_bad_time": 1}, Skipped: 1,
				Polls: 5, Failures: 1, PollSecondsAverage: 0.25, LastError: "sacct: exit status 1"}},
			Config: ConfigStatus{LastReloadSuccess: true, LastReload: t0, Hash: "9f86d081"},
		},
		"rulehits": &RuleHits{Time: t1, Rules: []RuleHit{{Rule: "torchrun", Hits: 42}}},
		"error":    &Error{Error: `parameter "every": "fortnight" is not a period`},
	}
}

// TestWireFormat pins the JSON of every answer type: a renamed or removed
// field, or a changed encoding, changes a golden file. Run with -update
// after a deliberate, compatible change (an added field).
func TestWireFormat(t *testing.T) {
	for name, v := range examples() {
		t.Run(name, func(t *testing.T) {
			requireAllSet(t, reflect.ValueOf(v), name)
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden(t, name+".json", got)

			// The document decodes back into the same value: no field is
			// written that is not read.
			back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			dec := json.NewDecoder(bytes.NewReader(got))
			dec.DisallowUnknownFields()
			if err := dec.Decode(back); err != nil {
				t.Fatalf("decode %s: %v", name, err)
			}
			if !reflect.DeepEqual(back, v) {
				t.Errorf("%s does not survive a round trip:\n got %+v\nwant %+v", name, back, v)
			}
		})
	}
}

// TestWireFormatEmpty pins what a client sees of empty values: which
// fields are left out and which are always present.
func TestWireFormatEmpty(t *testing.T) {
	var b bytes.Buffer
	for _, v := range []any{Report{}, Job{}, Summary{}, SourceStatus{}, ConfigStatus{}, Resource{}, Accelerator{}} {
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(reflect.TypeOf(v).Name() + " " + string(out) + "\n")
	}
	golden(t, "empty.txt", b.Bytes())
}

// TestRequestValues pins the query strings of requests, which the server
// parses (its tests decode these very encodings).
func TestRequestValues(t *testing.T) {
	var b bytes.Buffer
	reqs := []struct {
		name string
		enc  string
	}{
		{"figures totals", FiguresRequest{From: t0, To: t1}.Values().Encode()},
		{"figures all", FiguresRequest{From: t0.In(time.FixedZone("X", 3600)), To: t1.Add(500 * time.Millisecond),
			Every: "hour", By: []string{"cluster", "kind"}, Timezone: "Europe/Berlin"}.Values().Encode()},
		{"jobs none", JobsRequest{}.Values().Encode()},
		{"jobs all", JobsRequest{From: t0, To: t1, Clusters: []string{"alpha", "beta"}, Partitions: []string{"gpu"},
			Accounts: []string{"ml"}, Users: []string{"ada"}, Classes: []string{"ai_training", "unknown"},
			States: []string{"RUNNING"}, Limit: 50, Offset: 100}.Values().Encode()},
	}
	for _, r := range reqs {
		b.WriteString(r.name + ": " + r.enc + "\n")
		for _, kv := range strings.Split(r.enc, "&") {
			k, _, _ := strings.Cut(kv, "=")
			known := FiguresParams
			if strings.HasPrefix(r.name, "jobs") {
				known = JobsParams
			}
			if k != "" && !slices.Contains(known, k) {
				t.Errorf("%s: parameter %q is not in the endpoint's list %v", r.name, k, known)
			}
		}
	}
	golden(t, "requests.txt", b.Bytes())
}

// requireAllSet fails when a field of v (recursively) holds its zero value:
// an example that leaves a field unset would let that field's name escape
// the golden file.
func requireAllSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			t.Errorf("%s is nil in the example: set it", path)
			return
		}
		requireAllSet(t, v.Elem(), path)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			if v.Interface().(time.Time).IsZero() {
				t.Errorf("%s is zero in the example: set it", path)
			}
			return
		}
		for i := range v.NumField() {
			requireAllSet(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			t.Errorf("%s is empty in the example: give it an element", path)
			return
		}
		if v.Kind() == reflect.Slice {
			requireAllSet(t, v.Index(0), path+"[0]")
		} else {
			iter := v.MapRange()
			iter.Next()
			requireAllSet(t, iter.Value(), path+"[]")
		}
	default:
		if v.IsZero() {
			t.Errorf("%s is zero in the example: set it", path)
		}
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./api/v1 -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed: a field was renamed, removed or encoded differently (a deliberate addition: go test ./api/v1 -update)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
