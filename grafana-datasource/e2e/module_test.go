package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestModuleJS loads the hand-written module.js in Node with stand-ins for
// Grafana's shared modules (testdata/module_harness.js). It checks the
// module's shape and logic, not its rendering in a real Grafana.
func TestModuleJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	root := moduleRoot(t)
	out, err := exec.Command(node, filepath.Join(root, "e2e", "testdata", "module_harness.js"), filepath.Join(root, "module.js")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "module.js ok") {
		t.Fatalf("node: %v\n%s", err, out)
	}
}
