// Package source defines how the daemon collects: each source polls its
// scheduler output (sacct, scontrol, a jobcomp log, a PBS accounting
// directory, a dump file) from a persisted cursor and returns what is new
// as one batch with the cursor that covers it, so that the store can commit
// both in one transaction and nothing is lost or counted twice across
// restarts, retries, rotations or overlapping polls.
package source

import (
	"context"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/ingest"
	"github.com/scmon/scmon/job"
)

// Batch is what one poll of a job source returns.
type Batch struct {
	// Source is the source's name (its key for the cursor and metrics).
	Source string
	// Records are allocations that ran or run (started, possibly still
	// running) and allocations that ended without starting (cancelled
	// before start). The store upserts them by job.Record.Key.
	Records []*job.Record
	// Pending, when not nil, replaces the source's set of jobs waiting to
	// start (demand); pending jobs are current state, never stored.
	Pending []*job.Record
	// Cursor is the opaque position after this batch; the store commits it
	// with the records.
	Cursor []byte
	// Complete is the instant up to which the source has delivered every
	// record (the end of a sacct poll window, the time of a tail read, a
	// dump file's modification time); the daemon counts running jobs up to
	// it and no further. Zero means the batch makes no claim (a dump
	// importer with nothing left to import).
	Complete time.Time
	// Stats counts what the poll skipped (Skipped, by
	// collector.Reasons), keeps the first messages (Errors) and what the
	// readers repaired (Notes): the same bookkeeping as `scmon report`'s
	// ingest. Its Records count is not used; Records above are the batch.
	ingest.Stats
	// More reports that the source has more to deliver right away (a
	// catch-up in chunks): the daemon polls again without waiting.
	More bool
	// Done reports that the source will deliver nothing more (every dump
	// file imported): it no longer holds back the time up to which the
	// daemon counts running jobs of the other sources.
	Done bool
}

// JobSource is a source of job records.
type JobSource interface {
	// Name identifies the source in cursors, logs and metrics labels.
	Name() string
	// Poll reads what is new after cursor (nil: from the configured start)
	// and returns it. A returned error means the poll failed and nothing of
	// it may be committed; the daemon keeps the old cursor and retries.
	Poll(ctx context.Context, cursor []byte) (*Batch, error)
}

// NodeSnapshot is the state of every node at one instant.
type NodeSnapshot struct {
	// Time is when the states were read (at most this old).
	Time time.Time
	// Nodes are every node the scheduler reported, once each.
	Nodes []collector.SlurmNode
}

// NodeSource polls node states (scontrol show node).
type NodeSource interface {
	// Name identifies the source in logs and metrics labels.
	Name() string
	// Poll reads the current states. An error means no snapshot: the
	// daemon keeps the last good one and reports the source down.
	Poll(ctx context.Context) (*NodeSnapshot, error)
}

// The sources of this package implement the contracts.
var (
	_ JobSource  = (*Sacct)(nil)
	_ JobSource  = (*Tail)(nil)
	_ JobSource  = (*Dump)(nil)
	_ JobSource  = (*Static)(nil)
	_ NodeSource = (*SlurmNodes)(nil)
)
