// Package seeds holds scmon's built-in sample center: an inventory of a
// national supercomputing center and 30 days of its Slurm job log, embedded
// in the binary so that `scmon report` with no arguments shows what the tool
// does on a realistic machine, and so that tests and newcomers share one
// well-known data set.
//
// The log is not recorded from a real center: seeds/internal/gen simulates
// the center's scheduler (run `go run ./seeds/gen` to rebuild
// sample.sacct.gz). It is calibrated so that the headline utilization, in
// billing units, is 65.9% of capacity, with an AI share of the allocated
// billing units between 15% and 20%, the figures a national center reported.
package seeds

import (
	_ "embed"
	"time"
)

// ClusterName is the name of the sample cluster, as the log and the
// inventory spell it.
const ClusterName = "sample"

// TimeZone is the zone of the sample center: the log's timestamps are wall
// clock times in it.
const TimeZone = "Asia/Shanghai"

//go:embed inventory.yaml
var inventory []byte

//go:embed sample.sacct.gz
var sacctLog []byte

// Inventory returns the sample center's inventory (YAML, the "inventory"
// capacity format). The caller must not modify the returned slice.
func Inventory() []byte { return inventory }

// SacctLog returns the sample center's job log: gzip-compressed
// `sacct --allusers --parsable2 --duplicates` output with a header line,
// steps included, dumped at the end of the window. The caller must not
// modify the returned slice.
func SacctLog() []byte { return sacctLog }

// Location returns the sample center's time zone. China has kept one
// offset without daylight saving time since 1991, so a fixed UTC+8 zone
// stands in when the system has no time zone database.
func Location() *time.Location {
	if loc, err := time.LoadLocation(TimeZone); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60)
}

// Window returns the 30 days the log covers: from 2026-10-01T00:00:00 to
// 2026-10-31T00:00:00 in the center's zone, end excluded. The log holds every
// allocation that overlaps it, including jobs that started before it, and
// was dumped at its end, so jobs still running then have no end time.
func Window() (from, to time.Time) {
	loc := Location()
	return time.Date(2026, 10, 1, 0, 0, 0, 0, loc), time.Date(2026, 10, 31, 0, 0, 0, 0, loc)
}
