package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/scmon/scmon/job"
)

func init() {
	registerFormat(Format{
		Name:        "lsf",
		Description: "IBM Spectrum LSF lsb.acct accounting log (JOB_FINISH records)",
		NewReader:   func(r io.Reader, opts Options) (Reader, error) { return NewLSFReader(r, opts), nil },
	})
}

// LSFReader reads the job accounting log of IBM Spectrum LSF (lsb.acct and
// its archives lsb.acct.N): one event per line, fields separated by blanks,
// strings in double quotes with a quote inside written twice, and lists
// (asked hosts, execution hosts) each preceded by its length.
//
// Only JOB_FINISH events describe an allocation. Other events
// (EVENT_ADRSV_FINISH, JOB_RESIZE, or a JOB_NEW of an lsb.events file read
// by mistake) are skipped without error and counted as the note
// "event_skipped". The fields read sit in the part of the record every LSF
// version since 6 writes in the same order, from the event type to the job
// array index; the termination reason (exitInfo), eight fields further, is
// used when present. What follows differs between versions and is ignored,
// so records of any version read alike.
//
// Times are Unix seconds: Submit is submitTime, Start startTime (0 for a
// job that never started: the record then has a zero Start and End and
// allocated nothing), End the event time, when the job finished. Cores are
// the job slots of the execution host list, where a host appears once per
// slot or, with LSF_HPC_EXTENSIONS=SHORT_EVENTFILE, as "N*host"; a record
// without execution hosts falls back to numProcessors (the note
// "cores_from_request"), and one whose slots differ from numProcessors (a
// "-n min,max" request, a resized job) keeps the slots and is counted as the
// note "slots_differ_from_request". Nodes are the distinct execution hosts,
// NodeList lists them. Partition is the queue, Account the project, Name the
// job name, SubmitLine the command (the job script for "bsub < script", its
// lines joined by ';'), WorkDir the working directory. A job array element
// (idx > 0) has the JobID "jobId[idx]".
//
// State follows jStatus: DONE (0x40) COMPLETED; EXIT (0x20) FAILED, unless
// the termination reason says the job was killed by its owner or an
// administrator (TERM_OWNER, TERM_ADMIN, their forced forms, bkill -b:
// CANCELLED), requeued (TERM_REQUEUE_*: REQUEUED), preempted
// (TERM_PREEMPT: PREEMPTED), stopped at its run limit (TERM_RUNLIMIT:
// TIMEOUT), its deadline (TERM_DEADLINE: DEADLINE) or its memory limit
// (TERM_MEMLIMIT: OUT_OF_MEMORY). StateRaw says DONE or EXIT, with the
// termination keyword when it decided the state. ExitCode is exitStatus as
// written (a wait(2) status).
//
// GPUs: LSF writes no GPU allocation in the stable part of the record, only
// the resource requirement string. A requirement with a single
// rusage[ngpus_physical=N] (or the older ngpus=N) counts N per host with the
// suffix "/host", N per slot with "/task" and N in all with "/job". Without a
// suffix the count is per host or per slot depending on the cluster's
// configuration, which the record does not carry; it is used only when both
// readings agree (one slot per host), and otherwise the record gets no GPUs
// and the note "gpu_ambiguous", as does a compound or alternative
// requirement that asks for GPUs.
type LSFReader struct {
	readerBase
	lines   *lineReader
	hosts   [][]byte // distinct execution hosts of the current line, reused
	seen    map[string]struct{}
	scratch []byte
}

// NewLSFReader returns a reader over one lsb.acct file.
func NewLSFReader(r io.Reader, opts Options) *LSFReader {
	l := &LSFReader{readerBase: newReaderBase(opts)}
	l.lines = l.newLines(r)
	return l
}

// An LSFReader's notes are "event_skipped" (an event other than
// JOB_FINISH), "cores_from_request", "slots_differ_from_request" and
// "gpu_ambiguous" (see LSFReader) and "invalid_utf8" (text repaired).

// Next returns the next allocation, a *LineError for a malformed line, or
// io.EOF.
func (l *LSFReader) Next() (*job.Record, error) {
	for {
		line, err := l.lines.next()
		if err != nil {
			return nil, l.lineFailure(err)
		}
		rec, err := l.parse(line, l.lines.line)
		if err != nil || rec != nil {
			return rec, err
		}
	}
}

// lsfScan walks the fields of one record.
type lsfScan struct {
	line []byte
	pos  int
	n    int // fields read
}

// next returns the next field: the text between the quotes of a quoted
// string (escaped reports a doubled quote inside it), or a bare word. ok is
// false at the end of the line.
func (s *lsfScan) next() (val []byte, escaped, ok bool, err error) {
	for s.pos < len(s.line) && (s.line[s.pos] == ' ' || s.line[s.pos] == '\t') {
		s.pos++
	}
	if s.pos == len(s.line) {
		return nil, false, false, nil
	}
	s.n++
	if s.line[s.pos] != '"' {
		st := s.pos
		for s.pos < len(s.line) && s.line[s.pos] != ' ' && s.line[s.pos] != '\t' {
			s.pos++
		}
		return s.line[st:s.pos], false, true, nil
	}
	st := s.pos + 1
	for i := st; i < len(s.line); i++ {
		if s.line[i] != '"' {
			continue
		}
		if i+1 < len(s.line) && s.line[i+1] == '"' {
			escaped = true
			i++
			continue
		}
		if i+1 < len(s.line) && s.line[i+1] != ' ' && s.line[i+1] != '\t' {
			return nil, false, false, fmt.Errorf("text %q right after a closing quote", pbsClip(s.line[i+1:]))
		}
		s.pos = i + 1
		return s.line[st:i], escaped, true, nil
	}
	return nil, false, false, fmt.Errorf("unterminated quote in %q", pbsClip(s.line[s.pos:]))
}

// lsfField is one field read for a record: its value and whether it holds
// a doubled quote.
type lsfField struct {
	val     []byte
	escaped bool
}

func (l *LSFReader) parse(line []byte, no int) (*job.Record, error) {
	if t := bytes.TrimLeft(line, " \t"); len(t) == 0 || t[0] == '#' {
		return nil, nil // a blank or comment line
	}
	s := lsfScan{line: line}
	typ, _, _, err := s.next()
	if err != nil {
		return nil, l.lineErr(no, "event_type", ReasonRecord, err)
	}
	if string(typ) != "JOB_FINISH" {
		if !lsfIsEventName(typ) {
			return nil, l.lineErr(no, "event_type", ReasonRecord, fmt.Errorf("%q is not an LSF event type", pbsClip(typ)))
		}
		l.notes["event_skipped"]++
		return nil, nil
	}

	// want reads the next field, or fails naming it.
	var perr error
	want := func(name string) lsfField {
		if perr != nil {
			return lsfField{}
		}
		v, esc, ok, err := s.next()
		switch {
		case err != nil:
			perr = l.lineErr(no, name, ReasonRecord, err)
		case !ok:
			perr = l.lineErr(no, name, ReasonFieldCount, fmt.Errorf("the record ends after %d fields, before %s", s.n, name))
		}
		return lsfField{v, esc}
	}
	integer := func(name string, f lsfField) int64 {
		if perr != nil {
			return 0
		}
		n, err := pbsInt(f.val)
		if err != nil {
			perr = l.lineErr(no, name, ReasonNumber, err)
		}
		return n
	}
	epoch := func(name string) int64 {
		f := want(name)
		if perr != nil {
			return 0
		}
		n, err := pbsInt(f.val)
		switch {
		case err != nil || n < 0:
			perr = l.lineErr(no, name, ReasonTime, fmt.Errorf("%q is not a Unix time", pbsClip(f.val)))
		case n > maxSeconds:
			perr = l.lineErr(no, name, ReasonRange, rangeErr("Unix time %d is after %d", n, int64(maxSeconds)))
		}
		return n
	}
	count := func(name string) int64 {
		f := want(name)
		if perr != nil {
			return 0
		}
		n, err := pbsCount(f.val)
		if err != nil {
			perr = l.lineErr(no, name, reasonFor(err, ReasonNumber), err)
		}
		return n
	}
	skip := func(names ...string) {
		for _, name := range names {
			want(name)
		}
	}

	skip("version")
	event := epoch("event_time")
	jobField := want("job_id")
	if perr == nil {
		if id, err := pbsInt(jobField.val); err != nil || id < 0 {
			return nil, l.lineErr(no, "job_id", ReasonID, fmt.Errorf("job id %q is not a number", pbsClip(jobField.val)))
		}
	}
	skip("user_id", "options")
	numProcs := count("num_processors")
	submit := epoch("submit_time")
	epoch("begin_time")
	epoch("term_time")
	start := epoch("start_time")
	user := want("user_name")
	queue := want("queue")
	resReq := want("res_req")
	skip("depend_cond", "pre_exec_cmd", "from_host")
	cwd := want("cwd")
	skip("in_file", "out_file", "err_file", "job_file")
	asked := count("num_asked_hosts")
	for i := int64(0); i < asked && perr == nil; i++ {
		want("asked_hosts")
	}
	numEx := count("num_ex_hosts")
	var slots int64
	l.hosts = l.hosts[:0]
	clear(l.seen)
	for i := int64(0); i < numEx && perr == nil; i++ {
		f := want("exec_hosts")
		if perr != nil {
			break
		}
		n, host, err := lsfExecHost(f.val)
		if err != nil {
			perr = l.lineErr(no, "exec_hosts", reasonFor(err, ReasonNumber), err)
			break
		}
		var ok bool
		if slots, ok = addCount(slots, n); !ok {
			perr = l.lineErr(no, "exec_hosts", ReasonRange, rangeErr("the slots of the execution hosts sum above %d", job.MaxCount))
			break
		}
		l.addHost(host)
	}
	status := integer("j_status", want("j_status"))
	skip("host_factor")
	name := want("job_name")
	command := want("command")
	for i := 0; i < 19 && perr == nil; i++ {
		f := want("rusage")
		if perr == nil && !lsfNumeric(f.val) {
			perr = l.lineErr(no, "rusage", ReasonNumber, fmt.Errorf("resource usage %q is not a number", pbsClip(f.val)))
		}
	}
	skip("mail_user")
	project := want("project_name")
	exit := want("exit_status")
	integer("exit_status", exit)
	integer("max_num_processors", want("max_num_processors"))
	skip("login_shell", "time_event")
	idxField := want("idx")
	idx := integer("idx", idxField)
	if perr != nil {
		return nil, perr
	}
	if idx < 0 {
		return nil, l.lineErr(no, "idx", ReasonID, fmt.Errorf("job array index %d is negative", idx))
	}
	// The termination reason, eight fields after idx, when the record has it.
	exitInfo, hasExitInfo := int64(0), true
	for range 8 {
		if _, _, ok, err := s.next(); err != nil || !ok {
			hasExitInfo = false
			break
		}
	}
	if hasExitInfo {
		v, _, ok, err := s.next()
		if err == nil && ok {
			if exitInfo, err = pbsInt(v); err != nil {
				return nil, l.lineErr(no, "exit_info", ReasonNumber, err)
			}
		} else {
			hasExitInfo = false
		}
	}

	rec := &job.Record{Source: l.opts.Name, Line: no, Cluster: l.opts.Cluster,
		User:       l.label(user.val),
		Partition:  l.label(queue.val),
		Account:    l.label(project.val),
		Name:       l.lsfText(name),
		SubmitLine: l.lsfText(command),
		WorkDir:    l.lsfText(cwd),
		ExitCode:   l.label(exit.val),
	}
	l.scratch = append(l.scratch[:0], jobField.val...)
	if idx > 0 {
		l.scratch = append(strconv.AppendInt(append(l.scratch, '['), idx, 10), ']')
	}
	rec.JobID = string(l.scratch)
	if submit > 0 {
		rec.Submit = time.Unix(submit, 0).UTC()
	}
	if start > 0 {
		rec.Start = time.Unix(start, 0).UTC()
		rec.End = time.Unix(event, 0).UTC()
	}

	switch {
	case slots > 0:
		rec.Cores = slots
		if numProcs > 0 && numProcs != slots {
			l.notes["slots_differ_from_request"]++
		}
	case start > 0:
		rec.Cores = numProcs
		l.notes["cores_from_request"]++
	}
	rec.Nodes = int64(len(l.hosts))
	l.nodeList(rec)

	if gpus, err := l.gpus(resReq.val, rec.Cores, rec.Nodes); err != nil {
		return nil, l.lineErr(no, "res_req", reasonFor(err, ReasonTRES), err)
	} else if gpus > 0 && rec.Started() {
		rec.Accels = []job.Accel{{Name: "gpu", Count: gpus}}
	}

	rec.State, rec.StateRaw = lsfState(status, exitInfo, hasExitInfo)
	return l.final(rec)
}

// lsfText returns the text of a string field, a doubled quote made single.
func (l *LSFReader) lsfText(f lsfField) string {
	if f.escaped {
		return l.text(bytes.ReplaceAll(f.val, []byte(`""`), []byte(`"`)))
	}
	return l.text(f.val)
}

// addHost remembers a distinct execution host. Entries of one host usually
// come together, so it compares with the last one first and indexes only
// long lists.
func (l *LSFReader) addHost(host []byte) {
	if k := len(l.hosts); k > 0 && bytes.Equal(l.hosts[k-1], host) {
		return
	}
	if len(l.hosts) < 32 {
		for _, h := range l.hosts {
			if bytes.Equal(h, host) {
				return
			}
		}
		l.hosts = append(l.hosts, host)
		return
	}
	if l.seen == nil {
		l.seen = map[string]struct{}{}
	}
	if len(l.seen) == 0 {
		for _, h := range l.hosts {
			l.seen[string(h)] = struct{}{}
		}
	}
	if _, dup := l.seen[string(host)]; dup {
		return
	}
	l.seen[string(host)] = struct{}{}
	l.hosts = append(l.hosts, host)
}

// nodeList sets the record's node list from the distinct hosts.
func (l *LSFReader) nodeList(rec *job.Record) {
	switch len(l.hosts) {
	case 0:
	case 1:
		rec.NodeList = l.label(l.hosts[0])
	default:
		l.scratch = l.scratch[:0]
		for i, h := range l.hosts {
			if i > 0 {
				l.scratch = append(l.scratch, ',')
			}
			l.scratch = append(l.scratch, h...)
		}
		rec.NodeList = l.text(l.scratch)
	}
}

// lsfExecHost reads one execution host entry: "host" (one slot) or
// "N*host" (N slots).
func lsfExecHost(v []byte) (int64, []byte, error) {
	if star := bytes.IndexByte(v, '*'); star > 0 && v[0] >= '0' && v[0] <= '9' {
		n, err := pbsCount(v[:star])
		if err != nil {
			return 0, nil, fmt.Errorf("slot count of %q: %w", pbsClip(v), err)
		}
		if star+1 == len(v) {
			return 0, nil, fmt.Errorf("execution host %q has no name", pbsClip(v))
		}
		return n, v[star+1:], nil
	}
	if len(v) == 0 {
		return 0, nil, errors.New("empty execution host name")
	}
	return 1, v, nil
}

// lsfIsEventName reports whether b looks like an LSF event type
// (upper-case letters, digits and underscores).
func lsfIsEventName(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return len(b) > 0
}

// lsfNumeric reports whether b is a plain number as LSF writes resource
// usage: digits with an optional sign, point and exponent.
func lsfNumeric(b []byte) bool {
	digits := false
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || c == 'e' || c == 'E':
		case (c == '-' || c == '+') && (i == 0 || b[i-1] == 'e' || b[i-1] == 'E'):
		default:
			return false
		}
	}
	return digits
}

// LSF job status bits and termination reasons (exitInfo) as lsb.acct
// writes them.
const (
	lsfStatExit = 0x20
	lsfStatDone = 0x40
)

var lsfTermStates = map[int64]struct {
	name  string
	state job.State
}{
	1:  {"TERM_PREEMPT", job.StatePreempted},
	5:  {"TERM_RUNLIMIT", job.StateTimeout},
	6:  {"TERM_DEADLINE", job.StateDeadline},
	8:  {"TERM_FORCE_OWNER", job.StateCancelled},
	9:  {"TERM_FORCE_ADMIN", job.StateCancelled},
	10: {"TERM_REQUEUE_OWNER", job.StateRequeued},
	11: {"TERM_REQUEUE_ADMIN", job.StateRequeued},
	14: {"TERM_OWNER", job.StateCancelled},
	15: {"TERM_ADMIN", job.StateCancelled},
	16: {"TERM_MEMLIMIT", job.StateOutOfMemory},
	23: {"TERM_BUCKET_KILL", job.StateCancelled},
}

// lsfState maps jStatus and the termination reason to a state and the
// raw state kept with it.
func lsfState(status, exitInfo int64, hasExitInfo bool) (job.State, string) {
	switch {
	case status&lsfStatDone != 0:
		return job.StateCompleted, "DONE"
	case status&lsfStatExit != 0:
		if t, ok := lsfTermStates[exitInfo]; ok && hasExitInfo {
			return t.state, "EXIT " + t.name
		}
		return job.StateFailed, "EXIT"
	}
	return job.StateOther, "OTHER"
}

// gpus returns the GPUs a resource requirement asks for, as LSFReader
// describes, or 0 when it asks for none or the count is ambiguous.
func (l *LSFReader) gpus(req []byte, slots, hosts int64) (int64, error) {
	at := bytes.Index(req, []byte("rusage["))
	if at < 0 {
		return 0, nil
	}
	body := req[at+len("rusage["):]
	end := bytes.IndexByte(body, ']')
	if end < 0 {
		return 0, fmt.Errorf("unterminated rusage[ in %q", pbsClip(req))
	}
	body = body[:end]
	var val []byte
	for item := range bytes.FieldsFuncSeq(body, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		k, v, ok := bytes.Cut(item, []byte{'='})
		if ok && (string(k) == "ngpus_physical" || string(k) == "ngpus") {
			val = v
		}
	}
	if val == nil {
		return 0, nil
	}
	if bytes.Contains(req, []byte("||")) || bytes.IndexByte(req, '{') >= 0 || bytes.Count(req, []byte("rusage[")) > 1 {
		l.notes["gpu_ambiguous"]++
		return 0, nil
	}
	num, per, _ := bytes.Cut(val, []byte{'/'})
	n, err := pbsCount(num)
	if err != nil {
		return 0, fmt.Errorf("GPU count %q: %w", pbsClip(val), err)
	}
	var total int64
	var ok bool
	switch string(per) {
	case "host":
		total, ok = mulCount(n, hosts)
	case "task":
		total, ok = mulCount(n, slots)
	case "job":
		total, ok = n, true
	case "":
		if hosts != slots {
			l.notes["gpu_ambiguous"]++
			return 0, nil
		}
		total, ok = mulCount(n, hosts)
	default:
		return 0, fmt.Errorf("GPU count %q: unknown unit %q", pbsClip(val), pbsClip(per))
	}
	if !ok {
		return 0, rangeErr("%d GPUs per %s over %d slots on %d hosts is above %d", n, per, slots, hosts, job.MaxCount)
	}
	return total, nil
}
