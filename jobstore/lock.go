package jobstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrLocked is wrapped by the error of LockPostgres when another process
// holds the store's writer lock.
var ErrLocked = errors.New("in use by another scmon")

// ErrLockLost is wrapped by the error of WriterLock.Check when the lock is
// no longer held: its session ended (the server restarted, the connection
// was killed or broke) or it was released.
var ErrLockLost = errors.New("writer lock lost")

// pgWriterLockClass is the first key of the writer lock ("scmn" in ASCII);
// the second is the hash of the schema the store lives in, so that stores
// in different schemas of one database lock apart. Advisory locks are
// scoped to their database already.
const pgWriterLockClass = 0x73636d6e

// The writer lock's statements. The two-key form of the advisory lock
// functions does not share keys with the one-key form of pgMigrationLock.
const (
	pgTryWriterLock = `SELECT pg_try_advisory_lock($1::int4, hashtext(current_schema()))`
	pgWriterHolder  = `SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket'),
	coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
	AND l.classid = $1::int4::oid AND l.objid = hashtext(current_schema())::oid
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`
	// pgWriterHeld asks whether this very session holds the writer lock.
	pgWriterHeld = `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
	AND pid = pg_backend_pid() AND objsubid = 2
	AND classid = $1::int4::oid AND objid = hashtext(current_schema())::oid
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`
)

// WriterLock is the exclusive right of one process to write a PostgreSQL
// job store: a session advisory lock held by a connection of its own. The
// server releases it when that connection ends in any way (the process
// killed, the network gone), so a crash never leaves a store locked.
//
// SQLite needs no such lock in the database: its daemon locks the data
// directory that holds the file.
//
// The lock lasts as long as its session, which the server may end on its
// own (a restart, pg_terminate_backend, a broken connection): Check says
// whether it is still held, and a writer checks before it writes.
type WriterLock struct {
	mu   sync.Mutex // the connection serves one statement at a time
	conn *pgx.Conn
}

// LockPostgres takes the writer lock of the PostgreSQL store named by dsn
// (its database and, through search_path, its schema) without waiting.
// When another session holds it, the error wraps ErrLocked and names the
// holder: its server process, application name (which says the holding
// scmon's pid and host), client address and since when.
func LockPostgres(ctx context.Context, dsn string) (*WriterLock, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors never include the password.
		return nil, fmt.Errorf("lock job store: %w", err)
	}
	loc := pgLocation(cfg)
	host, _ := os.Hostname()
	name := fmt.Sprintf("scmon pid %d on %s", os.Getpid(), host)
	if len(name) > 63 { // PostgreSQL's limit (NAMEDATALEN - 1)
		name = name[:63]
	}
	cfg.RuntimeParams["application_name"] = name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("lock job store %s: %w", loc, err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, pgTryWriterLock, int32(pgWriterLockClass)).Scan(&ok); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lock job store %s: %w", loc, err)
	}
	if ok {
		return &WriterLock{conn: conn}, nil
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var pid int
	var app, addr, since string
	holder := "a session that has just ended"
	switch err := conn.QueryRow(ctx, pgWriterHolder, int32(pgWriterLockClass)).Scan(&pid, &app, &addr, &since); {
	case err == nil:
		var b strings.Builder
		fmt.Fprintf(&b, "server process %d", pid)
		if app != "" {
			fmt.Fprintf(&b, " (%s)", app)
		}
		fmt.Fprintf(&b, " from %s", addr)
		if since != "" {
			fmt.Fprintf(&b, " since %s", since)
		}
		holder = b.String()
	case !errors.Is(err, pgx.ErrNoRows):
		holder = fmt.Sprintf("unknown (%v)", err)
	}
	return nil, fmt.Errorf("job store %s is %w (held by %s)", loc, ErrLocked, holder)
}

// Check returns nil while the lock is held, else an error wrapping
// ErrLockLost: its session is gone, answers with an error or in no time
// within ctx, or no longer holds the lock. A lock found lost stays lost:
// its session is closed, and the writer takes the lock again with
// LockPostgres (which fails while another process holds it).
func (l *WriterLock) Check(ctx context.Context) error {
	if l == nil {
		return fmt.Errorf("job store %w: not taken", ErrLockLost)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return fmt.Errorf("job store %w: released", ErrLockLost)
	}
	var held bool
	err := l.conn.QueryRow(ctx, pgWriterHeld, int32(pgWriterLockClass)).Scan(&held)
	if err == nil && held {
		return nil
	}
	if err == nil {
		err = errors.New("the session no longer holds it")
	}
	// Whatever the session's state, it is not trusted again: closing it
	// frees the lock if the server still counts it held.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = l.conn.Close(cctx)
	l.conn = nil
	return fmt.Errorf("job store %w: %w", ErrLockLost, err)
}

// Release drops the lock. It is safe to call on a nil lock and more than
// once.
func (l *WriterLock) Release() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Closing the session releases the lock; the explicit unlock makes it
	// free before the server notices the closed connection.
	_, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()")
	err = errors.Join(err, l.conn.Close(ctx))
	l.conn = nil
	if err != nil {
		return fmt.Errorf("release job store lock: %w", err)
	}
	return nil
}
