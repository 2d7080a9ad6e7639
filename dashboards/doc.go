// Command dashboards generates scmon's Grafana dashboards and Prometheus
// rules from Go code, so that every query they hold can be checked against
// the metric names scmon's exporter emits (exporter.MetricNames) before a
// single panel is drawn.
//
// Run it from this directory (or through go generate):
//
//	go run .
//
// It writes grafana/*.json (the dashboards) and prometheus/*.yml (the
// recording and alerting rules). Both are committed; the tests regenerate
// them and fail when the committed files differ, so they cannot drift from
// this code. Alert thresholds are flags (go run . -help lists them), so a
// site regenerates its own rules instead of editing YAML by hand; see
// README.md.
//
// This is a module of its own so that the Grafana SDK and the Prometheus
// libraries the tests use stay out of the daemon's go.mod.
package main

//go:generate go run .
