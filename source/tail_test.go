package source

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
)

// fixtureLines returns the lines of a fixture, each with its newline.
func fixtureLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

var jobIDField = regexp.MustCompile(`JobId=(\S+)|;[ER];([^;]+);`)

// at describes the record expected from one fixture line: the file it is
// read from, its line number there, and the job id the line carries.
func at(file string, line int, text string) string {
	m := jobIDField.FindStringSubmatch(text)
	return fmt.Sprintf("%s:%d:%s", file, line, m[1]+m[2])
}

// got describes the records of a batch like at does.
func got(recs []*job.Record) []string {
	out := []string{}
	for _, r := range recs {
		id := r.RawID
		if id == "" {
			id = r.JobID
		}
		out = append(out, fmt.Sprintf("%s:%d:%s", filepath.Base(r.Source), r.Line, id))
	}
	return out
}

// tailer wraps a Tail and the cursor it has reached.
type tailer struct {
	t      *testing.T
	tail   *Tail
	cursor []byte
}

// poll polls once, checks the records against want and keeps the cursor.
func (tl *tailer) poll(want ...string) *Batch {
	tl.t.Helper()
	b, err := tl.tail.Poll(context.Background(), tl.cursor)
	if err != nil {
		tl.t.Fatalf("Poll: %v", err)
	}
	if want == nil {
		want = []string{}
	}
	if g := got(b.Records); !slices.Equal(g, want) {
		tl.t.Errorf("records\n got %q\nwant %q", g, want)
	}
	tl.cursor = b.Cursor
	return b
}

func (tl *tailer) cur() tailCursor {
	var c tailCursor
	if err := json.Unmarshal(tl.cursor, &c); err != nil {
		tl.t.Fatal(err)
	}
	return c
}

func newJobcompTailer(t *testing.T, cfg TailConfig) *tailer {
	t.Helper()
	cfg.Format = "slurm-jobcomp"
	tail, err := NewTail(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &tailer{t: t, tail: tail}
}

func TestJobcompTailAppendAndPartialLine(t *testing.T) {
	L := fixtureLines(t, "jobcomp/lab-jobcomp.log")
	dir := t.TempDir()
	log := filepath.Join(dir, "jobcomp.log")
	writeFile(t, log, L[0]+L[1]+L[2])
	tl := newJobcompTailer(t, TailConfig{Path: log})

	tl.poll(at("jobcomp.log", 1, L[0]), at("jobcomp.log", 2, L[1]), at("jobcomp.log", 3, L[2]))
	if c := tl.cur(); c.Offset != int64(len(L[0]+L[1]+L[2])) || c.Line != 3 || c.Check == "" {
		t.Errorf("cursor %+v", c)
	}

	// Half a line: never parsed, the offset stays before it.
	half := len(L[4]) / 2
	appendFile(t, log, L[3]+L[4][:half])
	tl.poll(at("jobcomp.log", 4, L[3]))
	if c := tl.cur(); c.Offset != int64(len(L[0]+L[1]+L[2]+L[3])) || c.Line != 4 {
		t.Errorf("cursor after a partial line %+v", c)
	}
	tl.poll()

	appendFile(t, log, L[4][half:])
	b := tl.poll(at("jobcomp.log", 5, L[4]))
	if b.More || b.Pending != nil || b.Complete.IsZero() {
		t.Errorf("More %v Pending %v Complete %v", b.More, b.Pending, b.Complete)
	}
	tl.poll()
}

// logrotate's default: the log is renamed, the writer goes on appending to
// the renamed file until it reopens the path, then writes the new file.
func TestJobcompTailRotation(t *testing.T) {
	L := fixtureLines(t, "jobcomp/lab-jobcomp.log")
	dir := t.TempDir()
	log := filepath.Join(dir, "jobcomp.log")
	old := log + ".1"
	writeFile(t, log, L[0]+L[1])
	tl := newJobcompTailer(t, TailConfig{Path: log})
	tl.poll(at("jobcomp.log", 1, L[0]), at("jobcomp.log", 2, L[1]))

	appendFile(t, log, L[2])
	if err := os.Rename(log, old); err != nil {
		t.Fatal(err)
	}
	// Renamed, no new file yet: the old one is finished by its identity.
	tl.poll(at("jobcomp.log.1", 3, L[2]))

	// The new file exists but is empty; the writer still appends to the
	// old one: the tailer stays there.
	writeFile(t, log, "")
	appendFile(t, old, L[3])
	tl.poll(at("jobcomp.log.1", 4, L[3]))

	// The writer reopened: the old file is final, the new one is read
	// from its first line.
	appendFile(t, old, L[4])
	appendFile(t, log, L[5])
	b := tl.poll(at("jobcomp.log.1", 5, L[4]), at("jobcomp.log", 1, L[5]))
	if b.Notes["rotated"] != 1 {
		t.Errorf("notes %v", b.Notes)
	}
	if c := tl.cur(); c.Offset != int64(len(L[5])) || c.Line != 1 {
		t.Errorf("cursor %+v", c)
	}
	appendFile(t, log, L[6])
	tl.poll(at("jobcomp.log", 2, L[6]))

	// Rotated and compressed before the tailer saw it: what was not read
	// is gone, and the new file is read from the start.
	// (The new file is made before the old is removed, so that it cannot
	// reuse the old inode number: that case reads as a truncation.)
	appendFile(t, log, L[7])
	writeFile(t, log+".new", L[8])
	if err := os.Remove(log); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(log+".new", log); err != nil {
		t.Fatal(err)
	}
	b = tl.poll(at("jobcomp.log", 1, L[8]))
	if b.Notes["rotated_lost"] != 1 {
		t.Errorf("notes %v", b.Notes)
	}

	// Removed, then a new file made: it may reuse the inode number, and
	// the checksum tells it apart; either way it is read from the start.
	if err := os.Remove(log); err != nil {
		t.Fatal(err)
	}
	writeFile(t, log, L[9]+L[10])
	b = tl.poll(at("jobcomp.log", 1, L[9]), at("jobcomp.log", 2, L[10]))
	if b.Notes["rotated_lost"]+b.Notes["truncated"] != 1 {
		t.Errorf("notes %v", b.Notes)
	}
}

// logrotate's copytruncate: the lines written between the last poll and
// the copy are read from the copy, then the truncated file from its start.
func TestJobcompTailCopyTruncate(t *testing.T) {
	L := fixtureLines(t, "jobcomp/lab-jobcomp.log")
	tests := []struct {
		name  string
		after string // written to the truncated file before the poll
		want  func() []string
	}{
		{"shorter than the offset", L[3], func() []string {
			return []string{at("jobcomp.log.1", 3, L[2]), at("jobcomp.log", 1, L[3])}
		}},
		{"already longer than the offset", L[3] + L[4] + L[5] + L[6], func() []string {
			return []string{at("jobcomp.log.1", 3, L[2]), at("jobcomp.log", 1, L[3]), at("jobcomp.log", 2, L[4]), at("jobcomp.log", 3, L[5]), at("jobcomp.log", 4, L[6])}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "jobcomp.log")
			writeFile(t, log, L[0]+L[1])
			tl := newJobcompTailer(t, TailConfig{Path: log})
			tl.poll(at("jobcomp.log", 1, L[0]), at("jobcomp.log", 2, L[1]))

			appendFile(t, log, L[2])
			copyFile(t, log, log+".1", 0o644)
			if err := os.Truncate(log, 0); err != nil {
				t.Fatal(err)
			}
			appendFile(t, log, tt.after)
			b := tl.poll(tt.want()...)
			if b.Notes["truncated"] != 1 || b.Notes["rotated"] != 1 {
				t.Errorf("notes %v", b.Notes)
			}
			tl.poll()
		})
	}
}

func TestJobcompTailTruncatedToZero(t *testing.T) {
	L := fixtureLines(t, "jobcomp/lab-jobcomp.log")
	log := filepath.Join(t.TempDir(), "jobcomp.log")
	writeFile(t, log, L[0]+L[1]+L[2])
	tl := newJobcompTailer(t, TailConfig{Path: log})
	tl.poll(at("jobcomp.log", 1, L[0]), at("jobcomp.log", 2, L[1]), at("jobcomp.log", 3, L[2]))

	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	b := tl.poll()
	if b.Notes["truncated"] != 1 {
		t.Errorf("notes %v", b.Notes)
	}
	if c := tl.cur(); c.Offset != 0 || c.Line != 0 {
		t.Errorf("cursor %+v", c)
	}
	appendFile(t, log, L[3])
	tl.poll(at("jobcomp.log", 1, L[3]))
}

// A new tailer given the old one's cursor returns only what is new, and a
// file copied back under a new identity is not read again.
func TestJobcompTailRestartFromCursor(t *testing.T) {
	L := fixtureLines(t, "jobcomp/lab-jobcomp.log")
	log := filepath.Join(t.TempDir(), "jobcomp.log")
	writeFile(t, log, L[0]+L[1]+L[2])
	first := newJobcompTailer(t, TailConfig{Path: log})
	first.poll(at("jobcomp.log", 1, L[0]), at("jobcomp.log", 2, L[1]), at("jobcomp.log", 3, L[2]))

	appendFile(t, log, L[3]+L[4])
	second := newJobcompTailer(t, TailConfig{Path: log})
	second.cursor = first.cursor
	second.poll(at("jobcomp.log", 4, L[3]), at("jobcomp.log", 5, L[4]))

	// Same bytes, new inode (restored from a backup, say).
	copyFile(t, log, log+".tmp", 0o644)
	if err := os.Rename(log+".tmp", log); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, L[5])
	third := newJobcompTailer(t, TailConfig{Path: log})
	third.cursor = second.cursor
	b := third.poll(at("jobcomp.log", 6, L[5]))
	if b.Notes["identity_changed"] != 1 {
		t.Errorf("notes %v", b.Notes)
	}
}

func TestJobcompTailFromEnd(t *testing.T) {
	L := fixtureLines(t, "jobcomp/lab-jobcomp.log")
	log := filepath.Join(t.TempDir(), "jobcomp.log")
	writeFile(t, log, L[0]+L[1]+L[2]+L[3][:10])
	tl := newJobcompTailer(t, TailConfig{Path: log, FromEnd: true})
	tl.poll()
	if c := tl.cur(); c.Offset != int64(len(L[0]+L[1]+L[2])) || c.Line != 3 {
		t.Errorf("cursor %+v", c)
	}
	appendFile(t, log, L[3][10:])
	tl.poll(at("jobcomp.log", 4, L[3]))
}

// A backlog larger than MaxBytes is read over several polls, each ending
// on a line boundary, with More until it is done.
func TestJobcompTailMaxBytes(t *testing.T) {
	L := fixtureLines(t, "jobcomp/lab-jobcomp.log")
	log := filepath.Join(t.TempDir(), "jobcomp.log")
	writeFile(t, log, strings.Join(L, ""))
	tl := newJobcompTailer(t, TailConfig{Path: log, MaxBytes: int64(len(L[0]) + 1)})
	var all []string
	for i := 0; ; i++ {
		b, err := tl.tail.Poll(context.Background(), tl.cursor)
		if err != nil {
			t.Fatal(err)
		}
		tl.cursor = b.Cursor
		all = append(all, got(b.Records)...)
		if len(b.Records) > 2 {
			t.Errorf("poll %d read %d records past its budget", i, len(b.Records))
		}
		if !b.More {
			break
		}
		if i > len(L) {
			t.Fatal("no end")
		}
	}
	var want []string
	for i, l := range L {
		want = append(want, at("jobcomp.log", i+1, l))
	}
	if !slices.Equal(all, want) {
		t.Errorf("records\n got %q\nwant %q", all, want)
	}
}

// Malformed lines are counted and quoted with their line number in the
// file, not in the poll's chunk.
func TestJobcompTailLineErrors(t *testing.T) {
	L := fixtureLines(t, "jobcomp/lab-jobcomp.log")
	log := filepath.Join(t.TempDir(), "jobcomp.log")
	writeFile(t, log, L[0]+L[1])
	tl := newJobcompTailer(t, TailConfig{Path: log})
	tl.poll(at("jobcomp.log", 1, L[0]), at("jobcomp.log", 2, L[1]))
	appendFile(t, log, "JobId=77 UserId=bob(1002) JobState=COMPLETED StartTime=yesterday\n"+L[2])
	b := tl.poll(at("jobcomp.log", 4, L[2]))
	if b.Skipped[collector.ReasonTime] != 1 || len(b.Errors) != 1 || !strings.HasPrefix(b.Errors[0], log+":3: ") {
		t.Errorf("skipped %v errors %q", b.Skipped, b.Errors)
	}
}

func TestTailErrors(t *testing.T) {
	dir := t.TempDir()
	tl := newJobcompTailer(t, TailConfig{Path: filepath.Join(dir, "missing.log")})
	if _, err := tl.tail.Poll(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "missing.log: no such file") {
		t.Errorf("missing log: %v", err)
	}
	if _, err := tl.tail.Poll(context.Background(), []byte(`{"offset":"x"}`)); err == nil || !strings.Contains(err.Error(), "decode cursor") {
		t.Errorf("bad cursor: %v", err)
	}
	if _, err := NewTail(TailConfig{Format: "slurm-jobcomp"}); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := NewTail(TailConfig{Format: "pbs", Path: dir, MaxBytes: -1}); err == nil {
		t.Error("negative MaxBytes accepted")
	}
	p, err := NewTail(TailConfig{Format: "pbs", Path: filepath.Join(dir, "nodir")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(context.Background(), nil); err == nil {
		t.Error("missing PBS directory: no error")
	}
}

// A PBS accounting directory: the daily file grows, a new one appears,
// the old one is finished first; other files are ignored.
func TestPBSTailDailyFiles(t *testing.T) {
	d10 := fixtureLines(t, "pbs/20240310")
	d11 := fixtureLines(t, "pbs/20240311")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "20240309.gz"), "not a daily file")
	writeFile(t, filepath.Join(dir, "README"), "not a daily file")
	writeFile(t, filepath.Join(dir, "20240310"), d10[0]+d10[1]+d10[2]+d10[3])
	tail, err := NewTail(TailConfig{Format: "pbs", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	tl := &tailer{t: t, tail: tail}
	// Only E (and R) records are allocations: line 4 of the day.
	tl.poll(at("20240310", 4, d10[3]))
	if c := tl.cur(); c.File != "20240310" || c.Line != 4 {
		t.Errorf("cursor %+v", c)
	}

	// The day goes on; then the server moves to the next day's file.
	appendFile(t, filepath.Join(dir, "20240310"), d10[4])
	writeFile(t, filepath.Join(dir, "20240311"), d11[0])
	var want []string
	for i, l := range d11[:1] {
		if strings.Contains(l, ";E;") {
			want = append(want, at("20240311", i+1, l))
		}
	}
	tl.poll(want...)
	if c := tl.cur(); c.File != "20240311" || c.Line != 1 {
		t.Errorf("cursor %+v", c)
	}
	appendFile(t, filepath.Join(dir, "20240311"), d11[1])
	want = nil
	if strings.Contains(d11[1], ";E;") {
		want = append(want, at("20240311", 2, d11[1]))
	}
	tl.poll(want...)

	// A day that ends on an unterminated line: once the next day's file
	// exists, that line can never be completed and is reported.
	writeFile(t, filepath.Join(dir, "20240312"), strings.TrimSuffix(d10[3], "\n"))
	tl.poll()
	writeFile(t, filepath.Join(dir, "20240313"), d10[3])
	b := tl.poll(at("20240313", 1, d10[3]))
	if b.Skipped[collector.ReasonRecord] != 1 || len(b.Errors) != 1 || !strings.Contains(b.Errors[0], "20240312:1: incomplete last line") {
		t.Errorf("skipped %v errors %q", b.Skipped, b.Errors)
	}

	// A restarted tailer with the cursor reads nothing again.
	tail2, err := NewTail(TailConfig{Format: "pbs", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	(&tailer{t: t, tail: tail2, cursor: tl.cursor}).poll()
}

// The first poll of a PBS directory with FromEnd starts after the last
// complete line of the newest file.
func TestPBSTailFromEnd(t *testing.T) {
	d10 := fixtureLines(t, "pbs/20240310")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "20240309"), d10[3])
	writeFile(t, filepath.Join(dir, "20240310"), d10[0]+d10[1]+d10[3])
	tail, err := NewTail(TailConfig{Format: "pbs", Path: dir, FromEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	tl := &tailer{t: t, tail: tail}
	tl.poll()
	appendFile(t, filepath.Join(dir, "20240310"), d10[3])
	tl.poll(at("20240310", 4, d10[3]))
}
