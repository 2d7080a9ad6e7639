package collector

import (
	"fmt"
	"time"

	"github.com/scmon/scmon/job"
)

// Reasons a line is skipped: the closed set of the reason label of
// skipped-record counters, defined in package job (see job.SkipReasons).
const (
	ReasonFieldCount  = job.ReasonFieldCount
	ReasonTime        = job.ReasonTime
	ReasonNumber      = job.ReasonNumber
	ReasonTRES        = job.ReasonTRES
	ReasonID          = job.ReasonID
	ReasonRecord      = job.ReasonRecord
	ReasonOrder       = job.ReasonOrder
	ReasonLineTooLong = job.ReasonLineTooLong
	ReasonRange       = job.ReasonRange
)

// Reasons lists every skip reason, for metrics that must emit zeros; it is
// job.SkipReasons.
var Reasons = job.SkipReasons

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
