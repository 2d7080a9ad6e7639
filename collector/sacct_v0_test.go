package collector

// This file keeps the sacct reader as it was before it was made fast: the
// reference of the differential tests (sacct_diff_test.go). Every top-level
// name has the suffix V0; the chunked read is left out (it only reproduces
// the one pass).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scmon/scmon/internal/intern"

	"github.com/scmon/scmon/job"
)

// defaultSacctFieldsV0 is the field list scmon asks sacct for, and the one
// assumed for a dump without a header line. The free-text SubmitLine comes
// last so that a '|' inside it cannot shift the other fields.
var defaultSacctFieldsV0 = []string{
	"JobID", "JobIDRaw", "Cluster", "Partition", "QOS", "Account", "User", "Group",
	"Submit", "Eligible", "Start", "End", "Elapsed", "Timelimit", "State", "ExitCode",
	"NNodes", "NCPUS", "ReqTRES", "AllocTRES", "NodeList", "WCKey", "WorkDir",
	"Comment", "JobName", "SubmitLine",
}

// freeTextV0 are the sacct fields whose values are written by users and may
// contain the delimiter.
var freeTextV0 = map[string]bool{
	"jobname": true, "submitline": true, "workdir": true, "comment": true,
	"admincomment": true, "systemcomment": true, "constraints": true,
}

// sacct column indexes of the fields scmon reads; -1 when absent.
type sacctColumnsV0 struct {
	jobID, jobIDRaw, cluster, partition, qos, account, user, group    int
	submit, eligible, start, end, elapsed, timelimit, state, exitCode int
	nnodes, ncpus, reqTRES                                            int
	allocTRES, nodeList, wckey, workDir, comment, jobName, submitLine int
}

func newSacctColumnsV0(fields []string) sacctColumnsV0 {
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
	c := sacctColumnsV0{
		jobID: get("jobid"), jobIDRaw: get("jobidraw"), cluster: get("cluster"),
		partition: get("partition"), qos: get("qos"), account: get("account"),
		user: get("user"), group: get("group"), submit: get("submit"), start: get("start"),
		eligible: get("eligible"), elapsed: get("elapsed"),
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

// sacctReaderV0 reads sacct output written with --parsable2 (fields separated
// by '|') or -p (a trailing '|' on every line), with a header line in any
// field order and any subset of fields, or without one (then Options.Fields
// or defaultSacctFieldsV0 name the columns). A two-character delimiter "|#"
// (sacct --delimiter) is recognised from the header.
//
// It returns one record per allocation. Step lines ("123.batch", "123.0")
// that follow their allocation are folded into it as Steps and never add to
// its resources. Records whose line cannot be parsed are reported as
// *LineError and skipped. A record broken over several lines by a newline
// inside a free-text field is joined back; a '|' inside the only (or last)
// free-text field is kept in that field.
type sacctReaderV0 struct {
	readerBase
	lines *lineReader

	started  bool
	delim    []byte
	trailing bool // -p: every line ends with the delimiter
	fields   []string
	cols     sacctColumnsV0
	header   bool // the first line was a header
	freeIdx  int  // the column that absorbs extra delimiters, or -1
	pending  *job.Record
	err      error

	// Records broken over lines (see nextCells).
	firstFree int    // the first free-text column, or -1
	lastFree  bool   // the last column is free text
	lastCol   string // its name, lower case
	seen      bool   // a record line was read
	carrying  bool   // carry holds the first lines of a broken record
	carry     []byte
	carryN    int // its fields
	carryNo   int
	hasUnread bool // unread holds a line to read again
	unread    []byte
	unreadNo  int
	target    *string // the field continuation lines go to, or nil
	contBuf   []byte  // continuation lines not yet added to it
	cells     [][]byte

	// Working space of parse, kept so that a line costs few allocations.
	lastLabels []string      // the last label of each column (see labelAt)
	arena      []byte        // the text fields of one record, copied at once
	walls      wallCacheV0   // the zone's offset over a stretch of wall times
	tresV0     tresScratchV0 // TRES parsing

}

// newSacctReaderV0 returns a reader over r.
func newSacctReaderV0(r io.Reader, opts Options) *sacctReaderV0 {
	s := &sacctReaderV0{readerBase: newReaderBase(opts), delim: []byte{'|'}}
	s.lines = s.newLines(r)
	return s
}

// A sacctReaderV0's notes are "orphan_steps" (a step line with no
// allocation before it), "invalid_utf8" (text fields repaired), "dst_fold"
// (a record with a wall time in a daylight-saving fold, resolved by the
// order of its times and its Elapsed), "dst_ambiguous" (such a record whose
// times and Elapsed still fit more than one reading: the earliest is taken)
// and "multiline" (a line joined onto the record before it).

// Next returns the next allocation.
func (s *sacctReaderV0) Next() (*job.Record, error) {
	for {
		if s.err != nil {
			if s.pending != nil {
				rec := s.pending
				s.pending = nil
				s.flushCont()
				return rec, nil
			}
			return nil, s.err
		}
		cells, lineNo, cont, err := s.nextCells()
		if err != nil {
			var le *LineError
			if errors.As(err, &le) {
				s.flushCont() // continuation lines of a skipped record go with it
				return nil, err
			}
			s.err = err
			continue
		}
		if cont {
			if err := s.continueLast(cells[0], lineNo); err != nil {
				return nil, err
			}
			continue
		}
		s.flushCont()
		if s.isStepLine(cells) {
			id := s.cell(cells, s.cols.jobID)
			parent := id[:bytes.IndexByte(id, '.')]
			if s.pending != nil && (string(parent) == s.pending.JobID || !utf8.Valid(parent) && strings.ToValidUTF8(string(parent), "\uFFFD") == s.pending.JobID) {
				if s.pending.Steps == nil {
					// batch, extern and one srun step: most allocations
					// have three, which then cost one allocation.
					s.pending.Steps = make([]job.Step, 0, 3)
				}
				s.pending.Steps = append(s.pending.Steps, s.parseStep(cells))
				st := &s.pending.Steps[len(s.pending.Steps)-1]
				switch s.lastCol {
				case "submitline":
					s.target = &st.Command
				case "jobname":
					s.target = &st.Name
				}
			} else {
				_ = s.parseStep(cells) // its repairs are counted as for any step
				s.notes["orphan_steps"]++
			}
			continue
		}
		rec, err := s.parseAlloc(cells, lineNo)
		if err != nil {
			return nil, err
		}
		prev := s.pending
		s.pending = rec
		switch s.lastCol {
		case "submitline":
			s.target = &rec.SubmitLine
		case "jobname":
			s.target = &rec.Name
		case "workdir":
			s.target = &rec.WorkDir
		case "comment":
			s.target = &rec.Comment
		}
		if prev != nil {
			return prev, nil
		}
	}
}

// continueLast keeps a continuation line: the text after a newline inside
// the last field of the record (or step) read before it. It is gathered in
// one buffer and added to the field once, so that a field broken over many
// lines costs time linear in its length.
//
// The record with its continuation lines is bounded by the line cap: an
// allocation that grows past it is skipped with reason line_too_long (its
// further continuation lines go with it); a step's text is cut at the cap
// instead (note "step_text_cut"), since the allocation before it is sound.
func (s *sacctReaderV0) continueLast(line []byte, no int) error {
	s.notes["multiline"]++
	if s.target == nil {
		return nil // the last field is not kept, or its record was skipped
	}
	if len(*s.target)+len(s.contBuf)+1+len(line) <= s.opts.MaxLine {
		s.contBuf = append(append(s.contBuf, '\n'), line...)
		return nil
	}
	if s.pending != nil && s.target != &s.pending.SubmitLine && s.target != &s.pending.Name &&
		s.target != &s.pending.WorkDir && s.target != &s.pending.Comment {
		s.notes["step_text_cut"]++
		s.flushCont()
		return nil
	}
	rec := s.pending
	s.pending = nil
	s.contBuf = s.contBuf[:0]
	s.target = nil
	return s.lineErr(rec.Line, "", ReasonLineTooLong, fmt.Errorf("record continued over lines %d-%d is longer than the limit of %d bytes", rec.Line, no, s.opts.MaxLine))
}

// flushCont adds the gathered continuation lines to their field.
func (s *sacctReaderV0) flushCont() {
	if s.target != nil && len(s.contBuf) > 0 {
		*s.target += s.text(s.contBuf)
	}
	s.contBuf = s.contBuf[:0]
	s.target = nil
}

// nextCells returns the fields of the next record, joining lines broken by
// a newline inside a free-text field, or (cont true) a continuation line
// of the last field of the record before it, in cells[0].
//
// A short line (fewer fields than a record) is the start of a broken
// record when it holds at least every field before the first free-text
// column and a job id (a newline can only be inside free text, and job ids
// never hold one); otherwise, after a record whose last column is free text
// (SubmitLine, set by users through sbatch --wrap), it continues that
// record. Lines are joined by appending to one buffer and counting
// delimiters once per line: linear in the record's length.
func (s *sacctReaderV0) nextCells() (cells [][]byte, lineNo int, cont bool, err error) {
	for {
		line, no, err := s.readLine()
		if err != nil {
			if s.carrying {
				s.carrying = false
				var tl *errLineTooLong
				if errors.As(err, &tl) {
					return nil, 0, false, s.lineErr(s.carryNo, "", ReasonLineTooLong, fmt.Errorf("record broken over lines %d-%d is longer than the limit of %d bytes", s.carryNo, tl.line, s.opts.MaxLine))
				}
				if errors.Is(err, io.EOF) {
					return nil, 0, false, s.lineErr(s.carryNo, "", ReasonFieldCount, fmt.Errorf("record ends early: %d fields, want %d", s.carryN, len(s.fields)))
				}
			}
			return nil, 0, false, s.lineFailure(err)
		}
		if !s.started {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if err := s.start(line, no); err != nil {
				return nil, 0, false, err
			}
			if s.header {
				continue
			}
		}
		n := s.count(line)
		if s.carrying {
			joined := s.carryN + n - 1
			if len(s.carry)+1+len(line) > s.opts.MaxLine {
				s.carrying = false
				return nil, 0, false, s.lineErr(s.carryNo, "", ReasonLineTooLong, fmt.Errorf("record broken over lines %d-%d is longer than the limit of %d bytes", s.carryNo, no, s.opts.MaxLine))
			}
			if joined < len(s.fields) || joined == len(s.fields) || joined > len(s.fields) && s.freeIdx >= 0 && !s.startsRecord(line, n) {
				s.carry = append(append(s.carry, '\n'), line...)
				s.carryN = joined
				s.notes["multiline"]++
				if joined < len(s.fields) {
					continue
				}
				s.carrying = false
				return s.split(s.carry, joined), s.carryNo, false, nil
			}
			// The broken line was not the start of a record: report it and
			// read the current line again on its own.
			s.carrying = false
			s.unread, s.unreadNo = append(s.unread[:0], line...), no
			s.hasUnread = true
			return nil, 0, false, s.lineErr(s.carryNo, "", ReasonFieldCount, fmt.Errorf("%d fields, want %d", s.carryN, len(s.fields)))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if n < len(s.fields) {
			switch {
			case s.startsRecord(line, n):
				s.carry, s.carryN, s.carryNo, s.carrying = append(s.carry[:0], line...), n, no, true
				continue
			case s.lastFree && s.seen:
				s.cells = append(s.cells[:0], s.body(line))
				return s.cells, no, true, nil
			}
		}
		s.seen = true
		if n != len(s.fields) && (n < len(s.fields) || s.freeIdx < 0) {
			return nil, 0, false, s.lineErr(no, "", ReasonFieldCount, fmt.Errorf("%d fields, want %d (a '|' inside a free-text field that is not the last one?)", n, len(s.fields)))
		}
		return s.split(line, n), no, false, nil
	}
}

// startsRecord reports whether a line of n fields, fewer than a record's,
// can be the first part of a record broken by a newline (see nextCells).
func (s *sacctReaderV0) startsRecord(line []byte, n int) bool {
	if s.firstFree < 0 || n < s.firstFree+1 {
		return false
	}
	if s.cols.jobID < 0 || s.cols.jobID >= n {
		return true // the id is not on this line: nothing to check
	}
	return plausibleJobIDV0(cellAtV0(s.body(line), s.delim, s.cols.jobID))
}

// plausibleJobIDV0 reports whether b can be a sacct JobID: "123", "123_4",
// "123_[1-3%2]", "123+1", "123.batch", "123.0".
func plausibleJobIDV0(b []byte) bool {
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return false
	}
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c == '_' || c == '+' || c == '.' || c == '[' || c == ']' || c == '-' || c == ',' || c == '%':
		default:
			return false
		}
	}
	return true
}

// cellAtV0 returns field i of a line without splitting the others.
func cellAtV0(line, delim []byte, i int) []byte {
	for ; i > 0; i-- {
		k := bytes.Index(line, delim)
		if k < 0 {
			return nil
		}
		line = line[k+len(delim):]
	}
	if k := bytes.Index(line, delim); k >= 0 {
		return line[:k]
	}
	return line
}

func (s *sacctReaderV0) readLine() ([]byte, int, error) {
	if s.hasUnread {
		s.hasUnread = false
		return s.unread, s.unreadNo, nil
	}
	line, err := s.lines.next()
	return line, s.lines.line, err
}

// maxSacctFieldsV0 bounds the columns of a header: sacct has about 120.
const maxSacctFieldsV0 = 1024

// start inspects the first line: a header gives the fields and the
// delimiter; otherwise the configured field list applies.
func (s *sacctReaderV0) start(line []byte, no int) error {
	s.started = true
	var err error
	if isSacctHeaderV0(line) {
		if bytes.Contains(line, []byte("|#")) {
			s.delim = []byte("|#")
		}
		s.trailing = bytes.HasSuffix(line, s.delim)
		h := line
		if s.trailing {
			h = h[:len(h)-len(s.delim)]
		}
		if n := bytes.Count(h, s.delim) + 1; n > maxSacctFieldsV0 {
			err = s.lineErr(no, "", ReasonFieldCount, fmt.Errorf("header of %d fields, more than %d: the default field list applies", n, maxSacctFieldsV0))
		} else {
			s.header = true
			for f := range bytes.SplitSeq(h, s.delim) {
				s.fields = append(s.fields, string(bytes.TrimSpace(f)))
			}
		}
	}
	if !s.header {
		s.fields = s.opts.Fields
		if s.fields == nil {
			s.fields = defaultSacctFieldsV0
		}
		s.trailing = bytes.Count(line, s.delim) == len(s.fields) && bytes.HasSuffix(line, s.delim)
	}
	s.cols = newSacctColumnsV0(s.fields)
	s.freeIdx, s.firstFree = -1, -1
	nFree := 0
	for i, f := range s.fields {
		if freeTextV0[strings.ToLower(f)] {
			nFree++
			s.freeIdx = i
			if s.firstFree < 0 {
				s.firstFree = i
			}
		}
	}
	if nFree > 1 && s.freeIdx != len(s.fields)-1 {
		s.freeIdx = -1 // ambiguous: extra delimiters cannot be placed
	}
	last := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s.fields[len(s.fields)-1], "#")))
	s.lastFree = freeTextV0[last]
	if s.lastFree {
		s.lastCol = last
	}
	if err != nil {
		s.header = true // the line is reported, not read as a record
	}
	return err
}

// isSacctHeaderV0 reports whether a line is a sacct header: one of its
// fields is JobID. It allocates nothing, whatever the line's length.
func isSacctHeaderV0(line []byte) bool {
	isDelim := func(c byte) bool { return c == '|' || c == '#' }
	for i := 0; i < len(line); {
		for i < len(line) && isDelim(line[i]) {
			i++
		}
		j := i
		for j < len(line) && !isDelim(line[j]) {
			j++
		}
		if f := bytes.TrimSpace(line[i:j]); len(f) == 5 && strings.EqualFold(string(f), "JobID") {
			return true
		}
		i = j
	}
	return false
}

func (s *sacctReaderV0) body(line []byte) []byte {
	if s.trailing {
		return bytes.TrimSuffix(line, s.delim)
	}
	return line
}

// count returns the number of fields of a line, without splitting it.
func (s *sacctReaderV0) count(line []byte) int {
	return bytes.Count(s.body(line), s.delim) + 1
}

// split cuts a line of n fields (see count), n >= len(fields), into
// exactly len(fields) cells: extra delimiters are given back to the
// free-text column. It reuses one slice of cells, so that a line made of
// delimiters costs no allocation per field.
func (s *sacctReaderV0) split(line []byte, n int) [][]byte {
	line = s.body(line)
	want := len(s.fields)
	cells := s.cells[:0]
	if (n == want || s.freeIdx < 0) && len(s.delim) == 1 {
		d := s.delim[0]
		for len(cells) < want {
			k := bytes.IndexByte(line, d)
			if k < 0 {
				cells = append(cells, line)
				break
			}
			cells = append(cells, line[:k])
			line = line[k+1:]
		}
		s.cells = cells
		return cells
	}
	if n == want || s.freeIdx < 0 {
		for c := range bytes.SplitSeq(line, s.delim) {
			if len(cells) == want {
				break
			}
			cells = append(cells, c)
		}
		s.cells = cells
		return cells
	}
	// The cells before the free-text column from the left, those after it
	// from the right, and what is between is the free text.
	rest := line
	for range s.freeIdx {
		k := bytes.Index(rest, s.delim)
		cells = append(cells, rest[:k])
		rest = rest[k+len(s.delim):]
	}
	after := want - s.freeIdx - 1
	end := len(rest)
	for range after {
		end = bytes.LastIndex(rest[:end], s.delim)
	}
	cells = append(cells, rest[:end])
	if after > 0 {
		for c := range bytes.SplitSeq(rest[end+len(s.delim):], s.delim) {
			cells = append(cells, c)
		}
	}
	s.cells = cells
	return cells
}

// cell returns cells[i], or nil when the column is absent.
func (s *sacctReaderV0) cell(cells [][]byte, i int) []byte {
	if i < 0 || i >= len(cells) {
		return nil
	}
	return cells[i]
}

// isStepLine reports whether a line's cells are a step's ("123.batch").
func (s *sacctReaderV0) isStepLine(cells [][]byte) bool {
	id := s.cell(cells, s.cols.jobID)
	return len(id) > 0 && bytes.IndexByte(id, '.') > 0
}

// parseStep reads a step line: its id, its name (interned: step names
// repeat, "batch", "extern" and the programs srun starts) and its command.
func (s *sacctReaderV0) parseStep(cells [][]byte) job.Step {
	c := &s.cols
	var st job.Step
	s.texts([]*string{&st.ID, &st.Command}, [][]byte{s.cell(cells, c.jobID), s.cell(cells, c.submitLine)})
	st.Name = s.label(s.cell(cells, c.jobName))
	return st
}

// texts sets each *dst to a copy of the matching cell, all copies in one
// allocation (the fields of one record live and die together); a cell
// that is not valid UTF-8 is repaired on its own, as text does.
func (s *sacctReaderV0) texts(dst []*string, cells [][]byte) {
	buf := s.arena[:0]
	for _, v := range cells {
		if utf8.Valid(v) {
			buf = append(buf, v...)
		}
	}
	all := string(buf)
	s.arena = buf[:0]
	at := 0
	for i, v := range cells {
		if !utf8.Valid(v) {
			*dst[i] = s.text(v)
			continue
		}
		*dst[i] = all[at : at+len(v)]
		at += len(v)
	}
}

// labelAt is label for column i of the current line, through the last
// value of that column: users, partitions and states repeat from one
// record to the next, so most labels cost a comparison, not a lookup.
func (s *sacctReaderV0) labelAt(cells [][]byte, i int) string {
	v := s.cell(cells, i)
	if i < 0 || i >= len(cells) {
		return s.label(v)
	}
	if len(s.lastLabels) != len(s.fields) {
		s.lastLabels = make([]string, len(s.fields))
	}
	if i < len(s.lastLabels) && s.lastLabels[i] == string(v) {
		return s.lastLabels[i]
	}
	l := s.label(v)
	if i < len(s.lastLabels) && l == string(v) {
		s.lastLabels[i] = l
	}
	return l
}

// parseAlloc turns an allocation line's cells into a record.
func (s *sacctReaderV0) parseAlloc(cells [][]byte, lineNo int) (rec *job.Record, err error) {
	c := &s.cols
	pool := s.opts.Strings
	get := func(i int) []byte { return s.cell(cells, i) }
	label := func(i int) string { return s.labelAt(cells, i) }
	fail := func(field, reason string, err error) (*job.Record, error) {
		return nil, s.lineErr(lineNo, field, reason, err)
	}

	idb := get(c.jobID)
	if len(idb) == 0 {
		if c.jobID < 0 {
			return fail("JobID", ReasonID, errors.New("the input has no JobID column"))
		}
		return fail("JobID", ReasonID, errors.New("empty job id"))
	}
	rec = &job.Record{
		Source: s.opts.Name, Line: lineNo,
		Cluster: label(c.cluster), Partition: label(c.partition), QOS: label(c.qos),
		Account: label(c.account), User: label(c.user), Group: label(c.group),
		WCKey: label(c.wckey), NodeList: label(c.nodeList),
		ExitCode: label(c.exitCode),
	}
	// The raw id is kept only when it differs from the id (array tasks,
	// heterogeneous components): compared as bytes, it costs nothing else.
	rawb := get(c.jobIDRaw)
	sameRaw := bytes.Equal(rawb, idb) && utf8.Valid(idb)
	if sameRaw {
		rawb = nil
	}
	s.texts([]*string{&rec.JobID, &rec.RawID, &rec.WorkDir, &rec.Comment, &rec.Name, &rec.SubmitLine},
		[][]byte{idb, rawb, get(c.workDir), get(c.comment), get(c.jobName), get(c.submitLine)})
	id := rec.JobID
	if rec.RawID == rec.JobID {
		rec.RawID = ""
	}
	if rec.Cluster == "" {
		rec.Cluster = s.opts.Cluster
	}
	rec.StateRaw = label(c.state)
	rec.State = job.ParseState(rec.StateRaw)

	submit, err := parseSlurmTimeBytesV0(get(c.submit), s.opts.Location, &s.walls)
	if err != nil {
		return fail("Submit", ReasonTime, err)
	}
	start, err := parseSlurmTimeBytesV0(get(c.start), s.opts.Location, &s.walls)
	if err != nil {
		return fail("Start", ReasonTime, err)
	}
	end, err := parseSlurmTimeBytesV0(get(c.end), s.opts.Location, &s.walls)
	if err != nil {
		return fail("End", ReasonTime, err)
	}
	// Eligible only orders fold readings: a value that does not parse is
	// left out, as it was before it served that purpose.
	eligible, eerr := parseSlurmTimeBytesV0(get(c.eligible), s.opts.Location, &s.walls)
	if eerr == nil {
		// Eligible also dates the wait before the start (the idle split).
		rec.Eligible = eligible.T
	} else {
		s.notes["bad_eligible"]++
	}
	times := slurmTimesV0{submit: submit, eligible: eligible, start: start, end: end}
	if times.start.ambiguous() || times.end.ambiguous() {
		if el := get(c.elapsed); len(el) > 0 {
			// Elapsed only decides between fold readings: a value that
			// does not parse leaves the decision to the order of times.
			if d, unl, err := parseSlurmDurationV0(string(el)); err == nil && !unl {
				times.elapsed, times.hasElapsed = d, true
			}
		}
	}
	var folded, ambiguous bool
	rec.Submit, rec.Start, rec.End, folded, ambiguous = times.resolve()
	if folded {
		s.notes["dst_fold"]++
	}
	if ambiguous {
		s.notes["dst_ambiguous"]++
	}
	if tl := get(c.timelimit); len(tl) > 0 {
		rec.Timelimit, rec.Unlimited, err = parseSlurmDurationBytesV0(tl)
		if err != nil {
			return fail("Timelimit", reasonFor(err, ReasonTime), err)
		}
	}
	if rec.Nodes, err = parseCountV0(get(c.nnodes)); err != nil {
		return fail("NNodes", reasonFor(err, ReasonNumber), err)
	}
	if rec.Cores, err = parseCountV0(get(c.ncpus)); err != nil {
		return fail("NCPUS", reasonFor(err, ReasonNumber), err)
	}
	alloc, err := parseTRESBytesV0(get(c.allocTRES), pool, &s.tresV0)
	if err != nil {
		return fail("AllocTRES", reasonFor(err, ReasonTRES), err)
	}
	req, err := parseTRESBytesV0(get(c.reqTRES), pool, &s.tresV0)
	if err != nil {
		return fail("ReqTRES", reasonFor(err, ReasonTRES), err)
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
		return fail("End", ReasonOrder, fmt.Errorf("end %s is before start %s", rec.End.Format(timeLayoutV0), rec.Start.Format(timeLayoutV0)))
	}
	if field, err := checkRecord(rec); err != nil {
		return fail(sacctFieldV0(field), reasonFor(err, ReasonOrder), err)
	}
	return rec, nil
}

const timeLayoutV0 = "2006-01-02T15:04:05Z07:00"

// sacctFieldV0 names a field of checkRecord as sacct does.
func sacctFieldV0(f string) string {
	switch f {
	case "cores":
		return "NCPUS"
	case "nodes":
		return "NNodes"
	case "accelerators":
		return "AllocTRES"
	case "billing":
		return "AllocTRES"
	case "timelimit":
		return "Timelimit"
	case "end":
		return "End"
	}
	return f
}

// parseCountV0 reads a non-negative integer; empty is zero. Slurm prints
// large counts with a K or M suffix in some versions. A count above
// job.MaxCount, suffix applied, is out of range.
func parseCountV0(b []byte) (int64, error) {
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
	if err != nil && errors.Is(err, strconv.ErrRange) && len(b) > 0 && b[0] != '-' {
		return 0, rangeErr("count %q", b)
	}
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a count", b)
	}
	n, ok := mulCount(n, mult)
	if !ok {
		return 0, rangeErr("count %q x %d is above %d", b, mult, job.MaxCount)
	}
	return n, nil
}

// localTimeV0 is a wall-clock time read in a zone. In a daylight-saving fold
// the same wall time names two instants: T is the earlier, Alt the later
// (equal to T everywhere else), so that callers can choose the reading that
// keeps start before end.
type localTimeV0 struct {
	T, Alt time.Time
}

// parseSlurmTimeV0 reads a Slurm timestamp: "YYYY-MM-DDTHH:MM:SS" in loc,
// RFC 3339 with an offset, or Unix seconds (SLURM_TIME_FORMAT=%s). "Unknown",
// "None", "N/A" and the empty string give the zero time and no error.
func parseSlurmTimeV0(s string, loc *time.Location) (localTimeV0, error) {
	switch s {
	case "", "Unknown", "None", "N/A", "(null)", "unknown", "0":
		return localTimeV0{}, nil
	}
	if allDigitsV0(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return localTimeV0{}, err
		}
		t := time.Unix(n, 0).UTC()
		return localTimeV0{T: t, Alt: t}, nil
	}
	if len(s) > 19 && (s[len(s)-1] == 'Z' || strings.ContainsAny(s[19:], "+-")) {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return localTimeV0{}, fmt.Errorf("timestamp %q: %w", s, err)
		}
		return localTimeV0{T: t, Alt: t}, nil
	}
	return parseWallClockV0(s, "2006-01-02T15:04:05", loc)
}

// parseWallClockV0 parses a wall-clock time without offset in loc and
// resolves daylight-saving folds and gaps.
func parseWallClockV0(s, layout string, loc *time.Location) (localTimeV0, error) {
	w, err := time.Parse(layout, s) // as UTC: its fields are the wall clock
	if err != nil {
		return localTimeV0{}, fmt.Errorf("timestamp %q does not match %s", s, layout)
	}
	return resolveWallV0(w, loc), nil
}

// resolveWallV0 turns wall-clock fields (carried in a UTC time) into the
// instants they name in loc.
func resolveWallV0(w time.Time, loc *time.Location) localTimeV0 {
	if loc == time.UTC || loc == nil {
		return localTimeV0{T: w, Alt: w}
	}
	var found []time.Time
	for _, probe := range []time.Duration{-26 * time.Hour, 26 * time.Hour} {
		_, off := w.Add(probe).In(loc).Zone()
		u := w.Add(-time.Duration(off) * time.Second)
		if sameWallV0(u.In(loc), w) {
			dup := false
			for _, f := range found {
				dup = dup || f.Equal(u)
			}
			if !dup {
				found = append(found, u)
			}
		}
	}
	switch len(found) {
	case 0: // a gap (spring forward): the time does not exist; take the
		// offset in force before the change, as the clock would read it.
		_, off := w.Add(-26 * time.Hour).In(loc).Zone()
		u := w.Add(-time.Duration(off) * time.Second)
		return localTimeV0{T: u, Alt: u}
	case 1:
		return localTimeV0{T: found[0], Alt: found[0]}
	}
	a, b := found[0], found[1]
	if b.Before(a) {
		a, b = b, a
	}
	return localTimeV0{T: a, Alt: b}
}

func sameWallV0(t, w time.Time) bool {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := w.Date()
	return y1 == y2 && m1 == m2 && d1 == d2 && t.Hour() == w.Hour() && t.Minute() == w.Minute() && t.Second() == w.Second()
}

// ambiguous reports whether the wall time named two instants.
func (l localTimeV0) ambiguous() bool { return !l.T.Equal(l.Alt) }

// slurmTimesV0 are the wall times of one record, each with its fold
// readings, and its Elapsed when the input gives one.
type slurmTimesV0 struct {
	submit, eligible, start, end localTimeV0
	elapsed                      time.Duration
	hasElapsed                   bool
}

// resolve picks, when any time lies in a daylight-saving fold, the
// readings that keep Submit <= Eligible <= Start <= End (times that are
// unknown are left out of the order) and, among those, the ones whose
// End - Start is nearest to Elapsed (which excludes suspended time, so it
// may fall short of End - Start but never exceeds it). folded reports
// that a fold was met; ambiguous that several readings still fit equally
// well, in which case the earliest reading of each time is taken.
func (t slurmTimesV0) resolve() (submit, start, end time.Time, folded, ambiguous bool) {
	ts := [4]localTimeV0{t.submit, t.eligible, t.start, t.end}
	if !(ts[0].ambiguous() || ts[1].ambiguous() || ts[2].ambiguous() || ts[3].ambiguous()) {
		return ts[0].T, ts[2].T, ts[3].T, false, false
	}
	best, bestScore, found := [4]time.Time{ts[0].T, ts[1].T, ts[2].T, ts[3].T}, time.Duration(0), false
	tie := false
	// Try the strict order first, then start <= end alone.
	for _, strict := range []bool{true, false} {
		for combo := range 16 {
			var c [4]time.Time
			skip := false
			for i, lt := range ts {
				if combo&(1<<i) != 0 {
					if !lt.ambiguous() {
						skip = true // the same reading as bit clear
						break
					}
					c[i] = lt.Alt
				} else {
					c[i] = lt.T
				}
			}
			if skip || !orderedV0(c, strict) {
				continue
			}
			var score time.Duration
			if t.hasElapsed && !c[2].IsZero() && !c[3].IsZero() {
				score = c[3].Sub(c[2]) - t.elapsed
				if score < 0 {
					score = -score + time.Nanosecond // Elapsed never exceeds End - Start
				}
			}
			switch {
			case !found || score < bestScore:
				best, bestScore, found, tie = c, score, true, false
			case score == bestScore && !(best[0].Equal(c[0]) && best[2].Equal(c[2]) && best[3].Equal(c[3])):
				tie = true
			}
		}
		if found {
			break
		}
	}
	return best[0], best[2], best[3], true, found && tie
}

// orderedV0 reports whether the known times of c (submit, eligible, start,
// end) are in order; with strict false only start <= end is required.
func orderedV0(c [4]time.Time, strict bool) bool {
	if !strict {
		return c[2].IsZero() || c[3].IsZero() || !c[3].Before(c[2])
	}
	var prev time.Time
	for _, x := range c {
		if x.IsZero() {
			continue
		}
		if !prev.IsZero() && x.Before(prev) {
			return false
		}
		prev = x
	}
	return true
}

func allDigitsV0(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseSlurmDurationV0 reads "[D-]HH:MM:SS", "MM:SS", "MM:SS.mmm" and plain
// minutes. "UNLIMITED", "Partition_Limit", "INVALID" and "" give zero with
// unlimited reporting whether the limit is open-ended.
func parseSlurmDurationV0(s string) (d time.Duration, unlimited bool, err error) {
	switch strings.ToUpper(s) {
	case "", "NONE", "INVALID", "N/A":
		return 0, false, nil
	case "UNLIMITED", "PARTITION_LIMIT", "INFINITE":
		return 0, true, nil
	}
	var days int64
	if i := strings.IndexByte(s, '-'); i >= 0 {
		days, err = strconv.ParseInt(s[:i], 10, 64)
		if err != nil && errors.Is(err, strconv.ErrRange) && s[0] != '-' {
			return 0, false, rangeErr("duration %q: day count", s)
		}
		if err != nil || days < 0 {
			return 0, false, fmt.Errorf("duration %q: bad day count", s)
		}
		s = s[i+1:]
	}
	frac := time.Duration(0)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		ms, err := strconv.ParseFloat("0"+s[i:], 64)
		if err != nil || ms >= 1 {
			return 0, false, fmt.Errorf("duration %q: bad fraction", s)
		}
		frac = time.Duration(ms * float64(time.Second))
		s = s[:i]
	}
	var nums [3]int64
	k := 0
	for p := range strings.SplitSeq(s, ":") {
		if k == len(nums) {
			return 0, false, fmt.Errorf("duration %q: too many fields", s)
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil && errors.Is(err, strconv.ErrRange) && p[0] != '-' {
			return 0, false, rangeErr("duration %q: number %q", s, p)
		}
		if err != nil || n < 0 {
			return 0, false, fmt.Errorf("duration %q: bad number %q", s, p)
		}
		nums[k] = n
		k++
	}
	var h, m, sec int64
	switch k {
	case 1:
		if days > 0 { // "D-HH"
			h = nums[0]
		} else { // plain minutes
			m = nums[0]
		}
	case 2:
		if days > 0 { // "D-HH:MM"
			h, m = nums[0], nums[1]
		} else { // "MM:SS"
			m, sec = nums[0], nums[1]
		}
	case 3:
		h, m, sec = nums[0], nums[1], nums[2]
	}
	// Each part is checked before it is scaled, so nothing can wrap.
	const lim = maxSeconds
	if days > lim/86400 || h > lim/3600 || m > lim/60 || sec > lim {
		return 0, false, rangeErr("duration %q is longer than %d seconds", s, int64(lim))
	}
	total := days*86400 + h*3600 + m*60 + sec
	if total > lim {
		return 0, false, rangeErr("duration %q is longer than %d seconds", s, int64(lim))
	}
	return time.Duration(total)*time.Second + frac, false, nil
}

// tresV0 holds the parts of a Slurm TRES string that scmon uses.
type tresV0 struct {
	cpu, node int64
	hasCPU    bool
	hasNode   bool
	billing   float64
	accels    []job.Accel
}

// parseTRESV0 reads "billing=36,cpu=36,gres/gpu=4,gres/gpu:a100=4,mem=48000M,node=3".
// For each GRES name, the untyped entry is the count when present and the
// typed entries say which types it is made of; without it the typed entries
// are summed. The two are never added.
func parseTRESV0(s string, pool *intern.Pool) (tresV0, error) {
	var t tresV0
	if s == "" {
		return t, nil
	}
	type gres struct {
		untyped    int64
		hasUntyped bool
		typed      []job.Accel
		index      map[string]int // type -> typed entry, for long lists
	}
	var order []string
	byName := map[string]*gres{}
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return t, fmt.Errorf("TRES item %q has no '='", item)
		}
		switch {
		case k == "cpu":
			n, err := tresCountV0(k, v)
			if err != nil {
				return t, err
			}
			t.cpu, t.hasCPU = n, true
		case k == "node":
			n, err := tresCountV0(k, v)
			if err != nil {
				return t, err
			}
			t.node, t.hasNode = n, true
		case k == "billing":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
				return t, fmt.Errorf("TRES billing=%q is not a finite number", v)
			}
			t.billing = f
		case strings.HasPrefix(k, "gres/"):
			name, typ, _ := strings.Cut(k[len("gres/"):], ":")
			if name == "" {
				return t, fmt.Errorf("TRES %s=%q has no GRES name", k, v)
			}
			n, err := tresCountV0(k, v)
			if err != nil {
				return t, err
			}
			g := byName[name]
			if g == nil {
				g = &gres{}
				byName[name] = g
				order = append(order, name)
			}
			var ok bool
			if typ == "" {
				if g.untyped, ok = addCount(g.untyped, n); !ok {
					return t, rangeErr("TRES %s: repeated counts sum above %d", k, job.MaxCount)
				}
				g.hasUntyped = true
				continue
			}
			// A repeated type is summed into its first entry, checked; an
			// index keeps a record of many types linear.
			i := -1
			if g.index != nil {
				if j, seen := g.index[typ]; seen {
					i = j
				}
			} else {
				for j := range g.typed {
					if g.typed[j].Type == typ {
						i = j
						break
					}
				}
			}
			if i >= 0 {
				if g.typed[i].Count, ok = addCount(g.typed[i].Count, n); !ok {
					return t, rangeErr("TRES %s: repeated counts sum above %d", k, job.MaxCount)
				}
				continue
			}
			g.typed = append(g.typed, job.Accel{Name: pool.String(name), Type: pool.String(typ), Count: n})
			if g.index == nil && len(g.typed) > 8 {
				g.index = make(map[string]int, 2*len(g.typed))
				for j, a := range g.typed {
					g.index[a.Type] = j
				}
			} else if g.index != nil {
				g.index[g.typed[len(g.typed)-1].Type] = len(g.typed) - 1
			}
		}
	}
	for _, name := range order {
		g := byName[name]
		t.accels = append(t.accels, splitGRESV0(pool.String(name), g.untyped, g.hasUntyped, g.typed)...)
	}
	return t, nil
}

// tresCountV0 reads the count of one TRES item.
func tresCountV0(k, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err == nil && n > job.MaxCount || err != nil && errors.Is(err, strconv.ErrRange) && v != "" && v[0] != '-' {
		return 0, rangeErr("TRES %s=%q is above %d", k, v, job.MaxCount)
	}
	if err != nil || n < 0 {
		return 0, fmt.Errorf("TRES %s=%q is not a count", k, v)
	}
	return n, nil
}

// splitGRESV0 combines the untyped count of one GRES name with its typed
// entries: typed counts are kept up to the untyped total and any remainder
// is returned with an empty type.
func splitGRESV0(name string, untyped int64, hasUntyped bool, typed []job.Accel) []job.Accel {
	if !hasUntyped {
		return typed
	}
	return appendSplitGRESV0(nil, name, untyped, typed)
}

// appendSplitGRESV0 appends to out what splitGRESV0 returns for a GRES name
// with an untyped count.
func appendSplitGRESV0(out []job.Accel, name string, untyped int64, typed []job.Accel) []job.Accel {
	left := untyped
	for _, a := range typed {
		if left <= 0 {
			break
		}
		if a.Count > left {
			a.Count = left
		}
		left -= a.Count
		if a.Count > 0 {
			out = append(out, a)
		}
	}
	if left > 0 {
		out = append(out, job.Accel{Name: name, Count: left})
	}
	return out
}

// wallCacheV0 remembers a stretch of wall-clock times that read in one way
// only in a zone, with its offset, so that the timestamps of a dump (which
// almost all fall in one such stretch) resolve without a zone lookup each.
type wallCacheV0 struct {
	loc    *time.Location
	lo, hi int64 // wall-clock seconds (as if UTC) of the stretch, [lo, hi)
	off    int64 // the zone's offset in the stretch, seconds east of UTC
	ok     bool
}

// resolve is resolveWallV0(w, loc), from the cache when it can.
func (c *wallCacheV0) resolve(w time.Time, loc *time.Location) localTimeV0 {
	if loc == time.UTC || loc == nil {
		return localTimeV0{T: w, Alt: w}
	}
	ws := w.Unix()
	if c.ok && c.loc == loc && ws >= c.lo && ws < c.hi {
		t := time.Unix(ws-c.off, 0).UTC()
		return localTimeV0{T: t, Alt: t}
	}
	lt := resolveWallV0(w, loc)
	if !lt.T.Equal(lt.Alt) {
		return lt
	}
	// Every wall time whose probes (26 hours either side) and reading stay
	// inside the zone period of this reading has this one reading: keep
	// that stretch, with a margin.
	off := ws - lt.T.Unix()
	start, end := lt.T.In(loc).ZoneBounds()
	const margin = 28 * 3600
	abs := off
	if abs < 0 {
		abs = -abs
	}
	c.loc, c.off, c.ok = loc, off, true
	c.lo, c.hi = math.MinInt64, math.MaxInt64
	if !start.IsZero() {
		c.lo = start.Unix() + margin + abs
	}
	if !end.IsZero() {
		c.hi = end.Unix() - margin - abs
	}
	if c.lo >= c.hi || ws < c.lo || ws >= c.hi {
		c.ok = false
	}
	return lt
}

// parseSlurmTimeBytesV0 is parseSlurmTimeV0 over bytes: the common form
// "YYYY-MM-DDTHH:MM:SS" is read without allocating and resolved through
// the cache; any other value goes to parseSlurmTimeV0, so that values and
// errors are the same.
func parseSlurmTimeBytesV0(b []byte, loc *time.Location, c *wallCacheV0) (localTimeV0, error) {
	if w, ok := wallClock19V0(b); ok {
		return c.resolve(w, loc), nil
	}
	return parseSlurmTimeV0(string(b), loc)
}

// wallClock19V0 reads "YYYY-MM-DDTHH:MM:SS" as a UTC time carrying the wall
// clock; ok is false for anything else, including out-of-range fields
// (which time.Parse then reports).
func wallClock19V0(b []byte) (time.Time, bool) {
	if len(b) != 19 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for k := i; k < i+n; k++ {
			d := b[k] - '0'
			if d > 9 {
				return -1
			}
			v = v*10 + int(d)
		}
		return v
	}
	y, mo, d := num(0, 4), num(5, 2), num(8, 2)
	h, mi, s := num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 {
		return time.Time{}, false
	}
	if d > daysInV0(time.Month(mo), y) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC), true
}

func daysInV0(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// digitsV0 reads a run of at most 9 ASCII digitsV0; ok is false for anything
// else (empty, signs, longer runs), which callers leave to strconv.
func digitsV0(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// parseSlurmDurationBytesV0 is parseSlurmDurationV0 over bytes: "UNLIMITED"
// and "[D-]HH:MM:SS" (and its shorter forms) of plain digitsV0 are read
// without allocating; anything else goes to parseSlurmDurationV0.
func parseSlurmDurationBytesV0(b []byte) (time.Duration, bool, error) {
	if string(b) == "UNLIMITED" {
		return 0, true, nil
	}
	if d, ok := fastDurationV0(b); ok {
		return d, false, nil
	}
	return parseSlurmDurationV0(string(b))
}

func fastDurationV0(b []byte) (time.Duration, bool) {
	var days int64
	if i := bytes.IndexByte(b, '-'); i >= 0 {
		var ok bool
		if days, ok = digitsV0(b[:i]); !ok {
			return 0, false
		}
		b = b[i+1:]
	}
	var nums [3]int64
	k := 0
	for len(b) > 0 || k == 0 {
		if k == len(nums) {
			return 0, false
		}
		i := bytes.IndexByte(b, ':')
		part := b
		if i >= 0 {
			part, b = b[:i], b[i+1:]
			if len(b) == 0 {
				return 0, false // a trailing ':': leave it to the full parser
			}
		} else {
			b = nil
		}
		n, ok := digitsV0(part)
		if !ok {
			return 0, false
		}
		nums[k] = n
		k++
	}
	var h, m, sec int64
	switch k {
	case 1:
		if days > 0 {
			h = nums[0]
		} else {
			m = nums[0]
		}
	case 2:
		if days > 0 {
			h, m = nums[0], nums[1]
		} else {
			m, sec = nums[0], nums[1]
		}
	case 3:
		h, m, sec = nums[0], nums[1], nums[2]
	}
	const lim = maxSeconds
	if days > lim/86400 || h > lim/3600 || m > lim/60 || sec > lim {
		return 0, false
	}
	total := days*86400 + h*3600 + m*60 + sec
	if total > lim {
		return 0, false
	}
	return time.Duration(total) * time.Second, true
}

// tresScratchV0 is the working space of parseTRESBytesV0, kept by a reader so
// that reading a TRES string allocates only the accelerator list it
// returns.
type tresScratchV0 struct {
	groups [maxFastGRESV0]fastGRESV0
	out    []job.Accel
}

// maxFastGRESV0 bounds the GRES names, and the types of each, that
// parseTRESBytesV0 handles itself; longer lists go to parseTRESV0.
const maxFastGRESV0 = 8

type fastGRESV0 struct {
	name       []byte
	untyped    int64
	hasUntyped bool
	typed      [maxFastGRESV0]job.Accel
	n          int
}

// parseTRESBytesV0 is parseTRESV0 over bytes for the common case (integer
// counts, a few GRES names and types): it reads without allocating
// anything but the accelerator list. Anything else, errors included, is
// read again by parseTRESV0, so that results and messages are the same.
func parseTRESBytesV0(b []byte, pool *intern.Pool, sc *tresScratchV0) (tresV0, error) {
	if t, ok := fastTRESV0(b, pool, sc); ok {
		return t, nil
	}
	return parseTRESV0(string(b), pool)
}

func fastTRESV0(b []byte, pool *intern.Pool, sc *tresScratchV0) (tresV0, bool) {
	var t tresV0
	if len(b) == 0 {
		return t, true
	}
	ng := 0
	for len(b) > 0 {
		item := b
		if i := bytes.IndexByte(b, ','); i >= 0 {
			item, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(item) == 0 {
			continue
		}
		eq := bytes.IndexByte(item, '=')
		if eq < 0 {
			return t, false
		}
		k, v := item[:eq], item[eq+1:]
		switch {
		case string(k) == "cpu" || string(k) == "node":
			n, ok := digitsV0(v)
			if !ok || n > job.MaxCount {
				return t, false
			}
			if k[0] == 'c' {
				t.cpu, t.hasCPU = n, true
			} else {
				t.node, t.hasNode = n, true
			}
		case string(k) == "billing":
			n, ok := digitsV0(v)
			if !ok {
				return t, false
			}
			t.billing = float64(n)
		case bytes.HasPrefix(k, []byte("gres/")):
			nt := k[len("gres/"):]
			name, typ := nt, []byte(nil)
			if c := bytes.IndexByte(nt, ':'); c >= 0 {
				name, typ = nt[:c], nt[c+1:]
			}
			if len(name) == 0 {
				return t, false
			}
			n, ok := digitsV0(v)
			if !ok || n > job.MaxCount {
				return t, false
			}
			gi := -1
			for i := 0; i < ng; i++ {
				if bytes.Equal(sc.groups[i].name, name) {
					gi = i
					break
				}
			}
			if gi < 0 {
				if ng == maxFastGRESV0 {
					return t, false
				}
				gi = ng
				ng++
				sc.groups[gi] = fastGRESV0{name: name}
			}
			g := &sc.groups[gi]
			if len(typ) == 0 {
				if g.untyped, ok = addCount(g.untyped, n); !ok {
					return t, false
				}
				g.hasUntyped = true
				continue
			}
			i := -1
			for j := 0; j < g.n; j++ {
				if g.typed[j].Type == string(typ) {
					i = j
					break
				}
			}
			if i >= 0 {
				if g.typed[i].Count, ok = addCount(g.typed[i].Count, n); !ok {
					return t, false
				}
				continue
			}
			if g.n == maxFastGRESV0 {
				return t, false
			}
			g.typed[g.n] = job.Accel{Name: pool.Bytes(name), Type: pool.Bytes(typ), Count: n}
			g.n++
		}
	}
	out := sc.out[:0]
	for i := 0; i < ng; i++ {
		g := &sc.groups[i]
		if !g.hasUntyped {
			out = append(out, g.typed[:g.n]...)
			continue
		}
		out = appendSplitGRESV0(out, pool.Bytes(g.name), g.untyped, g.typed[:g.n])
	}
	sc.out = out[:0]
	if len(out) > 0 {
		t.accels = append([]job.Accel(nil), out...)
	}
	return t, true
}
