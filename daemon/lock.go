package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/scmon/scmon/jobstore"
)

// lockName is the lock file a daemon holds in its data directory.
const lockName = "scmon.lock"

// memoryPrefix names the temporary directories of "memory" stores.
const memoryPrefix = "scmon-memory-"

// errLocked marks a data directory or database another process holds.
var errLocked = jobstore.ErrLocked

// storeLock is what keeps a second daemon off a store: a data directory's
// lock for SQLite, the database's writer lock for PostgreSQL.
type storeLock interface{ release() }

// watchedLock is a store lock that can be lost while the daemon runs (the
// database's, whose session the server may end): check says whether it is
// held, taking it again when it was lost and is free.
type watchedLock interface {
	storeLock
	check(ctx context.Context) error
}

// dbLock is the writer lock of a PostgreSQL store (jobstore.LockPostgres):
// a session advisory lock, which the server releases when the daemon's
// connection ends in any way. The server may end that session while the
// daemon runs (a restart, pg_terminate_backend, a broken connection):
// check finds it, and a second daemon could then take the lock, so the
// daemon checks before every write and on a timer, and writes nothing
// while the lock is lost.
type dbLock struct {
	dsn string
	log *slog.Logger
	mu  sync.Mutex
	l   *jobstore.WriterLock // nil while lost
}

// lockDatabase takes the writer lock of the PostgreSQL store dsn without
// waiting. When another daemon holds it, the error wraps errLocked and
// names the holder.
func lockDatabase(ctx context.Context, dsn string, log *slog.Logger) (*dbLock, error) {
	l, err := jobstore.LockPostgres(ctx, dsn)
	if errors.Is(err, jobstore.ErrLocked) {
		return nil, fmt.Errorf("%w: two daemons on one store would import and count every source twice; stop the other one or give this one its own database or search_path schema", err)
	}
	if err != nil {
		return nil, err
	}
	return &dbLock{dsn: dsn, l: l, log: log}, nil
}

// lockCheckTimeout bounds one check of the lock: a server that does not
// answer in that time is not trusted with writes.
const lockCheckTimeout = 10 * time.Second

// check returns nil while the lock is held. A lock found lost is logged
// and taken again at once when it is free; the error says why it is not
// held (lost, and another daemon holds it or the server does not answer).
func (l *dbLock) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, lockCheckTimeout)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.l != nil {
		err := l.l.Check(ctx)
		if err == nil {
			return nil
		}
		l.l = nil
		l.log.Error("job store writer lock lost: no record is written until it is taken again", "err", err)
	}
	nl, err := jobstore.LockPostgres(ctx, l.dsn)
	if err != nil {
		return fmt.Errorf("%w; taking it again: %w", jobstore.ErrLockLost, err)
	}
	l.l = nl
	l.log.Info("job store writer lock taken again: writing resumes")
	return nil
}

// release drops the lock.
func (l *dbLock) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.l.Release(); err != nil {
		l.log.Warn("job store lock not released cleanly", "err", err)
	}
	l.l = nil
}

// dirLock is an exclusive advisory lock (flock) on a directory's lock file.
// The kernel releases it when the process ends in any way, SIGKILL
// included, so a crash never leaves a directory locked.
type dirLock struct{ f *os.File }

// lockDir takes the lock of dir without waiting. When another process
// holds it, the error wraps errLocked and names the holder's pid.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := strings.TrimSpace(string(holder))
			if who == "" {
				who = "unknown"
			}
			return nil, fmt.Errorf("data directory %s is %w (pid %s holds %s): two daemons on one store would import and count every source twice; stop the other one or give this one its own data_dir", dir, errLocked, who, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The pid is for the message above only; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// release drops the lock.
func (l *dirLock) release() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}

// staleAge is how old a memory store directory without a lock file must be
// before it is taken for the leftover of a process that died while
// creating it (a younger one may be another daemon that is starting).
const staleAge = time.Minute

// removeStaleMemoryStores deletes the memory store directories under tmp
// whose daemon is gone: killed (SIGKILL, out of memory) it could not remove
// its own. A directory whose lock is held belongs to a running daemon and
// is left alone. It returns the directories removed.
func removeStaleMemoryStores(tmp string, log *slog.Logger) []string {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), memoryPrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		if _, err := os.Stat(filepath.Join(dir, lockName)); err != nil {
			info, err := e.Info()
			if err != nil || time.Since(info.ModTime()) < staleAge {
				continue
			}
		} else {
			l, err := lockDir(dir)
			if err != nil {
				continue // a running daemon's, or not ours to judge
			}
			l.release()
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("stale memory store not removed", "dir", dir, "err", err)
			continue
		}
		log.Info("stale memory store removed", "dir", dir)
		removed = append(removed, dir)
	}
	return removed
}
