package classify

import (
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// recOpt sets one part of a test record.
type recOpt func(*job.Record)

var t0 = time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)

// mk builds a finished one-node CPU job of one hour that holds no evidence
// beyond what opts add.
func mk(opts ...recOpt) *job.Record {
	r := &job.Record{
		Cluster: "c1", JobID: "100", Partition: "batch", QOS: "normal", Account: "acct", User: "u1",
		State: job.StateCompleted, Nodes: 1, Cores: 8,
		Start: t0, End: t0.Add(time.Hour), Timelimit: 4 * time.Hour,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func id(s string) recOpt     { return func(r *job.Record) { r.JobID = s } }
func name(s string) recOpt   { return func(r *job.Record) { r.Name = s } }
func submit(s string) recOpt { return func(r *job.Record) { r.SubmitLine = s } }
func wd(s string) recOpt     { return func(r *job.Record) { r.WorkDir = s } }
func comment(s string) recOpt {
	return func(r *job.Record) { r.Comment = s }
}
func wckey(s string) recOpt { return func(r *job.Record) { r.WCKey = s } }
func part(s string) recOpt  { return func(r *job.Record) { r.Partition = s } }
func qos(s string) recOpt   { return func(r *job.Record) { r.QOS = s } }
func acct(s string) recOpt  { return func(r *job.Record) { r.Account = s } }
func nodes(n int64) recOpt  { return func(r *job.Record) { r.Nodes = n } }
func cores(n int64) recOpt  { return func(r *job.Record) { r.Cores = n } }
func state(s job.State) recOpt {
	return func(r *job.Record) { r.State = s }
}
func elapsed(d time.Duration) recOpt {
	return func(r *job.Record) { r.End = r.Start.Add(d) }
}
func limit(d time.Duration) recOpt {
	return func(r *job.Record) { r.Timelimit, r.Unlimited = d, false }
}
func unlimited() recOpt { return func(r *job.Record) { r.Timelimit, r.Unlimited = 0, true } }
func running() recOpt   { return func(r *job.Record) { r.End = time.Time{}; r.State = job.StateRunning } }

// step adds an srun step the way sacct records it: named after the
// executable, with the srun command line.
func step(cmd string) recOpt {
	return func(r *job.Record) {
		exe := ""
		for _, f := range strings.Fields(cmd) {
			if !strings.HasPrefix(f, "-") && !strings.Contains(f, "=") {
				exe = f
				break
			}
		}
		if i := strings.LastIndexByte(exe, '/'); i >= 0 {
			exe = exe[i+1:]
		}
		r.Steps = append(r.Steps, job.Step{ID: r.JobID + "." + string(rune('0'+len(r.Steps))), Name: exe, Command: "srun " + cmd})
	}
}

// gres adds generic resources; the "gpu", "npu", "dcu" and "mlu" helpers
// are the common cases.
func gres(name, typ string, n int64) recOpt {
	return func(r *job.Record) { r.Accels = append(r.Accels, job.Accel{Name: name, Type: typ, Count: n}) }
}
func gpu(n int64) recOpt { return gres("gpu", "a100", n) }
func npu(n int64) recOpt { return gres("npu", "910b", n) }
func dcu(n int64) recOpt { return gres("dcu", "k100", n) }
func mlu(n int64) recOpt { return gres("mlu", "mlu370", n) }

func mustDefault(t testing.TB) *RuleSet {
	t.Helper()
	rs, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func mustParse(t testing.TB, yaml string) *RuleSet {
	t.Helper()
	rs, err := ParseRules("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// matched returns the ids of every rule whose condition holds on r,
// whether or not it counted in the decision.
func matched(c *RuleClassifier, r *job.Record) map[string]bool {
	ex := c.Explain(r)
	m := map[string]bool{}
	for _, h := range ex.Fired {
		m[h.ID] = true
	}
	for _, h := range ex.Shadowed {
		m[h.ID] = true
	}
	return m
}
