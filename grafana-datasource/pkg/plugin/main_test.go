package plugin

import (
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/build/buildinfo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// A binary built for Grafana carries its build info (see the
	// Makefile); the test binary gets the same, so that the SDK's HTTP
	// client sets its User-Agent instead of logging that it cannot.
	buildinfo.GetBuildInfo = func() (buildinfo.Info, error) {
		return buildinfo.Info{PluginID: PluginID, Version: "test"}, nil
	}
	goleak.VerifyTestMain(m)
}
