// Package layout holds no code, only the tests that keep scmon's package
// graph in shape: the packages that count (the accounting engine, the job
// store, the exporter) must not pull in the rules engine or the
// configuration loader, and the JSON API's types must build with the
// standard library alone, so that the Grafana data source can import them
// without the daemon's dependencies.
package layout
