package jobstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteSync is the default synchronous setting of the SQLite backend.
//
// NORMAL in WAL mode keeps the store's promise. A commit returns once its
// WAL frames are written to the file, and a killed process (kill -9, the
// OOM killer, a panic) cannot lose what the kernel's page cache holds:
// every committed batch and its cursor survive, and the next open replays
// the WAL (TestSQLiteCrash kills a writer at random points to check it).
// What NORMAL gives up is durability against a power loss or kernel crash:
// the batches committed since the last checkpoint (which fsyncs) may then
// roll back. They roll back whole, since SQLite in WAL mode stays
// consistent, and a batch's cursor is in the transaction of its records, so
// the store holds an earlier consistent pair of records and cursor: each
// source resumes from the older cursor and reads those records again.
// Nothing is lost or counted twice, so the fsync per commit that FULL costs
// buys nothing for sources that can re-read (sacct, log files). A site whose
// source cannot re-read (a log rotated away within seconds) can ask for
// FULL with "?synchronous=full".
const sqliteSync = "NORMAL"

// sqliteBusyTimeout is how long a writer waits for another process's write
// transaction before failing with SQLITE_BUSY.
const sqliteBusyTimeout = 10 * time.Second

// sqliteCacheKiB is the page cache of each connection and sqliteMaxConns
// the number of connections.
const (
	sqliteCacheKiB = 32 << 10
	sqliteMaxConns = 8
)

// sqliteOptions are the options of a SQLite data source name.
type sqliteOptions struct {
	synchronous string
}

// parseSQLiteDSN splits "sqlite://PATH?OPTIONS" or a plain path.
func parseSQLiteDSN(dsn string) (string, sqliteOptions, error) {
	opts := sqliteOptions{synchronous: sqliteSync}
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "sqlite://"), "?")
	if path == "" {
		return "", opts, fmt.Errorf("sqlite data source %q names no file", dsn)
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return "", opts, fmt.Errorf("sqlite data source options %q: %w", query, err)
	}
	for k, v := range values {
		switch k {
		case "synchronous":
			switch s := strings.ToUpper(v[len(v)-1]); s {
			case "NORMAL", "FULL":
				opts.synchronous = s
			default:
				return "", opts, fmt.Errorf("sqlite option synchronous=%s: want normal or full", v[len(v)-1])
			}
		default:
			return "", opts, fmt.Errorf("unknown sqlite option %q (known: synchronous)", k)
		}
	}
	return path, opts, nil
}

// sqliteDialect is SQLite's dialect: "?" placeholders, STRICT tables, the
// database file and its WAL as the size on disk.
var sqliteDialect = &dialect{
	name:      "sqlite",
	migration: func(m migration) string { return m.sqlite },
	diskBytes: sqliteBytes,
	// Writers take turns (BEGIN IMMEDIATE): the largest id plus one is
	// free.
	nextBlockID: "SELECT coalesce(max(id), 0) + 1 FROM blocks",
	// A deferred BEGIN (the driver's for a read-only transaction) reads
	// one snapshot of the WAL from its first statement on.
	snapshot: &sql.TxOptions{ReadOnly: true},
}

// sqliteBytes returns the size of the database file and its WAL.
func sqliteBytes(_ context.Context, s *sqlStore) (int64, error) {
	var n int64
	for _, name := range []string{s.location, s.location + "-wal"} {
		fi, err := os.Stat(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		n += fi.Size()
	}
	return n, nil
}

func openSQLite(ctx context.Context, path string, opts sqliteOptions) (*sqlStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open job store %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("open job store: create data directory: %w", err)
	}
	// Records name users and hold their command lines: create the file
	// readable by its owner and group only. SQLite gives its WAL and
	// shared-memory files the database file's permissions.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open job store: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open job store: %w", err)
	}
	q := url.Values{}
	// busy_timeout first, so that the others wait for a concurrent opener.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+opts.synchronous+")")
	// Keep the WAL file from staying at its high-water mark after a large
	// import or Reclassify.
	q.Add("_pragma", "journal_size_limit(67108864)")
	// A 32 MiB page cache per connection (the default is 2 MiB) keeps the
	// unique index of a few million runs in memory: Apply's lookups then
	// make no system calls, which makes it 1.5 times faster at 200,000 runs.
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -sqliteCacheKiB))
	// The statement journal of the multi-row upserts (SQLite keeps one to
	// undo a failed statement alone) stays in memory: in a file it costs
	// a write system call per page changed.
	q.Add("_pragma", "temp_store(MEMORY)")
	// Write transactions take the write lock at BEGIN, so that two writers
	// never deadlock upgrading read locks.
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", abs+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open job store %s: %w", abs, err)
	}
	// Bounds the page caches (and file descriptors); callers beyond it
	// wait for a connection.
	db.SetMaxOpenConns(sqliteMaxConns)
	return newSQLStore(ctx, db, sqliteDialect, abs)
}
