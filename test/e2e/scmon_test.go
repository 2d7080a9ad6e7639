package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	apiv1 "github.com/scmon/scmon/api/v1"

	"github.com/scmon/scmon/internal/testutil"
)

// httpClient bounds every request the tests make to scmon and Prometheus.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// scmonProc is one `scmon serve` process started by a test.
type scmonProc struct {
	t    testing.TB
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	addr string // 127.0.0.1:port
	// log is scmon's stderr (its logs), appended across restarts that
	// share it.
	log   string
	done  chan struct{}
	err   error // the exit status, once done is closed
	start time.Time
}

var procSeq atomic.Int64

// startScmon starts `scmon serve --config.file config` on a free port,
// with extra arguments and environment entries, and returns at once; the
// process is stopped when the test ends. Its logs go to a file in dir.
func startScmon(t testing.TB, dir, config string, env []string, args ...string) *scmonProc {
	t.Helper()
	bin := testutil.ScmonBinary(t)
	port := testutil.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logPath := filepath.Join(dir, fmt.Sprintf("scmon-%d.log", procSeq.Add(1)))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"serve", "--config.file", config, "--web.listen-address", addr, "--log.level", "info"}, args...)
	cmd := exec.Command(bin, argv...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	p := &scmonProc{t: t, cmd: cmd, base: "http://" + addr, addr: addr, log: logPath, done: make(chan struct{})}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start scmon: %v", err)
	}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			p.dumpLog(60)
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *scmonProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process with SIGTERM (SIGKILL after 20 s) and waits.
func (p *scmonProc) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Errorf("scmon (pid %d) ignored SIGTERM for 20 s; killing it", p.cmd.Process.Pid)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill9 ends the process with SIGKILL, as a crash would, and waits.
func (p *scmonProc) kill9() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// dumpLog writes the last n lines of the process's log to the test log.
func (p *scmonProc) dumpLog(n int) {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	p.t.Logf("last %d lines of %s:\n%s", len(lines), p.log, strings.Join(lines, "\n"))
}

// logText returns the process's log so far.
func (p *scmonProc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// waitReady polls /-/ready until it answers 200 and returns how long after
// the start that was; the test fails if the process exits or timeout
// passes first.
func (p *scmonProc) waitReady(timeout time.Duration) time.Duration {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			p.dumpLog(40)
			p.t.Fatalf("scmon exited before it was ready: %v", p.err)
		}
		code, _, err := p.request(http.MethodGet, "/-/ready")
		if err == nil && code == http.StatusOK {
			return time.Since(p.start)
		}
		if time.Now().After(deadline) {
			p.dumpLog(40)
			p.t.Fatalf("scmon not ready after %s (last answer %d, %v)", timeout, code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// request sends a request without a body and returns the status and body.
func (p *scmonProc) request(method, path string) (int, []byte, error) {
	req, err := http.NewRequest(method, p.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// getJSON decodes the JSON answer of a GET that must answer 200.
func (p *scmonProc) getJSON(path string, v any) {
	p.t.Helper()
	code, b, err := p.request(http.MethodGet, path)
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	if code != http.StatusOK {
		p.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		p.t.Fatalf("GET %s: decode: %v\n%s", path, err, b)
	}
}

// sample is one series of a scrape.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape is the series of one /metrics answer.
type scrape []sample

// metrics scrapes /metrics; an error is returned, not fatal, so that a
// poll can retry.
func (p *scmonProc) metrics() (scrape, error) {
	code, b, err := p.request(http.MethodGet, "/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %d", code)
	}
	return parseMetrics(b)
}

// mustMetrics scrapes /metrics or fails the test.
func (p *scmonProc) mustMetrics() scrape {
	p.t.Helper()
	s, err := p.metrics()
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// parseMetrics reads the Prometheus text format. Summaries give their
// _sum and _count series.
func parseMetrics(b []byte) (scrape, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	var out scrape
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				out = append(out, sample{name, labels, m.GetCounter().GetValue()})
			case m.GetGauge() != nil:
				out = append(out, sample{name, labels, m.GetGauge().GetValue()})
			case m.GetSummary() != nil:
				out = append(out, sample{name + "_sum", labels, m.GetSummary().GetSampleSum()},
					sample{name + "_count", labels, float64(m.GetSummary().GetSampleCount())})
			case m.GetUntyped() != nil:
				out = append(out, sample{name, labels, m.GetUntyped().GetValue()})
			}
		}
	}
	return out, nil
}

// sum adds the series of name whose labels include match, grouped by the
// labels in by (joined with "/"; "" without by).
func (s scrape) sum(name string, match map[string]string, by ...string) map[string]float64 {
	out := map[string]float64{}
	for _, x := range s {
		if x.name != name || !hasLabels(x.labels, match) {
			continue
		}
		key := make([]string, len(by))
		for i, l := range by {
			key[i] = x.labels[l]
		}
		out[strings.Join(key, "/")] += x.value
	}
	return out
}

// value returns the single series of name matching match, and whether
// there was exactly one.
func (s scrape) value(name string, match map[string]string) (float64, bool) {
	var v float64
	n := 0
	for _, x := range s {
		if x.name == name && hasLabels(x.labels, match) {
			v = x.value
			n++
		}
	}
	return v, n == 1
}

// series returns the series of the named families as "name{labels} value"
// lines, sorted: a comparable text of counters.
func (s scrape) series(prefixes ...string) map[string]float64 {
	out := map[string]float64{}
	for _, x := range s {
		ok := false
		for _, p := range prefixes {
			if strings.HasPrefix(x.name, p) {
				ok = true
			}
		}
		if !ok {
			continue
		}
		keys := make([]string, 0, len(x.labels))
		for k := range x.labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString(x.name + "{")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%q", k, x.labels[k])
		}
		b.WriteByte('}')
		out[b.String()] = x.value
	}
	return out
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// jobs returns every stored run that overlaps [from, ∞), by job id (the
// last run of a requeued job wins), paging through the API.
func (p *scmonProc) jobs(from time.Time) map[string]apiv1.Job {
	p.t.Helper()
	out := map[string]apiv1.Job{}
	for offset := 0; ; {
		var page apiv1.JobsPage
		q := apiv1.JobsRequest{From: from, Limit: apiv1.MaxJobsLimit, Offset: offset}
		p.getJSON(apiv1.PathJobs+"?"+q.Values().Encode(), &page)
		for _, j := range page.Jobs {
			out[j.JobID] = j
		}
		offset += len(page.Jobs)
		if !page.More {
			return out
		}
	}
}

// jobCount is the number of allocations that held resources in the window.
func jobCount(f *apiv1.Report) int64 {
	var n int64
	for _, c := range f.Classes {
		n += c.Jobs
	}
	return n
}
