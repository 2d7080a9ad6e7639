// Package plugin is scmon's Grafana data source: it answers Grafana's
// queries and health checks by asking a running `scmon serve` over its
// JSON API.
//
// What it adds to Prometheus: utilization and AI share for any past range
// and step, computed by scmon from its job store, so that a dashboard or
// an alert rule reaches back to history recorded before Prometheus
// scraped scmon; top-N tables of groups; job lists with the class scmon
// gave each run and the rules that decided it.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/httpclient"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/scmon/scmon/grafana-datasource/pkg/scmon"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// PluginID is the plugin's id, as in plugin.json.
const PluginID = "scmon-scmon-datasource"

// maxParallel bounds the queries of one request sent to scmon at once;
// scmon itself runs four figures or jobs queries at a time.
const maxParallel = 4

// The handlers Datasource serves, checked at compile time so that a
// missing method is a build error rather than "not implemented" from a
// running Grafana.
var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Datasource is one configured instance of the data source. Grafana's
// instance manager creates one per data source and settings version and
// disposes of it when the settings change.
type Datasource struct {
	settings    Settings
	settingsErr error
	client      *scmon.Client
	hc          *http.Client
	// transport is the connection pool under the SDK's middlewares,
	// closed when the instance is disposed of.
	transport *http.Transport
	log       log.Logger
	// now is the clock that cuts query ranges at the present.
	now func() time.Time
}

// NewDatasource is the instance factory given to datasource.Manage. It
// does not fail on bad settings: every query and the health check then
// answer with the settings error, which names the key to fix, in the
// place the user looks.
func NewDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	return newDatasource(s, backend.Logger, time.Now), nil
}

func newDatasource(s backend.DataSourceInstanceSettings, logger log.Logger, now func() time.Time) *Datasource {
	d := &Datasource{log: logger, now: now}
	d.settings, d.settingsErr = LoadSettings(s)
	if d.settingsErr != nil {
		logger.Warn("Invalid data source settings", "datasource", s.Name, "error", d.settingsErr)
		return d
	}
	opts := httpclient.Options{Timeouts: &httpclient.TimeoutOptions{}}
	*opts.Timeouts = httpclient.DefaultTimeoutOptions
	opts.Timeouts.Timeout = d.settings.Timeout
	if d.settings.BasicAuthUser != "" {
		opts.BasicAuth = &httpclient.BasicAuthOptions{User: d.settings.BasicAuthUser, Password: d.settings.BasicAuthPassword}
	}
	if st := d.settings; st.TLSSkipVerify || st.TLSServerName != "" || st.TLSCACert != "" || st.TLSClientCert != "" {
		opts.TLS = &httpclient.TLSOptions{
			InsecureSkipVerify: st.TLSSkipVerify,
			ServerName:         st.TLSServerName,
			CACertificate:      st.TLSCACert,
			ClientCertificate:  st.TLSClientCert,
			ClientKey:          st.TLSClientKey,
		}
	}
	opts.ConfigureTransport = func(_ httpclient.Options, t *http.Transport) { d.transport = t }
	hc, err := httpclient.New(opts)
	if err != nil {
		d.settingsErr = fmt.Errorf("HTTP client: %w", err)
		return d
	}
	d.hc = hc
	d.client = scmon.NewClient(d.settings.URL, hc)
	return d
}

// Dispose closes the idle connections of an instance whose settings
// changed: Grafana makes a new instance, and the old one's keep-alive
// connections to scmon would otherwise linger.
func (d *Datasource) Dispose() {
	if d.transport != nil {
		d.transport.CloseIdleConnections()
	}
}

// QueryData answers each query of req under its RefID, running up to
// maxParallel of them at once. A query's failure (bad JSON, an error of
// scmon, a timeout, Grafana's cancellation) is that query's error
// response, so one bad panel query never blanks the others; QueryData
// itself never fails.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, maxParallel)
	)
	for _, q := range req.Queries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := d.safeQuery(ctx, q)
			// Each frame repeats the RefID of its query, as Grafana's
			// protocol does on the way out.
			for _, f := range r.Frames {
				f.RefID = q.RefID
			}
			mu.Lock()
			resp.Responses[q.RefID] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return resp, nil
}

// safeQuery runs one query; a panic becomes that query's error rather
// than the end of the plugin process.
func (d *Datasource) safeQuery(ctx context.Context, q backend.DataQuery) (r backend.DataResponse) {
	defer func() {
		if p := recover(); p != nil {
			d.log.Error("Query panicked", "refId", q.RefID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			r = backend.ErrDataResponseWithSource(backend.StatusInternal, backend.ErrorSourcePlugin, fmt.Sprintf("internal error of the scmon plugin: %v", p))
		}
	}()
	return d.query(ctx, q)
}

func (d *Datasource) query(ctx context.Context, q backend.DataQuery) backend.DataResponse {
	if d.settingsErr != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, "data source settings: "+d.settingsErr.Error())
	}
	m, err := parseQuery(q.QueryType, q.JSON)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
	}
	if err := m.checkPrivacy(d.settings.AllowGroupByAccountUser); err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusForbidden, backend.ErrorSourceDownstream, err.Error())
	}
	switch m.QueryType {
	case QueryTypeJobs:
		return d.queryJobs(ctx, q, m)
	case QueryTypeTable:
		return d.queryTable(ctx, q, m)
	}
	return d.queryFigures(ctx, q, m)
}

// clip cuts the query's range at the present: scmon counts the capacity
// of a future period, which would read as idle; ok is false when nothing
// of the range is past.
func (d *Datasource) clip(tr backend.TimeRange) (from, to time.Time, ok bool) {
	from, to = tr.From.UTC().Truncate(time.Second), tr.To.UTC().Truncate(time.Second)
	if now := d.now().UTC().Truncate(time.Second); to.After(now) {
		to = now
	}
	return from, to, to.After(from)
}

// futureNotice is the answer to a range that lies wholly after now.
func futureNotice(t data.FrameType, v data.FrameTypeVersion) backend.DataResponse {
	f := data.NewFrame("").SetMeta(&data.FrameMeta{Type: t, TypeVersion: v})
	f.AppendNotices(data.Notice{Severity: data.NoticeSeverityInfo, Text: "the time range lies in the future: scmon has no figures for it yet"})
	return backend.DataResponse{Frames: data.Frames{f}}
}

func (d *Datasource) queryFigures(ctx context.Context, q backend.DataQuery, m queryModel) backend.DataResponse {
	from, to, ok := d.clip(q.TimeRange)
	if !ok {
		return futureNotice(data.FrameTypeTimeSeriesMulti, typeVersion)
	}
	every := m.Every
	switch every {
	case "auto":
		every = choosePeriod(to.Sub(from), q.Interval, q.MaxDataPoints)
	case "total":
		every = ""
	}
	m.GroupBy = withFilterKeys(m.GroupBy, m.filters())
	sq := apiv1.FiguresRequest{From: from, To: to, Every: every, By: m.GroupBy, Timezone: m.Timezone}
	rep, err := d.client.Figures(ctx, sq)
	if err != nil {
		return d.errorResponse(ctx, err)
	}
	keepMatching(rep, m.filters())
	frames, err := figuresFrames(rep, m, "GET "+d.client.URL(apiv1.PathFigures, sq.Values()))
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, err.Error())
	}
	return backend.DataResponse{Frames: frames}
}

func (d *Datasource) queryTable(ctx context.Context, q backend.DataQuery, m queryModel) backend.DataResponse {
	from, to, ok := d.clip(q.TimeRange)
	if !ok {
		return futureNotice(data.FrameTypeTable, data.FrameTypeVersion{})
	}
	m.GroupBy = withFilterKeys(m.GroupBy, m.filters())
	sq := apiv1.FiguresRequest{From: from, To: to, By: m.GroupBy, Timezone: m.Timezone}
	rep, err := d.client.Figures(ctx, sq)
	if err != nil {
		return d.errorResponse(ctx, err)
	}
	keepMatching(rep, m.filters())
	return backend.DataResponse{Frames: data.Frames{tableFrame(rep, m, "GET "+d.client.URL(apiv1.PathFigures, sq.Values()))}}
}

func (d *Datasource) queryJobs(ctx context.Context, q backend.DataQuery, m queryModel) backend.DataResponse {
	from, to, ok := d.clip(q.TimeRange)
	if !ok {
		return futureNotice(data.FrameTypeTable, data.FrameTypeVersion{})
	}
	sq := apiv1.JobsRequest{From: from, To: to, Clusters: m.Clusters, Partitions: m.Partitions, Accounts: m.Accounts,
		Users: m.Users, Classes: m.Classes, States: m.States, Limit: int(m.Limit)}
	page, err := d.client.Jobs(ctx, sq)
	if err != nil {
		return d.errorResponse(ctx, err)
	}
	return backend.DataResponse{Frames: data.Frames{jobsFrame(page, m, "GET "+d.client.URL(apiv1.PathJobs, sq.Values()))}}
}

// withFilterKeys returns the grouping keys followed by the keys of the
// filters that are not among them: scmon has no filters on figures, so a
// filtered figure is the figure of a group, and each filter's key becomes
// a label of the series. The plugin never adds groups' ratios together:
// every number shown is one scmon computed.
func withFilterKeys(by []string, fs []filter) []string {
	out := slices.Clone(by)
	for _, f := range fs {
		if !slices.Contains(out, f.key) {
			out = append(out, f.key)
		}
	}
	return out
}

// keepMatching drops the groups of rep whose value of a filter's key is
// none of the filter's values.
func keepMatching(rep *apiv1.Report, fs []filter) {
	if len(fs) == 0 {
		return
	}
	rep.Groups = slices.DeleteFunc(rep.Groups, func(g apiv1.Group) bool {
		for _, f := range fs {
			if !slices.Contains(f.values, g.Keys[f.key]) {
				return true
			}
		}
		return false
	})
}

// errorResponse maps an error of a request to scmon onto the status
// Grafana shows. All are downstream errors: scmon refused, failed or could
// not be reached, or the user's query asked for something scmon refuses.
func (d *Datasource) errorResponse(ctx context.Context, err error) backend.DataResponse {
	status, msg := d.classify(ctx, err)
	if status >= 500 {
		d.log.FromContext(ctx).Warn("scmon request failed", "error", err)
	}
	return backend.ErrDataResponseWithSource(status, backend.ErrorSourceDownstream, msg)
}

// classify returns the status and the message shown for an error of a
// request to scmon.
func (d *Datasource) classify(ctx context.Context, err error) (backend.Status, string) {
	var apiErr *scmon.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusBadRequest:
			return backend.StatusBadRequest, err.Error()
		case http.StatusUnauthorized:
			return backend.StatusUnauthorized, err.Error() + " (check basicAuthUser and the password of the data source)"
		case http.StatusForbidden:
			return backend.StatusForbidden, err.Error()
		case http.StatusNotFound:
			return backend.StatusNotFound, err.Error() + " (is " + d.settings.URL.Redacted() + " the address of `scmon serve`?)"
		case http.StatusTooManyRequests:
			return backend.StatusTooManyRequests, err.Error()
		}
		return backend.StatusBadGateway, err.Error()
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return backend.StatusTimeout, "query cancelled by Grafana: " + err.Error()
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return backend.StatusTimeout, "Grafana's deadline passed before scmon answered: " + err.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return backend.StatusTimeout, fmt.Sprintf("scmon did not answer within the data source's timeout of %s (narrow the range, use a longer step or raise jsonData.timeout): %v", d.settings.Timeout, err)
	case errors.Is(err, scmon.ErrNotScmon), errors.Is(err, scmon.ErrTooLarge):
		return backend.StatusBadGateway, err.Error()
	}
	return backend.StatusBadGateway, fmt.Sprintf("cannot reach scmon at %s: %v", d.settings.URL.Redacted(), err)
}
