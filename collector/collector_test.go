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

	"github.com/scmon/scmon/job"
)

// readAll drains a reader opened through Open, collecting records, skipped
// lines and the reader's notes.
func readAll(t *testing.T, format, path string, opts Options) ([]*job.Record, []*LineError, map[string]int) {
	t.Helper()
	r, c, err := Open(format, path, opts)
	if err != nil {
		t.Fatalf("Open(%s, %s): %v", format, path, err)
	}
	defer c.Close()
	recs, bad := drain(t, r)
	var notes map[string]int
	if n, ok := r.(interface{ Notes() map[string]int }); ok {
		notes = n.Notes()
	}
	return recs, bad, notes
}

// drain reads r to the end, keeping records and skipped lines apart; any
// other error fails the test.
func drain(t testing.TB, r Reader) ([]*job.Record, []*LineError) {
	t.Helper()
	var recs []*job.Record
	var bad []*LineError
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs, bad
		}
		var le *LineError
		if errors.As(err, &le) {
			bad = append(bad, le)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, rec)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, format, path, want string
	}{
		{"unknown format", "no-such-format", "x", `unknown input format "no-such-format"`},
		{"missing file", "slurm-sacct", filepath.Join(dir, "nope"), "no such file"},
		{"directory for a file format", "slurm-sacct", dir, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Open(tt.format, tt.path, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestOpenGzipTransparent(t *testing.T) {
	plain, _, _ := readAll(t, "slurm-sacct", "testdata/sacct/xdmod-accounting.sacct", Options{Fields: xdmodFields})
	data, err := os.ReadFile("testdata/sacct/xdmod-accounting.sacct")
	if err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(t.TempDir(), "dump.noext") // gzip is found by its magic, not its name
	writeGzip(t, gz, data)
	zipped, _, _ := readAll(t, "slurm-sacct", gz, Options{Fields: xdmodFields})
	if len(plain) == 0 || len(plain) != len(zipped) {
		t.Fatalf("plain gave %d records, gzip %d", len(plain), len(zipped))
	}
	for i := range plain {
		if plain[i].Key() != zipped[i].Key() || plain[i].Cores != zipped[i].Cores {
			t.Errorf("record %d differs: %s vs %s", i, plain[i].Key(), zipped[i].Key())
		}
	}
}

func writeGzip(t *testing.T, path string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
