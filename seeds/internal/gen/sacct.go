package gen

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Fields is the header of the log: the fields scmon asks sacct for.
var Fields = []string{
	"JobID", "JobIDRaw", "Cluster", "Partition", "QOS", "Account", "User", "Group",
	"Submit", "Eligible", "Start", "End", "Elapsed", "Timelimit", "State", "ExitCode",
	"NNodes", "NCPUS", "ReqTRES", "AllocTRES", "NodeList", "WCKey", "WorkDir",
	"Comment", "JobName", "SubmitLine",
}

// line is one sacct line, field by field (indexes as in Fields).
type line [26]string

const (
	fJobID = iota
	fJobIDRaw
	fCluster
	fPartition
	fQOS
	fAccount
	fUser
	fGroup
	fSubmit
	fEligible
	fStart
	fEnd
	fElapsed
	fTimelimit
	fState
	fExitCode
	fNNodes
	fNCPUS
	fReqTRES
	fAllocTRES
	fNodeList
	fWCKey
	fWorkDir
	fComment
	fJobName
	fSubmitLine
)

// stamp prints a Unix time as sacct does with SLURM_TIME_FORMAT=standard,
// in the center's zone.
func stamp(t int64) string { return time.Unix(t, 0).In(zone).Format("2006-01-02T15:04:05") }

// fmtMem prints megabytes as Slurm's TRES strings do.
func fmtMem(mb int64) string {
	if mb%1024 == 0 {
		return strconv.FormatInt(mb/1024, 10) + "G"
	}
	return strconv.FormatInt(mb, 10) + "M"
}

// tres writes a TRES string for nodes nodes of cores cores and accels
// accelerators each. alloc adds the typed GRES, as AllocTRES does; billing
// adds Slurm's billing figure, which steps do not carry.
func tres(p *partition, nodes, cores, accels int, alloc, billing bool) string {
	var b strings.Builder
	tc, ta := int64(nodes*cores), int64(nodes*accels)
	if billing {
		fmt.Fprintf(&b, "billing=%d,", p.billing(tc, ta))
	}
	fmt.Fprintf(&b, "cpu=%d,", tc)
	if ta > 0 {
		if alloc {
			fmt.Fprintf(&b, "gres/%s:%s=%d,", p.gres, p.gresType, ta)
		}
		fmt.Fprintf(&b, "gres/%s=%d,", p.gres, ta)
	}
	fmt.Fprintf(&b, "mem=%s,node=%d", fmtMem(tc*p.memPerCore), nodes)
	return b.String()
}

// writer writes the log.
type writer struct {
	w     io.Writer
	err   error
	buf   []byte
	dump  int64
	from  int64
	lines int
	// records counts allocation lines (not steps).
	records int
	intents []Intent
}

// Intent says which template an allocation record was made from and the
// class it was written to show, so that tests can hold the classifier
// against the generator's intent.
type Intent struct {
	// JobID and Start identify the record as the log prints them.
	JobID, Start string
	Workload     string
	Class        string
}

func (w *writer) put(l *line) {
	if w.err != nil {
		return
	}
	w.buf = w.buf[:0]
	for i, f := range l {
		if i > 0 {
			w.buf = append(w.buf, '|')
		}
		w.buf = append(w.buf, f...)
	}
	w.buf = append(w.buf, '\n')
	_, w.err = w.w.Write(w.buf)
	w.lines++
}

// inLog reports whether sacct would list the run for the window: it held
// resources inside it, is still running or pending at the dump, or was
// cancelled inside it.
func (w *writer) inLog(r *run) bool {
	switch {
	case r.started:
		return r.end > w.from
	case r.cancelled:
		return r.cancelTime >= w.from
	}
	return true
}

// stateText returns the job's State as sacct prints it.
func stateText(r *run, dump int64) string {
	switch {
	case r.cancelled:
		return "CANCELLED by " + strconv.Itoa(r.j.cancelUID)
	case !r.started:
		return "PENDING"
	case !r.endsBefore(dump):
		return "RUNNING"
	}
	switch r.outcome() {
	case oFailed:
		return "FAILED"
	case oCancelled:
		return "CANCELLED by " + strconv.Itoa(r.j.cancelUID)
	case oTimeout:
		return "TIMEOUT"
	case oOOM:
		return "OUT_OF_MEMORY"
	case oNodeFail:
		return "NODE_FAIL"
	case oRequeued:
		return "REQUEUED"
	}
	return "COMPLETED"
}

// exitText returns the job's ExitCode.
func exitText(r *run, dump int64) string {
	if !r.endsBefore(dump) {
		return "0:0"
	}
	switch r.outcome() {
	case oFailed:
		return r.pl.exit
	case oOOM:
		return "0:125"
	}
	return "0:0"
}

// stepEnd returns the state and exit code of a step that was running when
// its job ended.
func stepEnd(o outcome, exit string) (string, string) {
	switch o {
	case oFailed:
		return "FAILED", exit
	case oOOM:
		return "OUT_OF_MEMORY", "0:125"
	case oNodeFail:
		return "CANCELLED", "0:9"
	case oCompleted:
		return "COMPLETED", "0:0"
	}
	return "CANCELLED", "0:15"
}

// writeJob writes the records of one job that belong in the log, steps
// included. text is the job's text for each run.
func (w *writer) writeJob(j *job) {
	if j.isArray() {
		w.writeArray(j)
		return
	}
	for _, r := range j.runs {
		if !w.inLog(r) {
			continue
		}
		text := j.text(r)
		for gi := range j.groups {
			id := strconv.Itoa(j.id)
			raw := id
			if len(j.groups) > 1 {
				id = fmt.Sprintf("%d+%d", j.id, gi)
				raw = strconv.Itoa(j.id + gi)
			}
			w.writeRun(r, gi, id, raw, text)
		}
	}
}

// writeArray writes the started tasks of an array, then one line for the
// tasks still pending (123_[7-20%10]).
func (w *writer) writeArray(j *job) {
	var pending []int
	var first *run
	for _, r := range j.runs {
		if !r.started {
			pending = append(pending, r.task)
			if first == nil {
				first = r
			}
			continue
		}
		if !w.inLog(r) {
			continue
		}
		w.writeRun(r, 0, fmt.Sprintf("%d_%d", j.id, r.task), strconv.Itoa(r.rawID), j.text(r))
	}
	if first != nil {
		id := fmt.Sprintf("%d_[%s", j.id, ranges(pending))
		if j.throttle > 0 {
			id += "%" + strconv.Itoa(j.throttle)
		}
		w.writeRun(first, 0, id+"]", strconv.Itoa(j.id), j.text(first))
	}
}

// ranges compresses sorted integers: 3-5,9.
func ranges(xs []int) string {
	var b strings.Builder
	for i := 0; i < len(xs); {
		k := i
		for k+1 < len(xs) && xs[k+1] == xs[k]+1 {
			k++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(xs[i]))
		if k > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(xs[k]))
		}
		i = k + 1
	}
	return b.String()
}

// writeRun writes component gi of run r and its steps.
func (w *writer) writeRun(r *run, gi int, id, raw string, text jobText) {
	j, p, g := r.j, r.j.p, r.j.groups[gi]
	var l line
	l[fJobID], l[fJobIDRaw], l[fCluster], l[fPartition], l[fQOS] = id, raw, Cluster, p.name, j.qos
	l[fAccount], l[fUser], l[fGroup] = j.u.account.name, j.u.name, j.u.account.name
	submit, eligible := j.submit, j.submit
	if r.seq > 0 {
		submit, eligible = r.eligible-j.requeueDelay, r.eligible
	}
	l[fSubmit], l[fEligible] = stamp(submit), stamp(eligible)
	if j.held {
		l[fEligible] = "Unknown"
	}
	l[fTimelimit], l[fState], l[fExitCode] = j.limitText, stateText(r, w.dump), exitText(r, w.dump)
	l[fNNodes], l[fNCPUS] = strconv.Itoa(g.nodes), strconv.Itoa(g.nodes*g.cores)
	l[fReqTRES] = tres(p, g.nodes, g.cores, g.accels, false, true)
	l[fWCKey], l[fWorkDir], l[fComment], l[fJobName], l[fSubmitLine] = j.wckey, text.workDir, text.comment, text.name, text.submit
	switch {
	case r.started:
		l[fStart] = stamp(r.start)
		l[fEnd], l[fElapsed] = "Unknown", fmtDuration(w.dump-r.start)
		if r.endsBefore(w.dump) {
			l[fEnd], l[fElapsed] = stamp(r.end), fmtDuration(r.end-r.start)
		}
		l[fAllocTRES] = tres(p, g.nodes, g.cores, g.accels, true, true)
		l[fNodeList] = p.hostlist(r.nodes[gi])
	case r.cancelled:
		l[fStart], l[fEnd], l[fElapsed], l[fNodeList] = stamp(r.cancelTime), stamp(r.cancelTime), fmtDuration(0), "None assigned"
	default:
		l[fStart], l[fEnd], l[fElapsed], l[fNodeList] = "Unknown", "Unknown", fmtDuration(0), "None assigned"
	}
	w.put(&l)
	w.records++
	w.intents = append(w.intents, Intent{JobID: id, Start: l[fStart], Workload: j.w.id, Class: classNames[j.w.class]})
	if r.started {
		w.writeSteps(r, gi, id, raw, text)
	}
}

// writeSteps writes the batch step (on the first node of component 0),
// the extern step and the srun steps of one component of a started run.
func (w *writer) writeSteps(r *run, gi int, id, raw string, text jobText) {
	j, p, g := r.j, r.j.p, r.j.groups[gi]
	ended := r.endsBefore(w.dump)
	end := r.end
	if !ended {
		end = w.dump
	}
	o := r.outcome()
	step := func(suffix, name, cmd string, start, stop int64, nodes, cores, accels int, nodeList, state, exit string) {
		var l line
		l[fJobID], l[fJobIDRaw], l[fCluster], l[fAccount] = id+"."+suffix, raw+"."+suffix, Cluster, j.u.account.name
		l[fSubmit], l[fEligible], l[fStart] = stamp(start), stamp(start), stamp(start)
		if state == "RUNNING" {
			l[fEnd], l[fElapsed] = "Unknown", fmtDuration(w.dump-start)
		} else {
			l[fEnd], l[fElapsed] = stamp(stop), fmtDuration(stop-start)
		}
		l[fState], l[fExitCode] = state, exit
		l[fNNodes], l[fNCPUS] = strconv.Itoa(nodes), strconv.Itoa(nodes*cores)
		l[fAllocTRES] = tres(p, nodes, cores, accels, true, false)
		l[fNodeList], l[fJobName], l[fSubmitLine] = nodeList, name, cmd
		w.put(&l)
	}
	final := func(o outcome) (string, string) {
		if !ended {
			return "RUNNING", "0:0"
		}
		return stepEnd(o, r.pl.exit)
	}
	if gi == 0 && !text.interactive {
		st, ex := final(o)
		if o == oTimeout || o == oCancelled || o == oRequeued {
			st, ex = "CANCELLED", "0:15"
		}
		step("batch", "batch", "", r.start, end, 1, g.cores, g.accels, p.nodeName(r.nodes[gi][0]), st, ex)
	}
	list := p.hostlist(r.nodes[gi])
	{
		st, ex := "COMPLETED", "0:0"
		switch {
		case !ended:
			st = "RUNNING"
		case o == oOOM:
			st, ex = "OUT_OF_MEMORY", "0:125"
		case o == oNodeFail:
			st, ex = "CANCELLED", "0:9"
		}
		step("extern", "extern", "", r.start, end, g.nodes, g.cores, g.accels, list, st, ex)
	}
	// srun steps run one after another over the work's natural length.
	off := int64(1 + j.seed%3)
	length := max(r.pl.natural-off-1, 0)
	total := 0.0
	for _, s := range text.steps {
		total += s.share
	}
	cum := 0.0
	for k, s := range text.steps {
		a := r.start + off + int64(cum/total*float64(length))
		cum += s.share
		b := r.start + off + int64(cum/total*float64(length))
		if a >= end {
			break
		}
		last := k == len(text.steps)-1 || r.start+off+int64(cum/total*float64(length)) >= end
		st, ex := "COMPLETED", "0:0"
		switch {
		case !ended && b >= w.dump:
			st, ex = "RUNNING", "0:0"
		case ended && o != oCompleted && (last || b >= end):
			st, ex = stepEnd(o, r.pl.exit)
			b = end
		}
		if b > end {
			b = end
		}
		step(strconv.Itoa(k), hetStepName(s, gi, len(j.groups)), s.cmd, a, b, g.nodes, g.cores, g.accels, list, st, ex)
		if st != "COMPLETED" {
			break
		}
	}
}

// text writes the job's text for run r: the same names and commands for
// every run of the job, with the run's own nodes where a command names them.
func (j *job) text(r *run) jobText {
	rr := jobRand(j.cell, j.index, j.seed|1)
	c := &textCtx{user: j.u, p: j.p, g: j.groups[0], task: r.task, tasks: len(j.plans), submit: j.submit}
	if j.limitText != j.p.defaultTimeText && j.limitText != "UNLIMITED" {
		c.limit = j.limit
	}
	if j.throttle > 0 {
		c.throttle = "%" + strconv.Itoa(j.throttle)
	}
	if r.started {
		for _, n := range r.nodes[0] {
			c.nodes = append(c.nodes, j.p.nodeName(n))
		}
	}
	t := j.w.text(rr, c)
	if t.comment == "" {
		t.comment = j.comment
	}
	return t
}

// hetStepName names a heterogeneous step's part on component gi after the
// executable that component runs ("srun --het-group=0 a : --het-group=1 b").
func hetStepName(s step, gi, groups int) string {
	parts := strings.Split(s.cmd, " : ")
	if groups < 2 || len(parts) != groups {
		return s.name
	}
	for _, f := range strings.Fields(parts[gi]) {
		if f != "srun" && !strings.HasPrefix(f, "-") {
			return f
		}
	}
	return s.name
}
