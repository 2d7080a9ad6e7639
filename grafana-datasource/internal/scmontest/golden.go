package scmontest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/assert"
)

// Golden compares dr with the golden file of case name in dir
// (<name>.golden.jsonc), or rewrites the file when write is set (a test's
// -update or -record flag, never a constant). The file opens with the
// frames as text tables in comments, for people reviewing a change, and
// holds the response as Grafana receives it in JSON. (The SDK's own golden
// checker cannot read back the files it writes for error responses.)
func Golden(t testing.TB, dir, name string, dr *backend.DataResponse, write bool) {
	t.Helper()
	path := filepath.Join(dir, name+".golden.jsonc")
	if len(dr.Frames) == 0 {
		// Over gRPC an error answer arrives with an empty list of frames
		// rather than none; both mean the same.
		dr.Frames = nil
	}
	got, err := json.MarshalIndent(dr, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if write {
		var b strings.Builder
		b.WriteString("// Golden answer of " + name + ".query.json: rewrite with go test -update, never by hand.\n")
		if dr.Error != nil {
			fmt.Fprintf(&b, "// error (status %d, source %s): %v\n", dr.Status, dr.ErrorSource, dr.Error)
		}
		for i, f := range dr.Frames {
			table, err := f.StringTable(-1, 12)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "//\n// frame %d\n", i)
			for line := range strings.SplitSeq(strings.TrimRight(table, "\n"), "\n") {
				b.WriteString(strings.TrimRight("// "+line, " ") + "\n")
			}
		}
		b.Write(got)
		b.WriteByte('\n')
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with go test -update)", err)
	}
	var want strings.Builder
	for line := range strings.SplitSeq(string(raw), "\n") {
		if !strings.HasPrefix(line, "//") {
			want.WriteString(line + "\n")
		}
	}
	assert.JSONEq(t, want.String(), string(got), "answer differs from %s (if the change is intended, go test -update)", path)
}
