package ingest

import (
	"errors"
	"io"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
)

// Skip counts one skipped line under reason and keeps its message while
// fewer than maxErrors messages are kept, so that a flood of bad lines
// costs a counter, not memory.
func (s *Stats) Skip(reason, msg string, maxErrors int) {
	if s.Skipped == nil {
		s.Skipped = map[string]int64{}
	}
	s.Skipped[reason]++
	if len(s.Errors) < maxErrors {
		s.Errors = append(s.Errors, msg)
	}
}

// Note counts n occurrences of something a reader or source repaired or
// ignored without skipping a line.
func (s *Stats) Note(what string, n int) {
	if n == 0 {
		return
	}
	if s.Notes == nil {
		s.Notes = map[string]int{}
	}
	s.Notes[what] += n
}

// AddNotes adds a reader's notes (collector.Noter), if it keeps any.
func (s *Stats) AddNotes(r collector.Reader) {
	if n, ok := r.(collector.Noter); ok {
		for k, v := range n.Notes() {
			s.Note(k, v)
		}
	}
}

// Drain reads r until its end or until each returns false. Each item is
// given to each: a record, or the *collector.LineError of a skipped line
// (each may adjust it, to make its line number relative to the whole
// file). A line error is then counted in st (when not nil) with Skip. Any
// other error is an I/O failure and is returned. eof reports that r is
// exhausted. Notes are left to the caller (AddNotes), since a reader
// drained in parts reports them once.
//
// Drain is the one reader loop of scmon: the report's LoadReader and the
// daemon's sources (the sacct poller, the file tailer, the dump importer
// and the built-in sample) all read through it, whatever the format.
func Drain(r collector.Reader, st *Stats, maxErrors int, each func(rec *job.Record, le *collector.LineError) bool) (eof bool, err error) {
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		var le *collector.LineError
		if err != nil && !errors.As(err, &le) {
			return false, err
		}
		more := each(rec, le)
		if le != nil && st != nil {
			st.Skip(le.Reason, le.Error(), maxErrors)
		}
		if !more {
			return false, nil
		}
	}
}
