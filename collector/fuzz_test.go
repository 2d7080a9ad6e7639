package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds adds every small fixture of the given testdata directories
// (gzip-compressed ones decompressed, big ones left out) as seeds.
func fuzzSeeds(f *testing.F, dirs ...string) {
	f.Helper()
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
		for _, name := range files {
			if strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".md") {
				continue
			}
			b, err := os.ReadFile(name)
			if err != nil || len(b) == 0 {
				continue // a directory
			}
			if strings.HasSuffix(name, ".gz") {
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					continue
				}
				b, _ = io.ReadAll(io.LimitReader(zr, 4<<10))
			}
			// Small seeds keep the fuzzer fast: it mutates whole inputs.
			if len(b) > 4<<10 {
				b = b[:4<<10]
			}
			f.Add(b)
		}
	}
}

// fuzzRead reads data with a reader of the named format (a zone with
// daylight-saving folds, and a small line cap so that the cap is met) and
// checks every record and skipped line against the invariants of the
// hostile corpus. It fails when the reader stops making progress.
func fuzzRead(t *testing.T, format string, data []byte) {
	f, _ := LookupFormat(format)
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	r, err := f.NewReader(bytes.NewReader(data), Options{Name: "fuzz", Location: loc, Cluster: "c", MaxLine: 4096})
	if err != nil {
		t.Fatal(err)
	}
	// Every Next consumes at least one line or ends the input.
	for range bytes.Count(data, []byte{'\n'}) + 3 {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		var le *LineError
		if errors.As(err, &le) {
			if msg := lineErrorProblem(le); msg != "" {
				t.Fatal(msg)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if msg := recordProblem(rec); msg != "" {
			t.Fatal(msg)
		}
	}
	t.Fatalf("no end after %d lines", bytes.Count(data, []byte{'\n'})+1)
}

func FuzzSacctReader(f *testing.F) {
	fuzzSeeds(f, "sacct", "hostile/slurm-sacct")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "slurm-sacct", data) })
}

func FuzzJobcompReader(f *testing.F) {
	fuzzSeeds(f, "jobcomp", "hostile/slurm-jobcomp")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "slurm-jobcomp", data) })
}

func FuzzPBSReader(f *testing.F) {
	fuzzSeeds(f, "pbs", "pbs/daily", "hostile/pbs")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "pbs", data) })
}

func FuzzSWFReader(f *testing.F) {
	fuzzSeeds(f, "swf", "hostile/swf")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "swf", data) })
}

// FuzzLineReader compares the line reader, with a small read buffer so
// that long lines are read in pieces, with splitting the whole input on
// "\n": the same lines (a final "\r" removed), in order, and every line
// longer than the cap reported as too long with its number instead.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\nccc"), uint16(2), uint8(1), uint16(16))
	f.Add([]byte("0123456789\n"), uint16(4), uint8(50), uint16(16))
	f.Add([]byte("\r\n\r"), uint16(1), uint8(3), uint16(17))
	f.Fuzz(func(t *testing.T, data []byte, max uint16, repeat uint8, size uint16) {
		data = bytes.Repeat(data, int(repeat)%64+1)
		capLen := int(max)%512 + 1
		lr := newLineReaderSize(bytes.NewReader(data), capLen, int(size)%4096+16)
		var want [][]byte
		if len(data) > 0 {
			want = bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'})
		}
		for i, w := range want {
			w = bytes.TrimSuffix(w, []byte{'\r'})
			got, err := lr.next()
			var tl *errLineTooLong
			switch {
			case len(w) > capLen:
				if !errors.As(err, &tl) || tl.line != i+1 {
					t.Fatalf("line %d of %d bytes (cap %d): got %q, %v", i+1, len(w), capLen, got, err)
				}
			case err != nil || !bytes.Equal(got, w):
				t.Fatalf("line %d: got %q, %v; want %q", i+1, got, err, w)
			}
			if lr.line != i+1 {
				t.Fatalf("line count %d after line %d", lr.line, i+1)
			}
		}
		if got, err := lr.next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last line: %q, %v", got, err)
		}
	})
}
