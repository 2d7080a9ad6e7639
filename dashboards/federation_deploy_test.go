package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/scmon/scmon/internal/testutil"
)

// TestFederationExampleFiles checks the files of deploy/federation that
// the federation test does not run itself: the per-center Prometheus
// configuration passes promtool check config as committed, the sidecar
// scmon configuration passes scmon serve --config.check, the central
// Grafana data source has the uid the dashboards' provisioning uses, and
// every file the compose example mounts from the repository exists (the
// center's own files, under south/, are the operator's).
func TestFederationExampleFiles(t *testing.T) {
	const dir = "../deploy/federation"
	promtool := testutil.RequireTool(t, "promtool")
	if out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, "prometheus-center.yml")).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}

	bin := testutil.ScmonBinary(t)
	// --config.check opens what the configuration names, as a start
	// would: the container's paths are moved under a directory that holds
	// what compose.yaml mounts there.
	sidecar, err := os.ReadFile(filepath.Join(dir, "scmon-sidecar.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, d := range []string{"etc/scmon", "srv/slurm/dumps", "var/lib/scmon"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inventory := "clusters:\n  - name: south\n    nodegroups:\n      - {name: cpu, nodes: 4, cores: 32}\n"
	if err := os.WriteFile(filepath.Join(root, "etc/scmon/center.yaml"), []byte(inventory), 0o644); err != nil {
		t.Fatal(err)
	}
	moved := regexp.MustCompile(`(/etc/scmon|/srv/slurm|/var/lib/scmon)`).ReplaceAll(sidecar, []byte(root+"$1"))
	checked := filepath.Join(root, "scmon-sidecar.yaml")
	if err := os.WriteFile(checked, moved, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "serve", "--config.file", checked, "--config.check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration OK (tail jobcomp, dump dumps)") {
		t.Errorf("scmon serve --config.check of scmon-sidecar.yaml: %v: %s; want a jobcomp log and dumps", err, out)
	}

	type dsFile struct {
		Datasources []struct {
			Name string `yaml:"name"`
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
		} `yaml:"datasources"`
	}
	read := func(path string, v any) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var central, local dsFile
	read(filepath.Join(dir, "grafana-datasources.yml"), &central)
	read("provisioning/datasources/scmon.yml", &local)
	if len(central.Datasources) != 1 || central.Datasources[0].Type != "prometheus" || central.Datasources[0].UID != local.Datasources[0].UID {
		t.Errorf("grafana-datasources.yml: %+v; want one prometheus data source with uid %q", central.Datasources, local.Datasources[0].UID)
	}

	var compose struct {
		Services map[string]struct {
			Build   string   `yaml:"build"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	read(filepath.Join(dir, "compose.yaml"), &compose)
	if len(compose.Services) == 0 {
		t.Fatal("compose.yaml: no services")
	}
	for name, s := range compose.Services {
		paths := []string{}
		if s.Build != "" {
			paths = append(paths, filepath.Join(s.Build, "Dockerfile"))
		}
		for _, v := range s.Volumes {
			if src, _, _ := strings.Cut(v, ":"); strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "./south/") {
				paths = append(paths, src)
			}
		}
		for _, p := range paths {
			if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
				t.Errorf("compose.yaml: service %s: %v", name, err)
			}
		}
	}
}
