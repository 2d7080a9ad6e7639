package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin on machines without zone files

	"github.com/scmon/scmon/job"
)

// pbsView is the part of a record the PBS tests check, with times as Unix
// seconds (0 for a zero time) so that cases stay readable.
type pbsView struct {
	JobID, User, Group, Account, Partition, Name string
	State                                        job.State
	ExitCode                                     string
	Submit, Start, End                           int64
	Timelimit                                    time.Duration
	Nodes, Cores, GPUs                           int64
	NodeList                                     string
}

func pbsUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func pbsViewOf(r *job.Record) pbsView {
	return pbsView{
		JobID: r.JobID, User: r.User, Group: r.Group, Account: r.Account, Partition: r.Partition, Name: r.Name,
		State: r.State, ExitCode: r.ExitCode,
		Submit: pbsUnix(r.Submit), Start: pbsUnix(r.Start), End: pbsUnix(r.End),
		Timelimit: r.Timelimit, Nodes: r.Nodes, Cores: r.Cores, GPUs: r.AccelCount("gpu"),
		NodeList: r.NodeList,
	}
}

func pbsBerlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// pbsOpen reads a fixture through Open with times in Europe/Berlin.
func pbsOpen(t *testing.T, path string) ([]*job.Record, []*LineError) {
	t.Helper()
	r, c, err := Open("pbs", path, Options{Name: path, Location: pbsBerlin(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return drain(t, r)
}

func TestPBSFormatRegistered(t *testing.T) {
	f, ok := LookupFormat("pbs")
	if !ok || !f.Directories || f.WindowFromSubmit {
		t.Fatalf("LookupFormat(pbs) = %+v, %v; want a registered format that accepts directories", f, ok)
	}
}

func TestPBSReaderRecords(t *testing.T) {
	const (
		xdmod = "testdata/pbs/xdmod-pbs-accounting.log"
		vpac  = "testdata/pbs/vpac-torque-accounting.log"
		edge  = "testdata/pbs/edge-cases.log"
		long  = "testdata/pbs/long-exec-host.log"
	)
	h := time.Hour
	tests := []struct {
		name string
		file string
		key  string // JobID, or JobID/type when a job has several records
		want pbsView
	}{
		{"torque exec_host one core per slot", xdmod, "6.edge.ccr.buffalo.edu", pbsView{
			JobID: "6.edge.ccr.buffalo.edu", User: "jonesm", Group: "ccrstaff", Partition: "ccr", Name: "impi-hybrid",
			State: job.StateCompleted, ExitCode: "0", Submit: 1261424924, Start: 1261425023, End: 1261427220,
			Timelimit: 4 * h, Nodes: 4, Cores: 32, NodeList: "i02n33,i02n32,i02n31,i02n30"}},
		{"exec_host beats a default Resource_List.ncpus=1", xdmod, "6464684.anonhost", pbsView{
			JobID: "6464684.anonhost", User: "anonuser", Group: "anongroup", Account: "anonaccount", Partition: "default", Name: "anonjob",
			State: job.StateFailed, ExitCode: "1", Submit: 1415579756, Start: 1415589841, End: 1415599191,
			Timelimit: 24 * h, Nodes: 1, Cores: 4, NodeList: "n404"}},
		{"pbs pro exec_vnode ncpus", xdmod, "2994.pbs", pbsView{
			JobID: "2994.pbs", User: "anonuser", Group: "anongroup", Partition: "workq", Name: "anonjob",
			State: job.StateCompleted, ExitCode: "0", Submit: 1453756297, Start: 1453766281, End: 1453766437,
			Timelimit: 163 * time.Second, Nodes: 5, Cores: 65, NodeList: "c1,c2,c3,c4,c5"}},
		{"exec_host core ranges", xdmod, "2995.pbs", pbsView{
			JobID: "2995.pbs", User: "anonuser", Group: "anongroup", Partition: "anonq", Name: "anonjob",
			State: job.StateCompleted, ExitCode: "0", Submit: 1453756297, Start: 1453766281, End: 1453766437,
			Timelimit: 163 * time.Second, Nodes: 2, Cores: 12, NodeList: "c1,c2"}},
		{"torque gpus= in the nodes request, no exec_host", xdmod, "7904", pbsView{
			JobID: "7904", User: "ybsbu", Group: "caste", Account: "caste", Partition: "gpu", Name: "test-gpu-job-1",
			State: job.StateFailed, ExitCode: "1", Submit: 1485451423, Start: 1485451424, End: 1485459831,
			Timelimit: 96 * h, Nodes: 1, Cores: 28, GPUs: 1}},
		{"nodes request written into nodect", xdmod, "10711", pbsView{
			JobID: "10711", User: "ybsbu", Group: "caste", Account: "caste", Partition: "black", Name: "test-gpu-job-2",
			State: job.StateCompleted, ExitCode: "0", Submit: 1587912647, Start: 1588046353, End: 1588146353,
			Nodes: 1, Cores: 28, GPUs: 4, NodeList: "node0703"}},
		{"Resource_List.gpu is not a GPU count", xdmod, "10712", pbsView{
			JobID: "10712", User: "ybsbu", Group: "caste", Account: "caste", Partition: "black", Name: "test-gpu-job-3",
			State: job.StateCompleted, ExitCode: "0", Submit: 1587912657, Start: 1588046363, End: 1588146363,
			Timelimit: 96 * h, Nodes: 1, Cores: 28, NodeList: "node0703"}},
		{"several vnodes in one exec_vnode chunk, killed after 10:01:06 of 10:00:00", xdmod, "3073070.[hostname_1]", pbsView{
			JobID: "3073070.[hostname_1]", User: "[user_1]", Group: "[user_1]", Partition: "gpu", Name: "OOD-[hostname]_Jupyter_GPU",
			State: job.StateTimeout, ExitCode: "271", Submit: 1607291960, Start: 1607291966, End: 1607328038,
			Timelimit: 10 * h, Nodes: 1, Cores: 48, GPUs: 4, NodeList: "[hostname_2]"}},
		{"D then E is a cancelled job", vpac, "942260.tango-m.vpac.org", pbsView{
			JobID: "942260.tango-m.vpac.org", User: "philipn", Group: "monash", Account: "pMona0041", Partition: "run_3_days", Name: "pa_46",
			State: job.StateCancelled, ExitCode: "271", Submit: 1270123607, Start: 1270123611, End: 1270126712,
			Timelimit: 72 * h, Nodes: 1, Cores: 1, NodeList: "tango028"}},
		{"pbs pro exec_host count", vpac, "7.zulu.in.vpac.org", pbsView{
			JobID: "7.zulu.in.vpac.org", User: "cwest", Group: "systems", Partition: "workq", Name: "ping.batch",
			State: job.StateFailed, ExitCode: "1", Submit: 1417558439, Start: 1417558440, End: 1417559281,
			Nodes: 1, Cores: 4, NodeList: "zulu03"}},
		{"killed at the walltime limit", vpac, "8.zulu.in.vpac.org", pbsView{
			JobID: "8.zulu.in.vpac.org", User: "cwest", Group: "systems", Partition: "workq", Name: "ping.batch",
			State: job.StateTimeout, ExitCode: "271", Submit: 1417560372, Start: 1417560372, End: 1417564292,
			Timelimit: h, Nodes: 2, Cores: 2, NodeList: "zulu01,zulu02"}},
		{"quoted values and exec_vnode GPUs", edge, "100.pbs01", pbsView{
			JobID: "100.pbs01", User: "alice", Group: "ai", Account: "my project", Partition: "gpu", Name: "train llama 7b",
			State: job.StateCompleted, ExitCode: "0", Submit: 1710061200, Start: 1710064800, End: 1710072000,
			Timelimit: 4 * h, Nodes: 2, Cores: 16, GPUs: 4, NodeList: "g01,g02"}},
		{"unquoted name with blanks, torque gpus=, 144 h limit", edge, "101.torque01", pbsView{
			JobID: "101.torque01", User: "bob", Group: "phys", Partition: "batch", Name: "md run 3",
			State: job.StateCompleted, ExitCode: "0", Submit: 1710061200, Start: 1710068460, End: 1710075600,
			Timelimit: 144 * h, Nodes: 2, Cores: 64, GPUs: 4, NodeList: "n1,n2"}},
		{"array subjob", edge, "200[1].pbs01", pbsView{
			JobID: "200[1].pbs01", User: "carol", Group: "bio", Partition: "workq", Name: "sweep",
			State: job.StateCompleted, ExitCode: "0", Submit: 1710064800, Start: 1710068400, End: 1710075600,
			Timelimit: 4 * h, Nodes: 1, Cores: 4, NodeList: "c1"}},
		{"failed array subjob", edge, "200[2].pbs01", pbsView{
			JobID: "200[2].pbs01", User: "carol", Group: "bio", Partition: "workq", Name: "sweep",
			State: job.StateFailed, ExitCode: "2", Submit: 1710064800, Start: 1710068400, End: 1710079200,
			Timelimit: 4 * h, Nodes: 1, Cores: 4, NodeList: "c2"}},
		{"R record ends at its timestamp in Options.Location", edge, "300.pbs01/R", pbsView{
			JobID: "300.pbs01", User: "dave", Group: "chem", Partition: "workq", Name: "vasp",
			State: job.StateRequeued, Submit: 1710061200, Start: 1710075600, End: 1710081000,
			Timelimit: 10 * h, Nodes: 1, Cores: 16, NodeList: "n3"}},
		{"negative server exit code after a rerun", edge, "300.pbs01/E", pbsView{
			JobID: "300.pbs01", User: "dave", Group: "chem", Partition: "workq", Name: "vasp",
			State: job.StateFailed, ExitCode: "-11", Submit: 1710061200, Start: 1710082800, End: 1710090000,
			Timelimit: 10 * h, Nodes: 1, Cores: 16, NodeList: "n4"}},
		{"deleted GPU job", edge, "400.pbs01", pbsView{
			JobID: "400.pbs01", User: "erin", Group: "ai", Partition: "gpu", Name: "vllm_serve",
			State: job.StateCancelled, ExitCode: "271", Submit: 1710079200, Start: 1710082800, End: 1710091800,
			Timelimit: 8 * h, Nodes: 1, Cores: 4, GPUs: 1, NodeList: "g03"}},
		{"torque job over its walltime", edge, "401.torque01", pbsView{
			JobID: "401.torque01", User: "frank", Group: "phys", Partition: "batch", Name: "wrf",
			State: job.StateTimeout, ExitCode: "271", Submit: 1710079200, Start: 1710086400, End: 1710093600,
			Timelimit: 2 * h, Nodes: 1, Cores: 8, NodeList: "n5"}},
		{"start=0 never ran", edge, "402.pbs01", pbsView{
			JobID: "402.pbs01", User: "gina", Group: "bio", Partition: "workq", Name: "never",
			State: job.StateFailed, ExitCode: "-1", Submit: 1710086400,
			Timelimit: h, Nodes: 1, Cores: 2}},
		{"walltime in plain seconds, read after bad lines", edge, "600.pbs01", pbsView{
			JobID: "600.pbs01", User: "ivan", Group: "ai", Partition: "workq", Name: "after_bad",
			State: job.StateCompleted, ExitCode: "0", Submit: 1710093600, Start: 1710093600, End: 1710100800,
			Timelimit: h, Nodes: 1, Cores: 1, NodeList: "c9"}},
		{"record after a 120 KB line", long, "801.torque01", pbsView{
			JobID: "801.torque01", User: "kim", Group: "climate", Partition: "batch", Name: "post",
			State: job.StateCompleted, ExitCode: "0", Submit: 1710104400, Start: 1710109800, End: 1710109860,
			Timelimit: h, Nodes: 1, Cores: 1, NodeList: "node0001"}},
	}
	byFile := map[string]map[string]*job.Record{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := byFile[tt.file]
			if recs == nil {
				list, _ := pbsOpen(t, tt.file)
				recs = map[string]*job.Record{}
				for _, r := range list {
					recs[r.JobID] = r
					recs[r.JobID+"/"+r.StateRaw] = r
				}
				byFile[tt.file] = recs
			}
			rec := recs[tt.key]
			if rec == nil {
				t.Fatalf("no record %s in %s", tt.key, tt.file)
			}
			if got := pbsViewOf(rec); got != tt.want {
				t.Errorf("record %s:\n got %+v\nwant %+v", tt.key, got, tt.want)
			}
			if rec.Source != tt.file || rec.Line <= 0 {
				t.Errorf("record %s located at %s:%d", tt.key, rec.Source, rec.Line)
			}
		})
	}
}

func TestPBSReaderLongExecHost(t *testing.T) {
	recs, bad := pbsOpen(t, "testdata/pbs/long-exec-host.log")
	if len(bad) != 0 || len(recs) != 2 {
		t.Fatalf("got %d records and %v, want 2 records", len(recs), bad)
	}
	r := recs[0]
	if r.JobID != "800.torque01" || r.Cores != 320*32 || r.Nodes != 320 || r.Line != 1 {
		t.Errorf("long record: id %s cores %d nodes %d line %d; want 800.torque01, 10240, 320, 1", r.JobID, r.Cores, r.Nodes, r.Line)
	}
	if !strings.HasPrefix(r.NodeList, "node0001,node0002,") || strings.Count(r.NodeList, ",") != 319 {
		t.Errorf("node list %.40q... has %d commas, want 320 hosts", r.NodeList, strings.Count(r.NodeList, ","))
	}
}

func TestPBSReaderCounts(t *testing.T) {
	tests := []struct {
		file        string
		records     int
		skipped     int
		arrayParent int
	}{
		{"testdata/pbs/xdmod-pbs-accounting.log", 9, 0, 0},
		{"testdata/pbs/vpac-torque-accounting.log", 22, 0, 0},
		{"testdata/pbs/edge-cases.log", 10, 9, 1},
		{"testdata/pbs/long-exec-host.log", 2, 0, 0},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			f, err := os.Open(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p := NewPBSReader(f, Options{Name: tt.file, Location: pbsBerlin(t)})
			recs, bad := drain(t, p)
			if len(recs) != tt.records || len(bad) != tt.skipped {
				t.Errorf("got %d records and %d skipped lines, want %d and %d", len(recs), len(bad), tt.records, tt.skipped)
			}
			if p.Notes()["array_parent"] != tt.arrayParent {
				t.Errorf("notes %v, want array_parent=%d", p.Notes(), tt.arrayParent)
			}
		})
	}
}

func TestPBSReaderLineErrors(t *testing.T) {
	const file = "testdata/pbs/edge-cases.log"
	want := []struct {
		line          int
		field, reason string
	}{
		{21, "start", ReasonTime},
		{22, "", ReasonFieldCount},
		{23, "timestamp", ReasonTime},
		{24, "exec_host", ReasonTRES},
		{25, "", ReasonRecord},
		{26, "Exit_status", ReasonNumber},
		{27, "end", ReasonOrder},
		{28, "jobid", ReasonID},
		{29, "Resource_List.select", ReasonTRES},
	}
	r, c, err := Open("pbs", file, Options{Name: file, Location: pbsBerlin(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []*LineError
	var after []string // records read after the first bad line
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			got = append(got, le)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			after = append(after, rec.JobID)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d line errors, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.File != file || g.Line != w.line || g.Field != w.field || g.Reason != w.reason || g.Err == nil {
			t.Errorf("error %d = {%s %d %q %s %v}, want {%s %d %q %s}", i, g.File, g.Line, g.Field, g.Reason, g.Err, file, w.line, w.field, w.reason)
		}
	}
	if len(after) != 1 || after[0] != "600.pbs01" {
		t.Errorf("records after the bad lines: %v, want [600.pbs01]", after)
	}
}

func TestPBSReaderMalformedInput(t *testing.T) {
	tests := []struct {
		name, line, field, reason string
	}{
		{"three fields", "03/10/2024 10:00:00;E;1.pbs", "", ReasonFieldCount},
		{"two-letter type", "03/10/2024 10:00:00;EE;1.pbs;start=1", "type", ReasonRecord},
		{"february 30", "02/30/2024 10:00:00;E;1.pbs;start=1", "timestamp", ReasonTime},
		{"id with a blank", "03/10/2024 10:00:00;E;1 2.pbs;start=1", "jobid", ReasonID},
		{"negative ctime", "03/10/2024 10:00:00;E;1.pbs;ctime=-5", "ctime", ReasonTime},
		{"bad used walltime", "03/10/2024 10:00:00;E;1.pbs;resources_used.walltime=1:xx:00", "resources_used.walltime", ReasonTime},
		{"bad limit", "03/10/2024 10:00:00;E;1.pbs;Resource_List.walltime=1:2:3:4", "Resource_List.walltime", ReasonTime},
		{"bad ncpus", "03/10/2024 10:00:00;E;1.pbs;Resource_List.ncpus=four", "Resource_List.ncpus", ReasonNumber},
		{"bad nodect", "03/10/2024 10:00:00;E;1.pbs;Resource_List.nodect=two", "Resource_List.nodect", ReasonNumber},
		{"bad nodes request", "03/10/2024 10:00:00;E;1.pbs;Resource_List.nodes=2:ppn=x", "Resource_List.nodes", ReasonTRES},
		{"bad vnode", "03/10/2024 10:00:00;E;1.pbs;exec_vnode=(v1:ncpus=two)", "exec_vnode", ReasonTRES},
		{"vnode without name", "03/10/2024 10:00:00;E;1.pbs;exec_vnode=(:ncpus=2)", "exec_vnode", ReasonTRES},
		{"bad session", "03/10/2024 10:00:00;R;1.pbs;session=s1", "session", ReasonNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := tt.line + "\n03/10/2024 10:00:01;E;2.pbs;start=100 end=200 Exit_status=0\n"
			recs, bad := drain(t, NewPBSReader(strings.NewReader(input), Options{Name: "mem"}))
			if len(bad) != 1 {
				t.Fatalf("got line errors %v, want one", bad)
			}
			if g := bad[0]; g.File != "mem" || g.Line != 1 || g.Field != tt.field || g.Reason != tt.reason {
				t.Errorf("got {%s %d %q %s}, want {mem 1 %q %s}", g.File, g.Line, g.Field, g.Reason, tt.field, tt.reason)
			}
			if len(recs) != 1 || recs[0].JobID != "2.pbs" || recs[0].Line != 2 {
				t.Errorf("the reader did not go on to line 2: %v", recs)
			}
		})
	}
}

func TestPBSReaderSkipsOtherRecords(t *testing.T) {
	input := strings.Join([]string{
		"03/10/2024 10:00:00;Q;1.pbs;queue=workq",
		"03/10/2024 10:00:01;S;1.pbs;user=a start=1710061201 exec_host=n1/0",
		"03/10/2024 10:00:02;A;1.pbs;",
		"03/10/2024 10:00:03;D;1.pbs;requestor=a@h",
		"03/10/2024 10:00:04;B;R1.pbs;owner=a@h start=1 end=2",
		"03/10/2024 10:00:05;K;R1.pbs;requestor=a@h",
		"03/10/2024 10:00:06;F;R1.pbs;requestor=a@h",
		"03/10/2024 10:00:07;L;license;floating license hour:0",
		"",
		"03/10/2024 10:00:08;E;2[].pbs;start=1710061201 end=1710061300 Exit_status=0",
	}, "\n")
	p := NewPBSReader(strings.NewReader(input), Options{})
	recs, bad := drain(t, p)
	if len(recs) != 0 || len(bad) != 0 {
		t.Fatalf("got %d records and %v, want nothing", len(recs), bad)
	}
	if p.Notes()["array_parent"] != 1 {
		t.Errorf("notes %v, want one array parent", p.Notes())
	}
}

func TestPBSReaderEndFallbacks(t *testing.T) {
	loc := pbsBerlin(t)
	tests := []struct {
		name, line string
		end        int64
		note       string
	}{
		{"end from used walltime", "03/10/2024 12:00:00;E;1.pbs;start=1710064800 resources_used.walltime=00:30:00 Exit_status=0", 1710066600, "end_from_walltime"},
		{"end from the record time", "03/10/2024 12:00:00;E;1.pbs;start=1710064800 Exit_status=0", 1710068400, "end_from_timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPBSReader(strings.NewReader(tt.line), Options{Location: loc})
			recs, bad := drain(t, p)
			if len(recs) != 1 || len(bad) != 0 {
				t.Fatalf("got %d records, %v", len(recs), bad)
			}
			if got := recs[0].End.Unix(); got != tt.end {
				t.Errorf("end %d, want %d", got, tt.end)
			}
			if p.Notes()[tt.note] != 1 {
				t.Errorf("notes %v, want %s", p.Notes(), tt.note)
			}
		})
	}
}

func TestPBSReaderInvalidUTF8(t *testing.T) {
	line := "03/10/2024 12:00:00;E;1.pbs;user=al\xffice jobname=caf\xe9 start=1710064800 end=1710068400 Exit_status=0"
	p := NewPBSReader(strings.NewReader(line), Options{})
	recs, bad := drain(t, p)
	if len(recs) != 1 || len(bad) != 0 {
		t.Fatalf("got %d records, %v", len(recs), bad)
	}
	if recs[0].User != "al\uFFFDice" || recs[0].Name != "caf\uFFFD" || p.Notes()["invalid_utf8"] != 2 {
		t.Errorf("user %q name %q notes %v, want repaired text and two notes", recs[0].User, recs[0].Name, p.Notes())
	}
}

func TestPBSDailyDirectory(t *testing.T) {
	dir := "testdata/pbs/daily"
	recs, bad := pbsOpen(t, dir)
	if len(bad) != 0 {
		t.Fatalf("line errors: %v", bad)
	}
	want := []struct {
		view   pbsView
		source string
		line   int
	}{
		{pbsView{JobID: "701.pbs01", User: "judy", Group: "phys", Partition: "workq", Name: "short",
			State: job.StateCompleted, ExitCode: "0", Submit: 1710105000, Start: 1710105300, End: 1710107100,
			Timelimit: time.Hour, Nodes: 1, Cores: 2, NodeList: "c3"}, filepath.Join(dir, "20240310"), 4},
		{pbsView{JobID: "700.pbs01", User: "judy", Group: "phys", Partition: "workq", Name: "overnight",
			State: job.StateCompleted, ExitCode: "0", Submit: 1710104400, Start: 1710108000, End: 1710133200,
			Timelimit: 12 * time.Hour, Nodes: 2, Cores: 16, NodeList: "c4,c5"}, filepath.Join(dir, "20240311"), 1},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		if got := pbsViewOf(recs[i]); got != w.view {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, w.view)
		}
		if recs[i].Source != w.source || recs[i].Line != w.line {
			t.Errorf("record %d at %s:%d, want %s:%d", i, recs[i].Source, recs[i].Line, w.source, w.line)
		}
	}
}

func TestPBSGzip(t *testing.T) {
	const file = "testdata/pbs/edge-cases.log"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(t.TempDir(), "20240310") // found by its magic, not its name
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	plain, plainBad := pbsOpen(t, file)
	zipped, zippedBad := pbsOpen(t, gz)
	if len(plain) != len(zipped) || len(plainBad) != len(zippedBad) {
		t.Fatalf("plain: %d records %d errors; gzip: %d records %d errors", len(plain), len(plainBad), len(zipped), len(zippedBad))
	}
	for i := range plain {
		if a, b := pbsViewOf(plain[i]), pbsViewOf(zipped[i]); a != b {
			t.Errorf("record %d differs:\n plain %+v\n gzip  %+v", i, a, b)
		}
	}
}

func TestPBSEachAttr(t *testing.T) {
	tests := []struct {
		name, msg string
		want      []string // key=value pairs as seen by the callback
	}{
		{"plain", "user=a group=b", []string{"user=a", "group=b"}},
		{"quoted with blanks", `account="my project" jobname="a b" queue=q`, []string{"account=my project", "jobname=a b", "queue=q"}},
		{"quoted with '=' and ';'", `jobname="x=1;y" user=u`, []string{"jobname=x=1;y", "user=u"}},
		{"unquoted blanks continue the value", "jobname=md run 3 queue=batch", []string{"jobname=md run 3", "queue=batch"}},
		{"leading word without key", "floating license hour:0", nil},
		{"empty value", "account= user=u", []string{"account=", "user=u"}},
		{"tabs and extra blanks", "  user=a\t group=b  ", []string{"user=a", "group=b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			if err := pbsEachAttr([]byte(tt.msg), func(k, v []byte) bool {
				got = append(got, string(k)+"="+string(v))
				return true
			}); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if err := pbsEachAttr([]byte(`jobname="open user=a`), func(k, v []byte) bool { return true }); err == nil {
		t.Error("unterminated quote: no error")
	}
}

func TestPBSResourceExpressions(t *testing.T) {
	t.Run("exec_host", func(t *testing.T) {
		tests := []struct {
			spec  string
			cores int64
			hosts string
		}{
			{"c1/0*16+c2/0*16", 32, "c1,c2"},
			{"n1/0-3", 4, "n1"},
			{"n1/0+n1/1", 2, "n1"},
			{"n1/0+n1/1+n2/0", 3, "n1,n2"},
			{"n1/0-3,6+n2/0,2", 7, "n1,n2"},
			{"n1/0+n2/0+n1/1", 3, "n1,n2"},
			{"bare", 1, "bare"},
			{"[h2]/0*0", 0, "[h2]"},
		}
		for _, tt := range tests {
			cores, hosts, err := pbsExecHost([]byte(tt.spec), nil)
			if err != nil || cores != tt.cores || string(bytes.Join(hosts, []byte(","))) != tt.hosts {
				t.Errorf("pbsExecHost(%q) = %d, %q, %v; want %d, %q", tt.spec, cores, bytes.Join(hosts, []byte(",")), err, tt.cores, tt.hosts)
			}
		}
		for _, bad := range []string{"/0", "n1/x", "n1/3-1", "n1/0*x", "n1/0+", "n1/-1"} {
			if _, _, err := pbsExecHost([]byte(bad), nil); err == nil {
				t.Errorf("pbsExecHost(%q): no error", bad)
			}
		}
	})
	t.Run("chunks", func(t *testing.T) {
		tests := []struct {
			spec string
			want pbsCounts
		}{
			{"2:ppn=32:gpus=2", pbsCounts{nodes: 2, cores: 64, gpus: 4}},
			{"5:ncpus=13", pbsCounts{nodes: 5, cores: 65}},
			{"1:mpiprocs=48:ncpus=48:ngpus=4:mem=185547mb", pbsCounts{nodes: 1, cores: 48, gpus: 4}},
			{"1:ppn=24:gpu=4:reqmem=128849018880:gpu", pbsCounts{nodes: 1, cores: 24, gpus: 4}},
			{"n1:ppn=2+2:ppn=4", pbsCounts{nodes: 3, cores: 10}},
			{"tango111", pbsCounts{nodes: 1, cores: 1}},
			{"1:ppn=4:avx", pbsCounts{nodes: 1, cores: 4}},
		}
		for _, tt := range tests {
			got, err := pbsChunks([]byte(tt.spec))
			if err != nil || got != tt.want {
				t.Errorf("pbsChunks(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
			}
		}
		for _, bad := range []string{"2:ppn=x", "1+", "2:ncpus=-1", "x:gpus=1.5"} {
			if _, err := pbsChunks([]byte(bad)); err == nil {
				t.Errorf("pbsChunks(%q): no error", bad)
			}
		}
	})
	t.Run("exec_vnode", func(t *testing.T) {
		tests := []struct {
			spec string
			want pbsCounts
		}{
			{"(v1:ncpus=8:ngpus=2)+(v2:ncpus=8)", pbsCounts{cores: 16, gpus: 2}},
			{"([h][1]:mem=1kb:ngpus=2:ncpus=24+[h][0]:ngpus=2:ncpus=24)", pbsCounts{cores: 48, gpus: 4}},
			{"(zulu:ncpus=1)", pbsCounts{cores: 1}},
			{"(v1)", pbsCounts{}},
		}
		for _, tt := range tests {
			got, err := pbsVnodes([]byte(tt.spec))
			if err != nil || got != tt.want {
				t.Errorf("pbsVnodes(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
			}
		}
		for _, bad := range []string{"(v1:ncpus=x)", "(:ncpus=1)", "(v1:ncpus)", "()"} {
			if _, err := pbsVnodes([]byte(bad)); err == nil {
				t.Errorf("pbsVnodes(%q): no error", bad)
			}
		}
	})
	t.Run("duration", func(t *testing.T) {
		tests := []struct {
			in   string
			want time.Duration
		}{
			{"144:00:00", 144 * time.Hour},
			{"00:36:37", 36*time.Minute + 37*time.Second},
			{"05:30", 5*time.Minute + 30*time.Second},
			{"3600", time.Hour},
			{"00:00:01.5", 1500 * time.Millisecond},
		}
		for _, tt := range tests {
			got, err := pbsDuration([]byte(tt.in))
			if err != nil || got != tt.want {
				t.Errorf("pbsDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		}
		for _, bad := range []string{"", "1:2:3:4", "-1:00:00", "aa:00", "1:00:00.x", "1::00"} {
			if _, err := pbsDuration([]byte(bad)); err == nil {
				t.Errorf("pbsDuration(%q): no error", bad)
			}
		}
	})
}

// pbsBenchInput is the real fixtures and the daily files (every line
// valid), repeated to a stream of some size.
func pbsBenchInput(b *testing.B) []byte {
	var data []byte
	for _, f := range []string{"xdmod-pbs-accounting.log", "vpac-torque-accounting.log", "daily/20240310", "daily/20240311"} {
		d, err := os.ReadFile(filepath.Join("testdata/pbs", f))
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d...)
	}
	return bytes.Repeat(data, 50)
}

func BenchmarkPBSReader(b *testing.B) {
	data := pbsBenchInput(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	records := 0
	for b.Loop() {
		r := NewPBSReader(bytes.NewReader(data), Options{Location: time.UTC})
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
