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
