package jobstore

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one step of the schema, written once per backend. Steps are
// applied in order, each in the transaction that records it in
// schema_migrations, and are never edited once released: a change is a new
// step.
type migration struct {
	sqlite, postgres string
	// convert, when set, runs after the step's SQL in its transaction:
	// what SQL alone cannot do (re-encoding the records).
	convert func(ctx context.Context, tx *sql.Tx, d *dialect) error
}

// migrations lists the schema's steps; step i brings the schema to version
// i+1.
//
// Version 1, the same on both backends:
//
//	jobs: one row per run (allocation run), unique on
//	      (cluster, job_id, raw_id, start_time), the key of job.Record.Key.
//	  id              surrogate key: the order runs were first stored in
//	  cluster, job_id, raw_id
//	  start_time      Unix seconds; 0 for a run that never started
//	  end_time        Unix seconds; NULL while running (or never started)
//	  submit_time     Unix seconds; NULL when unknown
//	  partition_name, account, user_name
//	  class           job.Class name (ai_training, ai_inference, other, unknown)
//	  state           job.State name (COMPLETED, RUNNING, ...)
//	  cores, nodes    as recorded, never negative
//	  accelerators    all generic resources held, summed over names and types
//	  source, line    where the stored version was read
//	  doc             the record (all fields but source and line) and its
//	                  decision, which the other columns project (codec.go)
//	  indexes: (start_time, end_time) and end_time, for the time ranges of Jobs
//	cursors: source (primary key), cursor (opaque bytes), updated_at (Unix seconds).
//	meta: name (primary key), value (integer). "max_duration" is the longest
//	      end_time - start_time stored, which bounds the start times a time
//	      range query has to look at.
//	schema_migrations: version (primary key), applied_at (Unix seconds).
//
// Version 2 drops what only duplicated the document and cost every write
// (a fifth of the bytes of a row and one of its four B-trees): the columns
// submit_time, partition_name, account, user_name, class, state, cores,
// nodes and accelerators, and the index on end_time, which only served the
// running runs and is now a partial index of them alone:
//
//	jobs: id, cluster, job_id, raw_id, start_time, end_time, source, line, doc
//	  indexes: unique (cluster, job_id, raw_id, start_time);
//	           (start_time, end_time); jobs_running: start_time of the runs
//	           with no end_time
//
// Jobs filters by the decoded documents instead. Version 2 also adds
//
//	dictionaries: id (primary key), data: the dictionary against which
//	      documents are compressed once a store has learned one (dict.go);
//	      documents of version 1 stay readable.
//
// Version 3 stores records in blocks (block.go) instead of one row per
// run, since a B-tree insert per record bounded the import rate:
//
//	blocks: one row per batch of up to blockMaxRecords records.
//	  id          the order blocks were written in (SQLite: the largest
//	              plus one; PostgreSQL: the sequence block_ids)
//	  records     records in the block, live those that are their run's
//	              latest version (compaction rewrites a block once live
//	              falls under half of records: index blocks_sparse)
//	  min_start, max_start, max_end, running, unstarted: the times of its
//	              records (blockMeta), for Jobs to skip blocks
//	  keys        the records' key and document fingerprints
//	  data        the records, compressed
//
// The jobs rows are converted to blocks in the order of their ids, and
// jobs, dictionaries and meta are dropped.
//
// Column names avoid SQL keywords (end, user, partition) so that ad hoc
// queries need no quoting.
var migrations = []migration{
	{
		sqlite: `
CREATE TABLE jobs (
	id             INTEGER PRIMARY KEY,
	cluster        TEXT    NOT NULL,
	job_id         TEXT    NOT NULL,
	raw_id         TEXT    NOT NULL,
	start_time     INTEGER NOT NULL CHECK (start_time >= 0),
	end_time       INTEGER,
	submit_time    INTEGER,
	partition_name TEXT    NOT NULL,
	account        TEXT    NOT NULL,
	user_name      TEXT    NOT NULL,
	class          TEXT    NOT NULL,
	state          TEXT    NOT NULL,
	cores          INTEGER NOT NULL CHECK (cores >= 0),
	nodes          INTEGER NOT NULL CHECK (nodes >= 0),
	accelerators   INTEGER NOT NULL CHECK (accelerators >= 0),
	source         TEXT    NOT NULL,
	line           INTEGER NOT NULL,
	doc            BLOB    NOT NULL
) STRICT;
CREATE UNIQUE INDEX jobs_run ON jobs (cluster, job_id, raw_id, start_time);
CREATE INDEX jobs_start ON jobs (start_time, end_time);
CREATE INDEX jobs_end ON jobs (end_time);
CREATE TABLE cursors (
	source     TEXT    PRIMARY KEY,
	cursor     BLOB    NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE meta (
	name  TEXT    PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT;
`,
		postgres: `
CREATE TABLE jobs (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cluster        text   NOT NULL,
	job_id         text   NOT NULL,
	raw_id         text   NOT NULL,
	start_time     bigint NOT NULL CHECK (start_time >= 0),
	end_time       bigint,
	submit_time    bigint,
	partition_name text   NOT NULL,
	account        text   NOT NULL,
	user_name      text   NOT NULL,
	class          text   NOT NULL,
	state          text   NOT NULL,
	cores          bigint NOT NULL CHECK (cores >= 0),
	nodes          bigint NOT NULL CHECK (nodes >= 0),
	accelerators   bigint NOT NULL CHECK (accelerators >= 0),
	source         text   NOT NULL,
	line           bigint NOT NULL,
	doc            bytea  NOT NULL,
	CONSTRAINT jobs_run UNIQUE (cluster, job_id, raw_id, start_time)
);
CREATE INDEX jobs_start ON jobs (start_time, end_time);
CREATE INDEX jobs_end ON jobs (end_time);
CREATE TABLE cursors (
	source     text   PRIMARY KEY,
	cursor     bytea  NOT NULL,
	updated_at bigint NOT NULL
);
CREATE TABLE meta (
	name  text   PRIMARY KEY,
	value bigint NOT NULL
);
`,
	},
	{
		// SQLite would rewrite the table once per dropped column: it is
		// copied once instead, keeping the ids (Scan's order).
		sqlite: `
CREATE TABLE jobs_v2 (
	id          INTEGER PRIMARY KEY,
	cluster     TEXT    NOT NULL,
	job_id      TEXT    NOT NULL,
	raw_id      TEXT    NOT NULL,
	start_time  INTEGER NOT NULL CHECK (start_time >= 0),
	end_time    INTEGER,
	source      TEXT    NOT NULL,
	line        INTEGER NOT NULL,
	doc         BLOB    NOT NULL
) STRICT;
INSERT INTO jobs_v2 (id, cluster, job_id, raw_id, start_time, end_time, source, line, doc)
	SELECT id, cluster, job_id, raw_id, start_time, end_time, source, line, doc FROM jobs ORDER BY id;
DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;
CREATE UNIQUE INDEX jobs_run ON jobs (cluster, job_id, raw_id, start_time);
CREATE INDEX jobs_start ON jobs (start_time, end_time);
CREATE INDEX jobs_running ON jobs (start_time) WHERE end_time IS NULL;
CREATE TABLE dictionaries (
	id   INTEGER PRIMARY KEY,
	data BLOB    NOT NULL
) STRICT;
`,
		postgres: `
DROP INDEX jobs_end;
CREATE INDEX jobs_running ON jobs (start_time) WHERE end_time IS NULL;
CREATE TABLE dictionaries (
	id   bigint PRIMARY KEY,
	data bytea  NOT NULL
);
ALTER TABLE jobs DROP COLUMN submit_time, DROP COLUMN partition_name, DROP COLUMN account,
	DROP COLUMN user_name, DROP COLUMN class, DROP COLUMN state, DROP COLUMN cores,
	DROP COLUMN nodes, DROP COLUMN accelerators;
`,
	},
	{
		sqlite: `
CREATE TABLE blocks (
	id        INTEGER PRIMARY KEY,
	records   INTEGER NOT NULL,
	live      INTEGER NOT NULL,
	min_start INTEGER NOT NULL,
	max_start INTEGER NOT NULL,
	max_end   INTEGER NOT NULL,
	running   INTEGER NOT NULL,
	unstarted INTEGER NOT NULL,
	keys      BLOB    NOT NULL,
	data      BLOB    NOT NULL
) STRICT;
CREATE INDEX blocks_sparse ON blocks (id) WHERE live * 2 < records;
`,
		postgres: `
CREATE SEQUENCE block_ids;
CREATE TABLE blocks (
	id        bigint PRIMARY KEY,
	records   bigint NOT NULL,
	live      bigint NOT NULL,
	min_start bigint NOT NULL,
	max_start bigint NOT NULL,
	max_end   bigint NOT NULL,
	running   bigint NOT NULL,
	unstarted bigint NOT NULL,
	keys      bytea  NOT NULL,
	data      bytea  NOT NULL
);
CREATE INDEX blocks_sparse ON blocks (id) WHERE live * 2 < records;
`,
		convert: convertToBlocks,
	},
}

// schemaVersion is the version this build writes and reads.
var schemaVersion = len(migrations)

// The migrations table, the same on both backends.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at BIGINT  NOT NULL
)`

// checkVersion refuses a database migrated by a newer build.
func checkVersion(have int) error {
	if have > schemaVersion {
		return fmt.Errorf("%w: the database is at schema version %d, this scmon knows versions up to %d; upgrade scmon or point it at another database", ErrSchemaTooNew, have, schemaVersion)
	}
	return nil
}
