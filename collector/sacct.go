package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/scmon/scmon/job"
)

func init() {
	registerFormat(Format{
		Name:        "slurm-sacct",
		Description: "sacct --parsable2 or -p output, with or without a header line",
		NewReader:   func(r io.Reader, opts Options) (Reader, error) { return NewSacctReader(r, opts), nil },
	})
}

// DefaultSacctFields is the field list scmon asks sacct for, and the one
// assumed for a dump without a header line. The free-text SubmitLine comes
// last so that a '|' inside it cannot shift the other fields.
var DefaultSacctFields = []string{
	"JobID", "JobIDRaw", "Cluster", "Partition", "QOS", "Account", "User", "Group",
	"Submit", "Eligible", "Start", "End", "Elapsed", "Timelimit", "State", "ExitCode",
	"NNodes", "NCPUS", "ReqTRES", "AllocTRES", "NodeList", "WCKey", "WorkDir",
	"Comment", "JobName", "SubmitLine",
}

// freeText are the sacct fields whose values are written by users and may
// contain the delimiter.
var freeText = map[string]bool{
	"jobname": true, "submitline": true, "workdir": true, "comment": true,
	"admincomment": true, "systemcomment": true, "constraints": true,
}

// sacct column indexes of the fields scmon reads; -1 when absent.
type sacctColumns struct {
	jobID, jobIDRaw, cluster, partition, qos, account, user, group         int
	submit, start, end, timelimit, state, exitCode, nnodes, ncpus, reqTRES int
	allocTRES, nodeList, wckey, workDir, comment, jobName, submitLine      int

	eligible int
}

func newSacctColumns(fields []string) sacctColumns {
	idx := map[string]int{}
	for i, f := range fields {
		k := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(f, "#")))
		if _, dup := idx[k]; !dup { // a repeated column: the first one counts
			idx[k] = i
		}
	}
	get := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		return -1
	}
	c := sacctColumns{
		jobID: get("jobid"), jobIDRaw: get("jobidraw"), cluster: get("cluster"),
		partition: get("partition"), qos: get("qos"), account: get("account"),
		user: get("user"), group: get("group"), submit: get("submit"), start: get("start"),
		end: get("end"), timelimit: get("timelimit"), state: get("state"),
		exitCode: get("exitcode"), nnodes: get("nnodes"), ncpus: get("ncpus"),
		reqTRES: get("reqtres"), allocTRES: get("alloctres"), nodeList: get("nodelist"),
		wckey: get("wckey"), workDir: get("workdir"), comment: get("comment"),
		jobName: get("jobname"), submitLine: get("submitline"),
	}
	c.eligible = get("eligible")
	if c.ncpus < 0 {
		c.ncpus = get("alloccpus")
	}
	if c.nnodes < 0 {
		c.nnodes = get("allocnodes")
	}
	return c
}

// SacctReader reads sacct output written with --parsable2 (fields separated
// by '|') or -p (a trailing '|' on every line), with a header line in any
// field order and any subset of fields, or without one (then Options.Fields
// or DefaultSacctFields name the columns). A two-character delimiter "|#"
// (sacct --delimiter) is recognised from the header.
//
// It returns one record per allocation. Step lines ("123.batch", "123.0")
// that follow their allocation are folded into it as Steps and never add to
// its resources. Records whose line cannot be parsed are reported as
// *LineError and skipped. A record broken over several lines by a newline
// inside a free-text field is joined back; a '|' inside the only (or last)
// free-text field is kept in that field.
type SacctReader struct {
	readerBase
	lines *lineReader

	started  bool
	delim    []byte
	trailing bool // -p: every line ends with the delimiter
	fields   []string
	cols     sacctColumns
	freeIdx  int // the column that absorbs extra delimiters, or -1
	pending  *job.Record
	carry    []byte // a line waiting for its continuation
	carryNo  int
	unread   []byte // a line to read again
	unreadNo int
	err      error
}

// NewSacctReader returns a reader over r.
func NewSacctReader(r io.Reader, opts Options) *SacctReader {
	return &SacctReader{readerBase: newReaderBase(opts), lines: newLineReader(r), delim: []byte{'|'}}
}

// A SacctReader's notes are "orphan_steps" (a step line with no
// allocation before it), "invalid_utf8" (text fields repaired), "dst_fold"
// (a wall time in a daylight-saving fold resolved to keep start before
// end) and "multiline" (a record joined back from several lines).

// Next returns the next allocation.
func (s *SacctReader) Next() (*job.Record, error) {
	for {
		if s.err != nil {
			if s.pending != nil {
				rec := s.pending
				s.pending = nil
				return rec, nil
			}
			return nil, s.err
		}
		cells, lineNo, err := s.nextCells()
		if err != nil {
			var le *LineError
			if errors.As(err, &le) {
				return nil, err
			}
			s.err = err
			continue
		}
		rec, isStep, err := s.parse(cells, lineNo)
		if err != nil {
			return nil, err
		}
		if isStep {
			parent := stepParent(rec.JobID)
			if s.pending != nil && s.pending.JobID == parent {
				s.pending.Steps = append(s.pending.Steps, job.Step{ID: rec.JobID, Name: rec.Name, Command: rec.SubmitLine})
			} else {
				s.notes["orphan_steps"]++
			}
			continue
		}
		prev := s.pending
		s.pending = rec
		if prev != nil {
			return prev, nil
		}
	}
}

// nextCells returns the fields of the next record, joining lines broken by
// a newline inside a free-text field.
func (s *SacctReader) nextCells() ([][]byte, int, error) {
	for {
		line, no, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && s.carry != nil {
				bad, n := s.carryNo, s.count(s.carry)
				s.carry = nil
				return nil, 0, s.lineErr(bad, "", ReasonFieldCount, fmt.Errorf("record ends early: %d fields, want %d", n, len(s.fields)))
			}
			return nil, 0, err
		}
		if !s.started {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			s.start(line)
			if s.fields != nil && isSacctHeader(line) {
				continue
			}
		}
		if s.carry == nil && len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if s.carry != nil {
			joined := append(append(append([]byte(nil), s.carry...), '\n'), line...)
			n := s.count(joined)
			switch {
			case n <= len(s.fields) && !s.tooFew(joined):
				s.carry = nil
				s.notes["multiline"]++
				return s.split(joined), s.carryNo, nil
			case n < len(s.fields):
				s.carry = joined
				continue
			default:
				// The broken line was not the start of this one: report it and
				// read the current line again on its own.
				bad, n := s.carryNo, s.count(s.carry)
				s.carry = nil
				s.unread, s.unreadNo = append([]byte(nil), line...), no
				return nil, 0, s.lineErr(bad, "", ReasonFieldCount, fmt.Errorf("%d fields, want %d", n, len(s.fields)))
			}
		}
		if s.tooFew(line) {
			s.carry, s.carryNo = append([]byte(nil), line...), no
			continue
		}
		cells := s.split(line)
		if len(cells) != len(s.fields) {
			return nil, 0, s.lineErr(no, "", ReasonFieldCount, fmt.Errorf("%d fields, want %d (a '|' inside a free-text field that is not the last one?)", len(cells), len(s.fields)))
		}
		return cells, no, nil
	}
}

func (s *SacctReader) readLine() ([]byte, int, error) {
	if s.unread != nil {
		line := s.unread
		s.unread = nil
		return line, s.unreadNo, nil
	}
	line, err := s.lines.next()
	return line, s.lines.line, err
}

// start inspects the first line: a header gives the fields and the
// delimiter; otherwise the configured field list applies.
func (s *SacctReader) start(line []byte) {
	s.started = true
	if isSacctHeader(line) {
		if bytes.Contains(line, []byte("|#")) {
			s.delim = []byte("|#")
		}
		s.trailing = bytes.HasSuffix(line, s.delim)
		h := line
		if s.trailing {
			h = h[:len(h)-len(s.delim)]
		}
		for _, f := range bytes.Split(h, s.delim) {
			s.fields = append(s.fields, string(bytes.TrimSpace(f)))
		}
	} else {
		s.fields = s.opts.Fields
		if s.fields == nil {
			s.fields = DefaultSacctFields
		}
		s.trailing = len(bytes.Split(line, s.delim)) == len(s.fields)+1 && bytes.HasSuffix(line, s.delim)
	}
	s.cols = newSacctColumns(s.fields)
	s.freeIdx = -1
	nFree := 0
	for i, f := range s.fields {
		if freeText[strings.ToLower(f)] {
			nFree++
			s.freeIdx = i
		}
	}
	if nFree > 1 && s.freeIdx != len(s.fields)-1 {
		s.freeIdx = -1 // ambiguous: extra delimiters cannot be placed
	}
}

// isSacctHeader reports whether a line is a sacct header: it names JobID.
func isSacctHeader(line []byte) bool {
	for _, f := range bytes.FieldsFunc(line, func(r rune) bool { return r == '|' || r == '#' }) {
		if strings.EqualFold(string(bytes.TrimSpace(f)), "JobID") {
			return true
		}
	}
	return false
}

func (s *SacctReader) body(line []byte) []byte {
	if s.trailing {
		return bytes.TrimSuffix(line, s.delim)
	}
	return line
}

func (s *SacctReader) count(line []byte) int {
	return bytes.Count(s.body(line), s.delim) + 1
}

// tooFew reports whether a line holds fewer fields than a record: the
// first part of a record broken by a newline inside a free-text field.
func (s *SacctReader) tooFew(line []byte) bool {
	return s.count(line) < len(s.fields)
}

// split cuts a line into exactly len(fields) cells when it has at least
// that many: extra delimiters are given back to the free-text column.
func (s *SacctReader) split(line []byte) [][]byte {
	cells := bytes.Split(s.body(line), s.delim)
	n := len(s.fields)
	if len(cells) <= n || s.freeIdx < 0 {
		return cells
	}
	extra := len(cells) - n
	out := make([][]byte, 0, n)
	out = append(out, cells[:s.freeIdx]...)
	out = append(out, bytes.Join(cells[s.freeIdx:s.freeIdx+extra+1], s.delim))
	out = append(out, cells[s.freeIdx+extra+1:]...)
	return out
}

// stepParent returns the allocation id of a step id ("123_4.batch" -> "123_4").
func stepParent(id string) string {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return id
}

// parse turns one line's cells into a record. isStep reports a step line,
// of which only the id, name and command are filled in.
func (s *SacctReader) parse(cells [][]byte, lineNo int) (rec *job.Record, isStep bool, err error) {
	c := &s.cols
	pool := s.opts.Strings
	get := func(i int) []byte {
		if i < 0 || i >= len(cells) {
			return nil
		}
		return cells[i]
	}
	text := func(i int) string { return s.text(get(i)) }
	label := func(i int) string { return s.label(get(i)) }
	fail := func(field, reason string, err error) (*job.Record, bool, error) {
		return nil, false, s.lineErr(lineNo, field, reason, err)
	}

	id := text(c.jobID)
	if id == "" {
		if c.jobID < 0 {
			return fail("JobID", ReasonID, errors.New("the input has no JobID column"))
		}
		return fail("JobID", ReasonID, errors.New("empty job id"))
	}
	if strings.IndexByte(id, '.') > 0 {
		return &job.Record{JobID: id, Name: text(c.jobName), SubmitLine: text(c.submitLine)}, true, nil
	}
	rec = &job.Record{
		Source: s.opts.Name, Line: lineNo,
		JobID: id, RawID: label(c.jobIDRaw),
		Cluster: label(c.cluster), Partition: label(c.partition), QOS: label(c.qos),
		Account: label(c.account), User: label(c.user), Group: label(c.group),
		WCKey: label(c.wckey), WorkDir: text(c.workDir), Comment: text(c.comment),
		Name: text(c.jobName), SubmitLine: text(c.submitLine), NodeList: label(c.nodeList),
		ExitCode: label(c.exitCode),
	}
	if rec.RawID == rec.JobID {
		rec.RawID = ""
	}
	if rec.Cluster == "" {
		rec.Cluster = s.opts.Cluster
	}
	rec.StateRaw = label(c.state)
	rec.State = job.ParseState(rec.StateRaw)

	submit, err := parseSlurmTime(string(get(c.submit)), s.opts.Location)
	if err != nil {
		return fail("Submit", ReasonTime, err)
	}
	start, err := parseSlurmTime(string(get(c.start)), s.opts.Location)
	if err != nil {
		return fail("Start", ReasonTime, err)
	}
	end, err := parseSlurmTime(string(get(c.end)), s.opts.Location)
	if err != nil {
		return fail("End", ReasonTime, err)
	}
	// Eligible only dates the wait before the start, never a figure of
	// use: a value that does not parse is noted and left unknown.
	if eligible, err := parseSlurmTime(string(get(c.eligible)), s.opts.Location); err == nil {
		rec.Eligible = eligible.T
	} else {
		s.notes["bad_eligible"]++
	}
	var folded bool
	rec.Submit, rec.Start, rec.End, folded = orderTimes(submit, start, end)
	if folded {
		s.notes["dst_fold"]++
	}
	if tl := get(c.timelimit); len(tl) > 0 {
		rec.Timelimit, rec.Unlimited, err = parseSlurmDuration(string(tl))
		if err != nil {
			return fail("Timelimit", ReasonTime, err)
		}
	}
	if rec.Nodes, err = parseCount(get(c.nnodes)); err != nil {
		return fail("NNodes", ReasonNumber, err)
	}
	if rec.Cores, err = parseCount(get(c.ncpus)); err != nil {
		return fail("NCPUS", ReasonNumber, err)
	}
	alloc, err := parseTRES(string(get(c.allocTRES)), pool)
	if err != nil {
		return fail("AllocTRES", ReasonTRES, err)
	}
	req, err := parseTRES(string(get(c.reqTRES)), pool)
	if err != nil {
		return fail("ReqTRES", ReasonTRES, err)
	}
	used := alloc
	if len(get(c.allocTRES)) == 0 {
		// No allocation recorded: a job that has not started (its request
		// is the demand it places), old Slurm, or the column not asked for
		// (the request is the best evidence of what was held).
		used = req
	}
	if rec.Cores == 0 && used.hasCPU {
		rec.Cores = used.cpu
	}
	if rec.Nodes == 0 && used.hasNode {
		rec.Nodes = used.node
	}
	rec.Accels = used.accels
	rec.Billing = used.billing

	// Pending array placeholders ("123_[1-3,5%2]") and jobs that never got
	// nodes hold nothing, whatever their times say.
	if strings.IndexByte(id, '[') >= 0 || rec.NodeList == "None assigned" || rec.State == job.StatePending {
		rec.Start, rec.End = time.Time{}, time.Time{}
	}
	// A job the dump calls running has not ended, whatever End says.
	if rec.State == job.StateRunning || rec.State == job.StateSuspended {
		rec.End = time.Time{}
	}
	if rec.Started() && !rec.End.IsZero() && rec.End.Before(rec.Start) {
		return fail("End", ReasonOrder, fmt.Errorf("end %s is before start %s", rec.End.Format(timeLayout), rec.Start.Format(timeLayout)))
	}
	return rec, false, nil
}

const timeLayout = "2006-01-02T15:04:05Z07:00"

// parseCount reads a non-negative integer; empty is zero. Slurm prints
// large counts with a K or M suffix in some versions.
func parseCount(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	mult := int64(1)
	switch b[len(b)-1] {
	case 'K', 'k':
		mult, b = 1000, b[:len(b)-1]
	case 'M', 'm':
		mult, b = 1000000, b[:len(b)-1]
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a count", b)
	}
	return n * mult, nil
}
