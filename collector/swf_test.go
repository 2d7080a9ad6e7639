package collector

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// swfView is the part of a record the SWF tests check; times are seconds
// after the fixture's UnixStartTime (or -1 for a zero time), so that they
// read like the SWF fields they come from.
type swfView struct {
	JobID, User, Group, Name, QOS, Partition string
	State                                    job.State
	StateRaw                                 string
	Submit, Start, End                       float64
	Timelimit                                time.Duration
	Cores                                    int64
}

func swfViewOf(r *job.Record, base int64) swfView {
	rel := func(t time.Time) float64 {
		if t.IsZero() {
			return -1
		}
		return t.Sub(time.Unix(base, 0)).Seconds()
	}
	return swfView{
		JobID: r.JobID, User: r.User, Group: r.Group, Name: r.Name, QOS: r.QOS, Partition: r.Partition,
		State: r.State, StateRaw: r.StateRaw,
		Submit: rel(r.Submit), Start: rel(r.Start), End: rel(r.End),
		Timelimit: r.Timelimit, Cores: r.Cores,
	}
}

// swfOpen reads a fixture through Open and returns its records, its
// skipped lines and the capacity hint Open's reader passes on.
func swfOpen(t *testing.T, path string) ([]*job.Record, []*LineError, *CapacityHint) {
	t.Helper()
	r, c, err := Open("swf", path, Options{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recs, bad := drain(t, r)
	h, ok := r.(capacityHinter)
	if !ok {
		t.Fatalf("the reader Open returns for swf does not pass on a capacity hint")
	}
	return recs, bad, h.Capacity()
}

func TestSWFFormatRegistered(t *testing.T) {
	f, ok := LookupFormat("swf")
	if !ok || !f.WindowFromSubmit || f.Directories {
		t.Fatalf("LookupFormat(swf) = %+v, %v; want a registered format whose window starts at the first submission", f, ok)
	}
}

// TestSWFUtilization reproduces the hand computation of the archive logs in
// the shared data manifest from the records the reader returns:
// sum((End-Start) x Cores) / (MaxProcs x (last End - first Submit)).
func TestSWFUtilization(t *testing.T) {
	tests := []struct {
		file     string
		jobs     int
		maxProcs int64
		maxNodes int64
		zone     string
		start    int64
		percent  float64
	}{
		{"KTH-SP2-1996-2.1-cln.swf.gz", 28476, 100, 100, "Europe/Stockholm", 843480031, 70.11},
		{"CTC-SP2-1996-3.1-cln.swf.gz", 77222, 338, 338, "US/Eastern", 835823160, 84.13},
		{"NASA-iPSC-1993-3.1-cln.swf.gz", 18239, 128, 128, "US/Pacific", 749458803, 46.61},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			recs, bad, hint := swfOpen(t, filepath.Join("testdata/swf", tt.file))
			if len(bad) != 0 || len(recs) != tt.jobs {
				t.Fatalf("got %d records and %d skipped lines, want %d records", len(recs), len(bad), tt.jobs)
			}
			if hint == nil || hint.Cores != tt.maxProcs || hint.Nodes != tt.maxNodes || hint.Source != "swf header MaxProcs" ||
				hint.Location == nil || hint.Location.String() != tt.zone || hint.Start.Unix() != tt.start {
				t.Fatalf("capacity hint %+v, want %d cores, %d nodes, zone %s, start %d", hint, tt.maxProcs, tt.maxNodes, tt.zone, tt.start)
			}
			var first, last time.Time
			var coreSeconds float64
			for _, r := range recs {
				if !r.Submit.IsZero() && (first.IsZero() || r.Submit.Before(first)) {
					first = r.Submit
				}
				if r.End.After(last) {
					last = r.End
				}
				if r.Started() {
					coreSeconds += r.End.Sub(r.Start).Seconds() * float64(r.Cores)
				}
			}
			got := 100 * coreSeconds / (float64(hint.Cores) * last.Sub(first).Seconds())
			t.Logf("%d jobs, window %s to %s, utilization %.4f%%", len(recs), first.UTC(), last.UTC(), got)
			if math.Abs(got-tt.percent) > 0.01 {
				t.Errorf("utilization %.4f%%, want %.2f%% (within 0.01 points)", got, tt.percent)
			}
		})
	}
}

func TestSWFReaderRecords(t *testing.T) {
	const file = "testdata/swf/edge-cases.swf"
	const base = 1700000000
	h := time.Hour
	tests := []struct {
		name string
		line int
		want swfView
	}{
		{"completed job", 16, swfView{JobID: "1", User: "u1", Group: "g1", Name: "app1", QOS: "q1", Partition: "p1",
			State: job.StateCompleted, StateRaw: "1", Submit: 0, Start: 10, End: 3610, Timelimit: 2 * h, Cores: 8}},
		{"unknown wait counts as none, -1 ids are empty", 17, swfView{JobID: "2", User: "u2",
			State: job.StateFailed, StateRaw: "0", Submit: 60, Start: 60, End: 180, Cores: 4}},
		{"cancelled before it ran", 18, swfView{JobID: "3", User: "u3", Group: "g1", Name: "app2", QOS: "q1",
			State: job.StateCancelled, StateRaw: "5", Submit: 100, Start: -1, End: -1, Timelimit: h}},
		{"cancelled while running", 19, swfView{JobID: "4", User: "u1", Group: "g1", Name: "app2", QOS: "q2", Partition: "p1",
			State: job.StateCancelled, StateRaw: "5", Submit: 200, Start: 220, End: 820, Timelimit: h, Cores: 16}},
		{"zero run time", 20, swfView{JobID: "5", User: "u4", Group: "g2", Name: "app3", QOS: "q1", Partition: "p1",
			State: job.StateCompleted, StateRaw: "1", Submit: 300, Start: 300, End: 300, Timelimit: time.Minute, Cores: 4}},
		{"no allocated processors", 21, swfView{JobID: "6", User: "u4", Group: "g2", Name: "app3", QOS: "q1", Partition: "p1",
			State: job.StateFailed, StateRaw: "0", Submit: 400, Start: -1, End: -1, Timelimit: time.Minute}},
		{"partial run, continued", 22, swfView{JobID: "7", User: "u5", Group: "g1", Name: "app4", QOS: "q1", Partition: "p1",
			State: job.StatePreempted, StateRaw: "2", Submit: 500, Start: 510, End: 1510, Timelimit: 2 * h, Cores: 32}},
		{"last partial run, completed", 23, swfView{JobID: "7", User: "u5", Group: "g1", Name: "app4", QOS: "q1", Partition: "p1",
			State: job.StateCompleted, StateRaw: "3", Submit: 500, Start: 2500, End: 4000, Timelimit: 2 * h, Cores: 32}},
		{"last partial run, failed", 25, swfView{JobID: "8", User: "u5", Group: "g1", Name: "app4", QOS: "q1", Partition: "p1",
			State: job.StateFailed, StateRaw: "4", Submit: 600, Start: 800, End: 900, Timelimit: 2 * h, Cores: 8}},
		{"decimal times", 27, swfView{JobID: "9", User: "u6", Group: "g3", Name: "app5", QOS: "q1", Partition: "p1",
			State: job.StateCompleted, StateRaw: "1", Submit: 700.5, Start: 710, End: 770.25, Timelimit: 2 * time.Minute, Cores: 2}},
		{"undefined status", 32, swfView{JobID: "14", User: "u7", Group: "g3", Name: "app5", QOS: "q1", Partition: "p1",
			State: job.StateOther, StateRaw: "7", Submit: 1000, Start: 1000, End: 1060, Timelimit: 2 * time.Minute, Cores: 2}},
		{"unknown status", 33, swfView{JobID: "15", User: "u7", Group: "g3", Name: "app5", QOS: "q1", Partition: "p1",
			State: job.StateUnknown, StateRaw: "-1", Submit: 1100, Start: 1100, End: 1160, Timelimit: 2 * time.Minute, Cores: 2}},
	}
	recs, _, _ := swfOpen(t, file)
	byLine := map[int]*job.Record{}
	for _, r := range recs {
		byLine[r.Line] = r
	}
	if len(recs) != 13 {
		t.Errorf("got %d records, want 13", len(recs))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := byLine[tt.line]
			if r == nil {
				t.Fatalf("no record from line %d", tt.line)
			}
			if got := swfViewOf(r, base); got != tt.want {
				t.Errorf("line %d:\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
			if r.Source != file || r.Nodes != 0 {
				t.Errorf("source %q nodes %d, want %q and 0", r.Source, r.Nodes, file)
			}
		})
	}
}

func TestSWFReaderLineErrors(t *testing.T) {
	const file = "testdata/swf/edge-cases.swf"
	want := []struct {
		line          int
		field, reason string
	}{
		{28, "", ReasonFieldCount},
		{29, "wait_time", ReasonTime},
		{30, "job_number", ReasonID},
		{31, "allocated_processors", ReasonNumber},
	}
	recs, bad, hint := swfOpen(t, file)
	if len(bad) != len(want) {
		t.Fatalf("got %d line errors, want %d: %v", len(bad), len(want), bad)
	}
	for i, w := range want {
		g := bad[i]
		if g.File != file || g.Line != w.line || g.Field != w.field || g.Reason != w.reason || g.Err == nil {
			t.Errorf("error %d = {%s %d %q %s %v}, want {%s %d %q %s}", i, g.File, g.Line, g.Field, g.Reason, g.Err, file, w.line, w.field, w.reason)
		}
	}
	if last := recs[len(recs)-1]; last.JobID != "15" || last.Line != 33 {
		t.Errorf("last record %s from line %d; reading did not go on after the bad lines", last.JobID, last.Line)
	}
	// The header's prose and the indented "MaxProcs: 9999" do not count.
	if hint == nil || hint.Cores != 64 || hint.Nodes != 16 || hint.Location.String() != "Europe/Berlin" || hint.Start.Unix() != 1700000000 {
		t.Errorf("capacity hint %+v, want 64 cores, 16 nodes, Europe/Berlin, start 1700000000", hint)
	}
}

func TestSWFHeader(t *testing.T) {
	const job1 = "1 0 0 10 1 -1 -1 1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"
	tests := []struct {
		name   string
		input  string
		cores  int64
		nodes  int64
		source string
		zone   string
	}{
		{"MaxNodes stands in for MaxProcs", "; MaxNodes: 128\n" + job1, 128, 128, "swf header MaxNodes", ""},
		{"MaxProcs differs from MaxNodes", "; MaxNodes: 32\n; MaxProcs: 256\n" + job1, 256, 32, "swf header MaxProcs", ""},
		{"deprecated TimeZone only", "; TimeZone: 3600\n; MaxProcs: 8\n" + job1, 8, 0, "swf header MaxProcs", ""},
		{"comment without blank", ";MaxProcs: 8\n;TimeZoneString: UTC\n" + job1, 8, 0, "swf header MaxProcs", "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSWFReader(strings.NewReader(tt.input), Options{})
			h := s.Capacity() // before Next: the header is read on demand
			if h == nil || h.Cores != tt.cores || h.Nodes != tt.nodes || h.Source != tt.source {
				t.Fatalf("hint %+v, want cores %d nodes %d source %q", h, tt.cores, tt.nodes, tt.source)
			}
			if tt.zone != "" && (h.Location == nil || h.Location.String() != tt.zone) {
				t.Errorf("location %v, want %s", h.Location, tt.zone)
			}
			rec, err := s.Next()
			if err != nil || rec.JobID != "1" || rec.Submit.Unix() != 0 || rec.End.Unix() != 10 {
				t.Fatalf("first record %+v, %v; want job 1 from 0 to 10", rec, err)
			}
			if _, err := s.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("after the only job: %v, want io.EOF", err)
			}
		})
	}
	t.Run("no header", func(t *testing.T) {
		s := NewSWFReader(strings.NewReader(job1), Options{})
		if h := s.Capacity(); h != nil {
			t.Errorf("hint %+v, want nil", h)
		}
	})
	t.Run("unknown zone", func(t *testing.T) {
		s := NewSWFReader(strings.NewReader("; TimeZoneString: Mars/Olympus\n; MaxProcs: 4\n"+job1), Options{})
		if h := s.Capacity(); h == nil || h.Location != nil || s.Notes()["unknown_time_zone"] != 1 {
			t.Errorf("hint %+v notes %v, want no location and an unknown_time_zone note", h, s.Notes())
		}
	})
}

func TestSWFHeaderErrors(t *testing.T) {
	input := "; MaxProcs: many\n; UnixStartTime: soon\n; MaxNodes: 4\n" + "1 0 0 10 1 -1 -1 1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"
	recs, bad := drain(t, NewSWFReader(strings.NewReader(input), Options{Name: "mem"}))
	want := []struct {
		line          int
		field, reason string
	}{
		{1, "MaxProcs", ReasonNumber},
		{2, "UnixStartTime", ReasonTime},
	}
	if len(bad) != len(want) {
		t.Fatalf("got %v, want %d errors", bad, len(want))
	}
	for i, w := range want {
		if g := bad[i]; g.File != "mem" || g.Line != w.line || g.Field != w.field || g.Reason != w.reason {
			t.Errorf("error %d = {%s %d %q %s}, want {mem %d %q %s}", i, g.File, g.Line, g.Field, g.Reason, w.line, w.field, w.reason)
		}
	}
	if len(recs) != 1 || recs[0].Line != 4 {
		t.Errorf("records %v, want the job of line 4", recs)
	}
}

func TestSWFCapacityThroughOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.swf")
	if err := os.WriteFile(path, []byte("; MaxProcs: 16\n1 0 0 10 1 -1 -1 1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, c, err := Open("swf", path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h := r.(capacityHinter)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if got := h.Capacity(); got == nil || got.Cores != 16 {
		t.Errorf("while reading: %+v, want 16 cores", got)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("want io.EOF, got %v", err)
	}
	if got := h.Capacity(); got == nil || got.Cores != 16 {
		t.Errorf("after reading: %+v, want 16 cores", got)
	}
}

func TestSWFNumber(t *testing.T) {
	good := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0}, {"-1", -time.Second}, {"3600", time.Hour}, {"142.00", 142 * time.Second},
		{"0.25", 250 * time.Millisecond}, {"1e3", 1000 * time.Second},
	}
	for _, tt := range good {
		v, ok := swfNumber([]byte(tt.in))
		if !ok || v.seconds() != tt.want {
			t.Errorf("swfNumber(%q) = %+v, %v; want %v", tt.in, v, ok, tt.want)
		}
	}
	for _, bad := range []string{"", "-", "x", "1,5", "NaN", "Inf", "--1"} {
		if _, ok := swfNumber([]byte(bad)); ok {
			t.Errorf("swfNumber(%q) accepted", bad)
		}
	}
}

func BenchmarkSWFReader(b *testing.B) {
	f, err := os.Open("testdata/swf/KTH-SP2-1996-2.1-cln.swf.gz")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := MaybeGzip(f)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	records := 0
	for b.Loop() {
		r := NewSWFReader(bytes.NewReader(data), Options{})
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
