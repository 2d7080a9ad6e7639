package jobstore

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// envCrashChild makes the test binary a crash-test child applying batches
// to the SQLite file it names.
const envCrashChild = "SCMON_JOBSTORE_CRASH_CHILD"

// crashBatchSize is the number of new runs in each crash-test batch.
const crashBatchSize = 200

// crashBatch returns batch n (from 1) of the crash test: crashBatchSize new
// runs, the odd ones still running, and the completed versions of batch
// n-1's running runs, so that every batch both inserts and updates.
func crashBatch(n int) []*job.Record {
	mk := func(batch, i int, done bool) *job.Record {
		start := t0.Add(time.Duration(batch*crashBatchSize+i) * time.Second)
		r := &job.Record{Cluster: "crash", JobID: strconv.Itoa(batch*crashBatchSize + i), Start: start,
			Name: "crash-test job", Cores: 2, State: job.StateRunning, Steps: []job.Step{{ID: "0", Name: "step"}}}
		if done {
			r.End, r.State = start.Add(time.Hour), job.StateCompleted
		}
		return r
	}
	var recs []*job.Record
	for i := range crashBatchSize {
		recs = append(recs, mk(n, i, i%2 == 0))
	}
	if n > 1 {
		for i := 1; i < crashBatchSize; i += 2 {
			recs = append(recs, mk(n-1, i, true))
		}
	}
	return recs
}

func crashCursor(n int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// crashChild applies crash batches to the store at path, from its cursor
// on, printing each batch number once committed, until killed.
func crashChild(path string) int {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	c, _, err := s.Cursor(ctx, "crash")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	n := 0
	if len(c) == 8 {
		n = int(binary.BigEndian.Uint64(c))
	}
	for n < 1_000_000 {
		n++
		if _, err := s.Apply(ctx, batchOf("crash", crashCursor(n), job.Decision{Class: job.ClassOther}, crashBatch(n)...)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Printf("%d\n", n)
	}
	return 0
}

// TestSQLiteCrash kills a process applying batches with SIGKILL at random
// points and checks after each kill that the database opens, passes
// SQLite's integrity check, keeps every batch the child saw committed, and
// holds exactly the records of the batches up to its cursor.
func TestSQLiteCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	t.Parallel()
	path := t.TempDir() + "/crash.db"
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	const iterations = 20
	committed := 0
	for it := range iterations {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), envCrashChild+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let the child commit a few batches, then kill it at a random
		// moment: most likely in the middle of a transaction.
		wantCommits, delay := 1+rng.IntN(4), time.Duration(rng.IntN(20_000))*time.Microsecond
		lines := bufio.NewScanner(out)
		seen := 0
		for seen < wantCommits && lines.Scan() {
			n, err := strconv.Atoi(lines.Text())
			if err != nil {
				t.Fatalf("child printed %q", lines.Text())
			}
			committed, seen = n, seen+1
		}
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for lines.Scan() { // commits printed before the kill
			if n, err := strconv.Atoi(lines.Text()); err == nil {
				committed = n
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("iteration %d: child ended with %v, not by SIGKILL", it, err)
		}
		cursor := checkCrashStore(t, path)
		if cursor < committed || cursor > committed+1 {
			t.Fatalf("iteration %d: cursor at batch %d, but the child had committed batch %d", it, cursor, committed)
		}
		t.Logf("iteration %d: killed %v after batch %d; store at batch %d", it, delay, committed, cursor)
		committed = cursor
	}
	if committed < iterations {
		t.Errorf("only %d batches committed in %d runs", committed, iterations)
	}
}

// checkCrashStore opens the crash store, checks it, and returns its cursor.
func checkCrashStore(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	db.Close()

	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("reopen after the kill: %v", err)
	}
	defer s.Close()
	c, found, err := s.Cursor(context.Background(), "crash")
	if err != nil || (found && len(c) != 8) {
		t.Fatalf("Cursor = %x, %v, %v", c, found, err)
	}
	n := 0
	if found {
		n = int(binary.BigEndian.Uint64(c))
	}
	want := map[string]*job.Record{}
	for b := 1; b <= n; b++ {
		for _, r := range crashBatch(b) {
			want[r.JobID] = r
		}
	}
	got := scanAll(t, s)
	if len(got) != len(want) {
		t.Fatalf("cursor at batch %d: %d records stored, want %d", n, len(got), len(want))
	}
	for _, g := range got {
		w, ok := want[g.Rec.JobID]
		if !ok {
			t.Fatalf("cursor at batch %d: record %s of a later batch stored", n, g.Rec.JobID)
		}
		if !g.Rec.End.Equal(w.End) || g.Rec.State != w.State {
			t.Fatalf("cursor at batch %d: record %s has end %v state %v, want %v %v", n, g.Rec.JobID, g.Rec.End, g.Rec.State, w.End, w.State)
		}
	}
	return n
}
