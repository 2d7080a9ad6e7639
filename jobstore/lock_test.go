package jobstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// envLockChild makes the test binary take the writer lock of the
// PostgreSQL store it names, say so and wait to be killed.
const envLockChild = "SCMON_JOBSTORE_LOCK_CHILD"

func lockChild(dsn string) int {
	l, err := LockPostgres(context.Background(), dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer l.Release()
	fmt.Println("locked")
	time.Sleep(time.Hour)
	return 0
}

// TestLockPostgres checks the writer lock against a real PostgreSQL: one
// holder per store (database and schema), a refusal that names the holder,
// and a lock that its holder's death frees.
func TestLockPostgres(t *testing.T) {
	pg := postgresBackend()
	dsn, other := pg.dsn(t), pg.dsn(t)
	ctx := context.Background()

	first, err := LockPostgres(ctx, dsn)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	_, err = LockPostgres(ctx, dsn)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock = %v, want ErrLocked", err)
	}
	for _, want := range []string{"in use by another scmon", "server process", fmt.Sprintf("scmon pid %d", os.Getpid()), "search_path=jobstore_test_"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	// A store in another schema of the same database is another store.
	o, err := LockPostgres(ctx, other)
	if err != nil {
		t.Fatalf("lock of another schema: %v", err)
	}
	if err := o.Release(); err != nil {
		t.Error(err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	again, err := LockPostgres(ctx, dsn)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if err := again.Release(); err != nil {
		t.Error(err)
	}

	// A holder killed with SIGKILL leaves the store free.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envLockChild+"="+dsn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("lock child said %q, %v", line, err)
	}
	_, err = LockPostgres(ctx, dsn)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("scmon pid %d", cmd.Process.Pid)) {
		t.Errorf("lock held by the child = %v, want ErrLocked naming pid %d", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	// The server ends the session once it sees the connection closed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := LockPostgres(ctx, dsn)
		if err == nil {
			l.Release()
			break
		}
		if !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("lock after the holder was killed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if _, err := LockPostgres(ctx, "postgres://u:secret@127.0.0.1:1/x?connect_timeout=1"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("lock of an unreachable server = %v, want an error without the password", err)
	}
}

// TestLockLost: a lock whose session the server ends (pg_terminate_backend,
// as a restart or a killed connection would) or that the session no longer
// holds is found lost by Check, and can be taken again once free.
func TestLockLost(t *testing.T) {
	dsn := postgresBackend().dsn(t)
	ctx := context.Background()
	l, err := LockPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if err := l.Check(ctx); err != nil {
		t.Fatalf("Check of a held lock: %v", err)
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var pid int
	if err := admin.QueryRow(ctx, pgWriterHolder, int32(pgWriterLockClass)).Scan(&pid, new(string), new(string), new(string)); err != nil {
		t.Fatal(err)
	}
	var done bool
	if err := admin.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&done); err != nil || !done {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, done, err)
	}
	err = l.Check(ctx)
	if !errors.Is(err, ErrLockLost) {
		t.Fatalf("Check after the session was terminated = %v, want ErrLockLost", err)
	}
	if err := l.Check(ctx); !errors.Is(err, ErrLockLost) {
		t.Errorf("second Check = %v, want ErrLockLost (a lost lock stays lost)", err)
	}
	// Another writer may take it now; then this one cannot.
	other, err := LockPostgres(ctx, dsn)
	if err != nil {
		t.Fatalf("lock after the holder's session ended: %v", err)
	}
	if _, err := LockPostgres(ctx, dsn); !errors.Is(err, ErrLocked) {
		t.Errorf("lock while the other holds it = %v, want ErrLocked", err)
	}
	// A session that released the lock without closing does not hold it.
	if _, err := other.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()"); err != nil {
		t.Fatal(err)
	}
	if err := other.Check(ctx); !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "no longer holds") {
		t.Errorf("Check after unlock = %v, want ErrLockLost saying the session no longer holds it", err)
	}
	if err := other.Release(); err != nil {
		t.Errorf("Release of a lost lock: %v", err)
	}
	if err := (*WriterLock)(nil).Check(ctx); !errors.Is(err, ErrLockLost) {
		t.Errorf("Check of a nil lock = %v", err)
	}
}
