package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// readbackCase is one input read whole for TestReadbackUnchanged.
type readbackCase struct {
	name, path string
	fields     []string
	zone       string
}

// readbackOutcome is what reading an input gave: counts, the notes, and a
// hash of every record (all fields, as JSON) and every skipped line's
// message, in order.
type readbackOutcome struct {
	Records int            `json:"records"`
	Skipped int            `json:"skipped"`
	Notes   map[string]int `json:"notes"`
	SHA256  string         `json:"sha256"`
}

func readbackCases(t *testing.T) []readbackCase {
	t.Helper()
	headerless := map[string][]string{
		"xdmod-accounting.sacct": xdmodFields, "xdmod-job-arrays.sacct": xdmodFields,
		"xdmod-non-ended.sacct": xdmodFields, "xdmod-unknown-state.sacct": xdmodFields,
		"xdmod-utf8.sacct": xdmodFields, "xdmod-reference-phillips.sacct.gz": xdmodFields,
	}
	files, err := filepath.Glob("testdata/sacct/*")
	if err != nil {
		t.Fatal(err)
	}
	var cases []readbackCase
	for _, f := range files {
		base := filepath.Base(f)
		if base == "README.md" {
			continue
		}
		// Each fixture in UTC and in a zone with daylight-saving time, so
		// that the fast paths of time parsing meet folds and gaps.
		for _, zone := range []string{"UTC", "America/New_York"} {
			cases = append(cases, readbackCase{name: base + "@" + zone, path: f, fields: headerless[base], zone: zone})
		}
	}
	// The sample once, in its own zone: 8,755 allocations are enough, and
	// the race detector makes each read slow.
	cases = append(cases, readbackCase{name: "sample.sacct.gz@Asia/Shanghai", path: "../seeds/sample.sacct.gz", zone: "Asia/Shanghai"})
	return cases
}

// TestReadbackUnchanged reads every sacct fixture and the built-in sample
// and requires exactly the records, skipped lines and notes recorded in
// testdata/readback.json (rewritten with -update): the reader's
// speed work must not change a single field of what it returns.
func TestReadbackUnchanged(t *testing.T) {
	const golden = "testdata/readback.json"
	want := map[string]readbackOutcome{}
	if b, err := os.ReadFile(golden); err == nil {
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
	} else if !*update {
		t.Fatal(err)
	}
	got := map[string]readbackOutcome{}
	for _, c := range readbackCases(t) {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		r, closer, err := Open("slurm-sacct", c.path, Options{Fields: c.fields, Location: loc})
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		var o readbackOutcome
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var le *LineError
			if errors.As(err, &le) {
				o.Skipped++
				fmt.Fprintf(h, "skipped %s\n", le.Error())
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			o.Records++
			b, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			h.Write(append(b, '\n'))
		}
		closer.Close()
		o.Notes = r.(Noter).Notes()
		o.SHA256 = hex.EncodeToString(h.Sum(nil))
		got[c.name] = o
		if !*update && !reflect.DeepEqual(o, want[c.name]) {
			t.Errorf("%s: read %+v, want %+v", c.name, o, want[c.name])
		}
	}
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
