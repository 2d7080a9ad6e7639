package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
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

// FuzzMemLineReader compares the line reader over data in memory with the
// buffered one, with small read buffers and caps so that every way of
// meeting an over-long line is met: the same lines, line numbers and
// errors (sizes included), in order.
func FuzzMemLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\nccc"), uint16(2), uint8(1), uint16(16))
	f.Add([]byte("0123456789\n"), uint16(4), uint8(50), uint16(16))
	f.Add([]byte("0123456789012345678901234567890123456789\r\n"), uint16(30), uint8(3), uint16(20))
	f.Add([]byte("\r\n\r"), uint16(1), uint8(3), uint16(17))
	f.Fuzz(func(t *testing.T, data []byte, max uint16, repeat uint8, size uint16) {
		data = bytes.Repeat(data, int(repeat)%64+1)
		capLen := int(max)%512 + 1
		bufSize := int(size) % 4096
		want := newLineReaderSize(bytes.NewReader(data), capLen, bufSize)
		got := newMemLineReaderSize(data, capLen, bufSize)
		for i := 0; ; i++ {
			w, werr := want.next()
			g, gerr := got.next()
			if !bytes.Equal(g, w) || fmt.Sprint(gerr) != fmt.Sprint(werr) || got.line != want.line {
				t.Fatalf("call %d (cap %d, buffer %d): got %q, %v, line %d; want %q, %v, line %d", i+1, capLen, bufSize, g, gerr, got.line, w, werr, want.line)
			}
			if werr != nil {
				var tl, gl *errLineTooLong
				if errors.As(werr, &tl) && (!errors.As(gerr, &gl) || *gl != *tl) {
					t.Fatalf("call %d: got %v, want %v", i+1, gerr, werr)
				}
				if errors.Is(werr, io.EOF) {
					return
				}
			}
		}
	})
}

// TestMemLineReaderLong checks lines longer than the default read buffer,
// which the fuzz target does not reach, under several caps.
func TestMemLineReaderLong(t *testing.T) {
	long := bytes.Repeat([]byte("x"), lineBufSize+100)
	inputs := [][]byte{
		append(append([]byte("a\n"), long...), "\nb\n"...),
		append(append([]byte("a\n"), long...), "\r\nb"...),
		long,
		append(bytes.Clone(long[:lineBufSize-1]), "\n"...),
		append(bytes.Clone(long[:lineBufSize]), "\n"...),
	}
	for i, data := range inputs {
		for _, capLen := range []int{10, lineBufSize - 1, lineBufSize, lineBufSize + 98, lineBufSize + 99, lineBufSize + 100, lineBufSize + 101, 0} {
			want := newCappedLineReader(bytes.NewReader(data), capLen)
			got := newMemLineReader(data, capLen)
			for k := 0; ; k++ {
				w, werr := want.next()
				g, gerr := got.next()
				if !bytes.Equal(g, w) || fmt.Sprint(gerr) != fmt.Sprint(werr) || got.line != want.line {
					t.Fatalf("input %d, cap %d, call %d: got %d bytes, %v, line %d; want %d bytes, %v, line %d", i, capLen, k+1, len(g), gerr, got.line, len(w), werr, want.line)
				}
				if errors.Is(werr, io.EOF) {
					break
				}
			}
		}
	}
}
