package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/scmon/scmon/grafana-datasource/pkg/scmon"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// healthDetails are the health check's JSON details.
type healthDetails struct {
	URL      string    `json:"url"`
	Snapshot time.Time `json:"snapshot"`
	Clusters []string  `json:"clusters"`
	Sources  []string  `json:"sourcesDown,omitempty"`
}

// CheckHealth answers "Save & test": it checks the settings, asks scmon's
// /-/ready (which says what a starting daemon waits for) and reads
// /api/v1/summary, whose snapshot time, clusters and headline show that
// the URL is really scmon and that its figures are current.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	fail := func(msg string) (*backend.CheckHealthResult, error) {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg}, nil
	}
	if d.settingsErr != nil {
		return fail("data source settings: " + d.settingsErr.Error())
	}
	if len(d.settings.Unknown) > 0 {
		return fail(fmt.Sprintf("data source settings: jsonData has keys the plugin does not know: %s (known: %s)",
			strings.Join(d.settings.Unknown, ", "), strings.Join(jsonDataKeys, ", ")))
	}
	if _, err := d.client.Ready(ctx); err != nil {
		if scmon.IsStatus(err, http.StatusServiceUnavailable) {
			return fail(err.Error())
		}
		_, msg := d.classify(ctx, err)
		return fail(msg)
	}
	sum, err := d.client.Summary(ctx)
	if err != nil {
		_, msg := d.classify(ctx, err)
		return fail(msg)
	}
	det := healthDetails{URL: d.settings.URL.Redacted(), Snapshot: sum.Time.UTC(), Clusters: []string{}}
	for _, c := range sum.Current {
		det.Clusters = append(det.Clusters, c.Cluster)
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "scmon is ready: snapshot of %s, cluster(s) %s", det.Snapshot.Format(time.RFC3339), strings.Join(det.Clusters, ", "))
	// The headline of each cluster's longest window comes last in the
	// summary's order.
	last := map[string]apiv1.HeadlineFigure{}
	var order []string
	for _, h := range sum.Headline {
		if _, ok := last[h.Cluster]; !ok {
			order = append(order, h.Cluster)
		}
		last[h.Cluster] = h
	}
	for _, c := range order {
		h := last[c]
		fmt.Fprintf(&msg, "; %s %s %s utilization %.1f%%, AI share %.1f%%", c, h.Window, h.Basis, 100*h.Utilization, 100*h.AIShare)
	}
	for _, s := range sum.Sources {
		if !s.Up {
			det.Sources = append(det.Sources, s.Name)
			fmt.Fprintf(&msg, "; source %s is down: %s", s.Name, s.LastError)
		}
	}
	js, err := json.Marshal(det)
	if err != nil {
		return nil, fmt.Errorf("encode health details: %w", err)
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: msg.String(), JSONDetails: js}, nil
}
