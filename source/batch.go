package source

import (
	"fmt"
	"log/slog"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
)

// DefaultMaxErrors is how many line-error messages a batch keeps when a
// source's configuration does not say; the rest are only counted.
const DefaultMaxErrors = 20

// newBatch returns an empty batch of the named source.
func newBatch(name string) *Batch {
	return &Batch{Source: name, Stats: ingest.Stats{Skipped: map[string]int64{}, Notes: map[string]int{}}}
}

// skip counts one skipped line under reason and keeps its message while
// fewer than maxErrors are kept.
func (b *Batch) skip(reason, msg string, maxErrors int) { b.Stats.Skip(reason, msg, maxErrors) }

// lookupFormat returns the registered record format of a source.
func lookupFormat(source, name string) (collector.Format, error) {
	f, ok := collector.LookupFormat(name)
	if !ok {
		return collector.Format{}, fmt.Errorf("source %s: unknown format %q (known: %v)", source, name, collector.FormatNames())
	}
	return f, nil
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
