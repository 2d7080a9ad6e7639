package source

import (
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/collector"
)

// dumpFiles writes the dumps of the tests into a temporary directory: a
// headerless one, a gzip-compressed one, and one with a header line.
func dumpFiles(t *testing.T) (dir string, plain, gz, header string) {
	t.Helper()
	dir = t.TempDir()
	plain, gz, header = filepath.Join(dir, "ended.psv"), filepath.Join(dir, "history.psv.gz"), filepath.Join(dir, "header.psv")
	copyFile(t, filepath.Join("testdata", "sacct", "lab-ended.psv"), plain, 0o644)

	hist, err := os.ReadFile(filepath.Join("testdata", "sacct", "history.psv"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(gz)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(hist); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	running, err := os.ReadFile(filepath.Join("testdata", "sacct", "lab-running.psv"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, header, strings.Join(collector.DefaultSacctFields, "|")+"\n"+string(running))
	for i, p := range []string{plain, gz, header} {
		mt := time.Date(2026, 11, 28, 19, i, 0, 0, time.UTC)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	return dir, plain, gz, header
}

func newDump(t *testing.T, cfg DumpConfig) *Dump {
	t.Helper()
	d, err := NewDump(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func pollDump(t *testing.T, d *Dump, cursor []byte) *Batch {
	t.Helper()
	b, err := d.Poll(context.Background(), cursor)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDumpImportsEachFileOnce(t *testing.T) {
	_, plain, gz, header := dumpFiles(t)
	cfg := DumpConfig{Paths: []string{plain, gz, header}}
	d := newDump(t, cfg)

	want := []struct {
		records  string
		complete time.Time
		more     bool
		notes    map[string]int
	}{
		// Complete is the latest time a record of the file names (the
		// files' modification times, 19:00 to 19:02, are later).
		{"7,8,9,10,11,12,13_1,13_2,13_3", time.Date(2026, 11, 28, 18, 3, 48, 0, time.UTC), true, map[string]int{}},
		{"101,102,103,104,107,107,105", time.Date(2026, 11, 3, 11, 0, 0, 0, time.UTC), true, map[string]int{"pending_skipped": 1}},
		{"7,8,10,11,12", time.Date(2026, 11, 28, 18, 3, 22, 0, time.UTC), false, map[string]int{"pending_skipped": 2}},
	}
	var cursor []byte
	for i, w := range want {
		b := pollDump(t, d, cursor)
		if got := jobIDs(b.Records); got != w.records || !b.Complete.Equal(w.complete) || b.More != w.more {
			t.Errorf("poll %d: records %s Complete %v More %v; want %s %v %v", i+1, got, b.Complete, b.More, w.records, w.complete, w.more)
		}
		// The batch that imports the last file says nothing more will come.
		if b.Done != !w.more {
			t.Errorf("poll %d: Done %v, want %v", i+1, b.Done, !w.more)
		}
		if len(b.Notes) != len(w.notes) || b.Notes["pending_skipped"] != w.notes["pending_skipped"] {
			t.Errorf("poll %d: notes %v, want %v", i+1, b.Notes, w.notes)
		}
		if b.Pending != nil {
			t.Errorf("poll %d: a dump returned pending jobs", i+1)
		}
		cursor = b.Cursor
	}
	if r := pollDump(t, d, cursor).Records[0:]; len(r) != 0 {
		t.Errorf("a fourth poll imported %s again", jobIDs(r))
	}
	// Run again (a restarted daemon): nothing is imported twice.
	b := pollDump(t, newDump(t, cfg), cursor)
	if len(b.Records) != 0 || !b.Complete.IsZero() || b.More || !b.Done {
		t.Errorf("re-run: records %s Complete %v More %v Done %v", jobIDs(b.Records), b.Complete, b.More, b.Done)
	}
}

// A done file that changes is reported once and not imported again; one
// only touched is not reported; the same content under another name is
// skipped.
func TestDumpChangedAndDuplicateFiles(t *testing.T) {
	dir, plain, _, _ := dumpFiles(t)
	d := newDump(t, DumpConfig{Paths: []string{plain}})
	cursor := pollDump(t, d, nil).Cursor

	later := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(plain, later, later); err != nil {
		t.Fatal(err)
	}
	b := pollDump(t, d, cursor)
	if len(b.Records) != 0 || len(b.Errors) != 0 || len(b.Notes) != 0 {
		t.Errorf("touched file: records %d errors %q notes %v", len(b.Records), b.Errors, b.Notes)
	}
	cursor = b.Cursor

	appendFile(t, plain, "99|99|scmonlab|cpu|normal|physics|carol|carol|2026-11-28T18:03:18|2026-11-28T18:03:18|2026-11-28T18:03:18|2026-11-28T18:04:00|00:00:42|365-00:00:00|COMPLETED|0:0|1|1|cpu=1|cpu=1|n5||/tmp||x|sbatch x\n")
	b = pollDump(t, d, cursor)
	if len(b.Records) != 0 || b.Notes["dump_changed"] != 1 || len(b.Errors) != 1 || !strings.Contains(b.Errors[0], "dump "+plain+" changed since it was imported") {
		t.Errorf("changed file: records %d errors %q notes %v", len(b.Records), b.Errors, b.Notes)
	}
	b = pollDump(t, d, b.Cursor)
	if len(b.Records) != 0 || len(b.Errors) != 0 || len(b.Notes) != 0 {
		t.Errorf("changed file reported twice: errors %q notes %v", b.Errors, b.Notes)
	}

	twin := filepath.Join(dir, "copy.psv")
	copyFile(t, filepath.Join("testdata", "sacct", "lab-ended.psv"), twin, 0o644)
	d2 := newDump(t, DumpConfig{Paths: []string{filepath.Join("testdata", "sacct", "lab-ended.psv"), twin}})
	b = pollDump(t, d2, nil)
	if len(b.Records) != 9 || !b.More {
		t.Fatalf("first of twins: %d records More %v", len(b.Records), b.More)
	}
	b = pollDump(t, d2, b.Cursor)
	if len(b.Records) != 0 || b.Notes["dump_duplicate"] != 1 {
		t.Errorf("twin: records %d notes %v", len(b.Records), b.Notes)
	}
}

// A file larger than MaxRecords is imported in parts that add up to one
// import, each record once.
func TestDumpInParts(t *testing.T) {
	_, plain, _, _ := dumpFiles(t)
	whole := pollDump(t, newDump(t, DumpConfig{Paths: []string{plain}}), nil)

	d := newDump(t, DumpConfig{Paths: []string{plain}, MaxRecords: 4})
	var cursor []byte
	var got []string
	for i := 0; ; i++ {
		b := pollDump(t, d, cursor)
		if len(b.Records) > 4 {
			t.Errorf("poll %d: %d records", i+1, len(b.Records))
		}
		// Only the part that finishes the file claims its time: the rest
		// of a file can hold records of any time.
		if b.More && !b.Complete.IsZero() || !b.More && !b.Complete.Equal(whole.Complete) {
			t.Errorf("poll %d: Complete %v with More %v; want zero before the last part, %v with it", i+1, b.Complete, b.More, whole.Complete)
		}
		got = append(got, keys(b.Records)...)
		cursor = b.Cursor
		if !b.More {
			break
		}
		if i > 10 {
			t.Fatal("no end")
		}
	}
	if want := keys(whole.Records); !slices.Equal(got, want) {
		t.Errorf("parts\n got %q\nwant %q", got, want)
	}

	// A file that changes between two parts is imported again from its
	// start (the store's upsert by key keeps that idempotent).
	d = newDump(t, DumpConfig{Paths: []string{plain}, MaxRecords: 4})
	b := pollDump(t, d, nil)
	appendFile(t, plain, "\n")
	b = pollDump(t, d, b.Cursor)
	if b.Notes["dump_restarted"] != 1 || jobIDs(b.Records) != "7,8,9,10" {
		t.Errorf("restart: records %s notes %v", jobIDs(b.Records), b.Notes)
	}
}

func TestDumpErrors(t *testing.T) {
	for _, cfg := range []DumpConfig{{}, {Paths: []string{"a", "a"}}, {Paths: []string{""}}, {Paths: []string{"a"}, MaxRecords: -1}} {
		if _, err := NewDump(cfg); err == nil {
			t.Errorf("NewDump(%+v) accepted", cfg)
		}
	}
	d := newDump(t, DumpConfig{Paths: []string{filepath.Join(t.TempDir(), "missing.psv")}})
	if _, err := d.Poll(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "missing.psv") {
		t.Errorf("missing dump: %v", err)
	}
	if _, err := d.Poll(context.Background(), []byte(`{"done":3}`)); err == nil || !strings.Contains(err.Error(), "decode cursor") {
		t.Errorf("bad cursor: %v", err)
	}
}
