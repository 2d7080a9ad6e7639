// Package runner runs the scheduler's command-line clients (sacct,
// scontrol) for the daemon's sources, so that a slow, hung or noisy client
// can never hang or crash the daemon, and never leaves a process behind.
//
// Every run gets a timeout, its own process group (killed as a whole with
// SIGKILL on timeout, on cancellation, and after the program exits, so that
// a forgotten grandchild dies with it), an explicit environment (nothing
// leaks in from the daemon's own), stdout captured in memory up to a bound,
// and stderr kept apart and bounded for logging. Errors name the command,
// the exit status or the timeout, and the tail of stderr.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults used when a Command leaves a limit at zero.
const (
	DefaultTimeout   = 2 * time.Minute
	DefaultMaxStdout = 1 << 30 // 1 GiB: a day of sacct output on a very large cluster is far less
	DefaultMaxStderr = 64 << 10
	DefaultWaitDelay = 2 * time.Second
)

// Command describes one run of an external program.
type Command struct {
	// Path is the program: a path, or a bare name looked up in this
	// process's PATH (exec.LookPath).
	Path string
	// Args are the arguments after the program name.
	Args []string
	// Env is the complete environment of the child as KEY=value entries:
	// the child inherits nothing else, and nil means an empty environment.
	// Build it with Environ.
	Env []string
	// Dir is the working directory; empty means this process's.
	Dir string
	// Timeout bounds the whole run; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxStdout bounds the captured stdout in bytes; a program that writes
	// more is killed and the run fails. Zero means DefaultMaxStdout.
	MaxStdout int
	// MaxStderr is how many bytes of stderr are kept: the last ones, where
	// the reason for a failure usually is. Zero means DefaultMaxStderr.
	MaxStderr int
	// WaitDelay bounds two waits that a misbehaving program could make
	// endless: for the process to die after it was killed, and for its
	// output pipes to close after it exited (a process that left the group
	// may still hold them). Zero means DefaultWaitDelay.
	WaitDelay time.Duration
}

// Result is what a successful run produced.
type Result struct {
	// Stdout is everything the program wrote to standard output.
	Stdout []byte
	// Stderr is the tail of its standard error (see Command.MaxStderr);
	// a program can succeed and still warn there, so log it when not empty.
	Stderr []byte
	// StderrDropped counts the bytes of stderr cut from the front.
	StderrDropped int64
	// Duration is the wall time from start to exit.
	Duration time.Duration
}

// Error is a failed run: the program could not start, exited with a
// non-zero status or a signal, ran past its timeout, was cancelled, or
// wrote more than it may.
type Error struct {
	// Command is the program and its arguments, shortened for messages.
	Command string
	// ExitCode is the exit status, or -1 when the program did not exit
	// normally (killed, or never started).
	ExitCode int
	// TimedOut reports that the timeout expired and the process group was
	// killed.
	TimedOut bool
	// Stderr is the tail of the program's standard error.
	Stderr string
	// Duration is the wall time until the failure.
	Duration time.Duration
	// Err is the cause: an *exec.ExitError, context.DeadlineExceeded,
	// context.Canceled, ErrOutputLimit, ErrOutputHeld or a start error.
	Err error

	started bool
}

// ErrOutputLimit is the cause of a run killed for writing more than
// Command.MaxStdout bytes.
var ErrOutputLimit = errors.New("stdout exceeds the limit")

// ErrOutputHeld is the cause of a run whose output pipe stayed open after
// the program exited and its process group was killed: a process that
// left the group still holds it, so the output may be incomplete.
var ErrOutputHeld = errors.New("stdout held open after exit by a process outside the process group")

// maxStderrInMessage bounds the stderr quoted in Error's message; the whole
// tail stays in the Stderr field.
const maxStderrInMessage = 512

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s: ", e.Command)
	switch {
	case !e.started:
		fmt.Fprintf(&b, "start: %v", e.Err)
	case e.TimedOut:
		fmt.Fprintf(&b, "timed out after %s, process group killed", e.Duration.Round(time.Millisecond))
	case errors.Is(e.Err, context.Canceled):
		fmt.Fprintf(&b, "cancelled after %s, process group killed", e.Duration.Round(time.Millisecond))
	case e.ExitCode > 0:
		fmt.Fprintf(&b, "exit status %d after %s", e.ExitCode, e.Duration.Round(time.Millisecond))
	default:
		fmt.Fprintf(&b, "%v after %s", e.Err, e.Duration.Round(time.Millisecond))
	}
	if s := strings.TrimSpace(e.Stderr); s != "" {
		if len(s) > maxStderrInMessage {
			s = "..." + s[len(s)-maxStderrInMessage:]
		}
		fmt.Fprintf(&b, "; stderr: %s", strings.ReplaceAll(s, "\n", " | "))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Environ builds a child environment: the values this process has for the
// keys in pass (those that are set), then the KEY=value entries of set,
// which replace inherited values of the same key. Later entries of set win
// over earlier ones.
func Environ(pass []string, set ...string) []string {
	var env []string
	index := map[string]int{}
	put := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			env[i] = kv
			return
		}
		index[k] = len(env)
		env = append(env, kv)
	}
	for _, k := range pass {
		if v, ok := os.LookupEnv(k); ok {
			put(k + "=" + v)
		}
	}
	for _, kv := range set {
		put(kv)
	}
	return env
}

// Run runs c and returns its output, or an *Error. It returns when the
// program has exited and every process of its group is dead, or after the
// timeout plus at most twice WaitDelay when something refuses to go.
func Run(ctx context.Context, c Command) (*Result, error) {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxStdout <= 0 {
		c.MaxStdout = DefaultMaxStdout
	}
	if c.MaxStderr <= 0 {
		c.MaxStderr = DefaultMaxStderr
	}
	if c.WaitDelay <= 0 {
		c.WaitDelay = DefaultWaitDelay
	}
	fail := func(start time.Time, err error) *Error {
		return &Error{Command: describe(c.Path, c.Args), ExitCode: -1, Duration: time.Since(start), Err: err}
	}

	runCtx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, c.Path, c.Args...)
	cmd.Env = c.Env
	if cmd.Env == nil {
		cmd.Env = []string{} // nil would mean "inherit everything"
	}
	cmd.Dir = c.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = c.WaitDelay

	// Own pipes rather than exec's copying goroutines: Wait then returns
	// as soon as the program exits, and the drain below is bounded by us.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fail(time.Now(), err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fail(time.Now(), err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW

	start := time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fail(start, err)
	}

	var (
		wg      sync.WaitGroup
		stdout  []byte
		over    bool
		outErr  error
		stderr  tail
		errErr  error
		overrun = func() { cancel() }
	)
	stderr.max = c.MaxStderr
	wg.Add(2)
	go func() {
		defer wg.Done()
		stdout, over, outErr = readLimit(outR, c.MaxStdout, overrun)
	}()
	go func() {
		defer wg.Done()
		_, errErr = io.Copy(&stderr, errR)
	}()

	// Wait until the program has exited without reaping it: while it is
	// an unreaped zombie its process group id cannot be reused, so killing
	// the group now reaches only what it left behind.
	pid := cmd.Process.Pid
	waitExited(pid)
	_ = killGroup(pid)
	waitErr := cmd.Wait()
	dur := time.Since(start)

	held := false
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(c.WaitDelay):
		held = true
		now := time.Now()
		_ = outR.SetReadDeadline(now)
		_ = errR.SetReadDeadline(now)
		<-drained
	}
	outR.Close()
	errR.Close()

	errTail, errDropped := stderr.result()
	e := &Error{Command: describe(c.Path, c.Args), ExitCode: -1, Stderr: string(errTail), Duration: dur, started: true}
	var exitErr *exec.ExitError
	switch {
	case over:
		e.Err = fmt.Errorf("%w (%d bytes)", ErrOutputLimit, c.MaxStdout)
	case waitErr == nil && held:
		e.ExitCode, e.Err = 0, ErrOutputHeld
	case waitErr == nil && outErr == nil:
		return &Result{Stdout: stdout, Stderr: errTail, StderrDropped: errDropped, Duration: dur}, nil
	case waitErr == nil:
		e.ExitCode, e.Err = 0, fmt.Errorf("read stdout: %w", outErr)
	case ctx.Err() != nil:
		e.Err = ctx.Err()
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		e.TimedOut, e.Err = true, context.DeadlineExceeded
	case errors.As(waitErr, &exitErr):
		e.ExitCode, e.Err = exitErr.ExitCode(), exitErr
	default:
		e.Err = waitErr
	}
	_ = errErr // stderr is best effort: its tail is kept whatever happened
	return nil, e
}

// killGroup sends SIGKILL to every process of the group led by pid. A group
// that is already gone is not an error.
func killGroup(pid int) error {
	err := syscall.Kill(-pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// waitExited blocks until the child pid has exited, leaving it waitable
// (WNOWAIT) so that exec.Cmd.Wait still reaps it and records its status.
func waitExited(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// readLimit reads r to its end, keeping at most max bytes. When more
// arrives it calls overrun once, keeps reading (and discarding) so that
// the writer is not blocked, and reports over.
func readLimit(r io.Reader, max int, overrun func()) (data []byte, over bool, err error) {
	buf := make([]byte, 0, 64<<10)
	var discard [32 << 10]byte
	for {
		if over {
			_, err = r.Read(discard[:])
		} else {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			var n int
			n, err = r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if len(buf) > max {
				over = true
				buf = buf[:max]
				overrun()
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return buf, over, err
		}
	}
}

// tail is an io.Writer that keeps the last max bytes written to it.
type tail struct {
	max     int
	buf     []byte
	dropped int64
}

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		cut := len(t.buf) - t.max
		t.dropped += int64(cut)
		t.buf = append(t.buf[:0], t.buf[cut:]...)
	}
	return n, nil
}

// result returns the kept bytes (nil when nothing was written) and how
// many were dropped before them.
func (t *tail) result() ([]byte, int64) {
	b, dropped := t.buf, t.dropped
	if len(b) > t.max {
		dropped += int64(len(b) - t.max)
		b = b[len(b)-t.max:]
	}
	if len(b) == 0 {
		return nil, dropped
	}
	return b, dropped
}

// maxDescribed bounds the command line quoted in errors.
const maxDescribed = 240

// describe renders a command line for messages, shortened.
func describe(path string, args []string) string {
	s := strings.Join(append([]string{path}, args...), " ")
	if len(s) > maxDescribed {
		s = s[:maxDescribed] + "..."
	}
	return s
}
