package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// readOutcome reads r to the end: every record as JSON and every skipped
// line's message, in order, then the notes.
func readOutcome(t *testing.T, r Reader) (items []string, notes map[string]int) {
	t.Helper()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			items = append(items, "skipped "+le.Error())
			continue
		}
		if err != nil {
			items = append(items, "error "+err.Error())
			break
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, string(b))
	}
	return items, r.(Noter).Notes()
}

// TestSacctParallelSameAsOnePass reads every sacct fixture, every hostile
// sacct case and the built-in sample in chunks (chunk sizes from a few
// lines to many) and requires exactly what reading in one pass gives:
// the same records in the same order, the same skipped lines with the
// same line numbers and messages, the same notes.
func TestSacctParallelSameAsOnePass(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: files are read in one pass")
	}
	oldMin, oldChunk, oldWin := parallelMinBytes, parallelChunkBytes, parallelWindow
	t.Cleanup(func() { parallelMinBytes, parallelChunkBytes, parallelWindow = oldMin, oldChunk, oldWin })
	parallelMinBytes, parallelWindow = 0, 2

	var paths []string
	for _, pattern := range []string{"testdata/sacct/*", "testdata/hostile/slurm-sacct/*", "../seeds/sample.sacct.gz"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			if !strings.HasSuffix(p, ".md") && !strings.HasSuffix(p, ".want.json") {
				paths = append(paths, p)
			}
		}
	}
	dir := t.TempDir()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	chunked := 0
	for _, path := range paths {
		raw, err := readPlain(path)
		if err != nil {
			t.Fatal(err)
		}
		plain := filepath.Join(dir, filepath.Base(path)+".plain")
		if err := os.WriteFile(plain, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		fields := []string(nil)
		if strings.Contains(path, "xdmod") {
			fields = xdmodFields
		}
		optsList := []Options{{Fields: fields}, {Fields: fields, Location: loc, MaxLine: 300}}
		chunks := []int64{1, 100, 1000}
		if len(raw) > 1<<20 { // the sample: one read in chunks (the race detector makes it slow)
			optsList, chunks = optsList[:1], []int64{256 << 10}
		}
		for _, opts := range optsList {
			want, wantNotes := readOutcome(t, NewSacctReader(bytes.NewReader(raw), opts))
			for _, chunk := range chunks {
				parallelChunkBytes = chunk
				f, err := OpenFile(plain)
				if err != nil {
					t.Fatal(err)
				}
				r := NewSacctReader(f, opts)
				got, gotNotes := readOutcome(t, r)
				f.Close()
				if r.par != nil {
					chunked++
				}
				name := fmt.Sprintf("%s (chunks of %d bytes, max line %d)", path, chunk, opts.MaxLine)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: %d items, want %d; first difference:\n%s", name, len(got), len(want), firstDiff(got, want))
				}
				if !reflect.DeepEqual(gotNotes, wantNotes) {
					t.Errorf("%s: notes %v, want %v", name, gotNotes, wantNotes)
				}
			}
		}
	}
	if chunked < len(paths) {
		t.Errorf("only %d reads of %d inputs went in chunks: the test does not test chunking", chunked, len(paths))
	}
}

func readPlain(path string) ([]byte, error) {
	f, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func firstDiff(got, want []string) string {
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("item %d\ngot  %.300s\nwant %.300s", i, g, w)
		}
	}
	return ""
}

// FuzzSacctParallel reads any input in one pass and in chunks of a few
// dozen bytes and requires the same records, skipped lines and notes.
func FuzzSacctParallel(f *testing.F) {
	fuzzSeeds(f, "sacct", "hostile/slurm-sacct")
	f.Fuzz(func(t *testing.T, data []byte) {
		if runtime.GOMAXPROCS(0) < 2 {
			t.Skip("one CPU: files are read in one pass")
		}
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			t.Skip("gzip: a file would be decompressed, the bytes not")
		}
		oldMin, oldChunk := parallelMinBytes, parallelChunkBytes
		defer func() { parallelMinBytes, parallelChunkBytes = oldMin, oldChunk }()
		parallelMinBytes, parallelChunkBytes = 0, 40
		path := filepath.Join(t.TempDir(), "in.psv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{MaxLine: 512}
		want, wantNotes := readOutcome(t, NewSacctReader(bytes.NewReader(data), opts))
		file, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		got, gotNotes := readOutcome(t, NewSacctReader(file, opts))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("chunked read differs:\n%s", firstDiff(got, want))
		}
		if !reflect.DeepEqual(gotNotes, wantNotes) {
			t.Fatalf("notes %v, want %v", gotNotes, wantNotes)
		}
	})
}
