package collector

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmon/scmon/bench/sacctgen"
)

// diffInputs returns every sacct fixture (plain bytes), every hostile sacct
// case, the built-in sample and generated dumps with and without step lines.
func diffInputs(t testing.TB) map[string][]byte {
	t.Helper()
	in := map[string][]byte{}
	for _, pattern := range []string{"testdata/sacct/*", "testdata/hostile/slurm-sacct/*", "../seeds/sample.sacct.gz"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			if strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".want.json") {
				continue
			}
			raw, err := readPlain(p)
			if err != nil {
				t.Fatal(err)
			}
			in[p] = raw
		}
	}
	n := int64(100000)
	if testing.Short() {
		n = 5000
	}
	in["generated dump with steps"] = generatedDump(t, n, true)
	in["generated dump, allocations only"] = generatedDump(t, n/2, false)
	return in
}

var generated sync.Map // "n/steps" -> []byte

// generatedDump returns a dump of n allocations made by package sacctgen
// (the dump of the end-to-end benchmarks), made once per test binary.
func generatedDump(t testing.TB, n int64, steps bool) []byte {
	t.Helper()
	key := fmt.Sprint(n, steps)
	if b, ok := generated.Load(key); ok {
		return b.([]byte)
	}
	var buf bytes.Buffer
	if _, err := sacctgen.Write(&buf, n, steps); err != nil {
		t.Fatal(err)
	}
	generated.Store(key, buf.Bytes())
	return buf.Bytes()
}

// diffVariants rewrites an input in the ways sacct itself writes it:
// CRLF line ends, -p (a trailing delimiter on every line) and the
// two-character delimiter "|#".
func diffVariants(raw []byte) map[string][]byte {
	lines := bytes.Split(raw, []byte("\n"))
	join := func(f func([]byte) []byte) []byte {
		out := make([][]byte, len(lines))
		for i, l := range lines {
			if i == len(lines)-1 && len(l) == 0 {
				continue
			}
			out[i] = f(l)
		}
		return bytes.Join(out, []byte("\n"))
	}
	return map[string][]byte{
		"":         raw,
		"crlf":     join(func(l []byte) []byte { return append(bytes.Clone(l), '\r') }),
		"trailing": join(func(l []byte) []byte { return append(bytes.Clone(l), '|') }),
		"hash":     bytes.ReplaceAll(raw, []byte("|"), []byte("|#")),
	}
}

// TestSacctSameAsV0 reads every input with the reader as it was before
// it was made fast (sacct_v0_test.go) and with the reader, in one pass and
// in chunks, and requires the same records (every field), the same skipped
// lines with their line numbers and messages, and the same notes.
func TestSacctSameAsV0(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	oldMin, oldChunk, oldWin := parallelMinBytes, parallelChunkBytes, parallelWindow
	t.Cleanup(func() { parallelMinBytes, parallelChunkBytes, parallelWindow = oldMin, oldChunk, oldWin })
	parallelMinBytes, parallelWindow = 0, 3
	dir := t.TempDir()
	compared := 0
	for name, raw := range diffInputs(t) {
		big := len(raw) > 1<<20
		fields := []string(nil)
		if strings.Contains(name, "xdmod") {
			fields = xdmodFields
		}
		optsList := []Options{
			{Name: "in", Fields: fields, Location: sh},
			{Name: "in", Fields: fields, Location: ny, MaxLine: 300, Cluster: "c"},
		}
		variants := diffVariants(raw)
		if big {
			variants = map[string][]byte{"": raw}
			optsList = optsList[:1]
		}
		for vname, data := range variants {
			path := filepath.Join(dir, "in.psv")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, opts := range optsList {
				label := fmt.Sprintf("%s %s (max line %d, %s)", name, vname, opts.MaxLine, opts.Location)
				want, wantNotes := readOutcome(t, newSacctReaderV0(bytes.NewReader(data), opts))
				got, gotNotes := readOutcome(t, NewSacctReader(bytes.NewReader(data), opts))
				compareV0(t, label+" one pass", got, want, gotNotes, wantNotes)
				if runtime.GOMAXPROCS(0) < 2 {
					continue
				}
				parallelChunkBytes = max(int64(len(data)/5), 200)
				f, err := OpenFile(path)
				if err != nil {
					t.Fatal(err)
				}
				got, gotNotes = readOutcome(t, NewSacctReader(f, opts))
				f.Close()
				compareV0(t, label+" in chunks", got, want, gotNotes, wantNotes)
				compared++
			}
		}
	}
	if compared == 0 && runtime.GOMAXPROCS(0) >= 2 {
		t.Fatal("nothing compared")
	}
}

func compareV0(t *testing.T, label string, got, want []string, gotNotes, wantNotes map[string]int) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %d items, want %d; first difference:\n%s", label, len(got), len(want), firstDiff(got, want))
	}
	if !reflect.DeepEqual(gotNotes, wantNotes) {
		t.Errorf("%s: notes %v, want %v", label, gotNotes, wantNotes)
	}
}

// FuzzSacctSameAsV0 reads any input with the reader as it was before it
// was made fast and with the reader and requires the same outcome.
func FuzzSacctSameAsV0(f *testing.F) {
	fuzzSeeds(f, "sacct", "hostile/slurm-sacct")
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []Options{{Name: "fuzz", Location: loc, MaxLine: 512}, {Name: "fuzz", Fields: xdmodFields}} {
			want, wantNotes := readOutcome(t, newSacctReaderV0(bytes.NewReader(data), opts))
			got, gotNotes := readOutcome(t, NewSacctReader(bytes.NewReader(data), opts))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("differs from the reference:\n%s", firstDiff(got, want))
			}
			if !reflect.DeepEqual(gotNotes, wantNotes) {
				t.Fatalf("notes %v, want %v", gotNotes, wantNotes)
			}
		}
	})
}
