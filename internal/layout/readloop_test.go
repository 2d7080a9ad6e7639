package layout

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readLoop matches a hand-written read loop: a call of Next whose error is
// compared with io.EOF (in a file that imports the readers, a loop over a
// record reader).
var readLoop = regexp.MustCompile(`(?s)\w+, err :?= \w+\.Next\(\)\s*\n\s*if errors\.Is\(err, io\.EOF\)`)

// TestOneReaderLoop: outside the readers themselves (collector), records
// are read in one place, ingest.Drain, which the report, the classify
// command and every daemon source go through; a second loop would count
// skipped lines its own way.
func TestOneReaderLoop(t *testing.T) {
	root := "../.."
	var loops []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case "collector", "node_modules", ".git", "grafana-datasource", "dashboards", "bench":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || rel == filepath.Join("ingest", "stats.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if readLoop.Match(b) && strings.Contains(string(b), `"github.com/scmon/scmon/collector"`) {
			loops = append(loops, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(loops) > 0 {
		t.Errorf("record reader loops outside ingest.Drain: %v", loops)
	}
	// The check must see the loop it allows.
	b, err := os.ReadFile(filepath.Join(root, "ingest", "stats.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !readLoop.Match(b) {
		t.Error("the pattern no longer matches ingest.Drain's own loop: it would miss others too")
	}
}
