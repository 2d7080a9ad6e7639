package main

import (
	"fmt"
	"strings"

	"github.com/scmon/scmon/ingest"
)

// xdmodFields is the field order of the sacct dumps Open XDMoD's shredder
// reads, written without a header: the commonest headerless dump.
var xdmodFields = []string{"jobid", "jobidraw", "cluster", "partition", "qos", "account", "group", "gid", "user", "uid",
	"submit", "eligible", "start", "end", "elapsed", "exitcode", "state", "nnodes", "ncpus", "reqcpus", "reqmem",
	"reqtres", "alloctres", "timelimit", "nodelist", "jobname"}

// unreadable returns an error for the first sacct input of which no line
// could be read while no field list was given: almost always a dump
// without a header line in another field order, which only --sacct-fields
// can describe. Nil when every input gave records.
func unreadable(stats []*ingest.Stats, fieldsGiven bool) error {
	if fieldsGiven {
		return nil
	}
	for _, st := range stats {
		if st.Input.Format != "slurm-sacct" || st.Records > 0 || st.SkippedTotal() == 0 {
			continue
		}
		return fmt.Errorf("%s: none of its %d lines could be read with the default field list; "+
			"if the dump has no header line, name its fields in order with --sacct-fields "+
			"(for Open XDMoD's 26-field dumps: --sacct-fields %s)",
			st.Input, st.SkippedTotal(), strings.Join(xdmodFields, ","))
	}
	return nil
}
