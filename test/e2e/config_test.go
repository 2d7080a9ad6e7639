package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"

	"github.com/scmon/scmon/internal/testutil"
)

// TestBadConfig: `scmon serve` with a bad configuration file exits with
// status 1 and an error naming the key at fault (one testdata/config/
// *.bad.yaml file per case, its first line "# error: <text expected>"),
// and --config.check fails on each with the same error; --config.check
// accepts a good one; and a running daemon given a bad file
// on SIGHUP or POST /-/reload keeps the configuration in force
// (scmon_config_last_reload_successful 0), while a good one is applied (1).
func TestBadConfig(t *testing.T) {
	t.Parallel()
	bin := testutil.ScmonBinary(t)
	files, err := filepath.Glob(filepath.Join("testdata", "config", "*.bad.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configurations in testdata/config: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			f, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedError(t, f)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "serve", "--config.file", f, "--web.listen-address", fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)))
			cmd.Dir = t.TempDir() // a default data directory would go here
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err = cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1; stderr: %s", err, stderr.String())
			}
			if msg := stderr.String(); !strings.Contains(msg, want) || !strings.Contains(msg, f) {
				t.Errorf("stderr %q; want it to name %s and contain %q", msg, f, want)
			}
			// --config.check fails on what a start fails on, with the
			// same error.
			check := exec.CommandContext(ctx, bin, "serve", "--config.file", f, "--config.check")
			check.Dir = cmd.Dir
			out, err := check.CombinedOutput()
			if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), want) {
				t.Errorf("--config.check: %v %q, want status 1 and %q", err, out, want)
			}
		})
	}

	tmp := t.TempDir()
	jobcomp := filepath.Join(tmp, "jobcomp.log")
	writeFile(t, jobcomp, jobcompLine(1), 0o644)
	good := func(extra string) string {
		return fmt.Sprintf(`cluster: rotlab
timezone: UTC
data_dir: %s
sources:
  - name: jobcomp
    kind: tail
    format: slurm-jobcomp
    path: %s
    interval: 200ms
%s`, filepath.Join(tmp, "data"), jobcomp, extra)
	}
	config := filepath.Join(tmp, "scmon.yml")
	writeFile(t, config, good(""), 0o644)

	out, err := exec.Command(bin, "serve", "--config.file", config, "--config.check").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "configuration OK") {
		t.Fatalf("--config.check on a good file: %v: %q", err, out)
	}

	p := startScmon(t, tmp, config, nil)
	p.waitReady(30 * time.Second)
	type state struct {
		ok      float64
		hash    string
		sources []string
	}
	read := func() state {
		t.Helper()
		s := p.mustMetrics()
		var st state
		st.ok, _ = s.value("scmon_config_last_reload_successful", nil)
		for _, x := range s {
			if x.name == "scmon_source_up" {
				st.sources = append(st.sources, x.labels["source"])
			}
		}
		var sum apiv1.Summary
		p.getJSON(apiv1.PathSummary, &sum)
		st.hash = sum.Config.Hash
		return st
	}
	waitState := func(what string, cond func(state) bool) state {
		t.Helper()
		var st state
		eventually(t, 15*time.Second, 50*time.Millisecond, what, func() (bool, string) {
			if p.exited() {
				t.Fatalf("scmon exited: %v", p.err)
			}
			st = read()
			return cond(st), fmt.Sprintf("%+v", st)
		})
		return st
	}
	reload := func() (int, string) {
		t.Helper()
		code, body, err := p.request(http.MethodPost, "/-/reload")
		if err != nil {
			t.Fatal(err)
		}
		return code, string(body)
	}
	first := waitState("the first configuration", func(s state) bool { return s.ok == 1 && len(s.sources) == 1 })

	// SIGHUP with an unknown key: refused, the old configuration kept.
	writeFile(t, config, good("  - name: other\n    kind: tail\n    format: slurm-jobcomp\n    pathh: /x\n"), 0o644)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	st := waitState("the bad file refused on SIGHUP", func(s state) bool { return s.ok == 0 })
	if st.hash != first.hash || len(st.sources) != 1 {
		t.Errorf("after a refused SIGHUP reload: %+v, want the first configuration %+v kept", st, first)
	}
	if !strings.Contains(p.logText(), "pathh") {
		t.Error("the refused reload's error, naming the key, is not in the log")
	}

	// POST /-/reload with a good file: applied.
	writeFile(t, config, good("  - name: jobcomp2\n    kind: tail\n    format: slurm-jobcomp\n    path: "+jobcomp+"\n    interval: 200ms\n"), 0o644)
	if code, body := reload(); code != http.StatusOK {
		t.Fatalf("POST /-/reload with a good file: %d %s", code, body)
	}
	second := waitState("the good file applied", func(s state) bool { return s.ok == 1 && len(s.sources) == 2 })
	if second.hash == first.hash {
		t.Errorf("the configuration hash did not change: %s", second.hash)
	}

	// POST /-/reload with a bad value: 500 naming the key, the second
	// configuration kept.
	writeFile(t, config, good("  - name: jobcomp2\n    kind: tail\n    format: slurm-jobcomp\n    path: "+jobcomp+"\n    interval: -1s\n"), 0o644)
	code, body := reload()
	if code != http.StatusInternalServerError || !strings.Contains(body, "sources[1].interval") {
		t.Errorf("POST /-/reload with a bad file: %d %q, want 500 naming sources[1].interval", code, body)
	}
	st = waitState("the bad file refused on POST", func(s state) bool { return s.ok == 0 })
	if st.hash != second.hash || len(st.sources) != 2 {
		t.Errorf("after a refused POST reload: %+v, want %+v kept", st, second)
	}

	// SIGHUP with the first configuration again: applied.
	writeFile(t, config, good(""), 0o644)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	st = waitState("the first file applied again on SIGHUP", func(s state) bool { return s.ok == 1 && s.hash == first.hash })
	t.Logf("reloads: hashes %s -> %s -> %s, sources %v", first.hash, second.hash, st.hash, st.sources)
	if len(st.sources) != 1 || st.sources[0] != "jobcomp" {
		t.Errorf("sources reported after jobcomp2 was removed: %v, want [jobcomp]", st.sources)
	}

	// The removed source holds nothing back: a job that ends after the
	// reload is counted in full.
	reloaded := time.Now().UTC()
	eventually(t, 10*time.Second, 100*time.Millisecond, "time to pass the job's end", func() (bool, string) {
		return time.Since(reloaded) > 3*time.Second, "waiting"
	})
	start, end := reloaded.Add(time.Second).Truncate(time.Second), reloaded.Add(3*time.Second).Truncate(time.Second)
	line := strings.NewReplacer("JobId=1 ", "JobId=900 ", "Name=lj melt 1 ", "Name=after reload ").Replace(jobcompLine(1))
	before := p.mustMetrics().sum("scmon_allocated_core_seconds_total", nil)[""]
	cores, _ := jobcompShape(1)
	want := int64(end.Sub(start)/time.Second) * cores
	line = strings.Replace(line, "StartTime=2026-11-20T10:01:00 EndTime=2026-11-20T10:02:07", "StartTime="+start.Format(sacctTime)+" EndTime="+end.Format(sacctTime), 1)
	appendTo(t, jobcomp, line)
	var got float64
	eventually(t, 10*time.Second, 100*time.Millisecond, "the job after the reload to be counted", func() (bool, string) {
		got = p.mustMetrics().sum("scmon_allocated_core_seconds_total", nil)[""] - before
		return got >= float64(want), fmt.Sprintf("%v of %d core-seconds counted", got, want)
	})
	if got != float64(want) {
		t.Errorf("job after the reload: %v core-seconds counted, want %d", got, want)
	}
}

// expectedError reads the "# error: " first line of a bad configuration.
func expectedError(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	want, ok := strings.CutPrefix(sc.Text(), "# error: ")
	if !ok || want == "" {
		t.Fatalf("%s does not start with a '# error: <expected text>' line", path)
	}
	return want
}
