package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/scmon/scmon/exporter"
)

// dashJSON is the part of a Grafana dashboard the tests read. It is
// decoded with encoding/json: the SDK's own strict decoder is broken in
// v0.0.22 (DOMAIN.md 8), and the tests should see the JSON Grafana sees.
type dashJSON struct {
	UID           string      `json:"uid"`
	Title         string      `json:"title"`
	Description   string      `json:"description"`
	SchemaVersion int         `json:"schemaVersion"`
	Panels        []panelJSON `json:"panels"`
	Templating    struct {
		List []varJSON `json:"list"`
	} `json:"templating"`
}

// panelJSON is a panel or a row.
type panelJSON struct {
	Type        string          `json:"type"`
	ID          *int            `json:"id"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *dsJSON         `json:"datasource"`
	Interval    string          `json:"interval"`
	GridPos     *gridJSON       `json:"gridPos"`
	Targets     []targetJSON    `json:"targets"`
	Options     map[string]any  `json:"options"`
	FieldConfig fieldConfigJSON `json:"fieldConfig"`
	Panels      []panelJSON     `json:"panels"`
}

type dsJSON struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gridJSON struct {
	H, W, X, Y int
}

type targetJSON struct {
	RefID        string  `json:"refId"`
	Expr         string  `json:"expr"`
	LegendFormat string  `json:"legendFormat"`
	Instant      bool    `json:"instant"`
	Range        bool    `json:"range"`
	Format       string  `json:"format"`
	Datasource   *dsJSON `json:"datasource"`
}

type fieldConfigJSON struct {
	Defaults struct {
		Unit string `json:"unit"`
	} `json:"defaults"`
}

type varJSON struct {
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	Query      any     `json:"query"`
	Definition string  `json:"definition"`
	Datasource *dsJSON `json:"datasource"`
	Multi      bool    `json:"multi"`
	IncludeAll bool    `json:"includeAll"`
	AllValue   string  `json:"allValue"`
}

// loadDashboards reads the committed dashboards, by file name.
func loadDashboards(t *testing.T) map[string]dashJSON {
	t.Helper()
	out := map[string]dashJSON{}
	for _, d := range dashboardFiles {
		b, err := os.ReadFile(filepath.FromSlash(d.path))
		if err != nil {
			t.Fatal(err)
		}
		var dj dashJSON
		if err := json.Unmarshal(b, &dj); err != nil {
			t.Fatalf("%s: %v", d.path, err)
		}
		out[d.path] = dj
	}
	if len(out) == 0 {
		t.Fatal("no dashboards")
	}
	return out
}

// dashQuery is one target of one panel, located for messages.
type dashQuery struct {
	where  string // file: panel title / refId
	panel  panelJSON
	target targetJSON
}

// allQueries returns every target of every panel of the dashboards, in
// file and panel order.
func allQueries(t *testing.T) []dashQuery {
	t.Helper()
	dashes := loadDashboards(t)
	var out []dashQuery
	for _, d := range dashboardFiles {
		for _, p := range dashes[d.path].Panels {
			for _, tg := range p.Targets {
				out = append(out, dashQuery{
					where:  fmt.Sprintf("%s: %q/%s", d.path, p.Title, tg.RefID),
					panel:  p,
					target: tg,
				})
			}
		}
	}
	return out
}

// ruleYAML is a rule of a committed rule file, read back independently of
// the generator's own types.
type ruleYAML struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type groupYAML struct {
	Name     string     `yaml:"name"`
	Interval string     `yaml:"interval"`
	Rules    []ruleYAML `yaml:"rules"`
}

// ruleFiles are the committed rule files, in load order.
var ruleFiles = []string{recordingRulesPath, alertingRulesPath}

// loadRules reads the committed rule files' groups, by file.
func loadRules(t *testing.T) map[string][]groupYAML {
	t.Helper()
	out := map[string][]groupYAML{}
	for _, f := range ruleFiles {
		b, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []groupYAML `yaml:"groups"`
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = doc.Groups
	}
	return out
}

// recordedNames returns the names the recording rules define.
func recordedNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, groups := range loadRules(t) {
		for _, g := range groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					names[r.Record] = true
				}
			}
		}
	}
	return names
}

// emitted returns exporter.MetricNames as a set.
func emitted() map[string]bool {
	out := map[string]bool{}
	for _, n := range exporter.MetricNames() {
		out[n] = true
	}
	return out
}

// promParser parses PromQL with the default options: what a stock
// Prometheus accepts.
var promParser = parser.NewParser(parser.Options{})

// grafanaVar matches Grafana's variable syntaxes $name and ${name}.
var grafanaVar = regexp.MustCompile(`\$\{?(\w+)\}?`)

// substitute replaces Grafana's variables in a dashboard query with
// values PromQL accepts. vars maps a variable name to its value; a
// variable it does not name is an error, so a misspelt variable fails.
func substitute(expr string, vars map[string]string) (string, error) {
	var missing []string
	out := grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		name := grafanaVar.FindStringSubmatch(m)[1]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown variables %v", missing)
	}
	return out, nil
}

// staticVars are the substitutions of the static checks: any valid value
// will do, since nothing is executed.
var staticVars = map[string]string{
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__range":         "1d",
	"cluster":         ".*",
	"partition":       ".*",
	"instance":        ".*",
	"source":          ".*",
}

// selectorInfo is a vector selector found in an expression.
type selectorInfo struct {
	name     string
	matchers []*labels.Matcher
}

// selectors parses expr and returns its vector selectors. A selector
// without a literal metric name is an error: names must be checkable.
func selectors(expr string) ([]selectorInfo, error) {
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var out []selectorInfo
	var bad error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
		}
		if name == "" && bad == nil {
			bad = fmt.Errorf("selector %s has no literal metric name", vs)
		}
		out = append(out, selectorInfo{name: name, matchers: vs.LabelMatchers})
		return nil
	})
	return out, bad
}

// metricNames parses expr and returns the metric names it reads, sorted
// and without duplicates.
func metricNames(expr string) ([]string, error) {
	sels, err := selectors(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range sels {
		names = append(names, s.name)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// withoutThresholds returns expr with every comparison against a number
// removed (x > 900 becomes x), keeping everything else: the set
// operators, the joins, the aggregations. An alert's expression is empty
// while it does not fire; the expression without its thresholds returns
// data exactly when every metric it reads exists and every join in it
// matches, which is what the end-to-end test can demand of it.
func withoutThresholds(expr string) (string, error) {
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		return "", err
	}
	return strip(e).String(), nil
}

// strip removes number comparisons below e.
func strip(e parser.Expr) parser.Expr {
	switch n := e.(type) {
	case *parser.ParenExpr:
		n.Expr = strip(n.Expr)
		return n
	case *parser.BinaryExpr:
		n.LHS, n.RHS = strip(n.LHS), strip(n.RHS)
		if n.Op.IsComparisonOperator() && !n.ReturnBool {
			if isNumber(n.RHS) {
				return n.LHS
			}
			if isNumber(n.LHS) {
				return n.RHS
			}
		}
		return n
	}
	return e
}

// isNumber reports whether e is a number literal, possibly parenthesized.
func isNumber(e parser.Expr) bool {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return true
	case *parser.ParenExpr:
		return isNumber(n.Expr)
	}
	return false
}
