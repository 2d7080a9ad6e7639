package source

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/collector"
)

// genDump writes a headed sacct dump of n ended one-core jobs, an hour
// apart, and returns its path.
func genDump(t testing.TB, n int) string {
	t.Helper()
	var sb strings.Builder
	sb.WriteString(strings.Join(collector.DefaultSacctFields, "|") + "\n")
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		st := t0.Add(time.Duration(i) * time.Hour).Format("2006-01-02T15:04:05")
		en := t0.Add(time.Duration(i)*time.Hour + 30*time.Minute).Format("2006-01-02T15:04:05")
		id := fmt.Sprint(1000 + i)
		fmt.Fprintf(&sb, "%s|%s|lab|cpu|normal|phys|u|u|%s|%s|%s|%s|00:30:00|01:00:00|COMPLETED|0:0|1|1|billing=1,cpu=1,node=1|billing=1,cpu=1,node=1|n1||/w||sim|sbatch sim\n", id, id, st, st, st, en)
	}
	path := filepath.Join(t.TempDir(), "big.psv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDumpReadOnce: a file imported in many batches is opened and parsed
// once, not again from its start for every batch; a batch the daemon could
// not commit (the old cursor comes back) is returned again, and a restarted
// importer goes on from its cursor, each at the cost of one more reading.
func TestDumpReadOnce(t *testing.T) {
	path := genDump(t, 2000)
	whole := pollDump(t, newDump(t, DumpConfig{Paths: []string{path}}), nil)
	if len(whole.Records) != 2000 {
		t.Fatalf("%d records in one batch, want 2000", len(whole.Records))
	}
	d := newDump(t, DumpConfig{Paths: []string{path}, MaxRecords: 100})
	var got []string
	var cursor []byte
	var restart []byte
	for i := 0; ; i++ {
		b := pollDump(t, d, cursor)
		if i == 5 {
			// The daemon could not commit this batch: it polls again from
			// the cursor it has.
			again := pollDump(t, d, cursor)
			if !slices.Equal(keys(again.Records), keys(b.Records)) {
				t.Fatalf("a batch polled again after a failed commit differs")
			}
			b = again
		}
		if i == 10 {
			restart = cursor
		}
		got = append(got, keys(b.Records)...)
		cursor = b.Cursor
		if !b.More {
			if !b.Complete.Equal(whole.Complete) {
				t.Errorf("Complete %v, want %v", b.Complete, whole.Complete)
			}
			break
		}
	}
	if !slices.Equal(got, keys(whole.Records)) {
		t.Errorf("records in parts differ from the whole file")
	}
	if d.opens != 2 {
		t.Errorf("file opened %d times for 20 batches and one batch polled again, want 2", d.opens)
	}
	if d.open != nil {
		t.Errorf("file left open after its import")
	}
	r := newDump(t, DumpConfig{Paths: []string{path}, MaxRecords: 100})
	var rest []string
	for cursor := restart; ; {
		b := pollDump(t, r, cursor)
		rest = append(rest, keys(b.Records)...)
		cursor = b.Cursor
		if !b.More {
			break
		}
	}
	if want := keys(whole.Records)[1000:]; !slices.Equal(rest, want) || r.opens != 1 {
		t.Errorf("restarted at batch 11: %d records in %d openings, want the last %d in 1", len(rest), r.opens, len(want))
	}
}

// BenchmarkDumpInParts imports a 20,000-record dump in batches of 500:
// the time per record must not grow with the number of batches.
func BenchmarkDumpInParts(b *testing.B) {
	path := genDump(b, 20_000)
	b.ReportAllocs()
	for b.Loop() {
		d, err := NewDump(DumpConfig{Paths: []string{path}, MaxRecords: 500})
		if err != nil {
			b.Fatal(err)
		}
		var cursor []byte
		for {
			batch, err := d.Poll(b.Context(), cursor)
			if err != nil {
				b.Fatal(err)
			}
			cursor = batch.Cursor
			if !batch.More {
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20_000, "ns/record")
}
