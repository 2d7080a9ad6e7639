package scmontest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// Serve is a real `scmon serve` of the built-in sample center, a 30-day
// month that ends when the process starts.
type Serve struct {
	// URL is the server's base URL.
	URL string
	// Started is when the process was started: the sample ends about
	// then.
	Started time.Time
}

// ParentRoot returns the directory of the scmon module this plugin lives
// in.
func ParentRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the test source")
	}
	// internal/scmontest/serve.go -> grafana-datasource -> scmon
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	if !bytes.HasPrefix(gomod, []byte("module github.com/scmon/scmon\n")) {
		return "", fmt.Errorf("%s is not the scmon module", root)
	}
	return filepath.Clean(root), nil
}

// BuildScmon builds the daemon of the parent module into dir, or returns
// $SCMON_BIN when it is set (a binary built beforehand).
func BuildScmon(t testing.TB, dir string) string {
	t.Helper()
	if bin := os.Getenv("SCMON_BIN"); bin != "" {
		return bin
	}
	root, err := ParentRoot()
	if err != nil {
		t.Fatalf("find the scmon module: %v", err)
	}
	bin := filepath.Join(dir, "scmon")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/scmon")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/scmon in %s: %v\n%s", root, err, out)
	}
	t.Logf("built scmon in %.1fs", time.Since(start).Seconds())
	return bin
}

// lockedBuffer is the process's output, written by exec's copier and read
// by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartServe builds scmon, starts `scmon serve` of the sample center on a
// free local port and waits until it serves the sample's figures. The
// process is
// stopped with SIGTERM when the test ends; its log is shown if the test
// failed.
func StartServe(t testing.TB) *Serve {
	t.Helper()
	dir := t.TempDir()
	bin := BuildScmon(t, dir)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	var logs lockedBuffer
	cmd := exec.Command(bin, "serve", "--web.listen-address", addr, "--log.level", "warn")
	cmd.Dir = dir
	// The sample's memory store makes its directory under TMPDIR.
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	s := &Serve{URL: "http://" + addr, Started: time.Now()}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start scmon serve: %v", err)
	}
	// exited is closed when the process has ended, waitErr says how.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stop := time.Now()
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
			t.Logf("scmon serve stopped in %.1fs", time.Since(stop).Seconds())
		case <-time.After(10 * time.Second):
			t.Logf("scmon serve did not stop within 10s of SIGINT: killed")
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("scmon serve log:\n%s", logs.String())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := sampleLoaded(ctx, s.URL)
		if err == nil {
			t.Logf("scmon serve ready at %s after %.1fs", s.URL, time.Since(s.Started).Seconds())
			return s
		}
		select {
		case <-exited:
			t.Fatalf("scmon serve exited before it was ready: %v\n%s", waitErr, logs.String())
		case <-ctx.Done():
			t.Fatalf("scmon serve not ready after 60s (last: %v)\n%s", err, strings.TrimSpace(logs.String()))
		case <-tick.C:
		}
	}
}

// sampleLoaded reports whether the server is ready and has ingested the
// sample. /-/ready turns 200 once the job store is loaded, and the
// sample's memory store is empty then: its records arrive with the first
// poll of the sample source, after which the summary has a headline.
func sampleLoaded(ctx context.Context, base string) error {
	get := func(path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
		}
		return body, err
	}
	if _, err := get("/-/ready"); err != nil {
		return err
	}
	body, err := get(apiv1.PathSummary)
	if err != nil {
		return err
	}
	var sum apiv1.Summary
	if err := json.Unmarshal(body, &sum); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if len(sum.Headline) == 0 {
		return errors.New("ready, but the sample is not loaded yet (no headline)")
	}
	return nil
}
