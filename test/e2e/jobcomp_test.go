package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// jobcompLine is one jobcomp/filetxt line as slurmctld 22.05 writes it
// (see slurm/jobcomp.log of scripts/testenv), for job id of the rotlab
// cluster: 1 + id%8 cores for 60 + 7*id seconds, with a Name holding
// spaces.
func jobcompLine(id int) string {
	cores, dur := jobcompShape(id)
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Minute)
	end := start.Add(time.Duration(dur) * time.Second)
	ts := func(t time.Time) string { return t.Format(sacctTime) }
	return fmt.Sprintf("JobId=%d UserId=carol(1003) GroupId=carol(1003) Name=lj melt %d JobState=COMPLETED Partition=cpu TimeLimit=60 "+
		"StartTime=%s EndTime=%s NodeList=n5 NodeCnt=1 ProcCnt=%d WorkDir=/srv/md ReservationName= Tres=cpu=%d,mem=1000M,node=1,billing=%d "+
		"Account=physics QOS=normal WcKey= Cluster=rotlab SubmitTime=%s EligibleTime=%s DerivedExitCode=0:0 ExitCode=0:0 \n",
		id, id, ts(start), ts(end), cores, cores, cores, ts(start.Add(-time.Minute)), ts(start.Add(-time.Minute)))
}

func jobcompShape(id int) (cores, seconds int64) { return int64(1 + id%8), int64(60 + 7*id) }

// jobcompLines returns the lines of jobs first..last.
func jobcompLines(first, last int) string {
	var b strings.Builder
	for id := first; id <= last; id++ {
		b.WriteString(jobcompLine(id))
	}
	return b.String()
}

func appendTo(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestJobcompRotation has the daemon tail a jobcomp log that is appended
// to (with a line written in two parts), rotated by renaming it and
// starting a new file (with the writer still appending to the old one for
// a moment), copied and truncated (logrotate's copytruncate), truncated
// with no copy, and read across a restart: every job is counted exactly
// once, in the job API and in the counters.
func TestJobcompRotation(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	logDir := filepath.Join(tmp, "log")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(logDir, "jobcomp.log")
	config := filepath.Join(tmp, "scmon.yml")
	writeFile(t, config, fmt.Sprintf(`cluster: rotlab
timezone: UTC
data_dir: %s
sources:
  - name: jobcomp
    kind: tail
    format: slurm-jobcomp
    path: %s
    interval: 200ms
metrics:
  windows: [1h]
`, filepath.Join(tmp, "data"), log), 0o644)

	var p *scmonProc
	// expect waits until the daemon holds exactly jobs 1..n, each once,
	// and its counters say so to the second.
	expect := func(n int, phase string) {
		t.Helper()
		var want int64
		for id := 1; id <= n; id++ {
			c, s := jobcompShape(id)
			want += c * s
		}
		var got float64
		var ids []string
		eventually(t, 20*time.Second, 100*time.Millisecond, phase, func() (bool, string) {
			if p.exited() {
				t.Fatalf("scmon exited: %v", p.err)
			}
			s, err := p.metrics()
			if err != nil {
				return false, err.Error()
			}
			got = s.sum("scmon_allocated_core_seconds_total", map[string]string{"cluster": "rotlab"})[""]
			return got >= float64(want), fmt.Sprintf("%v core-seconds, want %d", got, want)
		})
		jobs := p.jobs(time.Time{})
		ids = ids[:0]
		for id := range jobs {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { a, _ := strconv.Atoi(ids[i]); b, _ := strconv.Atoi(ids[j]); return a < b })
		if len(jobs) != n {
			t.Errorf("%s: %d jobs stored (%v), want jobs 1 to %d", phase, len(jobs), ids, n)
		}
		for id := 1; id <= n; id++ {
			if _, ok := jobs[strconv.Itoa(id)]; !ok {
				t.Errorf("%s: job %d missing", phase, id)
			}
		}
		if got != float64(want) {
			t.Errorf("%s: %v allocated core-seconds, want %d", phase, got, want)
		}
		t.Logf("%s: jobs 1 to %d stored once each, %d core-seconds", phase, n, want)
	}

	writeFile(t, log, jobcompLines(1, 5), 0o644)
	p = startScmon(t, tmp, config, nil)
	p.waitReady(30 * time.Second)
	expect(5, "initial log")

	// Appended, the last line in two writes.
	line8 := jobcompLine(8)
	appendTo(t, log, jobcompLines(6, 7)+line8[:40])
	expect(7, "appended, a line half written")
	appendTo(t, log, line8[40:])
	expect(8, "the half line completed")

	// Renamed away and replaced; the writer appends one more line to the
	// old file before it reopens the path.
	appendTo(t, log, jobcompLines(9, 10))
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, log, "", 0o644)
	appendTo(t, log+".1", jobcompLine(11))
	expect(11, "rotated by rename, old file still written")
	appendTo(t, log, jobcompLines(12, 13))
	expect(13, "new file after rotation")

	// copytruncate: lines written just before the copy are read from it.
	appendTo(t, log, jobcompLines(14, 15))
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, log+".2", string(b), 0o644)
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, log, jobcompLines(16, 17))
	expect(17, "copied and truncated")

	// Truncated with no copy kept, then new lines.
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, log, jobcompLine(18))
	expect(18, "truncated")

	// A restart resumes from the stored offset.
	p.stop()
	appendTo(t, log, jobcompLines(19, 20))
	p = startScmon(t, tmp, config, nil)
	p.waitReady(30 * time.Second)
	expect(20, "after a restart")

	s := p.mustMetrics()
	if v, _ := s.value("scmon_records_total", map[string]string{"source": "jobcomp", "result": "stored"}); v != 2 {
		t.Errorf("after the restart %v records stored, want the 2 new ones", v)
	}
	logs := readLogs(t, tmp)
	for _, event := range []string{"tail_rotated", "tail_truncated"} {
		if !strings.Contains(logs, event) {
			t.Errorf("no %s in the logs: the case was not exercised", event)
		}
	}
}

// readLogs returns the logs of every scmon process of a test directory.
func readLogs(t testing.TB, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "scmon-*.log"))
	var b strings.Builder
	for _, f := range files {
		s, _ := os.ReadFile(f)
		b.Write(s)
	}
	return b.String()
}
