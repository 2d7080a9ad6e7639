package collector

import (
	"fmt"
	"time"
)

// Reasons a line is skipped. They form the closed set of the reason label
// of skipped-record counters, so keep them few and stable.
const (
	ReasonFieldCount = "field_count" // wrong number of fields
	ReasonTime       = "bad_time"    // a timestamp or duration does not parse
	ReasonNumber     = "bad_number"  // a count does not parse
	ReasonTRES       = "bad_tres"    // a TRES or resource list does not parse
	ReasonID         = "bad_id"      // the job id is missing or malformed
	ReasonRecord     = "bad_record"  // the line is not a record of the format
	ReasonOrder      = "bad_order"   // times out of order (end before start)
	// ReasonLineTooLong: a line (or a record joined from several lines)
	// longer than Options.MaxLine; it is skipped without being held.
	ReasonLineTooLong = "line_too_long"
	// ReasonRange: a count, a product of counts or a duration that parses
	// but is out of range (above job.MaxCount, or a time that cannot be
	// represented), which would otherwise wrap into a wrong figure.
	ReasonRange = "out_of_range"
)

// Reasons lists every skip reason, for metrics that must emit zeros.
var Reasons = []string{ReasonFieldCount, ReasonTime, ReasonNumber, ReasonTRES, ReasonID, ReasonRecord, ReasonOrder, ReasonLineTooLong, ReasonRange}

// LineError reports one skipped input line: where it is, which field was
// wrong and why. It never stops a reader.
type LineError struct {
	File   string
	Line   int
	Field  string
	Reason string
	Err    error
}

func (e *LineError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d: field %s: %v", e.File, e.Line, e.Field, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the underlying cause.
func (e *LineError) Unwrap() error { return e.Err }

// CapacityHint is what an input says about the machine it came from (the
// SWF header's MaxProcs and MaxNodes), used when no inventory is given.
type CapacityHint struct {
	Cores    int64
	Nodes    int64
	Start    time.Time
	Location *time.Location
	// Source says where the figures came from, for the report.
	Source string
}

type capacityHinter interface {
	Capacity() *CapacityHint
}

// Noter is implemented by readers that fix or ignore something without
// skipping a line (a repaired encoding, a step with no allocation, a
// daylight-saving fold). Notes maps a short snake_case name to a count.
type Noter interface {
	Notes() map[string]int
}
