package source

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
)

// DefaultMaxErrors is how many line-error messages a batch keeps when a
// source's configuration does not say; the rest are only counted.
const DefaultMaxErrors = 20

// newBatch returns an empty batch of the named source.
func newBatch(name string) *Batch {
	return &Batch{Source: name, Skipped: map[string]int64{}, Notes: map[string]int{}}
}

// skip counts one skipped line under reason and keeps its message while
// fewer than maxErrors are kept.
func (b *Batch) skip(reason, msg string, maxErrors int) {
	b.Skipped[reason]++
	if len(b.Errors) < maxErrors {
		b.Errors = append(b.Errors, msg)
	}
}

// addNotes adds a reader's notes to the batch.
func (b *Batch) addNotes(n map[string]int) {
	for k, v := range n {
		b.Notes[k] += v
	}
}

// drain reads r to its end. Records go to keep; line errors are counted
// in b (after fix has adjusted them, when not nil); notes are added at the
// end. Any other error is an I/O failure and is returned.
func drain(r collector.Reader, b *Batch, maxErrors int, fix func(*collector.LineError), keep func(*job.Record)) error {
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *collector.LineError
		if errors.As(err, &le) {
			if fix != nil {
				fix(le)
			}
			b.skip(le.Reason, le.Error(), maxErrors)
			continue
		}
		if err != nil {
			return err
		}
		keep(rec)
	}
	if n, ok := r.(collector.Noter); ok {
		b.addNotes(n.Notes())
	}
	return nil
}

// orDiscard returns l, or a logger that drops everything when l is nil.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// errCursor wraps a cursor that cannot be decoded: the daemon must not
// silently start over, which could re-read or skip a whole history.
func errCursor(name string, err error) error {
	return fmt.Errorf("source %s: decode cursor: %w", name, err)
}
