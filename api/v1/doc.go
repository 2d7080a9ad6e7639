// Package v1 defines the JSON of scmon's HTTP API under /api/v1: the
// parameters each endpoint accepts and the documents it answers. It is the
// contract between `scmon serve` and its clients (the Grafana data source,
// scripts, the end-to-end tests), so it builds with the standard library
// alone: a client imports it without the daemon's dependencies.
//
// The endpoints, all GET (HEAD too):
//
//	/api/v1/summary      Summary: the present, from the last published snapshot
//	/api/v1/figures      Report: figures of [from, to), by period and group (FiguresRequest)
//	/api/v1/jobs         JobsPage: stored runs with their class (JobsRequest)
//	/api/v1/rules/hits   RuleHits: how many stored records each classifier rule fired on
//
// Any other answer than 200 carries an Error. Times are RFC 3339; ratios
// are in 0..1; hours are resource-hours (core-hours, accelerator-hours,
// billing-hours).
//
// Compatibility: within v1 fields are only added, never renamed, removed or
// given another meaning; a client must ignore fields it does not know. The
// wire format of every type is pinned by golden files under testdata.
package v1
