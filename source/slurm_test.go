package source

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// The real-cluster tests run against the Slurm cluster of
// scripts/testenv (slurm-up.sh writes its env.sh). They are skipped when
// SCMON_TEST_SLURM_ENV is unset, and fail instead when
// SCMON_TEST_REQUIRE_SLURM=1, so that CI cannot pass by skipping them.
const (
	envSlurmEnv     = "SCMON_TEST_SLURM_ENV"
	envRequireSlurm = "SCMON_TEST_REQUIRE_SLURM"
)

// slurmEnv returns the variables of the test cluster's env.sh, or skips.
func slurmEnv(t *testing.T) map[string]string {
	t.Helper()
	missing := func(why string) {
		if os.Getenv(envRequireSlurm) == "1" {
			t.Fatalf("%s=1: %s", envRequireSlurm, why)
		}
		t.Skip(why)
	}
	path := os.Getenv(envSlurmEnv)
	if path == "" {
		missing(envSlurmEnv + " is not set (run scripts/testenv/slurm-up.sh and point it at slurm/env.sh)")
	}
	f, err := os.Open(path)
	if err != nil {
		missing(err.Error())
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
			t.Fatalf("%s: unexpected line %q", path, line)
		}
		env[k] = v[1 : len(v)-1]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"SLURM_CONF", "SCMON_TEST_SLURM_JOBDIR", "SCMON_TEST_SLURM_CLUSTER"} {
		if env[k] == "" {
			t.Fatalf("%s does not set %s", path, k)
		}
	}
	if _, err := exec.LookPath("sacct"); err != nil {
		missing("sacct is not installed")
	}
	return env
}

// sbatch submits a job as user and returns its id.
func sbatch(t *testing.T, env map[string]string, user string, args ...string) string {
	t.Helper()
	argv := append([]string{"-u", user, "--", "sbatch", "--parsable", "--chdir=" + env["SCMON_TEST_SLURM_JOBDIR"]}, args...)
	cmd := exec.Command("runuser", argv...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+env["SLURM_CONF"])
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch %q: %v: %s", args, err, out)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	return id
}

func slurmCmd(t *testing.T, env map[string]string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+env["SLURM_CONF"])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %q: %v: %s", name, args, err, out)
	}
}

// TestSacctRealSlurm submits short jobs to the real cluster and polls
// sacct through Sacct until they have all ended: resources, steps, a job
// seen running and then ended under one key, a job waiting for resources in
// Pending and, once cancelled, in Records as never started. A held job is
// not eligible: sacct's window query does not list it at all.
func TestSacctRealSlurm(t *testing.T) {
	env := slurmEnv(t)
	cluster := env["SCMON_TEST_SLURM_CLUSTER"]
	start := time.Now().Add(-time.Minute)

	train := sbatch(t, env, "alice", "-p", "gpu", "--gres=gpu:h100:2", "-n", "2", "-J", "scmon_train", "--wrap", "srun -J torchrun sleep 10")
	hpc := sbatch(t, env, "carol", "-p", "cpu", "-N", "2", "-n", "4", "-J", "scmon_hpc", "--wrap", "srun -J lmp hostname")
	serve := sbatch(t, env, "bob", "-p", "npu", "--gres=npu:2", "-n", "8", "-J", "scmon_serve", "--wrap", "sleep 4")
	waits := sbatch(t, env, "bob", "-p", "npu", "-n", "8", "-J", "scmon_waits", "--wrap", "sleep 1")
	held := sbatch(t, env, "bob", "-p", "cpu", "-n", "1", "--hold", "-J", "scmon_held", "--wrap", "sleep 1")
	t.Logf("submitted train=%s hpc=%s serve=%s waits=%s held=%s", train, hpc, serve, waits, held)
	t.Cleanup(func() {
		cmd := exec.Command("scancel", train, hpc, serve, waits, held)
		cmd.Env = append(os.Environ(), "SLURM_CONF="+env["SLURM_CONF"])
		_ = cmd.Run()
	})

	s, err := NewSacct(SacctConfig{
		Client:   SlurmClient{Env: []string{"SLURM_CONF=" + env["SLURM_CONF"]}, Timeout: 30 * time.Second},
		Clusters: []string{cluster},
		Start:    start,
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	var (
		cursor     []byte
		durations  []time.Duration
		keysOf     = map[string][]string{} // job id -> distinct keys seen
		last       = map[string]*job.Record{}
		seenRun    = map[string]bool{}
		waitsSeen  bool
		cancelled  bool
		heldListed bool
	)
	ended := func(id string) bool { r := last[id]; return r != nil && !r.End.IsZero() }
	deadline := time.Now().Add(90 * time.Second)
	for {
		t0 := time.Now()
		b, err := s.Poll(ctx, cursor)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		durations = append(durations, time.Since(t0))
		if b.More {
			t.Errorf("a poll over the last minute asked for more")
		}
		if len(b.Skipped) > 0 || len(b.Errors) > 0 {
			t.Errorf("skipped %v errors %q", b.Skipped, b.Errors)
		}
		cursor = b.Cursor
		for _, r := range b.Records {
			if r.Cluster != cluster {
				t.Errorf("record %s of cluster %q", r.JobID, r.Cluster)
			}
			if !slices.Contains(keysOf[r.JobID], r.Key()) {
				keysOf[r.JobID] = append(keysOf[r.JobID], r.Key())
			}
			last[r.JobID] = r
			if r.Running() {
				seenRun[r.JobID] = true
			}
			heldListed = heldListed || r.JobID == held
		}
		for _, r := range b.Pending {
			if r.JobID == waits {
				waitsSeen = true
			}
			if r.Started() {
				t.Errorf("pending record %s has a start", r.JobID)
			}
			heldListed = heldListed || r.JobID == held
		}
		if waitsSeen && !cancelled {
			slurmCmd(t, env, "scancel", waits)
			cancelled = true
		}
		if ended(train) && ended(hpc) && ended(serve) && last[waits] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs did not all end in sacct: train %v hpc %v serve %v waits %v", last[train], last[hpc], last[serve], last[waits])
		}
		time.Sleep(500 * time.Millisecond)
	}

	for _, id := range []string{train, hpc, serve, waits} {
		if len(keysOf[id]) != 1 {
			t.Errorf("job %s came out under %d keys: %q", id, len(keysOf[id]), keysOf[id])
		}
	}
	if !seenRun[train] {
		// A job reaches slurmdbd a few seconds after it starts (up to 3 s
		// here), so it runs long enough to be seen running.
		t.Errorf("job %s (10 s) was never seen running", train)
	}
	r := last[train]
	if r.State != job.StateCompleted || r.Cores != 2 || r.AccelCount("gpu") != 2 || r.User != "alice" || r.Partition != "gpu" {
		t.Errorf("train: %v cores %d gpus %d user %s partition %s", r.State, r.Cores, r.AccelCount("gpu"), r.User, r.Partition)
	}
	if !slices.ContainsFunc(r.Accels, func(a job.Accel) bool { return a.Name == "gpu" && a.Type == "h100" && a.Count == 2 }) {
		t.Errorf("train accelerators %+v", r.Accels)
	}
	if !slices.ContainsFunc(r.Steps, func(s job.Step) bool {
		return s.Name == "torchrun" && strings.Contains(s.Command, "srun -J torchrun sleep 10")
	}) {
		t.Errorf("train steps %+v", r.Steps)
	}
	if r := last[hpc]; r.Nodes != 2 || r.Cores != 4 || !slices.ContainsFunc(r.Steps, func(s job.Step) bool { return s.Name == "lmp" }) {
		t.Errorf("hpc: nodes %d cores %d steps %+v", r.Nodes, r.Cores, r.Steps)
	}
	if r := last[serve]; r.AccelCount("npu") != 2 || r.Cores != 8 {
		t.Errorf("serve: npus %d (accels %+v) cores %d", r.AccelCount("npu"), r.Accels, r.Cores)
	}
	if r := last[waits]; !waitsSeen || r.Started() || r.State != job.StateCancelled {
		t.Errorf("waits: seen pending %v, then %v started %v", waitsSeen, r.State, r.Started())
	}
	if heldListed {
		t.Errorf("held job %s was listed: sacct lists only eligible jobs", held)
	}
	slices.Sort(durations)
	t.Logf("%d polls: min %v median %v max %v", len(durations), durations[0], durations[len(durations)/2], durations[len(durations)-1])
}

// TestSlurmNodesRealSlurm reads the real cluster's six nodes.
func TestSlurmNodesRealSlurm(t *testing.T) {
	env := slurmEnv(t)
	s, err := NewSlurmNodes(SlurmNodesConfig{Client: SlurmClient{Env: []string{"SLURM_CONF=" + env["SLURM_CONF"]}, Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	snap, err := s.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scontrol poll took %v", time.Since(t0))
	if len(snap.Nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(snap.Nodes))
	}
	accels := map[string]string{}
	for _, n := range snap.Nodes {
		if n.Cores != 8 || len(n.Partitions) != 1 {
			t.Errorf("%s: cores %d partitions %q", n.Name, n.Cores, n.Partitions)
		}
		for _, a := range n.Accels {
			accels[n.Name] += a.Name + ":" + a.Type + ":" + strings.Repeat("I", int(a.Count)) + " "
		}
	}
	want := map[string]string{"n1": "gpu:h100:IIII ", "n2": "gpu:h100:IIII ", "n3": "npu:910b:IIII ", "n4": "dcu:k100:IIII "}
	for n, w := range want {
		if accels[n] != w {
			t.Errorf("%s accelerators %q, want %q", n, accels[n], w)
		}
	}
}

// TestSacctRealSlurmDatabaseDown runs the real sacct against a slurmdbd
// port that refuses connections and one that accepts them and never
// answers: the first fails with sacct's own message, the second is killed
// at the timeout; a poll from the same cursor with the right configuration
// then recovers.
func TestSacctRealSlurmDatabaseDown(t *testing.T) {
	env := slurmEnv(t)
	conf, err := os.ReadFile(env["SLURM_CONF"])
	if err != nil {
		t.Fatal(err)
	}
	// A listener that accepts and never answers, held until the test ends.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	silent := ln.Addr().(*net.TCPAddr).Port
	refusing := freePort(t)

	withPort := func(port int) string {
		var out []string
		for line := range strings.SplitSeq(string(conf), "\n") {
			if strings.HasPrefix(line, "AccountingStoragePort=") {
				line = "AccountingStoragePort=" + strconv.Itoa(port)
			}
			out = append(out, line)
		}
		path := filepath.Join(t.TempDir(), "slurm.conf")
		writeFile(t, path, strings.Join(out, "\n"))
		return path
	}
	cursor := []byte(`{"watermark":"` + time.Now().UTC().Add(-time.Minute).Format(time.RFC3339) + `"}`)
	tests := []struct {
		name    string
		port    int
		timeout time.Duration
		want    string
	}{
		{"refused", refusing, 10 * time.Second, "Problem talking to the database: Connection refused"},
		{"silent", silent, time.Second, "timed out after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSacct(SacctConfig{Client: SlurmClient{Env: []string{"SLURM_CONF=" + withPort(tt.port)}, Timeout: tt.timeout}})
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			b, err := s.Poll(context.Background(), cursor)
			elapsed := time.Since(t0)
			if b != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Poll = %v, %v; want %q", b, err, tt.want)
			}
			if elapsed > tt.timeout+time.Second {
				t.Errorf("failed after %v with a %v timeout", elapsed, tt.timeout)
			}
			t.Logf("failed after %v: %v", elapsed, err)

			good, err := NewSacct(SacctConfig{Client: SlurmClient{Env: []string{"SLURM_CONF=" + env["SLURM_CONF"]}, Timeout: 30 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := good.Poll(context.Background(), cursor); err != nil {
				t.Fatalf("recovery: %v", err)
			}
		})
	}
}

// freePort returns a local TCP port that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestJobcompTailRealSlurm follows the real cluster's jobcomp/filetxt log
// from its end and reads the line slurmctld writes for a new job.
func TestJobcompTailRealSlurm(t *testing.T) {
	env := slurmEnv(t)
	path := env["SCMON_TEST_SLURM_JOBCOMP"]
	if path == "" {
		t.Fatal("env.sh does not set SCMON_TEST_SLURM_JOBCOMP")
	}
	tail, err := NewTail(TailConfig{Format: "slurm-jobcomp", Path: path, FromEnd: true, Cluster: env["SCMON_TEST_SLURM_CLUSTER"]})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tail.Poll(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cursor := b.Cursor
	id := sbatch(t, env, "alice", "-p", "gpu", "--gres=gpu:h100:1", "-n", "3", "-J", "scmon_tail", "--wrap", "true")
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := tail.Poll(context.Background(), cursor)
		if err != nil {
			t.Fatal(err)
		}
		cursor = b.Cursor
		if len(b.Skipped) > 0 {
			t.Errorf("skipped %v: %q", b.Skipped, b.Errors)
		}
		for _, r := range b.Records {
			if r.JobID != id {
				continue
			}
			if r.Cores != 3 || r.AccelCount("gpu") != 1 || r.User != "alice" || r.State != job.StateCompleted || r.Line < 1 {
				t.Errorf("record %+v", r)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s never reached %s", id, path)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
