package collector

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// jobcompView is the part of a record the jobcomp tests check; times are
// RFC 3339 in UTC ("" for a zero time).
type jobcompView struct {
	JobID, RawID, User, Group, Account, Partition, QOS, WCKey, Cluster, Name, WorkDir string
	State                                                                             job.State
	ExitCode                                                                          string
	Submit, Start, End                                                                string
	Timelimit                                                                         time.Duration
	Unlimited                                                                         bool
	Nodes, Cores                                                                      int64
	Accels                                                                            string
	Billing                                                                           float64
	NodeList                                                                          string
}

func jobcompViewOf(r *job.Record) jobcompView {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	var acc []string
	for _, a := range r.Accels {
		acc = append(acc, a.Name+":"+a.Type+"="+strconv.FormatInt(a.Count, 10))
	}
	return jobcompView{
		JobID: r.JobID, RawID: r.RawID, User: r.User, Group: r.Group, Account: r.Account, Partition: r.Partition,
		QOS: r.QOS, WCKey: r.WCKey, Cluster: r.Cluster, Name: r.Name, WorkDir: r.WorkDir,
		State: r.State, ExitCode: r.ExitCode,
		Submit: ts(r.Submit), Start: ts(r.Start), End: ts(r.End),
		Timelimit: r.Timelimit, Unlimited: r.Unlimited, Nodes: r.Nodes, Cores: r.Cores,
		Accels: strings.Join(acc, ","), Billing: r.Billing, NodeList: r.NodeList,
	}
}

// jobcompOpen reads a fixture through Open with times in loc.
func jobcompOpen(t *testing.T, path string, loc *time.Location) ([]*job.Record, []*LineError) {
	t.Helper()
	r, c, err := Open("slurm-jobcomp", path, Options{Name: path, Location: loc, Cluster: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return drain(t, r)
}

func TestJobcompFormatRegistered(t *testing.T) {
	if f, ok := LookupFormat("slurm-jobcomp"); !ok || f.Directories || f.WindowFromSubmit {
		t.Fatalf("LookupFormat(slurm-jobcomp) = %+v, %v", f, ok)
	}
}

func TestJobcompReaderRecords(t *testing.T) {
	const (
		lab   = "testdata/jobcomp/lab-jobcomp.txt"
		vlsci = "testdata/jobcomp/vlsci-jobcomp-filetxt.log"
		edge  = "testdata/jobcomp/edge-cases.txt"
		long  = "testdata/jobcomp/long-name.txt"
	)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		loc  *time.Location
		id   string
		want jobcompView
	}{
		{"typed GPU request", lab, time.UTC, "2", jobcompView{
			JobID: "2", User: "alice", Group: "alice", Account: "ai", Partition: "gpu", QOS: "normal", Cluster: "lab",
			Name: "vllm_serve", WorkDir: "/srv/lab/jobs/alice", State: job.StateCancelled, ExitCode: "0:0",
			Submit: "2026-11-28T16:56:28Z", Start: "2026-11-28T16:56:28Z", End: "2026-11-28T16:56:32Z",
			Timelimit: 30 * time.Minute, Nodes: 1, Cores: 2, Accels: "gpu:h100=1", Billing: 2, NodeList: "n1"}},
		{"held job never ran", lab, time.UTC, "8", jobcompView{
			JobID: "8", User: "bob", Group: "bob", Account: "ai", Partition: "cpu", QOS: "normal", Cluster: "lab",
			Name: "held_job", WorkDir: "/srv/lab/jobs/bob", State: job.StateCancelled, ExitCode: "0:0",
			Submit: "2026-11-28T16:56:28Z", Timelimit: 5 * time.Minute, Billing: 1}},
		{"array task", lab, time.UTC, "3_0", jobcompView{
			JobID: "3_0", RawID: "9", User: "bob", Group: "bob", Account: "ai", Partition: "gpu", QOS: "normal", Cluster: "lab",
			Name: "train_llama_sweep", WorkDir: "/srv/lab/jobs/bob", State: job.StateCompleted, ExitCode: "0:0",
			Submit: "2026-11-28T16:56:28Z", Start: "2026-11-28T16:56:28Z", End: "2026-11-28T16:56:33Z",
			Timelimit: 5 * time.Minute, Nodes: 1, Cores: 1, Accels: "gpu:=1", Billing: 1, NodeList: "n1"}},
		{"array task whose JobId is the array's", lab, time.UTC, "3_3", jobcompView{
			JobID: "3_3", RawID: "3", User: "bob", Group: "bob", Account: "ai", Partition: "gpu", QOS: "normal", Cluster: "lab",
			Name: "train_llama_sweep", WorkDir: "/srv/lab/jobs/bob", State: job.StateCompleted, ExitCode: "0:0",
			Submit: "2026-11-28T16:56:28Z", Start: "2026-11-28T16:56:34Z", End: "2026-11-28T16:56:45Z",
			Timelimit: 5 * time.Minute, Nodes: 1, Cores: 1, Accels: "gpu:=1", Billing: 1, NodeList: "n1"}},
		{"timed out two-node job", lab, time.UTC, "6", jobcompView{
			JobID: "6", User: "carol", Group: "carol", Account: "physics", Partition: "cpu", QOS: "normal", Cluster: "lab",
			Name: "wrf_run", WorkDir: "/srv/lab/jobs/carol", State: job.StateTimeout, ExitCode: "0:0",
			Submit: "2026-11-28T16:56:28Z", Start: "2026-11-28T16:56:28Z", End: "2026-11-28T16:57:51Z",
			Timelimit: time.Minute, Nodes: 1, Cores: 4, Billing: 4, NodeList: "n3"}},
		{"2014 release: name with ';' and a trailing blank, nodes from NodeList", vlsci, time.UTC, "1677806.bruce-m", jobcompView{
			JobID: "1677806.bruce-m", User: "aisaac", Group: "vlsci", Account: "vlsci", Partition: "main", Cluster: "default",
			Name: "hostname; echo ", State: job.StateFailed,
			Submit: "2014-03-11T11:16:42Z", Start: "2014-03-11T11:16:42Z", End: "2014-03-11T11:16:46Z",
			Timelimit: 30 * 24 * time.Hour, Nodes: 41, Cores: 320, NodeList: "bruce[033-073]"}},
		{"2014 release: name with '$' and blanks", vlsci, time.UTC, "1677810.bruce-m", jobcompView{
			JobID: "1677810.bruce-m", User: "aisaac", Group: "vlsci", Account: "vlsci", Partition: "main", Cluster: "default",
			Name: "echo $HOSTNAME $SLURM_JOBID", State: job.StateCompleted,
			Submit: "2014-03-11T11:19:47Z", Start: "2014-03-11T11:19:47Z", End: "2014-03-11T11:19:48Z",
			Timelimit: 10 * time.Minute, Nodes: 1, Cores: 2, NodeList: "bruce006"}},
		{"name and work dir with blanks and '='", edge, berlin, "101", jobcompView{
			JobID: "101", User: "dana", Group: "ml", Account: "ml", Partition: "gpu", QOS: "normal", WCKey: "llm", Cluster: "alpine",
			Name: "sweep lr=3e-4 bs=32", WorkDir: "/home/dana/my runs/a=b", State: job.StateCompleted, ExitCode: "0:0",
			Submit: "2024-03-10T08:55:00Z", Start: "2024-03-10T09:00:00Z", End: "2024-03-10T10:30:00Z",
			Timelimit: 2 * time.Hour, Nodes: 2, Cores: 16, Accels: "gpu:a100=8", Billing: 40, NodeList: "g[01-02]"}},
		{"a key already seen stays in the name; unknown trailing key", edge, berlin, "102", jobcompView{
			JobID: "102", User: "dana", Group: "ml", Account: "ml", Partition: "cpu", QOS: "normal", Cluster: "default",
			Name: "echo UserId=root", WorkDir: "/tmp", State: job.StateFailed, ExitCode: "1:0",
			Submit: "2024-03-10T10:59:00Z", Start: "2024-03-10T11:00:00Z", End: "2024-03-10T11:00:05Z",
			Unlimited: true, Nodes: 1, Cores: 1, NodeList: "c001"}},
		{"None assigned never ran", edge, berlin, "103", jobcompView{
			JobID: "103", User: "erik", Group: "phys", Account: "phys", Partition: "cpu", QOS: "normal", Cluster: "alpine",
			Name: "held", WorkDir: "/home/erik", State: job.StateCancelled, ExitCode: "0:0",
			Submit: "2024-03-10T11:30:00Z", Unlimited: true, Billing: 4}},
		{"heterogeneous component", edge, berlin, "103+1", jobcompView{
			JobID: "103+1", RawID: "104", User: "erik", Group: "phys", Account: "phys", Partition: "cpu", QOS: "normal", Cluster: "alpine",
			Name: "het", WorkDir: "/home/erik", State: job.StateCompleted, ExitCode: "0:0",
			Submit: "2024-03-10T12:59:00Z", Start: "2024-03-10T13:00:00Z", End: "2024-03-10T13:10:00Z",
			Timelimit: 30 * time.Minute, Nodes: 4, Cores: 128, Billing: 128, NodeList: "c[001-003,010]"}},
		{"end in the repeated hour of a daylight-saving fold", edge, berlin, "105", jobcompView{
			JobID: "105", User: "erik", Group: "phys", Account: "phys", Partition: "cpu", QOS: "normal", Cluster: "alpine",
			Name: "across the fold", WorkDir: "/home/erik", State: job.StateCompleted, ExitCode: "0:0",
			Submit: "2024-10-26T23:30:00Z", Start: "2024-10-27T00:50:00Z", End: "2024-10-27T01:10:00Z",
			Timelimit: time.Hour, Nodes: 1, Cores: 4, NodeList: "c004"}},
		{"old release after bad lines", edge, berlin, "114.old", jobcompView{
			JobID: "114.old", User: "fay", Group: "bio", Account: "bio", Partition: "main", Cluster: "default",
			Name: "after bad lines", State: job.StateTimeout,
			Submit: "2024-03-10T14:00:00Z", Start: "2024-03-10T15:00:00Z", End: "2024-03-11T15:00:10Z",
			Timelimit: 24 * time.Hour, Nodes: 5, Cores: 64, NodeList: "b[01-04],b10"}},
		{"line after a 106 KB line", long, berlin, "202", jobcompView{
			JobID: "202", User: "gus", Group: "ml", Account: "ml", Partition: "gpu", QOS: "normal", Cluster: "alpine",
			Name: "short", WorkDir: "/home/gus", State: job.StateCompleted, ExitCode: "0:0",
			Submit: "2024-03-10T08:59:00Z", Start: "2024-03-10T09:00:00Z", End: "2024-03-10T09:05:00Z",
			Timelimit: 10 * time.Minute, Nodes: 1, Cores: 2, Accels: "gpu:=1", Billing: 2, NodeList: "g03"}},
	}
	cache := map[string]map[string]*job.Record{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := cache[tt.file]
			if recs == nil {
				list, _ := jobcompOpen(t, tt.file, tt.loc)
				recs = map[string]*job.Record{}
				for _, r := range list {
					recs[r.JobID] = r
				}
				cache[tt.file] = recs
			}
			r := recs[tt.id]
			if r == nil {
				t.Fatalf("no record %s in %s", tt.id, tt.file)
			}
			if got := jobcompViewOf(r); got != tt.want {
				t.Errorf("record %s:\n got %+v\nwant %+v", tt.id, got, tt.want)
			}
		})
	}
}

func TestJobcompReaderLongLine(t *testing.T) {
	recs, bad := jobcompOpen(t, "testdata/jobcomp/long-name.txt", time.UTC)
	if len(bad) != 0 || len(recs) != 2 {
		t.Fatalf("got %d records, %v; want 2 records", len(recs), bad)
	}
	r := recs[0]
	if r.JobID != "201" || len(r.Name) != 105779 || !strings.HasPrefix(r.Name, "k0=v0 k1=v1 ") || !strings.HasSuffix(r.Name, " k8999=v8999") {
		t.Errorf("long record %s: name of %d bytes %.20q...; want job 201 with a 105779-byte name", r.JobID, len(r.Name), r.Name)
	}
	if r.State != job.StateCompleted || r.Cores != 2 || r.AccelCount("gpu") != 1 {
		t.Errorf("fields after the long name: state %v cores %d gpus %d", r.State, r.Cores, r.AccelCount("gpu"))
	}
}

func TestJobcompReaderCounts(t *testing.T) {
	tests := []struct {
		file             string
		records, skipped int
		folds            int
	}{
		{"testdata/jobcomp/lab-jobcomp.txt", 14, 0, 0},
		{"testdata/jobcomp/vlsci-jobcomp-filetxt.log", 177, 0, 0},
		{"testdata/jobcomp/edge-cases.txt", 6, 8, 1},
		{"testdata/jobcomp/long-name.txt", 2, 0, 0},
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			j := NewJobcompReader(bytes.NewReader(data), Options{Location: berlin})
			recs, bad := drain(t, j)
			if len(recs) != tt.records || len(bad) != tt.skipped || j.Notes()["dst_fold"] != tt.folds {
				t.Errorf("got %d records, %d skipped, notes %v; want %d, %d, dst_fold=%d", len(recs), len(bad), j.Notes(), tt.records, tt.skipped, tt.folds)
			}
		})
	}
}

func TestJobcompReaderLineErrors(t *testing.T) {
	const file = "testdata/jobcomp/edge-cases.txt"
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line          int
		field, reason string
	}{
		{6, "", ReasonRecord},
		{7, "StartTime", ReasonTime},
		{8, "ProcCnt", ReasonNumber},
		{9, "Tres", ReasonTRES},
		{10, "EndTime", ReasonOrder},
		{11, "JobId", ReasonID},
		{12, "NodeList", ReasonTRES},
		{13, "TimeLimit", ReasonTime},
	}
	recs, bad := jobcompOpen(t, file, berlin)
	if len(bad) != len(want) {
		t.Fatalf("got %d line errors, want %d: %v", len(bad), len(want), bad)
	}
	for i, w := range want {
		g := bad[i]
		if g.File != file || g.Line != w.line || g.Field != w.field || g.Reason != w.reason || g.Err == nil {
			t.Errorf("error %d = {%s %d %q %s %v}, want {%s %d %q %s}", i, g.File, g.Line, g.Field, g.Reason, g.Err, file, w.line, w.field, w.reason)
		}
	}
	if last := recs[len(recs)-1]; last.JobID != "114.old" || last.Line != 14 {
		t.Errorf("last record %s from line %d: reading did not go on after the bad lines", last.JobID, last.Line)
	}
}

func TestJobcompReaderInvalidUTF8(t *testing.T) {
	line := "JobId=1 UserId=al\xffice(1) Name=caf\xe9 JobState=COMPLETED StartTime=2024-03-10T10:00:00 EndTime=2024-03-10T10:01:00 NodeList=n1 NodeCnt=1 ProcCnt=1"
	j := NewJobcompReader(strings.NewReader(line), Options{})
	recs, bad := drain(t, j)
	if len(recs) != 1 || len(bad) != 0 {
		t.Fatalf("got %d records, %v", len(recs), bad)
	}
	if recs[0].User != "al\uFFFDice" || recs[0].Name != "caf\uFFFD" || j.Notes()["invalid_utf8"] != 2 {
		t.Errorf("user %q name %q notes %v, want repaired text and two notes", recs[0].User, recs[0].Name, j.Notes())
	}
}

func TestJobcompSplit(t *testing.T) {
	tests := []struct {
		name, line string
		want       map[string]string
	}{
		{"blanks and '=' in Name", "JobId=1 Name=a b=c d JobState=COMPLETED",
			map[string]string{"JobId": "1", "Name": "a b=c d", "JobState": "COMPLETED"}},
		{"repeated key stays in Name", "JobId=1 UserId=u(1) Name=x UserId=root y JobState=FAILED",
			map[string]string{"JobId": "1", "UserId": "u(1)", "Name": "x UserId=root y", "JobState": "FAILED"}},
		{"blank in NodeList", "JobId=1 NodeList=None assigned NodeCnt=0",
			map[string]string{"JobId": "1", "NodeList": "None assigned", "NodeCnt": "0"}},
		{"unknown key after a plain value", "JobId=1 JobState=X Future=a b ProcCnt=2",
			map[string]string{"JobId": "1", "JobState": "X", "ProcCnt": "2"}},
		{"unknown key inside WorkDir", "JobId=1 WorkDir=/a b=c ReservationName=",
			map[string]string{"JobId": "1", "WorkDir": "/a b=c", "ReservationName": ""}},
		{"empty values", "JobId=1 Name= JobState=",
			map[string]string{"JobId": "1", "Name": "", "JobState": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := NewJobcompReader(strings.NewReader(""), Options{})
			if err := j.split([]byte(tt.line)); err != nil {
				t.Fatal(err)
			}
			for i, k := range jobcompKeys {
				want, ok := tt.want[k]
				if got := string(j.vals[i]); got != want || (!ok && j.vals[i] != nil) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
	j := NewJobcompReader(strings.NewReader(""), Options{})
	if err := j.split([]byte("UserId=x JobId=1")); err == nil {
		t.Error("a line not starting with JobId= was accepted")
	}
}

func TestJobcompHostCount(t *testing.T) {
	good := map[string]int64{
		"n1": 1, "n[1-4]": 4, "c[001-004,010],g01": 6, "bruce[033-073]": 41, "rack[1-2]n[1-4]": 8, "b[01-04],b10": 5,
	}
	for in, want := range good {
		if got, err := jobcompHostCount([]byte(in)); err != nil || got != want {
			t.Errorf("jobcompHostCount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "n[1-x]", "n[4-1]", "n[1-2", "n]1[", "a,,b", "n[]"} {
		if _, err := jobcompHostCount([]byte(bad)); err == nil {
			t.Errorf("jobcompHostCount(%q): no error", bad)
		}
	}
}

func TestJobcompTimeLimit(t *testing.T) {
	tests := []struct {
		in        string
		want      time.Duration
		unlimited bool
	}{
		{"5", 5 * time.Minute, false},
		{"00:10:00", 10 * time.Minute, false},
		{"30-00:00:00", 30 * 24 * time.Hour, false},
		{"1-02:03:04", 26*time.Hour + 3*time.Minute + 4*time.Second, false},
		{"2:00:00", 2 * time.Hour, false},
		{"45:00", 45 * time.Minute, false},
		{"UNLIMITED", 0, true},
		{"Partition_Limit", 0, true},
	}
	for _, tt := range tests {
		got, unl, err := jobcompTimeLimit([]byte(tt.in))
		if err != nil || got != tt.want || unl != tt.unlimited {
			t.Errorf("jobcompTimeLimit(%q) = %v, %v, %v; want %v, %v", tt.in, got, unl, err, tt.want, tt.unlimited)
		}
	}
	for _, bad := range []string{"forever", "1-xx", "-5"} {
		if _, _, err := jobcompTimeLimit([]byte(bad)); err == nil {
			t.Errorf("jobcompTimeLimit(%q): no error", bad)
		}
	}
}

func BenchmarkJobcompReader(b *testing.B) {
	var data []byte
	for _, f := range []string{"lab-jobcomp.txt", "vlsci-jobcomp-filetxt.log"} {
		d, err := os.ReadFile(filepath.Join("testdata/jobcomp", f))
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d...)
	}
	data = bytes.Repeat(data, 20)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	records := 0
	for b.Loop() {
		r := NewJobcompReader(bytes.NewReader(data), Options{Location: time.UTC})
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			records++
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
