package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scmon/scmon/job"
)

// lsfT0 is 2026-01-01T00:00:00Z, the start of most hand-made LSF and SGE
// records.
const lsfT0 = 1767225600

func TestLSFFormatRegistered(t *testing.T) {
	f, ok := LookupFormat("lsf")
	if !ok || f.Directories || f.WindowFromSubmit {
		t.Fatalf("LookupFormat(lsf) = %+v, %v; want a registered file format", f, ok)
	}
}

// TestLSFReaderRecords reads the fixtures through Open, as report and
// classify do, and checks every record and skipped line.
func TestLSFReaderRecords(t *testing.T) {
	tests := []struct {
		file  string
		want  []pbsView
		extra func(t *testing.T, recs []*job.Record)
		bad   []string // "line:field:reason"
		notes map[string]int
	}{
		{
			// XDMoD's two JOB_FINISH records of one job: the first lists
			// 8 hosts with 16 slots each (SHORT_EVENTFILE form), the
			// second 4 hosts twice each, one slot per entry, under the
			// same numProcessors 128.
			file: "testdata/lsf/xdmod-lsb.acct",
			want: []pbsView{
				{JobID: "404717", User: "anonuser", Account: "anonproject", Partition: "regular", Name: "abcde0040",
					State: job.StateCompleted, ExitCode: "0", Submit: 1389642318, Start: 1389642771, End: 1389683139,
					Nodes: 8, Cores: 128,
					NodeList: "host1201-ib,host1234-ib,host1235-ib,host1236-ib,host1257-ib,host1270-ib,host1301-ib,host1303-ib"},
				{JobID: "404717", User: "anonuser", Account: "anonproject", Partition: "regular", Name: "abcde0040",
					State: job.StateCompleted, ExitCode: "0", Submit: 1389642318, Start: 1389642771, End: 1389683139,
					Nodes: 4, Cores: 8, NodeList: "host1,host2,host3,host4"},
			},
			extra: func(t *testing.T, recs []*job.Record) {
				// The command keeps its doubled quotes as single ones.
				if want := `#BSUB -R "span[ptile=16]"`; !strings.Contains(recs[1].SubmitLine, want) {
					t.Errorf("SubmitLine %q lacks %q", recs[1].SubmitLine, want)
				}
				if recs[0].WorkDir != "/scratch/anonuser/abcde/abcde0040" || recs[0].StateRaw != "DONE" {
					t.Errorf("WorkDir %q, StateRaw %q", recs[0].WorkDir, recs[0].StateRaw)
				}
			},
			notes: map[string]int{"slots_differ_from_request": 1},
		},
		{
			file: "testdata/lsf/edge-cases.acct",
			want: []pbsView{
				{JobID: "5001[3]", User: "alice", Account: "llm", Partition: "gpu", Name: "train_llama",
					State: job.StateCompleted, ExitCode: "0", Submit: lsfT0 - 600, Start: lsfT0, End: lsfT0 + 3600,
					Nodes: 1, Cores: 4, GPUs: 2, NodeList: "gpu01"},
				{JobID: "5002", User: "bob", Account: "cfd", Partition: "normal", Name: "cfd_run",
					State: job.StateCancelled, ExitCode: "35072", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 1800,
					Nodes: 2, Cores: 16, NodeList: "cpu01,cpu02"},
				{JobID: "5003", User: "carol", Account: "phys", Partition: "normal", Name: `long "quoted" job`,
					State: job.StateTimeout, ExitCode: "35072", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 7200,
					Nodes: 1, Cores: 2, NodeList: "cpu03"},
				// Killed while pending: never started, nothing allocated.
				{JobID: "5004", User: "dave", Account: "misc", Partition: "normal", Name: "never_ran",
					State: job.StateCancelled, ExitCode: "0", Submit: lsfT0 - 60},
				// LSF 6.2: the record ends at idx, without a termination
				// reason; a per-host or per-slot GPU request on 4 slots of
				// one host is ambiguous.
				{JobID: "5006", User: "erin", Account: "nlp", Partition: "gpu", Name: "infer_bert",
					State: job.StateFailed, ExitCode: "256", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 600,
					Nodes: 1, Cores: 4, NodeList: "gpu02"},
				// Two asked hosts before the execution hosts; DONE with
				// PDONE (192); one slot on one host: the GPU count holds.
				{JobID: "5007", User: "frank", Account: "llm", Partition: "short", Name: "eval",
					State: job.StateCompleted, ExitCode: "0", Submit: lsfT0 - 60, Start: lsfT0, End: lsfT0 + 900,
					Nodes: 1, Cores: 1, GPUs: 1, NodeList: "gpu03"},
			},
			extra: func(t *testing.T, recs []*job.Record) {
				want := []string{"DONE", "EXIT TERM_OWNER", "EXIT TERM_RUNLIMIT", "EXIT TERM_OWNER", "EXIT", "DONE"}
				for i, r := range recs {
					if r.StateRaw != want[i] {
						t.Errorf("%s: StateRaw %q, want %q", r.JobID, r.StateRaw, want[i])
					}
				}
				if recs[0].SubmitLine != "python train.py --epochs 3" || recs[0].WorkDir != "/home/alice/llm" {
					t.Errorf("5001: SubmitLine %q, WorkDir %q", recs[0].SubmitLine, recs[0].WorkDir)
				}
			},
			bad: []string{"8:user_name:bad_record", "9:num_processors:bad_number", "10:rusage:field_count",
				"11:end:bad_order", "12:exec_hosts:out_of_range", "13:event_type:bad_record", "14:command:bad_record"},
			notes: map[string]int{"event_skipped": 1, "gpu_ambiguous": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			recs, bad, notes := readAll(t, "lsf", tt.file, Options{Name: tt.file})
			if len(recs) != len(tt.want) {
				t.Fatalf("%d records, want %d", len(recs), len(tt.want))
			}
			for i, r := range recs {
				if got := pbsViewOf(r); got != tt.want[i] {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, got, tt.want[i])
				}
				if r.Source != tt.file || r.Line != i+1 && tt.file == "testdata/lsf/xdmod-lsb.acct" {
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
			for k, v := range tt.notes {
				if notes[k] != v {
					t.Errorf("note %s = %d, want %d (all: %v)", k, notes[k], v, notes)
				}
			}
			for k := range notes {
				if _, ok := tt.notes[k]; !ok {
					t.Errorf("unexpected note %s = %d", k, notes[k])
				}
			}
		})
	}
}

// lineErrKey is "line:field:reason" of a skipped line.
func lineErrKey(le *LineError) string {
	return fmt.Sprintf("%d:%s:%s", le.Line, le.Field, le.Reason)
}

// benchReader measures a reader of the named format over a fixture
// repeated to about a megabyte; only its good records are counted.
func benchReader(b *testing.B, format, path string) {
	one, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat(one, (1<<20)/len(one)+1)
	f, _ := LookupFormat(format)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	records := 0
	for b.Loop() {
		r, err := f.NewReader(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			records++
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// TestLSFScan checks the field splitter on quoting corners.
func TestLSFScan(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  string
	}{
		{line: `"a" b "" "c d"`, want: []string{"a", "b", "", "c d"}},
		{line: `  "x ""y"" z"	7 `, want: []string{`x "y" z`, "7"}},
		{line: `"""" """a"""`, want: []string{`"`, `"a"`}},
		{line: `"abc`, err: "unterminated quote"},
		{line: `"ab"c`, err: "after a closing quote"},
		{line: `"ab"""`, want: []string{`ab"`}},
		{line: `"ab""`, err: "unterminated quote"},
	}
	for _, tt := range tests {
		s := lsfScan{line: []byte(tt.line)}
		var got []string
		var err error
		for {
			v, esc, ok, e := s.next()
			if e != nil {
				err = e
				break
			}
			if !ok {
				break
			}
			if esc {
				v = []byte(strings.ReplaceAll(string(v), `""`, `"`))
			}
			got = append(got, string(v))
		}
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.line, err, tt.err)
			}
		case err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|"):
			t.Errorf("%q: got %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}

// TestLSFGPUs checks the reading of GPU requests against per-host,
// per-slot and per-job counts.
func TestLSFGPUs(t *testing.T) {
	tests := []struct {
		req          string
		slots, hosts int64
		want         int64
		ambiguous    bool
		err          string
	}{
		{req: "", slots: 4, hosts: 1},
		{req: "span[hosts=1]", slots: 4, hosts: 1},
		{req: "rusage[mem=4000]", slots: 4, hosts: 1},
		{req: "rusage[ngpus_physical=2/host]", slots: 8, hosts: 2, want: 4},
		{req: "rusage[ngpus_physical=1/task]", slots: 8, hosts: 2, want: 8},
		{req: "rusage[mem=10:ngpus_physical=3/job]", slots: 8, hosts: 2, want: 3},
		{req: "select[ngpus>0] rusage[ngpus_physical=2]", slots: 2, hosts: 2, want: 4},
		{req: "rusage[ngpus=1]", slots: 1, hosts: 1, want: 1},
		{req: "rusage[ngpus_physical=2]", slots: 4, hosts: 1, ambiguous: true},
		{req: "rusage[ngpus_physical=1] || rusage[mem=1]", slots: 1, hosts: 1, ambiguous: true},
		{req: "2*{rusage[ngpus_physical=1]}", slots: 1, hosts: 1, ambiguous: true},
		{req: "rusage[ngpus_physical=x]", slots: 1, hosts: 1, err: "GPU count"},
		{req: "rusage[ngpus_physical=2/socket]", slots: 1, hosts: 1, err: "unknown unit"},
		{req: "rusage[ngpus_physical=2", slots: 1, hosts: 1, err: "unterminated"},
		{req: "rusage[ngpus_physical=65536/task]", slots: 65536, hosts: 1, err: "out of range"},
	}
	for _, tt := range tests {
		l := NewLSFReader(strings.NewReader(""), Options{})
		got, err := l.gpus([]byte(tt.req), tt.slots, tt.hosts)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.req, err, tt.err)
			}
		case err != nil || got != tt.want || (l.notes["gpu_ambiguous"] == 1) != tt.ambiguous:
			t.Errorf("%q on %d slots, %d hosts: %d GPUs, %v, notes %v; want %d, ambiguous %v", tt.req, tt.slots, tt.hosts, got, err, l.notes, tt.want, tt.ambiguous)
		}
	}
}

func FuzzLSFReader(f *testing.F) {
	fuzzSeeds(f, "lsf", "hostile/lsf")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "lsf", data) })
}

func BenchmarkLSFReader(b *testing.B) {
	benchReader(b, "lsf", "testdata/lsf/xdmod-lsb.acct")
}

// TestLSFAndSGEGzipBombs holds both readers to the bound of
// TestHostileGenerated: a 1 MiB gzip file expanding to one line of
// 256 MiB (64 MiB in race builds) before a good record costs the line
// cap in memory, not the line.
func TestLSFAndSGEGzipBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("one gzip bomb is enough in -short runs")
	}
	tests := []struct {
		format, tail string
		want         hostileOutcome
	}{
		{
			format: "lsf",
			tail:   "\n" + `"JOB_FINISH" "10.1" 1767229200 7 1001 0 4 1767225000 0 0 1767225600 "u" "q" "" "" "" "h" "/w" "" "" "" "" 0 1 "4*n1" 64 1.0 "j" "c" 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "" "p" 0 4 "" "" 0` + "\n",
			want: hostileOutcome{Records: 1, CoreSeconds: 4 * 3600, NodeSeconds: 3600, Skipped: map[string]int{ReasonLineTooLong: 1},
				Errors: []string{"1::line_too_long"}, Notes: map[string]int{}, Jobs: []string{"7 4 2026-01-01T00:00:00Z 2026-01-01T01:00:00Z"}},
		},
		{
			format: "sge",
			tail:   "\nq:n1:g:u:j:8:sge:0:1767225000:1767225600:1767229200:0:0:3600:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:NONE:d:NONE:2:0:0:0:0:NONE:0:NONE:0:0:0\n",
			want: hostileOutcome{Records: 1, CoreSeconds: 2 * 3600, NodeSeconds: 3600, Skipped: map[string]int{ReasonLineTooLong: 1},
				Errors: []string{"1::line_too_long"}, Notes: map[string]int{}, Jobs: []string{"8 2 2026-01-01T00:00:00Z 2026-01-01T01:00:00Z"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bomb.gz")
			writeGzipBomb(t, path, "", '"', bombSize/4, tt.tail)
			var got hostileOutcome
			bounded(t, memBound(Options{}), func() {
				r, c, err := Open(tt.format, path, Options{})
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				defer c.Close()
				got = outcomeOf(t, r)
			})
			compareOutcome(t, got, tt.want)
		})
	}
}
