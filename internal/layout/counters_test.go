package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// counterInputs are the methods a package calls when it computes the
// resource-seconds counters itself: the allocations and their devices (to
// attribute seconds to time), the engine's changes, the capacity's
// node-seconds and the billing weights. Only snapshot/build may call them
// to count; backfill must take its values from build.Replay.
var counterInputs = []string{"Jobs", "JobDevices", "TakeChanges", "DeviceCounts", "NodeSeconds", "WeightsFor", "Billing"}

// selectorsUsed returns, for the non-test Go files of dir, each call of a
// method (or package function) of names, and each use of usage.OpenEnd,
// as "file:line name".
func selectorsUsed(t *testing.T, dir string, names []string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	var found []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		add := func(sel *ast.SelectorExpr) {
			p := fset.Position(sel.Sel.Pos())
			found = append(found, filepath.Base(p.Filename)+":"+strconv.Itoa(p.Line)+" "+sel.Sel.Name)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && slices.Contains(names, sel.Sel.Name) {
					add(sel)
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "usage" && n.Sel.Name == "OpenEnd" {
					add(n)
				}
			}
			return true
		})
	}
	sort.Strings(found)
	return found
}

// TestBackfillCountsThroughTheBuilder: `scmon backfill` writes the values
// of the daemon's own counters (snapshot/build's Replay) and never
// computes them itself: it depends on snapshot/build and reads none of the
// inputs of the counting (allocations and their times, capacity
// node-seconds, billing weights). A second implementation would drift from
// the daemon's series.
func TestBackfillCountsThroughTheBuilder(t *testing.T) {
	all, _ := deps(t, "./backfill")
	if !slices.Contains(all, "github.com/scmon/scmon/snapshot/build") {
		t.Error("backfill does not depend on snapshot/build: where do its counter values come from?")
	}
	if used := selectorsUsed(t, "../../backfill", counterInputs); len(used) > 0 {
		t.Errorf("backfill reads the inputs of the counters itself (take the values from build.Replay instead): %s", strings.Join(used, ", "))
	}
	// The check must see the inputs where the counting does happen.
	used := selectorsUsed(t, "../../snapshot/build", counterInputs)
	for _, want := range []string{"Jobs", "JobDevices", "NodeSeconds", "WeightsFor", "OpenEnd"} {
		if !slices.ContainsFunc(used, func(u string) bool { return strings.HasSuffix(u, " "+want) }) {
			t.Errorf("snapshot/build uses no %s (found %v): the check would see nothing", want, used)
		}
	}
}
