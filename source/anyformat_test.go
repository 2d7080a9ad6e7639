package source

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
)

// swfFixture is a real SWF trace whose times are relative to its header's
// UnixStartTime: read without its header, every time would be in 1970.
const swfFixture = "testdata/swf/kth-head.swf"

// reference reads a file with the format registry alone, as `scmon report`
// does.
func reference(t *testing.T, format, path string) []*job.Record {
	t.Helper()
	r, c, err := collector.Open(format, path, collector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []*job.Record
	for {
		rec, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

func sameRecords(t *testing.T, what string, got, want []*job.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Key() != w.Key() || !g.Submit.Equal(w.Submit) || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Cores != w.Cores || g.Line != w.Line {
			t.Fatalf("%s: record %d is %s %v-%v cores %d line %d, want %s %v-%v cores %d line %d", what, i,
				g.Key(), g.Start, g.End, g.Cores, g.Line, w.Key(), w.Start, w.End, w.Cores, w.Line)
		}
	}
}

// TestDumpAnyFormat: a format the dump importer has no code for (SWF)
// imports through the registry exactly as `scmon report` reads it, over
// several batches.
func TestDumpAnyFormat(t *testing.T) {
	want := reference(t, "swf", swfFixture)
	if len(want) != 40 || want[0].Start.Year() != 1996 {
		t.Fatalf("fixture: %d records from %v", len(want), want[0].Start)
	}
	d, err := NewDump(DumpConfig{Format: "swf", Paths: []string{swfFixture}, MaxRecords: 15})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var got []*job.Record
	var cursor []byte
	for polls := 0; ; polls++ {
		if polls > 10 {
			t.Fatal("the import never finishes")
		}
		b, err := d.Poll(context.Background(), cursor)
		if err != nil {
			t.Fatal(err)
		}
		got, cursor = append(got, b.Records...), b.Cursor
		if b.Done {
			break
		}
	}
	sameRecords(t, "swf dump", got, want)
	if d.Kind() != "dump" || d.Name() != "dump" {
		t.Errorf("kind %q name %q", d.Kind(), d.Name())
	}
}

// TestTailAnyFormat: an SWF trace being written, followed by the tailer
// through the registry: every read after the first gets the header first
// (the trace's start time), and line numbers are the file's.
func TestTailAnyFormat(t *testing.T) {
	want := reference(t, "swf", swfFixture)
	all, err := os.ReadFile(swfFixture)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(all), "\n")
	header := 0
	for strings.HasPrefix(lines[header], ";") {
		header++
	}
	path := filepath.Join(t.TempDir(), "trace.swf")
	write := func(upTo int) {
		if err := os.WriteFile(path, []byte(strings.Join(lines[:upTo], "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tl, err := NewTail(TailConfig{Format: "swf", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var got []*job.Record
	var cursor []byte
	poll := func(tl *Tail) int {
		t.Helper()
		b, err := tl.Poll(context.Background(), cursor)
		if err != nil {
			t.Fatal(err)
		}
		if n := b.SkippedTotal(); n != 0 {
			t.Fatalf("skipped %d lines: %v", n, b.Errors)
		}
		got, cursor = append(got, b.Records...), b.Cursor
		return len(b.Records)
	}
	write(header - 3) // part of the header only
	if n := poll(tl); n != 0 {
		t.Fatalf("%d records from a header", n)
	}
	write(header + 20)
	if n := poll(tl); n != 20 {
		t.Fatalf("%d records, want 20", n)
	}
	write(header + 40)
	// A new tailer given the cursor, as after a restart.
	tl2, err := NewTail(TailConfig{Format: "swf", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if n := poll(tl2); n != 20 {
		t.Fatalf("%d records after the restart, want 20", n)
	}
	sameRecords(t, "swf tail", got, want)
	if tl.Kind() != "swf" || tl.Name() != "swf" {
		t.Errorf("kind %q name %q", tl.Kind(), tl.Name())
	}
}
