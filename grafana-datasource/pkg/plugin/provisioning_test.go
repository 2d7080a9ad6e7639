package plugin

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"go.yaml.in/yaml/v3"
)

// TestProvisioningExample checks that the shipped provisioning example
// names this plugin and that its settings load without complaint.
func TestProvisioningExample(t *testing.T) {
	raw, err := os.ReadFile("../../provisioning/scmon-datasource.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Type     string         `yaml:"type"`
			JSONData map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if file.APIVersion != 1 || len(file.Datasources) != 1 || file.Datasources[0].Type != PluginID {
		t.Fatalf("provisioning example: %+v", file)
	}
	js, err := json.Marshal(file.Datasources[0].JSONData)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: js})
	if err != nil || len(s.Unknown) > 0 || s.URL.String() != "http://scmon:9810" {
		t.Errorf("settings of the example: %+v, %v", s, err)
	}
}
