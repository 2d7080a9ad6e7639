package collector

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/scmon/scmon/job"
)

// readerBase is what every record reader shares: its options, the notes it
// keeps (see Noter), and the helpers that repair text and place errors.
type readerBase struct {
	opts  Options
	notes map[string]int
}

func newReaderBase(opts Options) readerBase {
	return readerBase{opts: opts.withDefaults(), notes: map[string]int{}}
}

// Notes returns what the reader repaired or ignored without skipping a
// line; each reader's doc says which notes it keeps.
func (b *readerBase) Notes() map[string]int { return b.notes }

// label interns a value that repeats (user, partition, state); text copies
// free text (job names, directories), which would only grow the pool. Both
// repair invalid UTF-8, counted as the note "invalid_utf8", so that later
// stages never see broken strings.
func (b *readerBase) label(v []byte) string {
	if !utf8.Valid(v) {
		b.notes["invalid_utf8"]++
		return b.opts.Strings.String(strings.ToValidUTF8(string(v), "\uFFFD"))
	}
	return b.opts.Strings.Bytes(v)
}

func (b *readerBase) text(v []byte) string {
	if !utf8.Valid(v) {
		b.notes["invalid_utf8"]++
		return strings.ToValidUTF8(string(v), "\uFFFD")
	}
	return string(v)
}

// lineErr reports a skipped line of this reader's input.
func (b *readerBase) lineErr(line int, field, reason string, err error) *LineError {
	return &LineError{File: b.opts.Name, Line: line, Field: field, Reason: reason, Err: err}
}

// lines returns a line reader over r with this reader's line cap.
func (b *readerBase) newLines(r io.Reader) *lineReader {
	return newCappedLineReader(r, b.opts.MaxLine)
}

// lineFailure turns a line reader's error into what Next returns: a
// *LineError (reason line_too_long) for an over-long line, which the caller
// may skip, or the error unchanged.
func (b *readerBase) lineFailure(err error) error {
	var tl *errLineTooLong
	if errors.As(err, &tl) {
		return b.lineErr(tl.line, "", ReasonLineTooLong, tl)
	}
	return err
}

// errOutOfRange marks a value that parses but is out of range; a line
// failing with it is skipped with reason out_of_range.
var errOutOfRange = errors.New("out of range")

// rangeErr describes an out-of-range value; reasonFor recognises it.
func rangeErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errOutOfRange, fmt.Sprintf(format, args...))
}

// reasonFor returns ReasonRange for an out-of-range error, else def.
func reasonFor(err error, def string) string {
	if errors.Is(err, errOutOfRange) {
		return ReasonRange
	}
	return def
}

// maxSeconds bounds durations and Unix times a reader accepts: 2^33 s
// (about 272 years, up to the year 2242), so that sums of a few of them
// stay far inside time.Duration and int64.
const maxSeconds = 1 << 33

// addCount returns a + b for counts in [0, job.MaxCount], or false when the
// sum leaves that range.
func addCount(a, b int64) (int64, bool) {
	if a < 0 || b < 0 || a > job.MaxCount-b {
		return 0, false
	}
	return a + b, true
}

// mulCount returns a x b for counts in [0, job.MaxCount], or false when
// the product leaves that range.
func mulCount(a, b int64) (int64, bool) {
	if a < 0 || b < 0 || a > job.MaxCount || b > job.MaxCount {
		return 0, false
	}
	if a != 0 && b > job.MaxCount/a {
		return 0, false
	}
	return a * b, true
}

// checkRecord is the last check of every reader: counts in
// [0, job.MaxCount] (accelerators also summed), a finite non-negative
// billing figure, a non-negative time limit and End not before Start. It
// returns the field at fault and why, or "" and nil.
func checkRecord(r *job.Record) (field string, err error) {
	switch {
	case r.Cores < 0 || r.Cores > job.MaxCount:
		return "cores", rangeErr("%d cores", r.Cores)
	case r.Nodes < 0 || r.Nodes > job.MaxCount:
		return "nodes", rangeErr("%d nodes", r.Nodes)
	case math.IsNaN(r.Billing) || math.IsInf(r.Billing, 0) || r.Billing < 0:
		return "billing", rangeErr("billing %v", r.Billing)
	case r.Timelimit < 0:
		return "timelimit", rangeErr("time limit %v", r.Timelimit)
	case !r.Start.IsZero() && !r.End.IsZero() && r.End.Before(r.Start):
		return "end", fmt.Errorf("end %s is before start %s", r.End.Format(timeLayout), r.Start.Format(timeLayout))
	}
	var sum int64
	for _, a := range r.Accels {
		var ok bool
		if sum, ok = addCount(sum, a.Count); !ok {
			return "accelerators", rangeErr("%d %s accelerators, %d in all before them", a.Count, a.Name, sum)
		}
	}
	return "", nil
}

// final returns rec, or a *LineError when checkRecord refuses it.
func (b *readerBase) final(rec *job.Record) (*job.Record, error) {
	field, err := checkRecord(rec)
	if err != nil {
		return nil, b.lineErr(rec.Line, field, reasonFor(err, ReasonOrder), err)
	}
	return rec, nil
}
