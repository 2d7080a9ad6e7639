package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

func TestSGEFormatRegistered(t *testing.T) {
	f, ok := LookupFormat("sge")
	if !ok || f.Directories || f.WindowFromSubmit {
		t.Fatalf("LookupFormat(sge) = %+v, %v; want a registered file format", f, ok)
	}
}

// TestSGEReaderRecords reads the fixtures through Open, as report and
// classify do, and checks every record and skipped line.
func TestSGEReaderRecords(t *testing.T) {
	tests := []struct {
		file  string
		want  []pbsView
		extra func(t *testing.T, recs []*job.Record)
		bad   []string // "line:field:reason"
		notes map[string]int
	}{
		{
			file: "testdata/sge/sge-accounting-logs.log",
			want: []pbsView{
				{JobID: "22947", User: "jdoe", Group: "jdoe", Account: "sge", Partition: "myqueue", Name: "mpi-mem-test",
					State: job.StateCompleted, ExitCode: "0", Submit: 1310761621, Start: 1311095354, End: 1311095414,
					Timelimit: 36000 * time.Second, Nodes: 1, Cores: 1, NodeList: "testhost"},
				{JobID: "22947", User: "jdoe", Group: "jdoe", Account: "sge", Partition: "myqueue", Name: "mpi-mem-test",
					State: job.StateCompleted, ExitCode: "0", Submit: 1310761621, Start: 1311095354, End: 1311095414,
					Timelimit: 36000 * time.Second, Nodes: 1, Cores: 1, NodeList: "testhost"},
			},
		},
		{
			file: "testdata/sge/uge-accounting-logs.log",
			want: []pbsView{
				{JobID: "22947", User: "jdoe", Group: "jdoe", Account: "sge", Partition: "myqueue", Name: "mpi-mem-test",
					State: job.StateCompleted, ExitCode: "0", Submit: 1310761621, Start: 1311095354, End: 1311095414,
					Timelimit: 36000 * time.Second, Nodes: 1, Cores: 1, NodeList: "testhost"},
				// 16 slots asking for gpu=1: per slot or per job is the
				// site's configuration, not in the record.
				{JobID: "4437956", User: "gpuowner", Group: "gpugroup", Account: "sge", Partition: "gpu_queue", Name: "gpujob",
					State: job.StateCompleted, ExitCode: "0", Submit: 1652111621, Start: 1652111622, End: 1652124460,
					Nodes: 1, Cores: 16, NodeList: "gpuhost"},
			},
			extra: func(t *testing.T, recs []*job.Record) {
				// Milliseconds kept: 12,837.318 s of wall time.
				if d := recs[1].End.Sub(recs[1].Start); d != 12837318*time.Millisecond {
					t.Errorf("UGE run %v, want 12837.318s", d)
				}
			},
			notes: map[string]int{"times_in_milliseconds": 2, "gpu_ambiguous": 1},
		},
		{
			file: "testdata/sge/edge-cases.log",
			want: []pbsView{
				{JobID: "6001.7", User: "alice", Group: "ml", Account: "sge", Partition: "gpu.q", Name: "train_resnet",
					State: job.StateCompleted, ExitCode: "0", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 3600,
					Timelimit: 7200 * time.Second, Nodes: 1, Cores: 1, GPUs: 1, NodeList: "gpu01"},
				{JobID: "6002", User: "bob", Group: "hpc", Account: "proj_a", Partition: "all.q", Name: "mpi_job",
					State: job.StateCancelled, ExitCode: "137", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 1800,
					Timelimit: 3600 * time.Second, Nodes: 1, Cores: 8, NodeList: "cpu01"},
				{JobID: "6003", User: "carol", Group: "hpc", Account: "sge", Partition: "all.q", Name: "long_sim",
					State: job.StateTimeout, ExitCode: "137", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 600,
					Timelimit: 600 * time.Second, Nodes: 1, Cores: 1, NodeList: "cpu02"},
				{JobID: "6005", User: "erin", Group: "hpc", Account: "sge", Partition: "all.q", Name: "nocwd",
					State: job.StateFailed, ExitCode: "0", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 2,
					Nodes: 1, Cores: 1, NodeList: "cpu04"},
				{JobID: "6006", User: "frank", Group: "ml", Account: "sge", Partition: "gpu.q", Name: "serve_llm",
					State: job.StateCompleted, ExitCode: "0", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 900,
					Nodes: 1, Cores: 4, NodeList: "gpu02"},
				{JobID: "6011", User: "leo", Group: "hpc", Account: "sge", Partition: "all.q", Name: "failed_exit",
					State: job.StateFailed, ExitCode: "1", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 120,
					Timelimit: 1000 * time.Second, Nodes: 1, Cores: 2, NodeList: "cpu06"},
			},
			extra: func(t *testing.T, recs []*job.Record) {
				if recs[1].StateRaw != "100" || recs[3].StateRaw != "26" {
					t.Errorf("StateRaw %q, %q; want the failed codes 100, 26", recs[1].StateRaw, recs[3].StateRaw)
				}
				if got := recs[4].Start.UnixMilli(); got != lsfT0*1000+500 {
					t.Errorf("UGE start %d ms", got)
				}
			},
			bad:   []string{"10:submission_time:bad_time", "11::field_count", "12:slots:bad_number", "13:end:bad_order", "14:job_number:bad_id"},
			notes: map[string]int{"never_started": 1, "pe_task": 1, "times_in_milliseconds": 1, "gpu_ambiguous": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			recs, bad, notes := readAll(t, "sge", tt.file, Options{Name: tt.file})
			if len(recs) != len(tt.want) {
				t.Fatalf("%d records, want %d", len(recs), len(tt.want))
			}
			for i, r := range recs {
				if got := pbsViewOf(r); got != tt.want[i] {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, got, tt.want[i])
				}
				if r.Source != tt.file || r.Line <= 0 {
					t.Errorf("record %d placed at %s:%d", i, r.Source, r.Line)
				}
			}
			var got []string
			for _, le := range bad {
				got = append(got, lineErrKey(le))
				if !strings.HasPrefix(le.Error(), tt.file+":") {
					t.Errorf("error %q does not name the file", le)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.bad, " ") {
				t.Errorf("skipped lines %v, want %v", got, tt.bad)
			}
			if tt.extra != nil {
				tt.extra(t, recs)
			}
			if len(notes) != len(tt.notes) {
				t.Errorf("notes %v, want %v", notes, tt.notes)
			}
			for k, v := range tt.notes {
				if notes[k] != v {
					t.Errorf("note %s = %d, want %d (all: %v)", k, notes[k], v, notes)
				}
			}
		})
	}
}

// TestSGETimes checks the unit decision of the three times of a line.
func TestSGETimes(t *testing.T) {
	tests := []struct {
		vals  [3]int64
		want  [3]int64 // Unix milliseconds, 0 for a zero time
		milli bool
		err   string
	}{
		{vals: [3]int64{1310761621, 1311095354, 1311095414}, want: [3]int64{1310761621000, 1311095354000, 1311095414000}},
		{vals: [3]int64{1652111621288, 1652111622875, 1652124460193}, want: [3]int64{1652111621288, 1652111622875, 1652124460193}, milli: true},
		{vals: [3]int64{1652111621288, 0, 0}, want: [3]int64{1652111621288, 0, 0}, milli: true},
		{vals: [3]int64{8_000_000_000, 0, 0}, want: [3]int64{8_000_000_000_000, 0, 0}},
		{vals: [3]int64{1310761621, 1311095354000, 0}, err: "looks like seconds"},
		{vals: [3]int64{maxSeconds + 1, 0, 0}, err: "out of range"},
		{vals: [3]int64{maxSeconds*1000 + 1, 0, 0}, err: "out of range"},
	}
	for _, tt := range tests {
		got, milli, err := sgeTimes(tt.vals[0], tt.vals[1], tt.vals[2])
		if tt.err != "" {
			if err == nil || !strings.Contains(err.err.Error(), tt.err) {
				t.Errorf("%v: error %v, want %q", tt.vals, err, tt.err)
			}
			continue
		}
		if err != nil || milli != tt.milli {
			t.Errorf("%v: milli %v, error %v", tt.vals, milli, err)
			continue
		}
		for i, g := range got {
			var ms int64
			if !g.IsZero() {
				ms = g.UnixMilli()
			}
			if ms != tt.want[i] {
				t.Errorf("%v: time %d = %d ms, want %d", tt.vals, i, ms, tt.want[i])
			}
		}
	}
}

func FuzzSGEReader(f *testing.F) {
	fuzzSeeds(f, "sge", "hostile/sge")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "sge", data) })
}

func BenchmarkSGEReader(b *testing.B) {
	benchReader(b, "sge", "testdata/sge/uge-accounting-logs.log")
}
