package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/snapshot"
)

// Panel types and the options each must set explicitly. Stat and table
// panels have neither a legend nor a tooltip in Grafana's schema; a bar
// gauge has a legend only.
var panelOptions = map[string]struct{ legend, tooltip, instant bool }{
	"timeseries":     {legend: true, tooltip: true},
	"state-timeline": {legend: true, tooltip: true},
	"bargauge":       {legend: true, instant: true},
	"stat":           {instant: true},
	"table":          {instant: true},
}

// TestDashboardStructure checks what Grafana and a reader need from every
// dashboard: a uid, the datasource variable, and on every panel an id
// (unique in the dashboard), a title, a description, a unit, the
// datasource variable as data source, legend and tooltip options where
// the panel type has them, and a place on the grid.
func TestDashboardStructure(t *testing.T) {
	uids := map[string]string{}
	for path, d := range loadDashboards(t) {
		t.Run(path, func(t *testing.T) {
			if d.UID == "" || d.Title == "" || d.Description == "" {
				t.Errorf("uid %q, title %q, description %q: all are required", d.UID, d.Title, d.Description)
			}
			if other, ok := uids[d.UID]; ok {
				t.Errorf("uid %q also used by %s", d.UID, other)
			}
			uids[d.UID] = path
			if d.SchemaVersion < 39 {
				t.Errorf("schemaVersion %d: want a Grafana 11+ schema", d.SchemaVersion)
			}
			checkVariables(t, d)

			ids := map[int]string{}
			var walk func(ps []panelJSON)
			walk = func(ps []panelJSON) {
				for _, p := range ps {
					if p.ID == nil || *p.ID <= 0 {
						t.Errorf("panel %q has no id", p.Title)
					} else if other, ok := ids[*p.ID]; ok {
						t.Errorf("panel %q has id %d, as %q does", p.Title, *p.ID, other)
					} else {
						ids[*p.ID] = p.Title
					}
					if p.Type == "row" {
						if len(p.Panels) > 0 {
							t.Errorf("row %q holds panels: an expanded row's panels follow it", p.Title)
						}
						walk(p.Panels)
						continue
					}
					checkPanel(t, p)
				}
			}
			walk(d.Panels)
			if len(ids) < 5 {
				t.Errorf("%d panels: too few for a dashboard", len(ids))
			}
		})
	}
}

// checkVariables checks the datasource variable and the label variables.
func checkVariables(t *testing.T, d dashJSON) {
	t.Helper()
	names := map[string]varJSON{}
	for _, v := range d.Templating.List {
		names[v.Name] = v
	}
	ds, ok := names[datasourceVar]
	if !ok || ds.Type != "datasource" || ds.Query != datasourceType {
		t.Errorf("want a datasource variable %q of type %q, got %+v", datasourceVar, datasourceType, ds)
	}
	want := []string{"cluster", "partition"}
	if d.UID == "scmon-collector-health" {
		want = []string{"instance", "source"}
	}
	em := emitted()
	for _, name := range want {
		v, ok := names[name]
		if !ok {
			t.Errorf("no %q variable", name)
			continue
		}
		if v.Type != "query" || !v.Multi || !v.IncludeAll || v.AllValue != ".*" {
			t.Errorf("variable %q: want a multi-value query variable with All = .*, got %+v", name, v)
		}
		if v.Datasource == nil || v.Datasource.UID != "${"+datasourceVar+"}" {
			t.Errorf("variable %q does not query the datasource variable: %+v", name, v.Datasource)
		}
		m := regexp.MustCompile(`^label_values\((.+), (\w+)\)$`).FindStringSubmatch(v.Definition)
		if m == nil || v.Query != v.Definition {
			t.Errorf("variable %q: query %v, definition %q: want label_values(<selector>, <label>)", name, v.Query, v.Definition)
			continue
		}
		sel, err := substitute(m[1], staticVars)
		if err != nil {
			t.Errorf("variable %q: %v", name, err)
			continue
		}
		metrics, err := metricNames(sel)
		if err != nil {
			t.Errorf("variable %q: %v", name, err)
		}
		for _, n := range metrics {
			if !em[n] {
				t.Errorf("variable %q reads %s, which scmon does not emit", name, n)
			}
		}
	}
}

// checkPanel checks one panel that is not a row.
func checkPanel(t *testing.T, p panelJSON) {
	t.Helper()
	where := fmt.Sprintf("panel %q", p.Title)
	if p.Title == "" {
		t.Errorf("panel %d has no title", *p.ID)
	}
	if len(p.Description) < 40 {
		t.Errorf("%s: description %q is missing or too short to explain the panel", where, p.Description)
	}
	if p.FieldConfig.Defaults.Unit == "" {
		t.Errorf("%s has no unit", where)
	}
	if !isPromDS(p.Datasource) {
		t.Errorf("%s: data source %+v, want the %s variable", where, p.Datasource, datasourceVar)
	}
	if p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
		t.Errorf("%s: grid position %+v does not fit the 24-column grid", where, p.GridPos)
	}
	opts, known := panelOptions[p.Type]
	if !known {
		t.Errorf("%s: panel type %q is not one this test knows the options of", where, p.Type)
	}
	if opts.legend {
		l, _ := p.Options["legend"].(map[string]any)
		if _, ok := l["showLegend"].(bool); !ok || l["displayMode"] == nil || l["placement"] == nil {
			t.Errorf("%s: legend options not set explicitly: %v", where, p.Options["legend"])
		}
	}
	if opts.tooltip {
		tt, _ := p.Options["tooltip"].(map[string]any)
		if tt["mode"] == nil || tt["sort"] == nil {
			t.Errorf("%s: tooltip options not set explicitly: %v", where, p.Options["tooltip"])
		}
	}
	if len(p.Targets) == 0 {
		t.Errorf("%s has no query", where)
	}
	refs := map[string]bool{}
	for _, tg := range p.Targets {
		w := where + "/" + tg.RefID
		if tg.RefID == "" || refs[tg.RefID] {
			t.Errorf("%s: refId missing or repeated", w)
		}
		refs[tg.RefID] = true
		if !isPromDS(tg.Datasource) {
			t.Errorf("%s: data source %+v, want the %s variable", w, tg.Datasource, datasourceVar)
		}
		if tg.Instant == tg.Range {
			t.Errorf("%s: instant %v and range %v: want exactly one", w, tg.Instant, tg.Range)
		}
		if tg.Instant != opts.instant {
			t.Errorf("%s: instant %v: a %s panel wants instant %v", w, tg.Instant, p.Type, opts.instant)
		}
		if tg.LegendFormat == "" {
			t.Errorf("%s has no legend format", w)
		}
	}
}

// isPromDS reports whether ref is the dashboard's datasource variable.
func isPromDS(ref *dsJSON) bool {
	return ref != nil && ref.Type == datasourceType && ref.UID == "${"+datasourceVar+"}"
}

// varUse matches a variable used as a label matcher's value.
var varUse = regexp.MustCompile(`\w+=~"\$(\w+)"`)

// rangeUse matches the range of a range vector selector.
var rangeUse = regexp.MustCompile(`\[([^\]]*)\]`)

// TestDashboardQueries parses every query (with Grafana's variables
// replaced) with Prometheus's own PromQL parser and checks that each reads
// only metrics scmon emits or the recording rules define, matches
// scmon's closed label sets with values in them, uses the label variables
// as =~ matchers (they are multi-valued), and takes rate windows from
// Grafana ($__rate_interval, or $__range for "the selected time range").
func TestDashboardQueries(t *testing.T) {
	em, rec := emitted(), recordedNames(t)
	allowed := closedLabelSets()
	qs := allQueries(t)
	for _, q := range qs {
		raw := q.target.Expr
		if got, want := len(varUse.FindAllString(raw, -1)), strings.Count(raw, "$")-strings.Count(raw, "$__"); got != want {
			t.Errorf("%s: a label variable is used other than as label=~\"$var\": %s", q.where, raw)
		}
		for _, m := range rangeUse.FindAllStringSubmatch(raw, -1) {
			if m[1] != rateWindow && m[1] != rangeWindow {
				t.Errorf("%s: range [%s]: want [%s] or [%s]", q.where, m[1], rateWindow, rangeWindow)
			}
		}
		if strings.Contains(raw, "rate(") && strings.Contains(raw, " / ") && q.panel.Interval == "" {
			t.Errorf("%s: a ratio of rates needs the panel's minimum interval, or it falls to 0/0 between polls", q.where)
		}
		if strings.Contains(raw, "account") != strings.Contains(q.panel.Description, "account_label") {
			t.Errorf("%s: a query on the account label must say in its description that it needs metrics.account_label", q.where)
		}
		expr, err := substitute(raw, staticVars)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		sels, err := selectors(expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, expr)
			continue
		}
		for _, s := range sels {
			if !em[s.name] && !rec[s.name] {
				t.Errorf("%s reads %s: neither emitted by scmon (exporter.MetricNames) nor recorded by the rules", q.where, s.name)
			}
			checkLabelValues(t, q.where, s, allowed)
		}
	}
	if len(qs) < 40 {
		t.Errorf("%d queries: fewer than expected", len(qs))
	}
}

// closedLabelSets returns the values scmon emits for its closed labels.
func closedLabelSets() map[string][]string {
	var classes []string
	for _, c := range classify.Classes {
		classes = append(classes, c.String())
	}
	return map[string][]string{
		"class":    classes,
		"state":    snapshot.States,
		"resource": snapshot.Resources,
	}
}

// checkLabelValues checks that a selector matches a closed label with
// values scmon emits: an equality with one of them, or a regular
// expression that lists some of them.
func checkLabelValues(t *testing.T, where string, s selectorInfo, allowed map[string][]string) {
	t.Helper()
	for _, m := range s.matchers {
		set, ok := allowed[m.Name]
		if !ok {
			continue
		}
		var values []string
		switch m.Type {
		case labels.MatchEqual:
			values = []string{m.Value}
		case labels.MatchRegexp:
			values = strings.Split(m.Value, "|")
		default:
			continue
		}
		for _, v := range values {
			if !slices.Contains(set, v) {
				t.Errorf("%s: %s matches %s=%q, not a value scmon emits (%v)", where, s.name, m.Name, v, set)
			}
		}
	}
}

// TestGeneratorHelpers pins the small helpers the dashboards are made of.
func TestGeneratorHelpers(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{sel("m"), "m"},
		{sel("m", `a="1"`, `b=~"x"`), `m{a="1", b=~"x"}`},
		{sumBy("", "x"), "sum(x)"},
		{sumBy("a, b", "x"), "sum by (a, b) (x)"},
		{rateRatio("c", "n", "d"), "sum by (c) (rate(n[$__rate_interval])) / sum by (c) (rate(d[$__rate_interval]))"},
		{rangeRatio("", "n", "d"), "sum(increase(n[$__range])) / sum(increase(d[$__range]))"},
		{titleCase("cpu"), "CPU"},
		{titleCase("accelerator"), "Accelerator"},
		{points(0.07), "7"},
		{pct(0.125), "12.5%"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if _, err := substitute("x[$__nope]", staticVars); err == nil {
		t.Error("an unknown variable was accepted")
	}
	for expr, want := range map[string]string{
		"a > 5":                           "a",
		"(time() - b > 900) and b > 0":    "(time() - b) and b",
		"a >= 8 and on (c) (d > 0)":       "a and on (c) (d)",
		"a > bool 5":                      "a > bool 5",
		"a - timestamp(a) > 60":           "a - timestamp(a)",
		"x{r=\"cpu\"} < 0.7 or y < 0.6":   `x{r="cpu"} or y`,
		"(a - b) > 0.05 or a > 0.25":      "(a - b) or a",
		"sum by (c) (a) unless on (c) b":  "sum by (c) (a) unless on (c) b",
		"a == 0":                          "a",
		"0 < a":                           "a",
		"sum by (c) (x{s=\"idle\"}) >= 8": `sum by (c) (x{s="idle"})`,
	} {
		got, err := withoutThresholds(expr)
		if err != nil || got != want {
			t.Errorf("withoutThresholds(%q) = %q, %v; want %q", expr, got, err, want)
		}
	}
}
