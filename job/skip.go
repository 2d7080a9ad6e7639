package job

// Reasons a reader skips an input line. They form the closed set of the
// reason label of skipped-record counters, so keep them few and stable.
// They live beside the record, rather than with the readers, so that the
// exporter can emit a zero for every reason without importing the readers
// and their configuration decoding.
const (
	ReasonFieldCount = "field_count" // wrong number of fields
	ReasonTime       = "bad_time"    // a timestamp or duration does not parse
	ReasonNumber     = "bad_number"  // a count does not parse
	ReasonTRES       = "bad_tres"    // a TRES or resource list does not parse
	ReasonID         = "bad_id"      // the job id is missing or malformed
	ReasonRecord     = "bad_record"  // the line is not a record of the format
	ReasonOrder      = "bad_order"   // times out of order (end before start)
	// ReasonLineTooLong: a line (or a record joined from several lines)
	// longer than the reader's line bound; it is skipped without being
	// held.
	ReasonLineTooLong = "line_too_long"
	// ReasonRange: a count, a product of counts or a duration that parses
	// but is out of range (above MaxCount, or a time that cannot be
	// represented), which would otherwise wrap into a wrong figure.
	ReasonRange = "out_of_range"
)

// SkipReasons lists every skip reason, for metrics that must emit zeros.
var SkipReasons = []string{ReasonFieldCount, ReasonTime, ReasonNumber, ReasonTRES, ReasonID, ReasonRecord, ReasonOrder, ReasonLineTooLong, ReasonRange}
