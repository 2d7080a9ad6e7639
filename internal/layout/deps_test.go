package layout

import (
	"os/exec"
	"strings"
	"testing"
)

// deps lists the packages pkg depends on (itself included), as
// `go list -deps` prints them, with standard library packages marked.
func deps(t *testing.T, pkg string) (all, nonStd []string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not in PATH: %v", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", pkg)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("go list -deps %s: unexpected line %q", pkg, line)
		}
		all = append(all, path)
		if std != "true" {
			nonStd = append(nonStd, path)
		}
	}
	return all, nonStd
}

// forbidden returns the dependencies of pkg that fall under one of the
// import path prefixes.
func forbidden(t *testing.T, pkg string, prefixes []string) []string {
	all, _ := deps(t, pkg)
	var bad []string
	for _, d := range all {
		for _, p := range prefixes {
			if d == p || strings.HasPrefix(d, p+"/") {
				bad = append(bad, d)
			}
		}
	}
	return bad
}

// heavy are the packages the counting packages must not depend on: the
// configuration loader and the rules engine (with its subpackages).
var heavy = []string{
	"github.com/spf13/viper",
	"github.com/scmon/scmon/classify",
}

// TestCountingPackagesStayLight requires the accounting engine, the job
// store and the exporter to build without viper and without the rules
// engine: they name classes and decisions through package job.
func TestCountingPackagesStayLight(t *testing.T) {
	for _, pkg := range []string{"./usage", "./jobstore", "./exporter", "./snapshot", "./job"} {
		t.Run(strings.TrimPrefix(pkg, "./"), func(t *testing.T) {
			if bad := forbidden(t, pkg, heavy); len(bad) > 0 {
				t.Errorf("%s depends on %s; name classes through package job, skip reasons through job.SkipReasons", pkg, strings.Join(bad, ", "))
			}
		})
	}
}

// TestForbiddenDetected keeps the check honest: the binary does pull in
// both heavy packages, and the check must see them there.
func TestForbiddenDetected(t *testing.T) {
	bad := forbidden(t, "./cmd/scmon", heavy)
	for _, h := range heavy {
		found := false
		for _, b := range bad {
			if b == h {
				found = true
			}
		}
		if !found {
			t.Errorf("go list -deps ./cmd/scmon does not show %s (found %v): the dependency check would see nothing", h, bad)
		}
	}
}

// TestAPIStandardLibraryOnly requires the JSON API's types and the job
// vocabulary to build with the standard library alone: the Grafana data
// source imports the API's types from its own module.
func TestAPIStandardLibraryOnly(t *testing.T) {
	for _, pkg := range []string{"./api/v1", "./job"} {
		t.Run(strings.TrimPrefix(pkg, "./"), func(t *testing.T) {
			_, nonStd := deps(t, pkg)
			var extra []string
			for _, d := range nonStd {
				if d != "github.com/scmon/scmon/"+strings.TrimPrefix(pkg, "./") {
					extra = append(extra, d)
				}
			}
			if len(extra) > 0 {
				t.Errorf("%s depends on %s; it must build with the standard library alone", pkg, strings.Join(extra, ", "))
			}
		})
	}
}
