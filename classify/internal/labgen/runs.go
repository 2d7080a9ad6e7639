package labgen

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/scmon/scmon/job"
)

// emit turns a submission into its records: one run, a requeued pair of
// runs, or one run per array task.
func (g *gen) emit(s *submission, id int, next *int) {
	if s.tasks == 0 {
		g.runs(s, strconv.Itoa(id), "", 1)
		return
	}
	for k := range s.tasks {
		raw := id
		if k > 0 {
			raw = *next
			*next++
		}
		g.runs(s, fmt.Sprintf("%d_%d", id, k), strconv.Itoa(raw), 0.7+0.6*s.r.Float64())
	}
}

// runs writes the runs of one job id: how long it waited, how it ended,
// whether a node failure requeued it.
func (g *gen) runs(s *submission, jobID, rawID string, scale float64) {
	r, c := s.r, g.c
	g.c.Truth[jobID] = s.truth
	h := hours(r, s.profile) * scale
	wait := time.Duration(r.ExpFloat64() * 0.4 * (1 + float64(s.nodes)/4) * float64(time.Hour)).Truncate(time.Second)
	start := s.submit.Add(wait)
	uid := strconv.Itoa(s.u.uid)

	if r.IntN(200) == 0 {
		// Cancelled while pending: held nothing.
		g.record(s, jobID, rawID, time.Time{}, time.Time{}, "CANCELLED by "+uid, "0:0", true)
		return
	}
	if !start.Before(c.End) {
		g.record(s, jobID, rawID, time.Time{}, time.Time{}, "PENDING", "0:0", true)
		return
	}
	if s.nodes >= 2 && r.IntN(100) < 6 {
		// A node fails; the scheduler requeues the job, which starts
		// again from its last checkpoint.
		failAt := start.Add(dur(h * (0.1 + 0.6*r.Float64())))
		if failAt.Before(c.End) {
			g.record(s, jobID, rawID, start, failAt, "NODE_FAIL", "0:0", false)
			start = failAt.Add(time.Duration(10+r.IntN(110)) * time.Minute)
			h *= 0.3 + 0.7*r.Float64()
			if !start.Before(c.End) {
				return
			}
		}
	}
	limit := s.limit.Hours()
	state, exit, run := "COMPLETED", "0:0", h
	roll := r.Float64()
	switch {
	case s.profile == pServe && roll < 0.45:
		state, run = "TIMEOUT", limit
	case s.profile == pServe && roll < 0.80:
		state = "CANCELLED by " + uid
	case roll < 0.08:
		state, exit, run = "FAILED", pick(r, []string{"1:0", "2:0", "137:0", "0:11"}), h*(0.01+0.6*r.Float64())
	case roll < 0.14:
		state, run = "CANCELLED by "+uid, h*(0.05+0.85*r.Float64())
	case roll < 0.16:
		state, exit, run = "OUT_OF_MEMORY", "0:125", h*(0.1+0.7*r.Float64())
	}
	if run >= limit {
		state, exit, run = "TIMEOUT", "0:0", limit
	}
	end := start.Add(dur(run))
	if !end.Before(c.End) {
		g.record(s, jobID, rawID, start, time.Time{}, "RUNNING", "0:0", false)
		return
	}
	i := g.record(s, jobID, rawID, start, end, state, exit, false)
	switch roll := r.IntN(100); {
	case roll < 2:
		c.dup[i] = true
	case roll < 4 && end.Sub(start) > 2*time.Hour:
		c.early[i] = true
	}
}

func dur(hours float64) time.Duration {
	return time.Duration(math.Max(60, hours*3600)) * time.Second
}

// record appends one run and returns its index.
func (g *gen) record(s *submission, jobID, rawID string, start, end time.Time, state, exit string, never bool) int {
	p := s.p
	rec := &job.Record{
		Cluster: g.c.Cluster, JobID: jobID, RawID: rawID,
		Name: s.text.name, User: s.u.name, Group: s.u.account.name, Account: s.u.account.name,
		Partition: p.name, QOS: s.qos, WCKey: s.u.account.wckey, Comment: s.comment,
		SubmitLine: s.text.submitLine, WorkDir: s.text.workDir,
		State: job.ParseState(state), StateRaw: state, ExitCode: exit,
		Submit: s.submit, Eligible: s.submit, Start: start, End: end, Timelimit: s.limit,
		Nodes: int64(s.nodes), Cores: int64(s.nodes * s.cores),
	}
	if rawID == jobID {
		rec.RawID = ""
	}
	if s.accels > 0 && p.gres != "" {
		a := job.Accel{Name: p.gres, Type: p.gtype, Count: int64(s.nodes * s.accels)}
		if never {
			// Nothing allocated: the reader sees the request, untyped.
			a.Type = ""
		}
		rec.Accels = []job.Accel{a}
	}
	if never {
		rec.NodeList = "None assigned"
	} else {
		first := s.r.IntN(p.nodes - s.nodes + 1)
		rec.NodeList = hostlist(p.prefix, first, s.nodes)
		if !s.interactive {
			rec.Steps = append(rec.Steps, job.Step{ID: jobID + ".batch", Name: "batch"})
		}
		rec.Steps = append(rec.Steps, job.Step{ID: jobID + ".extern", Name: "extern"})
		for k, st := range s.text.steps {
			rec.Steps = append(rec.Steps, job.Step{ID: jobID + "." + strconv.Itoa(k), Name: st.name, Command: st.cmd})
		}
	}
	g.c.Records = append(g.c.Records, rec)
	return len(g.c.Records) - 1
}

// hostlist writes n consecutive nodes from first as Slurm compresses them.
func hostlist(prefix string, first, n int) string {
	if n == 1 {
		return fmt.Sprintf("%s%03d", prefix, first+1)
	}
	return fmt.Sprintf("%s[%03d-%03d]", prefix, first+1, first+n)
}
