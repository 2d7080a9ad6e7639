package main

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/scmon/scmon/internal/testutil"
)

// TestRulesParseWithPrometheus validates the committed rule files with
// Prometheus's own rule-file code (strict YAML, PromQL, templates, label
// and metric names in the legacy character set that every Prometheus
// accepts), without needing promtool.
func TestRulesParseWithPrometheus(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, f := range ruleFiles {
		groups, errs := rulefmt.ParseFile(filepath.FromSlash(f), false, model.LegacyValidation, promParser, logger)
		for _, err := range errs {
			t.Errorf("%s: %v", f, err)
		}
		if groups != nil && len(groups.Groups) == 0 {
			t.Errorf("%s: no groups", f)
		}
	}
}

// TestRuleMetricNames checks that every rule reads only metrics scmon
// emits or that the recording rules define, that a recording rule reads
// only emitted metrics or records made before it in its own group (so
// that a chain of rules always ends at scmon's metrics and never sees a
// value from a previous evaluation), and that closed labels are matched
// with values scmon emits.
func TestRuleMetricNames(t *testing.T) {
	em, rec := emitted(), recordedNames(t)
	allowed := closedLabelSets()
	rules := loadRules(t)
	for _, f := range ruleFiles {
		for _, g := range rules[f] {
			earlier := map[string]bool{}
			for _, r := range g.Rules {
				where := f + ": " + g.Name + ": " + r.Record + r.Alert
				sels, err := selectors(r.Expr)
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				for _, s := range sels {
					switch {
					case em[s.name]:
					case r.Record != "" && !earlier[s.name]:
						t.Errorf("%s reads %s: a recording rule may read only scmon's metrics and the records made before it in its group", where, s.name)
					case !rec[s.name]:
						t.Errorf("%s reads %s: neither emitted by scmon (exporter.MetricNames) nor recorded by the rules", where, s.name)
					}
					checkLabelValues(t, where, s, allowed)
				}
				if r.Record != "" {
					earlier[r.Record] = true
				}
			}
		}
	}
}

// TestAlertsAreDocumented checks that every alert has a severity, a
// summary and a description that names its thresholds and the flags that
// override them, and a README entry.
func TestAlertsAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range loadRules(t)[alertingRulesPath] {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("%s: recording rule %s among the alerts", g.Name, r.Record)
				continue
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", r.Alert)
			}
			d := r.Annotations["description"]
			if !strings.Contains(d, "Threshold") || !strings.Contains(d, " -") {
				t.Errorf("%s: the description does not name its thresholds and flags: %q", r.Alert, d)
			}
			if !strings.Contains(string(readme), r.Alert) {
				t.Errorf("%s: not in README.md", r.Alert)
			}
		}
	}
}

// TestEveryAlertHasFiringAndQuietCases reads the promtool test files and
// requires, for every alert of the rules, a case where it fires and a case
// where it does not.
func TestEveryAlertHasFiringAndQuietCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("prometheus", "tests", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool test files: %v", err)
	}
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string           `yaml:"alertname"`
					ExpAlerts []map[string]any `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range doc.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	var alerts []string
	for _, g := range loadRules(t)[alertingRulesPath] {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if !firing[r.Alert] {
				t.Errorf("%s: no promtool case where it fires", r.Alert)
			}
			if !quiet[r.Alert] {
				t.Errorf("%s: no promtool case where it stays quiet", r.Alert)
			}
		}
	}
	for name := range firing {
		if !slices.Contains(alerts, name) {
			t.Errorf("the promtool tests name %s, which is not an alert of the rules", name)
		}
	}
}

// promtool runs promtool with args in dir and fails the test on an error.
func promtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(testutil.RequireTool(t, "promtool"), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPromtoolCheckRules runs promtool check rules (with its linter) on the
// committed rule files.
func TestPromtoolCheckRules(t *testing.T) {
	out := promtool(t, ".", append([]string{"check", "rules"}, ruleFiles...)...)
	if strings.Count(out, "SUCCESS") != len(ruleFiles) {
		t.Errorf("promtool check rules:\n%s", out)
	}
}

// TestPromtoolTestRules runs the promtool unit tests of every alert and of
// the recording rules' figures, one file per parallel subtest (promtool
// runs the files of one call in turn).
func TestPromtoolTestRules(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("prometheus", "tests", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool test files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			if out := promtool(t, ".", "test", "rules", f); !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool test rules %s:\n%s", f, out)
			}
		})
	}
}

// TestPromtoolChecksOverriddenRules generates the rules with every
// threshold changed and checks them with promtool: an override cannot
// produce a rule file Prometheus refuses.
func TestPromtoolChecksOverriddenRules(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-out", dir,
		"-idle-accelerators", "4", "-idle-cores", "1000", "-idle-for", "1h30m",
		"-cpu-utilization-target", "0.9", "-accelerator-utilization-target", "0.85", "-low-utilization-for", "3h",
		"-source-down-for", "2m", "-poll-stalled-after", "1h", "-no-new-records-after", "12h",
		"-unknown-share-rise", "0.1", "-unknown-share-max", "0.5", "-unknown-share-for", "6h",
		"-lag-max", "2h", "-lag-for", "1h", "-snapshot-stale-after", "30m",
		"-clock-ahead-max", "10s", "-clock-ahead-for", "1m", "-config-reload-failed-for", "0s",
	}
	var stderr strings.Builder
	if code := run(args, &stderr); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr.String())
	}
	alerts, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(alertingRulesPath)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">= 4\n", ">= 1000\n", "for: 1h30m", "< 0.9\n", "< 0.85\n", "for: 3h", "> 3600\n", "> 43200)", "> 0.1\n", "> 0.5\n", "> 7200\n", "> 1800\n", "> 10\n"} {
		if !strings.Contains(string(alerts), want) {
			t.Errorf("overridden alerts lack %q", want)
		}
	}
	out := promtool(t, dir, append([]string{"check", "rules"}, ruleFiles...)...)
	if strings.Count(out, "SUCCESS") != len(ruleFiles) {
		t.Errorf("promtool check rules:\n%s", out)
	}
}
