// Package jobstore is the daemon's durable store of job records and source
// cursors.
//
// Sources (the sacct poller, the jobcomp and PBS file tailers) hand the
// store batches of records together with the cursor that covers them (a
// sacct watermark, a file offset and inode). Apply commits a batch's records
// and its cursor in one transaction, so that after any crash the cursor
// names exactly the records the store holds: a source that resumes from its
// cursor neither skips a job nor counts one twice. At start the daemon
// rebuilds its in-memory accounting engine (package usage) from Scan, and
// each source resumes from Cursor.
//
// One implementation (sqlstore.go), through database/sql, serves two
// databases; a small dialect says what differs (placeholders, the types of
// the schema, how migrations are serialised, the size on disk):
//
//   - SQLite (the default): one file in the daemon's data directory, through
//     the pure-Go driver modernc.org/sqlite, so that scmon stays a single
//     static binary without cgo.
//   - PostgreSQL, through pgx's database/sql driver, for a database kept
//     with the center's others. LockPostgres keeps a second daemon off a
//     store, as the data directory's lock does for SQLite.
//
// Both store records in blocks (block.go, schema.go): a batch is one row
// per blockMaxRecords records, holding the records' documents (the whole
// record and its decision in a compact, versioned binary form, codec.go)
// compressed together, and the fingerprints of their runs' keys
// (job.Record.Key: cluster, job id, raw id, start) and documents. A batch
// of 10,000 jobs is then a couple of B-tree inserts instead of 10,000. A
// later version of a run (the completed record of a job first seen
// running) goes into a later block and replaces the earlier one, which
// readers skip and compaction removes once most of its block is replaced;
// an exact duplicate is not written at all. Which block holds the latest
// version of each run is kept in memory (index.go, 16 to 32 bytes a run),
// built from the blocks' keys when first needed.
//
// # Crash safety
//
// A batch's records and cursor commit together or not at all, on both
// backends. SQLite runs in WAL mode with synchronous=NORMAL: a process
// killed at any point (kill -9, the OOM killer) loses no committed batch,
// which TestSQLiteCrash checks by killing a writer at random points. A
// power loss may roll back the last batches, whole and with their cursors,
// which their sources then read again; "?synchronous=full" rules that out
// too, for sources that cannot re-read.
//
// # Fidelity
//
// What comes back is what went in, with three exceptions, the same on both
// backends: times are whole seconds in UTC; the strings that are also
// columns (cluster, job and raw id, partition, account, user, source) have
// invalid UTF-8 and NUL bytes replaced by U+FFFD, as the readers already do
// (PostgreSQL's text type refuses both); empty slices come back nil. Names,
// command lines and other free text are kept byte for byte.
//
// # Size and speed
//
// BenchmarkImport and BenchmarkLoad (scale_test.go) measure a dump import
// and a restarted daemon's load at 1,000,000 synthetic jobs
// (SCMON_JOBSTORE_BENCH_JOBS sets another count), with the bytes per job on
// disk; BenchmarkRebuild measures the load in a fresh process, with its
// peak RSS. A load reads the blocks' keys, then decodes the blocks on one
// goroutine while the caller's adds the records of the block before to its
// engine.
package jobstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scmon/scmon/job"
)

// Store is the durable store of job records and source cursors. An
// implementation is safe for concurrent use by several goroutines.
type Store interface {
	// Apply commits a batch: it upserts every record with its decision and
	// sets the batch's source cursor, all in one transaction. On error
	// nothing of the batch is stored.
	Apply(ctx context.Context, b Batch) (ApplyResult, error)

	// Cursor returns the cursor last committed for source; ok is false
	// when the source never committed one.
	Cursor(ctx context.Context, source string) (cursor []byte, ok bool, err error)

	// Scan calls fn for every stored record, once per run, in the order in
	// which they were stored (a later version of a run takes the place of
	// its latest write). It reads one consistent snapshot. The record and the
	// decision's Rules slice are reused for the next call: fn may keep
	// their strings but must copy anything else it keeps (usage.Store.Add
	// and classify.Classifier both comply). An error from fn stops the scan
	// and is returned.
	Scan(ctx context.Context, fn func(*job.Record, job.Decision) error) error

	// Jobs returns the records that match q, ordered by start time, for
	// the job-level JSON API and the Grafana data source.
	Jobs(ctx context.Context, q JobQuery) ([]JobRow, error)

	// Reclassify applies decide (the new rules, on a configuration reload)
	// to every stored record and stores the decisions that differ from the
	// stored ones, in one transaction: either every record carries the new
	// rules' decision or none does. It returns how many records changed.
	// decide must not retain the record, as classify.Classifier requires.
	// Writers wait while it runs (seconds at a million records), so a
	// daemon swaps its classifier first, then reclassifies, so that no
	// batch applied meanwhile carries the old rules' decisions.
	Reclassify(ctx context.Context, decide func(*job.Record) job.Decision) (changed int, err error)

	// Stats reports the size of the store.
	Stats(ctx context.Context) (Stats, error)

	// Close releases the database. Operations in flight fail.
	Close() error
}

// Batch is what a source commits at once: the records it read and the
// cursor from which it would resume after them.
type Batch struct {
	// Source names the source whose cursor the batch sets. An empty Source
	// stores the records without touching any cursor (a one-off import).
	Source string
	// Cursor is the source's opaque resume position after the batch. A nil
	// Cursor with a non-empty Source stores an empty cursor.
	Cursor []byte
	// Records are the allocations read; Decisions[i] is the classifier's
	// decision for Records[i]. Two records of one run (same Key) in one
	// batch are allowed: the later one wins.
	Records   []*job.Record
	Decisions []job.Decision
}

// ApplyResult counts what Apply did with a batch's records; the four
// counts add up to the number of records in the batch.
type ApplyResult struct {
	// Inserted records were runs the store did not hold.
	Inserted int
	// Updated records replaced a stored version of their run that differed
	// from them (a running job now completed, a new decision).
	Updated int
	// Unchanged records were identical to the stored version of their run,
	// apart from where they were read (Source and Line), which keeps its
	// first value: overlapping polls re-read runs and change nothing.
	Unchanged int
	// Merged records were replaced by a later record of the same run in the
	// same batch and never reached the database.
	Merged int
}

// JobQuery selects records for Jobs. Zero fields do not filter; list
// fields match any of their values.
type JobQuery struct {
	// From and To select the runs whose allocation [Start, End) overlaps
	// [From, To); a running job's End is open. Runs that never started
	// overlap nothing and are returned only when both are zero.
	From, To time.Time

	Clusters   []string
	Partitions []string
	Accounts   []string
	// Users filters by user name; the API decides whether to offer it.
	Users   []string
	Classes []job.Class
	States  []job.State

	// Limit bounds the rows returned: 0 means DefaultLimit, and values over
	// MaxLimit are refused so that one request cannot load the store into
	// memory. Offset skips rows, for paging.
	Limit  int
	Offset int
}

// Limits of JobQuery.Limit.
const (
	DefaultLimit = 1000
	MaxLimit     = 100_000
)

// JobRow is one record returned by Jobs with its stored decision: its
// fields are the record's (JobID, Start, Accels, ...) and the decision's
// (Class, Rules). Times are in UTC.
type JobRow struct {
	job.Record
	job.Decision
}

// Stats describes the store.
type Stats struct {
	// Backend is "sqlite" or "postgres".
	Backend string
	// Location is the database file (SQLite) or the host and database
	// (PostgreSQL), without credentials.
	Location string
	// SchemaVersion is the version of the schema in use.
	SchemaVersion int
	// Records is the number of runs stored.
	Records int64
	// Bytes is the space the store takes on disk: the database and WAL
	// files for SQLite; the tables with their indexes and TOAST for
	// PostgreSQL.
	Bytes int64
}

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer scmon than this one: running an old binary against it could corrupt
// data the newer one relies on.
var ErrSchemaTooNew = errors.New("database schema is newer than this scmon supports")

// Open opens (creating if needed) the store named by dsn and migrates its
// schema to the current version:
//
//   - "postgres://..." or "postgresql://..." opens PostgreSQL (pgx
//     connection string; add search_path=NAME to use a schema of a shared
//     database);
//   - "sqlite:///path/to/scmon.db", "sqlite://relative.db" or a plain path
//     opens SQLite, creating the file (mode 0640) and its directory if
//     needed. The option "?synchronous=full" makes every commit survive a
//     power loss too, at the cost of one fsync per batch (see Crash safety
//     in the package documentation).
//
// Open fails with an error wrapping ErrSchemaTooNew when the database has a
// schema newer than this build knows.
func Open(ctx context.Context, dsn string) (Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err := openPostgres(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return s, nil
	case dsn == "":
		return nil, errors.New("open job store: empty data source name")
	}
	path, opts, err := parseSQLiteDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("open job store: %w", err)
	}
	s, err := openSQLite(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}
