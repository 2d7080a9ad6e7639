package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// DefaultListRange is how far back a value list looks when the request
// names no range: the values of the last 30 days are those a dashboard
// of the present offers.
const DefaultListRange = 30 * 24 * time.Hour

// resourceLists maps the resource paths the editors and dashboard
// variables ask for to scmon's grouping keys. classes is answered
// without asking scmon: the classes are scmon's fixed four.
var resourceLists = map[string]string{
	"clusters":   "cluster",
	"partitions": "partition",
	"accounts":   "account",
	"users":      "user",
	"kinds":      "kind",
	"models":     "model",
	"classes":    "class",
}

// ValueList is the answer of a resource request: the sorted distinct
// values of one grouping key over the range.
type ValueList struct {
	Values []string `json:"values"`
}

// resourceError is the body of a refused resource request; Grafana's
// fetch shows its message.
type resourceError struct {
	Message string `json:"message"`
}

// CallResource answers the editors' pickers and the dashboard variables:
// GET <list>?from=...&to=... with list one of clusters, partitions,
// accounts, users, kinds, models, classes, and from and to RFC 3339 or
// milliseconds since the epoch (default: the last 30 days). The values
// are those of scmon's groups over the range, so a picker offers what the
// range holds. Accounts and users are refused unless the settings allow
// grouping by them.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	status, body := d.resource(ctx, req)
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode resource answer: %w", err)
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  status,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    b,
	})
}

func (d *Datasource) resource(ctx context.Context, req *backend.CallResourceRequest) (int, any) {
	if req.Method != "" && req.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, resourceError{"only GET"}
	}
	name := strings.Trim(req.Path, "/")
	key, ok := resourceLists[name]
	if !ok {
		names := make([]string, 0, len(resourceLists))
		for n := range resourceLists {
			names = append(names, n)
		}
		slices.Sort(names)
		return http.StatusNotFound, resourceError{fmt.Sprintf("no resource %q: want one of %s", name, strings.Join(names, ", "))}
	}
	if d.settingsErr != nil {
		return http.StatusBadRequest, resourceError{"data source settings: " + d.settingsErr.Error()}
	}
	if slices.Contains(privateKeys, key) && !d.settings.AllowGroupByAccountUser {
		return http.StatusForbidden, resourceError{"listing " + name + " is off in this data source's settings (switch on \"Allow grouping by account and user\")"}
	}
	if key == "class" {
		return http.StatusOK, ValueList{Values: slices.Clone(knownClasses)}
	}
	from, to, err := d.listRange(req.URL)
	if err != nil {
		return http.StatusBadRequest, resourceError{err.Error()}
	}
	rep, err := d.client.Figures(ctx, apiv1.FiguresRequest{From: from, To: to, By: []string{key}})
	if err != nil {
		status, msg := d.classify(ctx, err)
		return int(status), resourceError{msg}
	}
	vals := make([]string, 0, len(rep.Groups))
	for _, g := range rep.Groups {
		if v := g.Keys[key]; v != "" {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return http.StatusOK, ValueList{Values: slices.Compact(vals)}
}

// listRange reads the from and to parameters of a resource request's URL,
// cut at now; the default is the last DefaultListRange.
func (d *Datasource) listRange(raw string) (from, to time.Time, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return from, to, fmt.Errorf("resource URL %q: %w", raw, err)
	}
	q := u.Query()
	now := d.now().UTC().Truncate(time.Second)
	to, from = now, now.Add(-DefaultListRange)
	if s := q.Get("to"); s != "" {
		if to, err = parseInstant("to", s); err != nil {
			return from, to, err
		}
		if s := q.Get("from"); s == "" {
			from = to.Add(-DefaultListRange)
		}
	}
	if s := q.Get("from"); s != "" {
		if from, err = parseInstant("from", s); err != nil {
			return from, to, err
		}
	}
	if to.After(now) {
		to = now
	}
	if !to.After(from) {
		return from, to, fmt.Errorf("to (%s) is not after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	return from, to, nil
}

// parseInstant reads RFC 3339 or milliseconds since the epoch.
func parseInstant(name, s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%s %q: want RFC 3339 or milliseconds since the epoch", name, s)
	}
	return t.UTC().Truncate(time.Second), nil
}
