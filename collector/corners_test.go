package collector

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// sacctLine is one record of DefaultSacctFields with the given id, cores,
// end hour (1-9) and SubmitLine.
func sacctLine(id string, cores, endHour int, submitLine string) string {
	h, c := strconv.Itoa(endHour), strconv.Itoa(cores)
	return id + "|" + id + "|c|p|q|a|u|g|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T0" + h +
		":00:00|0" + h + ":00:00|1-00:00:00|COMPLETED|0:0|1|" + c + "||cpu=" + c + ",node=1|n1||/w||j|" + submitLine
}

// readSacct reads s with a sacct reader and returns records and skipped
// lines; any other error fails the test.
func readSacct(t *testing.T, s string, opts Options) ([]*job.Record, []*LineError, map[string]int) {
	t.Helper()
	r := NewSacctReader(strings.NewReader(s), opts)
	recs, bad := drain(t, r)
	return recs, bad, r.Notes()
}

// TestSacctContinuationLines: a newline inside the last field (SubmitLine
// from sbatch --wrap) continues the record before it, whatever the
// continuation looks like, and is never glued onto the next job's id,
// with the headerless field list the daemon polls with and with -p and a
// header.
func TestSacctContinuationLines(t *testing.T) {
	wrap := "sbatch --wrap 'python train.py\n42\n7|x\n\techo done'"
	for _, trailing := range []bool{false, true} {
		end, in := "", ""
		if trailing { // -p: a delimiter after every field, header included
			end, in = "|", strings.Join(DefaultSacctFields, "|")+"|\n"
		}
		in += sacctLine("100", 32, 1, wrap) + end + "\n" +
			"100.batch|100.batch|c||||||2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T00:00:00|2026-01-01T01:00:00|01:00:00||COMPLETED|0:0|1|32||cpu=32|n1||/w||batch|srun a\nb" + end + "\n" +
			sacctLine("101", 64, 2, "sbatch run.sh") + end + "\n"
		recs, bad, notes := readSacct(t, in, Options{})
		if len(bad) != 0 || len(recs) != 2 {
			t.Fatalf("trailing %v: %d records, skipped %v", trailing, len(recs), bad)
		}
		if recs[0].JobID != "100" || recs[0].SubmitLine != wrap || recs[1].JobID != "101" || recs[1].SubmitLine != "sbatch run.sh" {
			t.Errorf("trailing %v: records %q %q, %q %q", trailing, recs[0].JobID, recs[0].SubmitLine, recs[1].JobID, recs[1].SubmitLine)
		}
		if len(recs[0].Steps) != 1 || recs[0].Steps[0].Command != "srun a\nb" {
			t.Errorf("trailing %v: steps %+v", trailing, recs[0].Steps)
		}
		if notes["multiline"] != 4 {
			t.Errorf("trailing %v: notes %v", trailing, notes)
		}
	}
}

// TestSacctContinuationOfSkippedRecord: continuation lines of a skipped
// record go with it, not onto the record before it.
func TestSacctContinuationOfSkippedRecord(t *testing.T) {
	bad := strings.Replace(sacctLine("2", 4, 1, "a\nb"), "2026-01-01T01:00:00", "not-a-time", 1)
	recs, skipped, _ := readSacct(t, sacctLine("1", 4, 1, "x")+"\n"+bad+"\n"+sacctLine("3", 4, 1, "y")+"\n", Options{})
	if len(recs) != 2 || recs[0].SubmitLine != "x" || recs[1].JobID != "3" || len(skipped) != 1 || skipped[0].Line != 2 {
		t.Errorf("records %v, skipped %v", recs, skipped)
	}
}

// TestSacctContinuationCap: a record whose continuation lines pass the
// line cap is skipped with line_too_long; the next record is read.
func TestSacctContinuationCap(t *testing.T) {
	in := sacctLine("1", 4, 1, "x") + strings.Repeat("\n0123456789", 40) + "\n" + sacctLine("2", 2, 1, "y") + "\n"
	recs, bad, _ := readSacct(t, in, Options{MaxLine: 300})
	if len(recs) != 1 || recs[0].JobID != "2" || len(bad) != 1 || bad[0].Reason != ReasonLineTooLong || bad[0].Line != 1 {
		t.Errorf("records %v, skipped %v", recs, bad)
	}
}

// TestSacctJoinLinear: joining a field broken over n lines allocates in
// proportion to n, not n squared (which took 32 s for 160,000 lines).
// Bytes allocated are counted, not time, so the test is exact on any
// machine: doubling the lines must not much more than double them.
func TestSacctJoinLinear(t *testing.T) {
	alloc := func(n int) uint64 {
		in := sacctLine("1", 4, 1, "a"+strings.Repeat("\necho 1", n)) + "\n" + sacctLine("2", 4, 1, "b") + "\n"
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		recs, bad, _ := readSacct(t, in, Options{})
		runtime.ReadMemStats(&after)
		if len(recs) != 2 || len(bad) != 0 || len(recs[0].SubmitLine) != 1+7*n {
			t.Fatalf("%d lines: %d records, %v", n, len(recs), bad)
		}
		return after.TotalAlloc - before.TotalAlloc - uint64(len(in))
	}
	small, big := alloc(20_000), alloc(40_000)
	if big > 3*small {
		t.Errorf("20,000 broken lines allocate %d bytes, 40,000 allocate %d: not linear", small, big)
	}
	// The same for a record broken in its middle (JobName) many times.
	mid := func(n int) uint64 {
		in := "JobID|NCPUS|Start|End|State|JobName|Partition\n1|8|2026-01-01T00:00:00|2026-01-01T01:00:00|COMPLETED|a" +
			strings.Repeat("\nname", n) + "|p\n"
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		recs, bad, _ := readSacct(t, in, Options{})
		runtime.ReadMemStats(&after)
		if len(recs) != 1 || len(bad) != 0 {
			t.Fatalf("%d lines: %d records, %v", n, len(recs), bad)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	if small, big := mid(20_000), mid(40_000); big > 3*small {
		t.Errorf("a record broken 20,000 times allocates %d bytes, 40,000 times %d: not linear", small, big)
	}
}

// TestLineCap: a line longer than the cap is skipped with line_too_long,
// naming its line, for every record format; the reader goes on.
func TestLineCap(t *testing.T) {
	long := strings.Repeat("x", 500)
	tests := []struct {
		format, in string
		line       int
	}{
		{"slurm-sacct", "JobID|NCPUS|Start|End|State\n" + long + "\n1|4|2026-01-01T00:00:00|2026-01-01T01:00:00|COMPLETED\n", 2},
		{"slurm-jobcomp", "JobId=" + long + "\nJobId=1 JobState=COMPLETED StartTime=2026-01-01T00:00:00 EndTime=2026-01-01T01:00:00 NodeList=n1 ProcCnt=4\n", 1},
		{"pbs", long + "\n01/01/2026 01:00:00;E;1.s;start=1767225600 end=1767229200 Resource_List.ncpus=4 Exit_status=0\n", 1},
		{"swf", "; MaxProcs: 8\n" + long + "\n1 0 0 3600 4 -1 -1 4 -1 -1 1 1 1 -1 -1 -1 -1 -1\n", 2},
	}
	for _, tt := range tests {
		f, _ := LookupFormat(tt.format)
		r, _ := f.NewReader(strings.NewReader(tt.in), Options{Name: "in", MaxLine: 200})
		recs, bad := drain(t, r)
		if len(recs) != 1 || recs[0].Cores != 4 || len(bad) != 1 || bad[0].Reason != ReasonLineTooLong || bad[0].Line != tt.line {
			t.Errorf("%s: records %d, skipped %v", tt.format, len(recs), bad)
		}
	}
}

// TestDSTFoldElapsed: in the repeated hour of a fall-back (New York,
// 2026-11-01 01:00-02:00 twice), Elapsed picks the reading; when several
// readings still fit, the earliest is taken and the record counted as
// ambiguous.
func TestDSTFoldElapsed(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	in := "JobID|NCPUS|Submit|Eligible|Start|End|Elapsed|State\n" +
		// Start 01:30 is EDT (05:30Z) or EST (06:30Z); End 02:10 EST.
		"1|24|2026-11-01T00:50:00|2026-11-01T00:50:00|2026-11-01T01:30:00|2026-11-01T02:10:00|00:40:00|COMPLETED\n" +
		"2|24|2026-11-01T00:50:00|2026-11-01T00:50:00|2026-11-01T01:30:00|2026-11-01T02:10:00|01:40:00|COMPLETED\n" +
		// Both in the fold, 10 minutes either way: ambiguous.
		"3|8|2026-11-01T00:05:00|2026-11-01T00:05:00|2026-11-01T01:10:00|2026-11-01T01:20:00|00:10:00|COMPLETED\n" +
		// Eligible at 01:50 EDT at the earliest: the start is EST.
		"4|8|2026-11-01T01:50:00|2026-11-01T01:50:00|2026-11-01T01:10:00|2026-11-01T01:20:00|00:10:00|COMPLETED\n"
	recs, bad, notes := readSacct(t, in, Options{Location: ny})
	if len(recs) != 4 || len(bad) != 0 {
		t.Fatalf("records %d, skipped %v", len(recs), bad)
	}
	want := []struct{ start, end string }{
		{"06:30", "07:10"}, {"05:30", "07:10"}, {"05:10", "05:20"}, {"06:10", "06:20"},
	}
	for i, w := range want {
		got := recs[i].Start.UTC().Format("15:04") + "-" + recs[i].End.UTC().Format("15:04")
		if got != w.start+"-"+w.end {
			t.Errorf("job %s: %s, want %s-%s", recs[i].JobID, got, w.start, w.end)
		}
	}
	if notes["dst_fold"] != 4 || notes["dst_ambiguous"] != 1 {
		t.Errorf("notes %v", notes)
	}
}

// TestCountsChecked: counts and products that would wrap are refused
// with out_of_range, naming the field; the largest accepted values pass.
func TestCountsChecked(t *testing.T) {
	for _, tt := range []struct {
		in      string
		n       int64
		wantErr bool
	}{
		{"2147483647", job.MaxCount, false},
		{"2147483648", 0, true},
		{"2147484K", 0, true},
		{"2147K", 2147000, false},
		{"18446744073709551K", 0, true},
		{"99999999999999999999", 0, true},
	} {
		n, err := parseCount([]byte(tt.in))
		if (err != nil) != tt.wantErr || n != tt.n || tt.wantErr && !errors.Is(err, errOutOfRange) {
			t.Errorf("parseCount(%q) = %d, %v", tt.in, n, err)
		}
	}
	if _, err := parseTRES("gres/gpu:a100=2147483647,gres/gpu:a100=1", nil); !errors.Is(err, errOutOfRange) {
		t.Errorf("repeated typed GRES summed past the bound: %v", err)
	}
	if c, err := pbsChunks([]byte("65536:ppn=32768")); !errors.Is(err, errOutOfRange) {
		t.Errorf("nodes x ppn past the bound: %+v, %v", c, err)
	}
	if c, err := pbsChunks([]byte("2:ppn=4:gpus=2+n7:ppn=3")); err != nil || c != (pbsCounts{nodes: 3, cores: 11, gpus: 4}) {
		t.Errorf("pbsChunks = %+v, %v", c, err)
	}
	if _, err := pbsDuration([]byte("9999999999999:00:00")); !errors.Is(err, errOutOfRange) {
		t.Errorf("walltime past the bound: %v", err)
	}
	if _, err := jobcompHostCount([]byte("n[0-65535]r[0-65535]")); !errors.Is(err, errOutOfRange) {
		t.Errorf("host count product past the bound: %v", err)
	}
	if _, _, err := parseSlurmDuration("106751-23:47:16"); !errors.Is(err, errOutOfRange) {
		t.Errorf("a limit that would wrap a Duration: %v", err)
	}
}
