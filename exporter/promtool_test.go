package exporter

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// requireTool returns the path of a command-line tool the test needs. A
// missing tool skips the test, except where SCMON_TEST_REQUIRE_TOOLS=1 (in
// CI), where it fails it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("SCMON_TEST_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is required (SCMON_TEST_REQUIRE_TOOLS=1): %v", name, err)
	}
	t.Skipf("%s not installed: %v", name, err)
	return ""
}

// TestPromtoolCheckMetrics runs the whole exposition of the fake snapshot
// through Prometheus's own linter, with and without the account label.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := requireTool(t, "promtool")
	for _, opts := range []Options{{}, {AccountLabel: true}} {
		text := exposition(t, register(t, newTestExporter(fakeSnapshot(), opts)))
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(text)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("account=%v: promtool check metrics: %v\n%s", opts.AccountLabel, err, out)
		}
	}
}
