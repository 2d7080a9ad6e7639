package collector

import (
	"strings"
	"unicode/utf8"
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
