package plugin

import (
	"context"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/experimental/datasourcetest"

	"github.com/scmon/scmon/grafana-datasource/internal/scmontest"

	"github.com/scmon/scmon/internal/testutil"
)

// TestGRPCInProcess serves the data source over the SDK's gRPC server in
// this process (the SDK's datasourcetest, started once) and runs every
// case through Grafana's protocol: the answers, encoded as Arrow and
// decoded again, must equal the golden ones.
func TestGRPCInProcess(t *testing.T) {
	replay, err := url.Parse(scmontest.NewReplay(t, exchangesDir).URL)
	if err != nil {
		t.Fatal(err)
	}
	var clock atomic.Pointer[time.Time]
	factory := func(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
		d := newDatasource(s, log.NewNullLogger(), func() time.Time { return *clock.Load() })
		if d.hc != nil {
			d.hc.Transport = redirect{target: replay, next: d.hc.Transport}
		}
		return d, nil
	}
	tp, err := datasourcetest.Manage(factory, datasourcetest.ManageOpts{Address: testutil.FreeAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tp.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	pctx := backend.PluginContext{Namespace: "default", PluginID: PluginID, DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
		UID: "scmon", Name: "scmon", JSONData: []byte(`{"url":"` + fakeURL + `","timeout":20,"allowGroupByAccountUser":true}`)}}

	ctx := context.Background()
	for _, c := range scmontest.LoadCases(t, casesDir) {
		t.Run(c.Name, func(t *testing.T) {
			clock.Store(&c.At)
			resp, err := tp.Client.QueryData(ctx, &backend.QueryDataRequest{PluginContext: pctx, Queries: []backend.DataQuery{c.Query()}})
			if err != nil {
				t.Fatal(err)
			}
			dr := resp.Responses["A"]
			checkGolden(t, c.Name, &dr, false)
		})
	}
	at := time.Now()
	clock.Store(&at)
	res, err := tp.Client.CheckHealth(ctx, &backend.CheckHealthRequest{PluginContext: pctx})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != backend.HealthStatusOk || !strings.HasPrefix(res.Message, "scmon is ready") {
		t.Errorf("health over gRPC: %v %q", res.Status, res.Message)
	}
}
