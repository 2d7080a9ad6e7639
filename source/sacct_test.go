package source

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/internal/runner"
	"github.com/scmon/scmon/job"
)

// fakeSacct is a stand-in sacct (testdata/fake-sacct.sh) in a private
// directory, with its "database" and mode files.
type fakeSacct struct {
	t    *testing.T
	dir  string
	path string
}

func newFakeSacct(t *testing.T) *fakeSacct {
	t.Helper()
	dir := t.TempDir()
	f := &fakeSacct{t: t, dir: dir, path: filepath.Join(dir, "sacct")}
	copyFile(t, filepath.Join("testdata", "fake-sacct.sh"), f.path, 0o755)
	return f
}

// db makes a fixture of testdata/sacct the accounting database.
func (f *fakeSacct) db(fixture string) {
	copyFile(f.t, filepath.Join("testdata", "sacct", fixture), filepath.Join(f.dir, "db.psv"), 0o644)
}

func (f *fakeSacct) mode(m string) { writeFile(f.t, filepath.Join(f.dir, "mode"), m) }

// calls returns how many times the stand-in ran.
func (f *fakeSacct) calls() int {
	n := 0
	for {
		if _, err := os.Stat(filepath.Join(f.dir, "call-"+strconv.Itoa(n+1)+".argv")); err != nil {
			return n
		}
		n++
	}
}

// argv returns the arguments of call n (from 1).
func (f *fakeSacct) argv(n int) []string {
	b, err := os.ReadFile(filepath.Join(f.dir, "call-"+strconv.Itoa(n)+".argv"))
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// env returns what call n saw of TZ, SLURM_TIME_FORMAT and SLURM_CONF.
func (f *fakeSacct) env(n int) string {
	b, err := os.ReadFile(filepath.Join(f.dir, "call-"+strconv.Itoa(n)+".env"))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// clock is a settable test clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// poller returns a Sacct running the stand-in, with a settable clock.
func (f *fakeSacct) poller(cfg SacctConfig, c *clock) *Sacct {
	f.t.Helper()
	cfg.Client.Path = f.path
	cfg.Client.Env = append(cfg.Client.Env, "FAKE_SACCT_DIR="+f.dir)
	if cfg.Client.Timeout == 0 {
		cfg.Client.Timeout = 10 * time.Second
	}
	cfg.Now = c.Now
	s, err := NewSacct(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

var sacctFormat = "--format=" + strings.Join(collector.DefaultSacctFields, ",")

func TestSacctArgvAndEnvironment(t *testing.T) {
	t.Setenv("TZ", "Asia/Shanghai")
	t.Setenv("SLURM_TIME_FORMAT", "relative")
	t.Setenv("SLURM_CONF", "/etc/slurm/fake.conf")
	f := newFakeSacct(t)
	f.db("lab-running.psv")
	c := &clock{ts("2026-11-28T18:05:00.700Z")}
	s := f.poller(SacctConfig{}, c)
	if _, err := s.Poll(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"--allusers", "--parsable2", "--noheader", "--duplicates",
		"--starttime", "2026-11-28T17:05:00", "--endtime", "2026-11-28T18:05:00", sacctFormat}
	if got := f.argv(1); !slices.Equal(got, want) {
		t.Errorf("argv\n got %q\nwant %q", got, want)
	}
	if got, want := f.env(1), "TZ=UTC\nSLURM_TIME_FORMAT=standard\nSLURM_CONF=/etc/slurm/fake.conf\n"; got != want {
		t.Errorf("environment\n got %q\nwant %q", got, want)
	}

	// A cluster filter goes before the window.
	f2 := newFakeSacct(t)
	s2 := f2.poller(SacctConfig{Clusters: []string{"scmonlab", "other"}, Start: ts("2026-11-28T18:00:00Z")}, c)
	if _, err := s2.Poll(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	want = []string{"--allusers", "--parsable2", "--noheader", "--duplicates", "--clusters=scmonlab,other",
		"--starttime", "2026-11-28T18:00:00", "--endtime", "2026-11-28T18:05:00", sacctFormat}
	if got := f2.argv(1); !slices.Equal(got, want) {
		t.Errorf("argv with clusters\n got %q\nwant %q", got, want)
	}
}

func TestSacctWindow(t *testing.T) {
	now := ts("2026-11-28T12:00:00.250Z")
	cursor := func(w string) []byte { return []byte(`{"watermark":"` + w + `"}`) }
	tests := []struct {
		name     string
		cfg      SacctConfig
		cursor   []byte
		from, to string
		reaches  bool
	}{
		{"first poll, default start", SacctConfig{}, nil, "2026-11-28T11:00:00Z", "2026-11-28T12:00:00Z", true},
		{"first poll, configured start: no overlap, bounded chunk",
			SacctConfig{Start: ts("2026-11-25T00:00:00Z")}, nil, "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z", false},
		{"steady state", SacctConfig{}, cursor("2026-11-28T11:59:00Z"), "2026-11-28T11:49:00Z", "2026-11-28T12:00:00Z", true},
		{"catch-up after two days down", SacctConfig{}, cursor("2026-11-26T10:00:00Z"), "2026-11-26T09:50:00Z", "2026-11-27T10:00:00Z", false},
		{"last chunk reaches now exactly", SacctConfig{}, cursor("2026-11-27T12:00:00Z"), "2026-11-27T11:50:00Z", "2026-11-28T12:00:00Z", true},
		{"custom overlap and chunk", SacctConfig{Overlap: 2 * time.Hour, Chunk: time.Hour},
			cursor("2026-11-28T07:00:00Z"), "2026-11-28T05:00:00Z", "2026-11-28T08:00:00Z", false},
		{"clock went back: the watermark never moves back", SacctConfig{}, cursor("2026-11-28T13:00:00Z"), "2026-11-28T12:50:00Z", "2026-11-28T13:00:00Z", true},
		{"settle keeps the end behind the clock", SacctConfig{Settle: 30 * time.Second}, cursor("2026-11-28T11:59:00Z"), "2026-11-28T11:49:00Z", "2026-11-28T11:59:30Z", true},
		{"the overlap never reaches back before a configured start", SacctConfig{Start: ts("2026-11-28T11:55:00Z")},
			cursor("2026-11-28T11:59:00Z"), "2026-11-28T11:55:00Z", "2026-11-28T12:00:00Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Now = func() time.Time { return now }
			s, err := NewSacct(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			from, to, reaches, err := s.Window(tt.cursor)
			if err != nil {
				t.Fatal(err)
			}
			if !from.Equal(ts(tt.from)) || !to.Equal(ts(tt.to)) || reaches != tt.reaches {
				t.Errorf("window [%s, %s) reaches now %v; want [%s, %s) %v", from.Format(time.RFC3339), to.Format(time.RFC3339), reaches, tt.from, tt.to, tt.reaches)
			}
		})
	}
}

// A catch-up over three days of history goes in chunks, each window
// overlapping the one before, with More until the window reaches now and
// pending jobs only from that last window.
func TestSacctCatchUp(t *testing.T) {
	f := newFakeSacct(t)
	f.db("history.psv")
	c := &clock{ts("2026-11-03T12:00:00Z")}
	s := f.poller(SacctConfig{Start: ts("2026-11-01T00:00:00Z")}, c)

	type poll struct {
		from, to string
		more     bool
		records  string
		pending  string
	}
	want := []poll{
		{"2026-11-01T00:00:00", "2026-11-02T00:00:00", true, "101,102", ""},
		{"2026-11-01T23:50:00", "2026-11-03T00:00:00", true, "102,103,104,107,107", ""},
		{"2026-11-02T23:50:00", "2026-11-03T12:00:00", false, "105", "106"},
	}
	var cursor []byte
	all := map[string]*job.Record{}
	for i, w := range want {
		b, err := s.Poll(context.Background(), cursor)
		if err != nil {
			t.Fatalf("poll %d: %v", i+1, err)
		}
		argv := f.argv(i + 1)
		if got := [2]string{argv[5], argv[7]}; got != [2]string{w.from, w.to} {
			t.Errorf("poll %d: window %q, want [%s, %s)", i+1, got, w.from, w.to)
		}
		if b.More != w.more || !b.Complete.Equal(ts(w.to+"Z")) {
			t.Errorf("poll %d: More %v Complete %v; want %v %s", i+1, b.More, b.Complete, w.more, w.to)
		}
		if got := jobIDs(b.Records); got != w.records {
			t.Errorf("poll %d: records %s, want %s", i+1, got, w.records)
		}
		if w.more && b.Pending != nil {
			t.Errorf("poll %d: a catch-up chunk returned pending jobs %s", i+1, jobIDs(b.Pending))
		}
		if !w.more && (b.Pending == nil || jobIDs(b.Pending) != w.pending) {
			t.Errorf("poll %d: pending %v, want %s", i+1, b.Pending, w.pending)
		}
		for _, r := range b.Records {
			if strings.Contains(r.JobID, ".") {
				t.Errorf("poll %d: a step became a record: %s", i+1, r.JobID)
			}
			all[r.Key()] = r
		}
		cursor = b.Cursor
	}
	// Seven runs: the overlap re-read 102 under the same key, and the
	// requeued 107 counts twice, once per run.
	wantKeys := []string{
		"scmonlab/101/@20261101T100000", "scmonlab/102/@20261101T230000", "scmonlab/103/@20261102T090000",
		"scmonlab/104/@", "scmonlab/105/@20261103T080000",
		"scmonlab/107/@20261102T140000", "scmonlab/107/@20261102T150500",
	}
	var gotKeys []string
	for k := range all {
		gotKeys = append(gotKeys, k)
	}
	slices.Sort(gotKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("keys\n got %q\nwant %q", gotKeys, wantKeys)
	}
	if r := all["scmonlab/104/@"]; r.State != job.StateCancelled || r.Started() {
		t.Errorf("104 (cancelled before start): %v started %v", r.State, r.Started())
	}
	if r := all["scmonlab/101/@20261101T100000"]; len(r.Steps) != 2 || r.Cores != 16 || r.Nodes != 2 {
		t.Errorf("101: steps %v cores %d nodes %d", r.Steps, r.Cores, r.Nodes)
	}
	var cur sacctCursor
	if err := json.Unmarshal(cursor, &cur); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cur.Running, []string{"scmonlab/105"}) || !cur.RunningSince.Equal(ts("2026-11-03T08:00:00Z")) {
		t.Errorf("cursor %s", cursor)
	}

	// Caught up: the next poll is a steady-state one.
	c.now = c.now.Add(time.Minute)
	b, err := s.Poll(context.Background(), cursor)
	if err != nil {
		t.Fatal(err)
	}
	if argv := f.argv(4); argv[5] != "2026-11-03T11:50:00" || argv[7] != "2026-11-03T12:01:00" || b.More {
		t.Errorf("steady poll: window %s..%s More %v", argv[5], argv[7], b.More)
	}
}

// A running job and then its completed version come out under one Key;
// the job cancelled while pending moves from Pending to Records.
func TestSacctRunningThenCompleted(t *testing.T) {
	f := newFakeSacct(t)
	f.db("lab-running.psv")
	c := &clock{ts("2026-11-28T18:03:30Z")}
	s := f.poller(SacctConfig{Start: ts("2026-11-28T18:00:00Z")}, c)

	b1, err := s.Poll(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jobIDs(b1.Records), "7,8,10,11,12"; got != want {
		t.Errorf("records %s, want %s", got, want)
	}
	if got, want := jobIDs(b1.Pending), "9,13_[1-3]"; got != want {
		t.Errorf("pending %s, want %s", got, want)
	}
	r1 := byJob(b1.Records)
	train := r1["7"]
	// Slurm 22.05 stores the job comment in accounting only when the job
	// ends: a running job shows none.
	if !train.Running() || train.Cores != 2 || train.AccelCount("gpu") != 2 || train.Comment != "" {
		t.Errorf("7: running %v cores %d gpus %d comment %q", train.Running(), train.Cores, train.AccelCount("gpu"), train.Comment)
	}
	if len(train.Steps) != 2 || train.Steps[1].Name != "torchrun" || train.Steps[1].Command != "srun --ntasks=1 -J torchrun sleep 25" {
		t.Errorf("7: steps %+v", train.Steps)
	}
	if n := r1["10"].AccelCount("npu"); n != 2 {
		t.Errorf("10: %d NPUs, want 2", n)
	}
	if !b1.Complete.Equal(ts("2026-11-28T18:03:30Z")) || b1.More {
		t.Errorf("Complete %v More %v", b1.Complete, b1.More)
	}

	f.db("lab-ended.psv")
	c.now = ts("2026-11-28T18:04:00Z")
	b2, err := s.Poll(context.Background(), b1.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	r2 := byJob(b2.Records)
	for _, id := range []string{"7", "8"} {
		before, after := r1[id], r2[id]
		if after == nil || after.Key() != before.Key() {
			t.Fatalf("job %s: key %q, then %v", id, before.Key(), after)
		}
		if after.State != job.StateCompleted || after.End.IsZero() {
			t.Errorf("job %s: %v end %v", id, after.State, after.End)
		}
	}
	if got := r2["7"].Comment; got != "llama finetune" {
		t.Errorf("7 ended: comment %q", got)
	}
	if r := r2["9"]; r == nil || r.Started() || r.State != job.StateCancelled {
		t.Errorf("9 (cancelled while pending) = %+v", r)
	}
	if b2.Pending == nil || len(b2.Pending) != 0 {
		t.Errorf("pending %v: want an empty, non-nil set", b2.Pending)
	}
	if got, want := jobIDs(b2.Records), "7,8,9,10,11,12,13_1,13_2,13_3"; got != want {
		t.Errorf("records %s, want %s", got, want)
	}
	if string(b2.Cursor) != `{"watermark":"2026-11-28T18:04:00Z"}` {
		t.Errorf("cursor %s", b2.Cursor)
	}
}

// An allocation seen running whose end was written after the next window
// had passed it is fetched by id; one sacct no longer knows is reported.
func TestSacctChasesVanishedRunningJobs(t *testing.T) {
	f := newFakeSacct(t)
	f.db("lab-ended.psv")
	c := &clock{ts("2026-11-28T19:05:00Z")}
	s := f.poller(SacctConfig{}, c)
	cursor := []byte(`{"watermark":"2026-11-28T19:00:00Z","running":["scmonlab/7","scmonlab/999"],"running_since":"2026-11-28T18:03:18Z"}`)
	b, err := s.Poll(context.Background(), cursor)
	if err != nil {
		t.Fatal(err)
	}
	if f.calls() != 2 {
		t.Fatalf("%d sacct calls, want the window and one chase", f.calls())
	}
	want := []string{"--allusers", "--parsable2", "--noheader", "--duplicates", "--clusters=scmonlab", "--jobs=7,999",
		"--starttime", "2026-11-28T18:03:18", "--endtime", "2026-11-28T19:05:00", sacctFormat}
	if got := f.argv(2); !slices.Equal(got, want) {
		t.Errorf("chase argv\n got %q\nwant %q", got, want)
	}
	if jobIDs(b.Records) != "7" || b.Records[0].State != job.StateCompleted || b.Records[0].Key() != "scmonlab/7/@20261128T180318" {
		t.Errorf("records %s", jobIDs(b.Records))
	}
	if b.Notes["running_chased"] != 2 || b.Notes["running_lost"] != 1 {
		t.Errorf("notes %v", b.Notes)
	}
	if len(b.Errors) != 1 || !strings.Contains(b.Errors[0], "scmonlab/999") {
		t.Errorf("errors %q", b.Errors)
	}
	if string(b.Cursor) != `{"watermark":"2026-11-28T19:05:00Z"}` {
		t.Errorf("cursor %s", b.Cursor)
	}
}

// A sacct that hangs fails the poll within its timeout, with its whole
// process group killed; the next poll from the same cursor recovers.
func TestSacctHangThenRecovery(t *testing.T) {
	f := newFakeSacct(t)
	f.db("lab-ended.psv")
	f.mode("hang")
	c := &clock{ts("2026-11-28T18:05:00Z")}
	timeout := 500 * time.Millisecond
	s := f.poller(SacctConfig{Client: SlurmClient{Timeout: timeout}, Start: ts("2026-11-28T18:00:00Z")}, c)

	start := time.Now()
	b, err := s.Poll(context.Background(), nil)
	elapsed := time.Since(start)
	var re *runner.Error
	if b != nil || !errors.As(err, &re) || !re.TimedOut {
		t.Fatalf("Poll = %v, %v; want a timeout", b, err)
	}
	if elapsed > timeout+time.Second {
		t.Errorf("poll returned after %v with a %v timeout", elapsed, timeout)
	}
	if !strings.Contains(err.Error(), "source sacct: run "+f.path+" --allusers") || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("message %q", err)
	}
	for _, name := range []string{"child.pid", "grandchild.pid"} {
		b, err := os.ReadFile(filepath.Join(f.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		waitGone(t, pid)
	}

	f.mode("ok")
	b, err = s.Poll(context.Background(), nil)
	if err != nil {
		t.Fatalf("recovery: %v", err)
	}
	if len(b.Records) != 9 {
		t.Errorf("recovery: %d records", len(b.Records))
	}
}

// A sacct that fails says why, and the next poll recovers.
func TestSacctFailureThenRecovery(t *testing.T) {
	f := newFakeSacct(t)
	f.db("lab-ended.psv")
	f.mode("fail")
	c := &clock{ts("2026-11-28T18:05:00Z")}
	s := f.poller(SacctConfig{Start: ts("2026-11-28T18:00:00Z")}, c)
	cursor := []byte(`{"watermark":"2026-11-28T18:04:00Z"}`)
	b, err := s.Poll(context.Background(), cursor)
	if b != nil || err == nil {
		t.Fatalf("Poll = %v, %v", b, err)
	}
	for _, want := range []string{"source sacct", "exit status 1", "stderr: sacct: error: Problem talking to the database: Connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	f.mode("ok")
	b, err = s.Poll(context.Background(), cursor)
	if err != nil || len(b.Records) != 9 {
		t.Fatalf("recovery: %v, %v", b, err)
	}
}

// Lines that cannot be read are counted and quoted; the poll goes on.
func TestSacctGarbageLines(t *testing.T) {
	f := newFakeSacct(t)
	f.db("lab-ended.psv")
	f.mode("garbage")
	c := &clock{ts("2026-11-28T18:05:00Z")}
	s := f.poller(SacctConfig{Start: ts("2026-11-28T18:00:00Z")}, c)
	b, err := s.Poll(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 9 {
		t.Errorf("%d records, want the 9 good ones", len(b.Records))
	}
	want := map[string]int64{collector.ReasonFieldCount: 1, collector.ReasonTime: 1}
	if len(b.Skipped) != len(want) || b.Skipped[collector.ReasonFieldCount] != 1 || b.Skipped[collector.ReasonTime] != 1 {
		t.Errorf("skipped %v, want %v", b.Skipped, want)
	}
	if len(b.Errors) != 2 || !strings.HasPrefix(b.Errors[0], "sacct:1: ") || !strings.HasPrefix(b.Errors[1], "sacct:3: field Submit") {
		t.Errorf("errors %q", b.Errors)
	}
}

func TestSacctConfigAndCursorErrors(t *testing.T) {
	bad := []struct {
		cfg  SacctConfig
		want string
	}{
		{SacctConfig{Overlap: -time.Minute}, "overlap -1m0s is negative"},
		{SacctConfig{Chunk: -time.Minute}, "chunk -1m0s is negative"},
		{SacctConfig{Settle: -time.Second}, "settle -1s is negative"},
		{SacctConfig{Client: SlurmClient{Timeout: -time.Second}}, "timeout -1s is negative"},
		{SacctConfig{Clusters: []string{"a,b"}}, `cluster name "a,b"`},
	}
	for _, tt := range bad {
		if _, err := NewSacct(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSacct(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
	s, err := NewSacct(SacctConfig{Client: SlurmClient{Path: "/nonexistent/sacct"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, cursor := range []string{`{"watermark":`, `{}`, `{"watermark":"2026-11-28T18:00:00Z","extra":1}`} {
		if _, err := s.Poll(context.Background(), []byte(cursor)); err == nil || !strings.Contains(err.Error(), "decode cursor") {
			t.Errorf("cursor %s: %v", cursor, err)
		}
	}
	if _, err := s.Poll(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/sacct") {
		t.Errorf("missing program: %v", err)
	}
}

// waitGone fails unless pid is dead (or a zombie) within a second.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X') {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("process %d still running", pid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
