package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/scmon/scmon/grafana-datasource/internal/scmontest"
)

const (
	pluginID     = "scmon-scmon-datasource"
	casesDir     = "../pkg/plugin/testdata/cases"
	exchangesDir = "../pkg/plugin/testdata/scmon"
)

// moduleRoot is the plugin module's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	return filepath.Dir(filepath.Dir(file))
}

// buildPlugin builds the plugin as the Makefile does, with its build info,
// under the name Grafana looks for, into dir.
func buildPlugin(t *testing.T, dir string) string {
	t.Helper()
	root := moduleRoot(t)
	var pj struct {
		ID   string `json:"id"`
		Exec string `json:"executable"`
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
	}
	raw, err := os.ReadFile(filepath.Join(root, "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pj); err != nil {
		t.Fatalf("plugin.json: %v", err)
	}
	if pj.ID != pluginID || pj.Exec != "gpx_scmon" {
		t.Fatalf("plugin.json: id %q, executable %q", pj.ID, pj.Exec)
	}
	info, _ := json.Marshal(map[string]string{"pluginID": pj.ID, "version": pj.Info.Version})
	bin := filepath.Join(dir, pj.Exec+"_"+runtime.GOOS+"_"+runtime.GOARCH)
	start := time.Now()
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -X 'github.com/grafana/grafana-plugin-sdk-go/build/buildinfo.buildInfoJSON="+string(info)+"'",
		"-o", bin, "./pkg")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./pkg: %v\n%s", err, out)
	}
	t.Logf("built %s in %.1fs", filepath.Base(bin), time.Since(start).Seconds())
	out, err := exec.Command(bin, "-buildinfo").Output()
	if err != nil || !strings.Contains(string(out), `"pluginID":"`+pluginID+`"`) {
		t.Errorf("%s -buildinfo: %v %s", bin, err, out)
	}
	return bin
}

// testLog writes the plugin host's log to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// pluginClient is the plugin process as Grafana holds it: a go-plugin
// client and the gRPC clients of the services it dispensed.
type pluginClient struct {
	data pluginv2.DataClient
	diag pluginv2.DiagnosticsClient
	res  pluginv2.ResourceClient
}

// launch starts the plugin binary the way Grafana does: hashicorp/go-plugin
// with the SDK's handshake (protocol version, magic cookie), gRPC only,
// and the plugin set Grafana dispenses from. The process is killed when
// the test ends.
func launch(t *testing.T, bin string) *pluginClient {
	t.Helper()
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{
			grpcplugin.ProtocolVersion: {
				"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
				"data":        &grpcplugin.DataGRPCPlugin{},
				"resource":    &grpcplugin.ResourceGRPCPlugin{},
			},
		},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "gpx_scmon", Output: testLog{t}, Level: hclog.Warn}),
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin: %v", err)
	}
	dispense := func(name string) any {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("dispense %s: %v", name, err)
		}
		return raw
	}
	return &pluginClient{
		data: dispense("data").(pluginv2.DataClient),
		diag: dispense("diagnostics").(pluginv2.DiagnosticsClient),
		res:  dispense("resource").(pluginv2.ResourceClient),
	}
}

func (p *pluginClient) query(t *testing.T, pctx backend.PluginContext, queries ...backend.DataQuery) *backend.QueryDataResponse {
	t.Helper()
	req := backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{PluginContext: pctx, Queries: queries})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := p.data.QueryData(ctx, req)
	if err != nil {
		t.Fatalf("QueryData over gRPC: %v", err)
	}
	out, err := backend.FromProto().QueryDataResponse(resp)
	if err != nil {
		t.Fatalf("decode QueryData answer: %v", err)
	}
	return out
}

func (p *pluginClient) health(t *testing.T, pctx backend.PluginContext) *backend.CheckHealthResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := p.diag.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pctx)})
	if err != nil {
		t.Fatalf("CheckHealth over gRPC: %v", err)
	}
	return backend.FromProto().CheckHealthResponse(resp)
}

// resource sends a resource request (GET path?query) as Grafana forwards
// the browser's, and returns the status and the body.
func (p *pluginClient) resource(t *testing.T, pctx backend.PluginContext, path, query string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u := path
	if query != "" {
		u += "?" + query
	}
	req := backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{PluginContext: pctx, Path: path, Method: "GET", URL: u})
	stream, err := p.res.CallResource(ctx, req)
	if err != nil {
		t.Fatalf("CallResource over gRPC: %v", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("CallResource %s: %v", path, err)
	}
	return int(resp.Code), resp.Body
}

// pluginContext is what Grafana sends along for a data source of url;
// allow switches on grouping by account and user.
func pluginContext(uid, url string, allow bool) backend.PluginContext {
	return backend.PluginContext{Namespace: "default", PluginID: pluginID, DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
		UID: uid, Name: uid, Type: pluginID, JSONData: []byte(fmt.Sprintf(`{"url":%q,"timeout":60,"allowGroupByAccountUser":%t}`, url, allow)),
		Updated: time.Unix(1, 0)}}
}

// TestOutOfProcess builds the plugin binary, launches it as Grafana does
// and queries it over gRPC: first against recorded answers of scmon
// (every case whose range ends before its clock must give its golden
// answer), then against a real `scmon serve` of the sample center.
func TestOutOfProcess(t *testing.T) {
	bin := buildPlugin(t, t.TempDir())
	p := launch(t, bin)

	t.Run("recorded", func(t *testing.T) {
		replay := scmontest.NewReplay(t, exchangesDir)
		pctx := pluginContext("recorded", replay.URL, true)
		res := p.health(t, pctx)
		if res.Status != backend.HealthStatusOk || !strings.Contains(res.Message, "30d billing utilization 65.9%") {
			t.Errorf("health: %v %q", res.Status, res.Message)
		}
		var queries []backend.DataQuery
		var names []string
		for _, c := range scmontest.LoadCases(t, casesDir) {
			// The plugin's clock is the real one here: only cases whose
			// range is wholly past before their own clock answer alike.
			if c.To.After(c.At) {
				continue
			}
			q := c.Query()
			q.RefID = c.Name
			queries = append(queries, q)
			names = append(names, c.Name)
		}
		resp := p.query(t, pctx, queries...)
		for _, name := range names {
			dr := resp.Responses[name]
			// The golden answers were made with refId A and the data
			// source's URL http://scmon.test:9810.
			for _, f := range dr.Frames {
				f.RefID = "A"
				if f.Meta != nil {
					f.Meta.ExecutedQueryString = strings.Replace(f.Meta.ExecutedQueryString, replay.URL, "http://scmon.test:9810", 1)
				}
			}
			scmontest.Golden(t, casesDir, name, &dr, false)
		}
		if len(names) < 8 {
			t.Errorf("only %d cases ran out of process", len(names))
		}
	})

	t.Run("real-scmon", func(t *testing.T) {
		srv := scmontest.StartServe(t)
		testRealScmon(t, p, pluginContext("real", srv.URL, true))
		testLists(t, p, pluginContext("real-lists", srv.URL, true))
		testPrivacy(t, p, pluginContext("real-private", srv.URL, false))
	})
}

// testRealScmon queries a real `scmon serve` of the sample center through
// the plugin process.
func testRealScmon(t *testing.T, p *pluginClient, pctx backend.PluginContext) {
	res := p.health(t, pctx)
	if res.Status != backend.HealthStatusOk {
		t.Fatalf("health: %v %q", res.Status, res.Message)
	}
	t.Logf("health: %s", res.Message)

	now := time.Now()
	month := backend.TimeRange{From: now.Add(-30 * 24 * time.Hour), To: now}
	start := time.Now()
	resp := p.query(t, pctx,
		// The 30-day billing figures as one point each.
		backend.DataQuery{RefID: "month", QueryType: "figures", TimeRange: month, Interval: time.Second, MaxDataPoints: 43200,
			JSON: json.RawMessage(`{"resource":"billing","every":"total"}`)},
		// Hourly series by partition, as a month-wide panel asks.
		backend.DataQuery{RefID: "hourly", QueryType: "figures", TimeRange: month, Interval: 45 * time.Minute, MaxDataPoints: 1000,
			JSON: json.RawMessage(`{"groupBy":["partition"]}`)},
		backend.DataQuery{RefID: "table", QueryType: "table", TimeRange: month,
			JSON: json.RawMessage(`{"groupBy":"account","orderBy":"allocated_hours","limit":5}`)},
		backend.DataQuery{RefID: "jobs", QueryType: "jobs", TimeRange: month,
			JSON: json.RawMessage(`{"classes":["ai_training"],"limit":10}`)},
	)
	t.Logf("four queries over 30 days answered in %.2fs", time.Since(start).Seconds())
	for id, r := range resp.Responses {
		if r.Error != nil {
			t.Fatalf("%s: %v", id, r.Error)
		}
	}

	// The sample's 30-day billing utilization is 65.9 %.
	util := figure(t, resp.Responses["month"].Frames, "utilization")
	if math.Abs(util-0.659) > 0.001 {
		t.Errorf("30-day billing utilization %.4f, want 0.659 ± 0.001", util)
	}
	share := figure(t, resp.Responses["month"].Frames, "ai_share")
	upper := figure(t, resp.Responses["month"].Frames, "ai_share_upper")
	t.Logf("30 days, billing: utilization %.2f%%, AI share %.2f%% (upper bound %.2f%%)", 100*util, 100*share, 100*upper)
	if share <= 0 || share > upper || upper > 1 {
		t.Errorf("AI share %.4f, upper bound %.4f", share, upper)
	}

	hourly := resp.Responses["hourly"].Frames
	if len(hourly) != 4*3 {
		t.Errorf("%d hourly frames, want 4 partitions × 3 figures", len(hourly))
	}
	seen := map[string]bool{}
	for _, f := range hourly {
		if f.Meta.Type != data.FrameTypeTimeSeriesMulti || f.Rows() < 720 || f.Rows() > 722 {
			t.Errorf("hourly frame %s: type %s, %d rows", f.Fields[1].Labels, f.Meta.Type, f.Rows())
		}
		seen[f.Fields[1].Labels.String()] = true
		for i := range f.Rows() {
			if v, ok := f.Fields[1].ConcreteAt(i); ok && (v.(float64) < 0 || v.(float64) > 1) {
				t.Fatalf("%s at %v: %v", f.Fields[1].Labels, f.Fields[0].At(i), v)
			}
		}
	}
	if len(seen) != len(hourly) {
		t.Errorf("label sets not unique: %d of %d", len(seen), len(hourly))
	}

	table := resp.Responses["table"].Frames[0]
	if table.Rows() != 5 || table.Fields[0].Name != "account" {
		t.Errorf("table: %d rows, first field %s", table.Rows(), table.Fields[0].Name)
	}
	jobs := resp.Responses["jobs"].Frames[0]
	if jobs.Rows() != 10 {
		t.Errorf("jobs: %d rows", jobs.Rows())
	}
	class, _ := jobs.FieldByName("class")
	rules, _ := jobs.FieldByName("rules")
	for i := range jobs.Rows() {
		if class.At(i) != "ai_training" || rules.At(i) == "" {
			t.Errorf("job row %d: class %v, rules %q", i, class.At(i), rules.At(i))
		}
	}
}

// figure returns the one value of the frame whose figure label is name.
func figure(t *testing.T, frames data.Frames, name string) float64 {
	t.Helper()
	for _, f := range frames {
		if len(f.Fields) == 2 && f.Fields[1].Labels["figure"] == name {
			if f.Rows() != 1 {
				t.Fatalf("%s: %d rows, want 1", name, f.Rows())
			}
			v, ok := f.Fields[1].ConcreteAt(0)
			if !ok {
				t.Fatalf("%s is null", name)
			}
			return v.(float64)
		}
	}
	t.Fatalf("no frame of figure %s", name)
	return 0
}

// testLists asks the plugin's resource handlers for the pickers' lists
// over the last 30 days of a real scmon, then checks that a figures query
// filtered by one partition answers exactly that partition's figures as
// the grouped query gives them.
func testLists(t *testing.T, p *pluginClient, pctx backend.PluginContext) {
	now := time.Now()
	from := now.Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	lists := map[string][]string{}
	for _, name := range []string{"clusters", "partitions", "accounts", "users", "classes", "kinds", "models"} {
		code, body := p.resource(t, pctx, name, "from="+from)
		var vl struct {
			Values []string `json:"values"`
		}
		if code != 200 || json.Unmarshal(body, &vl) != nil {
			t.Fatalf("resource %s: %d %s", name, code, body)
		}
		// Classes come in scmon's order, the other lists sorted.
		sorted := name == "classes" || slices.IsSorted(vl.Values)
		if len(vl.Values) == 0 || !sorted || len(slices.Compact(slices.Sorted(slices.Values(vl.Values)))) != len(vl.Values) {
			t.Errorf("resource %s: %q, want sorted distinct values", name, vl.Values)
		}
		lists[name] = vl.Values
	}
	t.Logf("lists over 30 days: %d clusters, %d partitions, %d accounts, %d users, %d kinds, %d models",
		len(lists["clusters"]), len(lists["partitions"]), len(lists["accounts"]), len(lists["users"]), len(lists["kinds"]), len(lists["models"]))
	if len(lists["partitions"]) != 4 {
		t.Errorf("partitions %q, want the sample's 4", lists["partitions"])
	}
	if want := []string{"ai_inference", "ai_training", "other", "unknown"}; !slices.Equal(slices.Sorted(slices.Values(lists["classes"])), want) {
		t.Errorf("classes %q, want %q", lists["classes"], want)
	}
	if code, body := p.resource(t, pctx, "nodes", ""); code != 404 || !strings.Contains(string(body), "partitions") {
		t.Errorf("unknown resource: %d %s", code, body)
	}
	if code, body := p.resource(t, pctx, "partitions", "from=yesterday"); code != 400 || !strings.Contains(string(body), "from") {
		t.Errorf("bad from: %d %s", code, body)
	}

	month := backend.TimeRange{From: now.Add(-30 * 24 * time.Hour), To: now}
	part := lists["partitions"][len(lists["partitions"])-1]
	resp := p.query(t, pctx,
		backend.DataQuery{RefID: "grouped", QueryType: "figures", TimeRange: month,
			JSON: json.RawMessage(`{"resource":"cpu","every":"total","groupBy":["partition"]}`)},
		backend.DataQuery{RefID: "filtered", QueryType: "figures", TimeRange: month,
			JSON: json.RawMessage(`{"resource":"cpu","every":"total","partitions":"` + part + `"}`)},
		backend.DataQuery{RefID: "filtered-class", QueryType: "figures", TimeRange: month,
			JSON: json.RawMessage(`{"resource":"cpu","every":"total","figures":["allocated_hours"],"classes":["ai_training","ai_inference"]}`)},
	)
	for id, r := range resp.Responses {
		if r.Error != nil {
			t.Fatalf("%s: %v", id, r.Error)
		}
	}
	filtered := resp.Responses["filtered"].Frames
	if len(filtered) != 3 {
		t.Fatalf("filtered by partition %s: %d frames, want 3 figures", part, len(filtered))
	}
	for _, f := range filtered {
		l := f.Fields[1].Labels
		if l["partition"] != part {
			t.Errorf("filtered frame labels %s, want partition %s", l, part)
		}
		want := labelled(t, resp.Responses["grouped"].Frames, l)
		got, _ := f.Fields[1].ConcreteAt(0)
		if got != want {
			t.Errorf("%s filtered %v, grouped %v", l, got, want)
		}
	}
	classes := resp.Responses["filtered-class"].Frames
	if len(classes) != 2 {
		t.Errorf("filtered by two classes: %d frames, want one per class", len(classes))
	}
	for _, f := range classes {
		if c := f.Fields[1].Labels["class"]; c != "ai_training" && c != "ai_inference" {
			t.Errorf("filtered by class: a frame of class %q", c)
		}
	}
}

// labelled returns the one value of the frame with labels l.
func labelled(t *testing.T, frames data.Frames, l data.Labels) any {
	t.Helper()
	for _, f := range frames {
		if len(f.Fields) == 2 && f.Fields[1].Labels.Equals(l) {
			v, _ := f.Fields[1].ConcreteAt(0)
			return v
		}
	}
	t.Fatalf("no frame labelled %s", l)
	return nil
}

// testPrivacy checks that a data source whose settings do not allow
// grouping by account and user refuses those groupings (as that query's
// error, the others answering), filters and lists.
func testPrivacy(t *testing.T, p *pluginClient, pctx backend.PluginContext) {
	now := time.Now()
	month := backend.TimeRange{From: now.Add(-30 * 24 * time.Hour), To: now}
	resp := p.query(t, pctx,
		backend.DataQuery{RefID: "by-user", QueryType: "figures", TimeRange: month, JSON: json.RawMessage(`{"every":"total","groupBy":["partition","user"]}`)},
		backend.DataQuery{RefID: "top-accounts", QueryType: "table", TimeRange: month, JSON: json.RawMessage(`{"groupBy":"account"}`)},
		backend.DataQuery{RefID: "one-account", QueryType: "figures", TimeRange: month, JSON: json.RawMessage(`{"every":"total","accounts":["a1"]}`)},
		backend.DataQuery{RefID: "by-partition", QueryType: "figures", TimeRange: month, JSON: json.RawMessage(`{"every":"total","groupBy":["partition"]}`)},
	)
	for _, id := range []string{"by-user", "top-accounts", "one-account"} {
		r := resp.Responses[id]
		if r.Error == nil || r.Status != backend.StatusForbidden || !strings.Contains(r.Error.Error(), "Allow grouping by account and user") || len(r.Frames) != 0 {
			t.Errorf("%s with grouping by account and user off: status %d, error %v, %d frames", id, r.Status, r.Error, len(r.Frames))
		}
	}
	if r := resp.Responses["by-partition"]; r.Error != nil || len(r.Frames) != 12 {
		t.Errorf("by-partition next to refused queries: %v, %d frames", r.Error, len(r.Frames))
	}
	for _, name := range []string{"accounts", "users"} {
		if code, body := p.resource(t, pctx, name, ""); code != 403 || !strings.Contains(string(body), "Allow grouping by account and user") {
			t.Errorf("resource %s with grouping by account and user off: %d %s", name, code, body)
		}
	}
	if code, _ := p.resource(t, pctx, "partitions", ""); code != 200 {
		t.Errorf("resource partitions with grouping by account and user off: %d", code)
	}
}
