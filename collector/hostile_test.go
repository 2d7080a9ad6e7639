package collector

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

var update = flag.Bool("update", false, "rewrite the expected outcomes of the hostile corpus from what the readers do now")

// hostileWant is the expected outcome of one hostile case, kept next to
// it as <case>.want.json: the options it is read with, and what reading it
// must give, exactly.
type hostileWant struct {
	Options struct {
		Location string   `json:"location,omitempty"`
		Fields   []string `json:"fields,omitempty"`
		Cluster  string   `json:"cluster,omitempty"`
		MaxLine  int      `json:"max_line,omitempty"`
	} `json:"options"`
	Outcome hostileOutcome `json:"outcome"`
}

// hostileOutcome is what a case gives: records and their figures, skipped
// lines by reason and by place, and the reader's notes.
type hostileOutcome struct {
	Records int `json:"records"`
	Running int `json:"running"`
	// CoreSeconds, NodeSeconds and AccelSeconds sum count x (End - Start)
	// over the records that ended.
	CoreSeconds  int64          `json:"core_seconds"`
	NodeSeconds  int64          `json:"node_seconds"`
	AccelSeconds int64          `json:"accel_seconds"`
	Skipped      map[string]int `json:"skipped"`
	// Errors are the first skipped lines as "line:field:reason".
	Errors []string       `json:"errors"`
	Notes  map[string]int `json:"notes"`
	// Jobs lists "id cores start end" of the first records, UTC.
	Jobs []string `json:"jobs"`
}

// hostileMemLimit bounds the heap of every case, with memBound: far below
// what reading a gigabyte-long line whole would take, or a slice element
// per field of 50 MB of delimiters, far above what a bounded reader needs
// (its line cap, some buffers, the records of a small file).
const hostileMemLimit = 64 << 20

// hostileTimeLimit bounds every case. A case takes well under a second on
// a loaded machine; the bound catches hangs and quadratic blow-ups, not
// speed, which the benchmarks measure.
const hostileTimeLimit = 2 * time.Minute

// TestHostileCorpus reads every case under testdata/hostile/<format>/
// (any file but *.want.json; adding a case adds files, not code) and the
// generated cases of hostileGenerated, each under a memory and a time
// bound, and requires exactly the outcome written next to it, plus the
// invariants every record and skipped line must satisfy. Run with -update
// to rewrite the outcomes after a deliberate change (then review the diff).
func TestHostileCorpus(t *testing.T) {
	formats, err := os.ReadDir("testdata/hostile")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range formats {
		if _, ok := LookupFormat(fd.Name()); !ok {
			t.Errorf("testdata/hostile/%s: not a format (known: %v)", fd.Name(), FormatNames())
			continue
		}
		files, err := os.ReadDir(filepath.Join("testdata/hostile", fd.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f.Name(), ".want.json") {
				continue
			}
			n++
			format, path := fd.Name(), filepath.Join("testdata/hostile", fd.Name(), f.Name())
			t.Run(format+"/"+f.Name(), func(t *testing.T) {
				wantPath := path + ".want.json"
				var want hostileWant
				if b, err := os.ReadFile(wantPath); err == nil {
					if err := json.Unmarshal(b, &want); err != nil {
						t.Fatalf("%s: %v", wantPath, err)
					}
				} else if !*update {
					t.Fatalf("no expected outcome: %v (write it, or run with -update and review it)", err)
				}
				got := runHostile(t, format, path, &want)
				if *update {
					want.Outcome = got
					b, _ := json.MarshalIndent(want, "", "  ")
					if err := os.WriteFile(wantPath, append(b, '\n'), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				compareOutcome(t, got, want.Outcome)
			})
		}
	}
	if n < len(formats) {
		t.Errorf("%d hostile cases for %d formats", n, len(formats))
	}
}

func compareOutcome(t *testing.T, got, want hostileOutcome) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	if !bytes.Equal(g, w) {
		t.Errorf("outcome changed\ngot  %s\nwant %s", g, w)
	}
}

// runHostile reads one input under the bounds and returns its outcome.
func runHostile(t *testing.T, format, path string, want *hostileWant) hostileOutcome {
	t.Helper()
	opts := Options{Cluster: want.Options.Cluster, Fields: want.Options.Fields, MaxLine: want.Options.MaxLine}
	if want.Options.Location != "" {
		loc, err := time.LoadLocation(want.Options.Location)
		if err != nil {
			t.Fatal(err)
		}
		opts.Location = loc
	}
	var out hostileOutcome
	bounded(t, memBound(opts), func() {
		r, c, err := Open(format, path, opts)
		if err != nil {
			t.Errorf("Open: %v", err)
			return
		}
		defer c.Close()
		out = outcomeOf(t, r)
	})
	return out
}

// outcomeOf drains r, checks the invariants of every record and skipped
// line, and sums the figures.
func outcomeOf(t *testing.T, r Reader) hostileOutcome {
	out := hostileOutcome{Skipped: map[string]int{}, Notes: map[string]int{}}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			if msg := lineErrorProblem(le); msg != "" {
				t.Error(msg)
			}
			out.Skipped[le.Reason]++
			if len(out.Errors) < 20 {
				out.Errors = append(out.Errors, fmt.Sprintf("%d:%s:%s", le.Line, le.Field, le.Reason))
			}
			continue
		}
		if err != nil {
			t.Errorf("Next: %v", err)
			break
		}
		if msg := recordProblem(rec); msg != "" {
			t.Error(msg)
		}
		out.Records++
		if len(out.Jobs) < 20 {
			out.Jobs = append(out.Jobs, fmt.Sprintf("%s %d %s %s", rec.JobID, rec.Cores, hostileTime(rec.Start), hostileTime(rec.End)))
		}
		if rec.Running() {
			out.Running++
			continue
		}
		if !rec.Started() {
			continue
		}
		d := int64(rec.End.Sub(rec.Start) / time.Second)
		out.CoreSeconds += rec.Cores * d
		out.NodeSeconds += rec.Nodes * d
		out.AccelSeconds += rec.AccelCount("") * d
	}
	if n, ok := r.(Noter); ok {
		for k, v := range n.Notes() {
			out.Notes[k] = v
		}
	}
	return out
}

func hostileTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// recordProblem returns what is wrong with a record a reader returned, or
// "": the invariants every reader keeps whatever its input.
func recordProblem(r *job.Record) string {
	switch {
	case r == nil:
		return "nil record without an error"
	case r.Started() && !r.End.IsZero() && r.End.Before(r.Start):
		return fmt.Sprintf("record %s: end %v before start %v", r.JobID, r.End, r.Start)
	case r.Cores < 0 || r.Cores > job.MaxCount || r.Nodes < 0 || r.Nodes > job.MaxCount:
		return fmt.Sprintf("record %s: %d cores, %d nodes", r.JobID, r.Cores, r.Nodes)
	case math.IsNaN(r.Billing) || math.IsInf(r.Billing, 0) || r.Billing < 0:
		return fmt.Sprintf("record %s: billing %v", r.JobID, r.Billing)
	case r.Timelimit < 0:
		return fmt.Sprintf("record %s: time limit %v", r.JobID, r.Timelimit)
	case r.Line <= 0:
		return fmt.Sprintf("record %s: line %d", r.JobID, r.Line)
	}
	var sum int64
	for _, a := range r.Accels {
		if a.Count < 0 || a.Count > job.MaxCount-sum {
			return fmt.Sprintf("record %s: accelerators %v", r.JobID, r.Accels)
		}
		sum += a.Count
	}
	return ""
}

// lineErrorProblem returns what is wrong with a skipped line's report: it
// must name its file and line, carry a known reason and say why.
func lineErrorProblem(le *LineError) string {
	known := false
	for _, r := range Reasons {
		known = known || r == le.Reason
	}
	switch {
	case !known:
		return fmt.Sprintf("%v: unknown reason %q", le, le.Reason)
	case le.Line <= 0:
		return fmt.Sprintf("%v: no line number", le)
	case le.Err == nil:
		return fmt.Sprintf("%s:%d: no cause", le.File, le.Line)
	case !strings.Contains(le.Error(), fmt.Sprintf(":%d:", le.Line)):
		return fmt.Sprintf("%v: message does not name line %d", le, le.Line)
	case le.Field != "" && !strings.Contains(le.Error(), "field "+le.Field):
		return fmt.Sprintf("%v: message does not name field %s", le, le.Field)
	case len(le.Error()) > 4096:
		return fmt.Sprintf("%s:%d: message of %d bytes quotes too much input", le.File, le.Line, len(le.Error()))
	}
	return ""
}

// bounded runs fn under the memory and time bounds: a soft memory limit
// for the runtime, a sampled peak of live heap checked against it, and a
// deadline after which the test fails as hung.
func bounded(t *testing.T, limit int64, fn func()) {
	t.Helper()
	runtime.GC()
	old := debug.SetMemoryLimit(limit)
	defer debug.SetMemoryLimit(old)
	base := liveHeap()
	ctx, cancel := context.WithCancel(context.Background())
	peak := make(chan uint64, 1)
	go func() {
		var max uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h := liveHeap(); h > max {
				max = h
			}
			select {
			case <-ctx.Done():
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(hostileTimeLimit):
		cancel()
		t.Fatalf("hung: not done after %v", hostileTimeLimit)
	}
	cancel()
	p := <-peak
	if p > base && int64(p-base) > limit {
		t.Errorf("peak heap grew by %d MiB, more than the bound of %d MiB", (p-base)>>20, limit>>20)
	} else if p > base {
		t.Logf("peak heap grew by %.1f MiB (bound %d MiB)", float64(p-base)/(1<<20), limit>>20)
	}
}

// memBound is the heap a case may use: hostileMemLimit, plus three times
// a line cap raised above the default (the line, the record's copy of its
// text, and slack), since a record as long as the cap is accepted.
func memBound(o Options) int64 {
	return hostileMemLimit + 3*int64(max(o.MaxLine, DefaultMaxLine))
}

// liveHeap returns the bytes of heap objects, live or not yet swept: an
// upper bound of what the code under test holds.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// hostileGenerated are the cases too big to commit: each writes its input
// into dir and says how to read it and what must come out.
var hostileGenerated = []struct {
	name   string
	format string
	opts   Options
	write  func(t *testing.T, path string)
	want   hostileOutcome
}{
	{
		// A 1 MiB gzip file that expands to one line of 1 GiB (in race
		// builds 256 MiB) between two good records.
		name: "gzip-bomb-one-line", format: "slurm-sacct",
		write: func(t *testing.T, path string) {
			writeGzipBomb(t, path, "JobID|NCPUS|Start|End|State\n1|4|2026-01-01T00:00:00|2026-01-01T01:00:00|COMPLETED\n",
				'x', bombSize, "\n2|2|2026-01-01T00:00:00|2026-01-01T00:30:00|COMPLETED\n")
		},
		want: hostileOutcome{Records: 2, CoreSeconds: 4*3600 + 2*1800, Skipped: map[string]int{ReasonLineTooLong: 1},
			Errors: []string{"3::line_too_long"}, Notes: map[string]int{},
			Jobs: []string{"1 4 2026-01-01T00:00:00Z 2026-01-01T01:00:00Z", "2 2 2026-01-01T00:00:00Z 2026-01-01T00:30:00Z"}},
	},
	{
		// A 1 GiB line for each of the other formats: the same bound.
		name: "gzip-bomb-pbs", format: "pbs",
		write: func(t *testing.T, path string) {
			writeGzipBomb(t, path, "", ';', bombSize/4, "\n01/01/2026 01:00:00;E;7.srv;user=a start=1767225600 end=1767229200 Resource_List.ncpus=8 Exit_status=0\n")
		},
		want: hostileOutcome{Records: 1, CoreSeconds: 8 * 3600, Skipped: map[string]int{ReasonLineTooLong: 1},
			Errors: []string{"1::line_too_long"}, Notes: map[string]int{}, Jobs: []string{"7.srv 8 2026-01-01T00:00:00Z 2026-01-01T01:00:00Z"}},
	},
	{
		name: "gzip-bomb-jobcomp", format: "slurm-jobcomp",
		write: func(t *testing.T, path string) {
			writeGzipBomb(t, path, "JobId=", ' ', bombSize/4, "\nJobId=9 UserId=a(1) JobState=COMPLETED StartTime=2026-01-01T00:00:00 EndTime=2026-01-01T00:10:00 NodeList=n1 NodeCnt=1 ProcCnt=3\n")
		},
		want: hostileOutcome{Records: 1, CoreSeconds: 3 * 600, NodeSeconds: 600, Skipped: map[string]int{ReasonLineTooLong: 1},
			Errors: []string{"1::line_too_long"}, Notes: map[string]int{}, Jobs: []string{"9 3 2026-01-01T00:00:00Z 2026-01-01T00:10:00Z"}},
	},
	{
		name: "gzip-bomb-swf", format: "swf",
		write: func(t *testing.T, path string) {
			writeGzipBomb(t, path, "; UnixStartTime: 0\n", '1', bombSize/4, "\n1 0 0 100 4 -1 -1 4 -1 -1 1 1 1 -1 -1 -1 -1 -1\n")
		},
		want: hostileOutcome{Records: 1, CoreSeconds: 400, Skipped: map[string]int{ReasonLineTooLong: 1},
			Errors: []string{"2::line_too_long"}, Notes: map[string]int{}, Jobs: []string{"1 4 1970-01-01T00:00:00Z 1970-01-01T00:01:40Z"}},
	},
	{
		// 50 MB of delimiters, with the cap raised above it: read as one
		// record whose free-text SubmitLine absorbs them, without a slice
		// element per field (which would take 1.2 GB).
		name: "delimiters-50MB", format: "slurm-sacct", opts: Options{MaxLine: 64 << 20},
		write: func(t *testing.T, path string) {
			var b bytes.Buffer
			b.WriteString("JobID|NCPUS|Start|End|State|SubmitLine\n5|6|2026-01-01T00:00:00|2026-01-01T00:01:00|COMPLETED|")
			b.Write(bytes.Repeat([]byte{'|'}, 50_000_000))
			b.WriteString("\n6|1|2026-01-01T00:00:00|2026-01-01T00:01:00|COMPLETED|x\n")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		want: hostileOutcome{Records: 2, CoreSeconds: 6*60 + 60, Skipped: map[string]int{}, Notes: map[string]int{},
			Jobs: []string{"5 6 2026-01-01T00:00:00Z 2026-01-01T00:01:00Z", "6 1 2026-01-01T00:00:00Z 2026-01-01T00:01:00Z"}},
	},
	{
		// The same 50 MB without a free-text column to absorb them, and
		// at the default cap: skipped whole, never split.
		name: "delimiters-50MB-default-cap", format: "slurm-sacct",
		write: func(t *testing.T, path string) {
			var b bytes.Buffer
			b.WriteString("JobID|NCPUS|Start|End|State\n")
			b.Write(bytes.Repeat([]byte{'|'}, 50_000_000))
			b.WriteString("\n6|1|2026-01-01T00:00:00|2026-01-01T00:01:00|COMPLETED\n")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		want: hostileOutcome{Records: 1, CoreSeconds: 60, Skipped: map[string]int{ReasonLineTooLong: 1}, Errors: []string{"2::line_too_long"},
			Notes: map[string]int{}, Jobs: []string{"6 1 2026-01-01T00:00:00Z 2026-01-01T00:01:00Z"}},
	},
	{
		// One SubmitLine broken by 160,000 newlines (sbatch --wrap), then
		// a record that must keep its own id: joined in linear time.
		name: "submitline-160k-newlines", format: "slurm-sacct",
		write: func(t *testing.T, path string) {
			var b bytes.Buffer
			b.WriteString("1|1|c|p|q|a|u|g|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T02:00:00|02:00:00|1-00:00:00|COMPLETED|0:0|1|64|cpu=64|cpu=64,node=1|n1||/w||j|sbatch --wrap 'a")
			for range 160_000 {
				b.WriteString("\necho 1")
			}
			b.WriteString("'\n2|2|c|p|q|a|u|g|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T01:00:00|01:00:00|1-00:00:00|COMPLETED|0:0|1|64|cpu=64|cpu=64,node=1|n1||/w||j|sbatch x\n")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		want: hostileOutcome{Records: 2, CoreSeconds: 64*7200 + 64*3600, NodeSeconds: 7200 + 3600, Skipped: map[string]int{},
			Notes: map[string]int{"multiline": 160_000},
			Jobs:  []string{"1 64 2026-01-01T00:00:00Z 2026-01-01T02:00:00Z", "2 64 2026-01-01T00:00:00Z 2026-01-01T01:00:00Z"}},
	},
	{
		// The first part of a record, then 880 KB of lines without a
		// delimiter, each of which could continue it: joined in linear
		// time (the record never completes and is reported once), and the
		// next record is read on its own.
		name: "broken-lines-880KB", format: "slurm-sacct",
		write: func(t *testing.T, path string) {
			var b bytes.Buffer
			b.WriteString("1|1|c|p|q|a|u|g|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T02:00:00|02:00:00|1-00:00:00|COMPLETED|0:0|1|64|cpu=64|cpu=64,node=1|n1||/w\n")
			for range brokenLines {
				b.WriteString("abcdefg\n")
			}
			b.WriteString("2|2|c|p|q|a|u|g|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T01:00:00|01:00:00|1-00:00:00|COMPLETED|0:0|1|64|cpu=64|cpu=64,node=1|n1||/w||j|sbatch x\n")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		want: hostileOutcome{Records: 1, CoreSeconds: 64 * 3600, NodeSeconds: 3600, Skipped: map[string]int{ReasonFieldCount: 1},
			Errors: []string{"1::field_count"}, Notes: map[string]int{"multiline": brokenLines},
			Jobs: []string{"2 64 2026-01-01T00:00:00Z 2026-01-01T01:00:00Z"}},
	},
}

// brokenLines is the number of short lines of broken-lines-880KB.
const brokenLines = 880_000 / 8

// writeGzipBomb writes head, then size bytes of c without a newline, then
// tail, gzip-compressed: one member of 1 MiB of c is compressed once and
// repeated, so that the file is small and the test fast to set up.
func writeGzipBomb(t *testing.T, path, head string, c byte, size int, tail string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	member := func(b []byte) {
		zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
		zw.Write(b)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	member([]byte(head))
	var chunk bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&chunk, gzip.BestCompression)
	zw.Write(bytes.Repeat([]byte{c}, 1<<20))
	zw.Close()
	for range size >> 20 {
		f.Write(chunk.Bytes())
	}
	member([]byte(tail))
}

// TestHostileGenerated runs the generated cases like the corpus.
func TestHostileGenerated(t *testing.T) {
	for _, tc := range hostileGenerated {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && strings.Contains(tc.name, "bomb") && tc.format != "slurm-sacct" {
				t.Skip("one gzip bomb is enough in -short runs")
			}
			path := filepath.Join(t.TempDir(), tc.name)
			tc.write(t, path)
			var got hostileOutcome
			bounded(t, memBound(tc.opts), func() {
				r, c, err := Open(tc.format, path, tc.opts)
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				defer c.Close()
				got = outcomeOf(t, r)
			})
			if len(got.Errors) == 0 {
				got.Errors = nil
			}
			compareOutcome(t, got, tc.want)
		})
	}
}
