package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// scmonPluginID is the id of scmon's Grafana data source plugin
// (grafana-datasource/plugin.json), which is also its type.
const scmonPluginID = "scmon-scmon-datasource"

// TestProvisioningFiles decodes the Grafana provisioning files strictly
// and checks that they provision a Prometheus data source, scmon's plugin
// data source (under the plugin's own id) and the dashboards' folder.
func TestProvisioningFiles(t *testing.T) {
	decode := func(path string, v any) {
		t.Helper()
		b, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}

	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name      string         `yaml:"name"`
			UID       string         `yaml:"uid"`
			Type      string         `yaml:"type"`
			Access    string         `yaml:"access"`
			URL       string         `yaml:"url"`
			IsDefault bool           `yaml:"isDefault"`
			JSONData  map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	decode("provisioning/datasources/scmon.yml", &ds)
	types := map[string]string{}
	for _, d := range ds.Datasources {
		if d.Name == "" || d.UID == "" || d.URL == "" || d.Access != "proxy" {
			t.Errorf("data source %+v: want a name, a uid, a URL and proxy access", d)
		}
		types[d.Type] = d.UID
	}
	if ds.APIVersion != 1 || types[datasourceType] == "" || types[scmonPluginID] == "" {
		t.Errorf("want apiVersion 1 and data sources of types %s and %s, got %v", datasourceType, scmonPluginID, types)
	}

	var dash struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name                  string `yaml:"name"`
			OrgID                 int    `yaml:"orgId"`
			Type                  string `yaml:"type"`
			Folder                string `yaml:"folder"`
			FolderUID             string `yaml:"folderUid"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	decode("provisioning/dashboards/scmon.yml", &dash)
	if dash.APIVersion != 1 || len(dash.Providers) != 1 || dash.Providers[0].Type != "file" || dash.Providers[0].Options.Path == "" {
		t.Errorf("want one file provider with a path, got %+v", dash)
	}

	// The plugin is built in its own module; when it is in this checkout,
	// its id must be the type provisioned here.
	b, err := os.ReadFile(filepath.Join("..", "grafana-datasource", "plugin.json"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Log("grafana-datasource/plugin.json not in this checkout: plugin id not cross-checked")
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var plugin struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &plugin); err != nil {
		t.Fatalf("grafana-datasource/plugin.json: %v", err)
	}
	if plugin.ID != scmonPluginID || plugin.Type != "datasource" {
		t.Errorf("grafana-datasource/plugin.json: id %q type %q, want id %q type datasource", plugin.ID, plugin.Type, scmonPluginID)
	}
}
