// Command gpx_scmon is scmon's Grafana backend data source. Grafana
// starts it as a subprocess and talks to it over gRPC; run by hand it
// only explains that.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/scmon/scmon/grafana-datasource/pkg/plugin"
)

func main() { os.Exit(run()) }

// run serves the data source until Grafana stops the plugin.
func run() int {
	if err := datasource.Manage(plugin.PluginID, plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("Plugin stopped", "error", err)
		return 1
	}
	return 0
}
