package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// script writes a stand-in program (a /bin/sh script) into a temporary
// directory and returns its path and the directory.
func script(t *testing.T, body string) (path, dir string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "prog")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, dir
}

// testEnv gives stand-ins a PATH to find sleep, head and friends.
func testEnv(extra ...string) []string { return Environ([]string{"PATH"}, extra...) }

// readPID reads a pid file written by a stand-in, waiting for it to appear.
func readPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && len(bytes.TrimSpace(b)) > 0 {
			pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
			if err != nil {
				t.Fatalf("pid file %s: %v", path, err)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid file %s never written", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid is a live process. A zombie counts as dead:
// it holds nothing, and PID 1 reaps orphans late on some machines.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// requireGone fails unless pid dies within a short grace (SIGKILL delivery
// is asynchronous).
func requireGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Errorf("process %d is still running", pid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunSuccess(t *testing.T) {
	prog, _ := script(t, `printf 'a|b\nc|d\n'; echo 'sacct: warning' >&2`)
	res, err := Run(context.Background(), Command{Path: prog, Env: testEnv(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(res.Stdout), "a|b\nc|d\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := string(res.Stderr), "sacct: warning\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if res.Duration <= 0 || res.Duration > 5*time.Second {
		t.Errorf("duration = %v", res.Duration)
	}
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		timeout  time.Duration
		exit     int
		timedOut bool
		cause    error
		message  []string // substrings of Error()
	}{
		{
			name:    "exit status",
			body:    "echo 'partial|out'; echo 'sacct: error: Problem talking to the database: Connection refused' >&2; exit 1",
			exit:    1,
			message: []string{"run ", "prog --flag value", "exit status 1", "stderr: sacct: error: Problem talking to the database: Connection refused"},
		},
		{
			name:     "hang past timeout",
			body:     "echo started >&2; exec sleep 30",
			timeout:  300 * time.Millisecond,
			exit:     -1,
			timedOut: true,
			cause:    context.DeadlineExceeded,
			message:  []string{"timed out after", "process group killed", "stderr: started"},
		},
		{
			name:    "killed by a signal",
			body:    "kill -TERM $$",
			exit:    -1,
			message: []string{"signal: terminated"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, _ := script(t, tt.body)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			start := time.Now()
			res, err := Run(context.Background(), Command{Path: prog, Args: []string{"--flag", "value"}, Env: testEnv(), Timeout: timeout})
			if res != nil || err == nil {
				t.Fatalf("Run = %v, %v; want an error", res, err)
			}
			if elapsed := time.Since(start); elapsed > timeout+3*time.Second {
				t.Errorf("returned after %v, timeout %v", elapsed, timeout)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if e.ExitCode != tt.exit || e.TimedOut != tt.timedOut {
				t.Errorf("exit %d timedOut %v, want %d %v", e.ExitCode, e.TimedOut, tt.exit, tt.timedOut)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error %v is not %v", err, tt.cause)
			}
			for _, m := range tt.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
		})
	}
}

// A hung program that forked a grandchild holding stdout: the timeout
// kills both, and Run returns promptly.
func TestRunHangKillsProcessGroup(t *testing.T) {
	prog, dir := script(t, `sleep 1000 &
echo $! > "$DIR/grandchild.pid"
echo $$ > "$DIR/child.pid"
echo 'header|line'
sleep 1000
`)
	timeout := 500 * time.Millisecond
	start := time.Now()
	_, err := Run(context.Background(), Command{Path: prog, Env: testEnv("DIR=" + dir), Timeout: timeout, WaitDelay: time.Second})
	elapsed := time.Since(start)
	var e *Error
	if !errors.As(err, &e) || !e.TimedOut {
		t.Fatalf("want a timeout, got %v", err)
	}
	// The group is killed at the timeout: nothing waits for WaitDelay.
	if elapsed > timeout+700*time.Millisecond {
		t.Errorf("returned after %v, timeout %v", elapsed, timeout)
	}
	requireGone(t, readPID(t, filepath.Join(dir, "child.pid")))
	requireGone(t, readPID(t, filepath.Join(dir, "grandchild.pid")))
}

// A program that exits at once but leaves a grandchild in its group that
// holds stdout: the output is complete, the grandchild is killed, and Run
// does not wait for it.
func TestRunKillsLeftovers(t *testing.T) {
	prog, dir := script(t, `sleep 1000 &
echo $! > "$DIR/grandchild.pid"
echo done
`)
	start := time.Now()
	res, err := Run(context.Background(), Command{Path: prog, Env: testEnv("DIR=" + dir), Timeout: 10 * time.Second, WaitDelay: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("returned after %v: it waited for the grandchild", elapsed)
	}
	if string(res.Stdout) != "done\n" {
		t.Errorf("stdout = %q", res.Stdout)
	}
	requireGone(t, readPID(t, filepath.Join(dir, "grandchild.pid")))
}

// A grandchild that left the process group (setsid) and holds stdout
// cannot be killed with the group: Run gives up on the pipe after
// WaitDelay instead of hanging, and says why.
func TestRunEscapedGrandchildBoundedByWaitDelay(t *testing.T) {
	// The script waits until the background process runs sleep, that is
	// until setsid has happened, so that the group kill cannot catch it.
	prog, dir := script(t, `setsid sleep 1000 &
echo $! > "$DIR/escaped.pid"
while [ "$(cat /proc/$!/comm)" != sleep ]; do :; done
echo done
`)
	t.Cleanup(func() {
		if pid := readPID(t, filepath.Join(dir, "escaped.pid")); alive(pid) {
			_ = killGroup(pid) // setsid made it a group leader
			requireGone(t, pid)
		}
	})
	wait := 400 * time.Millisecond
	start := time.Now()
	_, err := Run(context.Background(), Command{Path: prog, Env: testEnv("DIR=" + dir), Timeout: 10 * time.Second, WaitDelay: wait})
	elapsed := time.Since(start)
	if !errors.Is(err, ErrOutputHeld) {
		t.Fatalf("err = %v, want ErrOutputHeld", err)
	}
	if elapsed < wait || elapsed > wait+2*time.Second {
		t.Errorf("returned after %v, WaitDelay %v", elapsed, wait)
	}
}

func TestRunLargeOutput(t *testing.T) {
	const size = 48 << 20
	prog, _ := script(t, "head -c "+strconv.Itoa(size)+" /dev/zero | tr '\\0' 'x'")
	res, err := Run(context.Background(), Command{Path: prog, Env: testEnv(), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != size || bytes.Count(res.Stdout, []byte{'x'}) != size {
		t.Errorf("stdout: %d bytes, want %d of 'x'", len(res.Stdout), size)
	}
}

func TestRunOutputLimit(t *testing.T) {
	prog, dir := script(t, `echo $$ > "$DIR/child.pid"; exec cat /dev/zero`)
	start := time.Now()
	_, err := Run(context.Background(), Command{Path: prog, Env: testEnv("DIR=" + dir), Timeout: 20 * time.Second, MaxStdout: 1 << 20})
	if !errors.Is(err, ErrOutputLimit) {
		t.Fatalf("err = %v, want ErrOutputLimit", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("returned after %v", elapsed)
	}
	requireGone(t, readPID(t, filepath.Join(dir, "child.pid")))
}

func TestRunStderrTail(t *testing.T) {
	// 200 lines of 100 bytes, then the real message: the tail keeps it.
	prog, _ := script(t, `i=0
while [ $i -lt 200 ]; do printf '%099d\n' $i >&2; i=$((i+1)); done
echo 'sacct: fatal: the last words' >&2
exit 2
`)
	_, err := Run(context.Background(), Command{Path: prog, Env: testEnv(), Timeout: 10 * time.Second, MaxStderr: 1000})
	var e *Error
	if !errors.As(err, &e) || e.ExitCode != 2 {
		t.Fatalf("err = %v", err)
	}
	if len(e.Stderr) != 1000 {
		t.Errorf("kept %d bytes of stderr, want 1000", len(e.Stderr))
	}
	if !strings.HasSuffix(e.Stderr, "sacct: fatal: the last words\n") {
		t.Errorf("stderr tail = %q", e.Stderr[len(e.Stderr)-60:])
	}
	if !strings.Contains(err.Error(), "the last words") || len(err.Error()) > maxStderrInMessage+maxDescribed+200 {
		t.Errorf("message (%d bytes) = %q", len(err.Error()), err)
	}

	// Success keeps the tail too, and counts what it dropped.
	prog, _ = script(t, `head -c 5000 /dev/zero | tr '\0' 'e' >&2; echo ok`)
	res, err := Run(context.Background(), Command{Path: prog, Env: testEnv(), MaxStderr: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stderr) != 100 || res.StderrDropped != 4900 {
		t.Errorf("stderr %d bytes, dropped %d; want 100, 4900", len(res.Stderr), res.StderrDropped)
	}
}

func TestRunEnvironment(t *testing.T) {
	t.Setenv("SLURM_TIME_FORMAT", "relative")
	t.Setenv("TZ", "Europe/Berlin")
	t.Setenv("SLURM_CONF", "/etc/slurm/test.conf")
	t.Setenv("SCMON_RUNNER_SECRET", "must-not-leak")
	prog, _ := script(t, `echo "TZ=$TZ"; echo "FMT=$SLURM_TIME_FORMAT"; echo "CONF=$SLURM_CONF"; echo "SECRET=${SCMON_RUNNER_SECRET-unset}"`)
	env := Environ([]string{"PATH", "SLURM_CONF", "TZ", "SLURM_TIME_FORMAT", "NOT_SET_ANYWHERE"}, "TZ=UTC", "SLURM_TIME_FORMAT=standard")
	res, err := Run(context.Background(), Command{Path: prog, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	want := "TZ=UTC\nFMT=standard\nCONF=/etc/slurm/test.conf\nSECRET=unset\n"
	if string(res.Stdout) != want {
		t.Errorf("stdout = %q, want %q", res.Stdout, want)
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "NOT_SET_ANYWHERE") {
			t.Errorf("Environ passed an unset key: %q", kv)
		}
	}
}

func TestRunCancel(t *testing.T) {
	prog, dir := script(t, `echo $$ > "$DIR/child.pid"; exec sleep 30`)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		readPID(t, filepath.Join(dir, "child.pid"))
		cancel()
	}()
	_, err := Run(ctx, Command{Path: prog, Env: testEnv("DIR=" + dir), Timeout: 30 * time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var e *Error
	if errors.As(err, &e) && e.TimedOut {
		t.Error("a cancellation is reported as a timeout")
	}
	if !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("message %q", err)
	}
	requireGone(t, readPID(t, filepath.Join(dir, "child.pid")))
}

func TestRunMissingProgram(t *testing.T) {
	_, err := Run(context.Background(), Command{Path: filepath.Join(t.TempDir(), "no-such-sacct")})
	var e *Error
	if !errors.As(err, &e) || e.ExitCode != -1 || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "no-such-sacct") {
		t.Errorf("message %q does not name the program", err)
	}
}

func TestRunAlreadyCancelled(t *testing.T) {
	prog, _ := script(t, "echo never")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Command{Path: prog, Env: testEnv()})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), ": start: context canceled") {
		t.Fatalf("err = %v", err)
	}
}
