package collector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scmon/scmon/internal/intern"
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
	jobID, jobIDRaw, cluster, partition, qos, account, user, group    int
	submit, eligible, start, end, elapsed, timelimit, state, exitCode int
	nnodes, ncpus, reqTRES                                            int
	allocTRES, nodeList, wckey, workDir, comment, jobName, submitLine int
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
	cells     lineCells

	// Working space of parse, kept so that a line costs few allocations.
	lastLabels []string    // the last label of each column (see labelAt)
	arena      []byte      // the text fields of one record, copied at once
	walls      wallCache   // the zone's offset over a stretch of wall times
	tres       tresScratch // TRES parsing
	labels     labelTable  // repeated values (see label)
	stepText   []byte      // IDs and commands of the pending record's steps
	stepSpans  []stepSpan  // where each step's are in stepText
	targetCmd  bool        // continuation lines go to the last step's command
	stateRaw   string      // the last State read
	state      job.State   // what it means
	stateOK    bool
	allocMemo  tresMemo // the last AllocTRES read
	reqMemo    tresMemo // the last ReqTRES read
	pool       *intern.Pool
	ascii      bool // the cells of the current line are all ASCII

	// A large plain file is read in chunks (see sacct_parallel.go).
	parFile  *os.File
	parSize  int64
	parTried bool
	par      *sacctParallel
	parChunk int // the chunk being handed out
	parPos   int // the next item of that chunk
}

// NewSacctReader returns a reader over r.
func NewSacctReader(r io.Reader, opts Options) *SacctReader {
	s := &SacctReader{readerBase: newReaderBase(opts), delim: []byte{'|'}, pool: opts.Strings}
	s.lines = s.newLines(r)
	s.parFile, s.parSize, _ = parallelFile(r)
	return s
}

// A SacctReader's notes are "orphan_steps" (a step line with no
// allocation before it), "invalid_utf8" (text fields repaired), "dst_fold"
// (a record with a wall time in a daylight-saving fold, resolved by the
// order of its times and its Elapsed), "dst_ambiguous" (such a record whose
// times and Elapsed still fit more than one reading: the earliest is taken)
// and "multiline" (a line joined onto the record before it).

// Next returns the next allocation.
func (s *SacctReader) Next() (*job.Record, error) {
	if s.parFile != nil && !s.parTried {
		s.parTried = true
		if s.par = startParallel(s.parFile, s.parSize, s.opts); s.par != nil {
			runtime.AddCleanup(s, func(p *sacctParallel) { p.stop() }, s.par)
		}
	}
	if s.par != nil {
		return s.nextParallel()
	}
	for {
		if s.err != nil {
			if s.pending != nil {
				rec := s.pending
				s.pending = nil
				s.flushCont()
				s.finishSteps(rec)
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
			if err := s.continueLast(cells.get(0), lineNo); err != nil {
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
				s.pending.Steps = append(s.pending.Steps, s.parseStep(cells, true))
				st := &s.pending.Steps[len(s.pending.Steps)-1]
				switch s.lastCol {
				case "submitline":
					s.targetCmd = true
				case "jobname":
					s.target = &st.Name
				}
			} else {
				_ = s.parseStep(cells, false) // its repairs are counted as for any step
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
		s.finishSteps(prev)
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
func (s *SacctReader) continueLast(line []byte, no int) error {
	s.notes["multiline"]++
	var cur int // the length of the field so far
	switch {
	case s.targetCmd:
		sp := s.stepSpans[len(s.stepSpans)-1]
		cur = sp.cmd1 - sp.cmd0
	case s.target == nil:
		return nil // the last field is not kept, or its record was skipped
	default:
		cur = len(*s.target)
	}
	if cur+len(s.contBuf)+1+len(line) <= s.opts.MaxLine {
		s.contBuf = append(append(s.contBuf, '\n'), line...)
		return nil
	}
	if s.pending != nil && (s.targetCmd || s.target != &s.pending.SubmitLine && s.target != &s.pending.Name &&
		s.target != &s.pending.WorkDir && s.target != &s.pending.Comment) {
		s.notes["step_text_cut"]++
		s.flushCont()
		return nil
	}
	rec := s.pending
	s.pending = nil
	s.contBuf = s.contBuf[:0]
	s.target = nil
	s.dropSteps()
	return s.lineErr(rec.Line, "", ReasonLineTooLong, fmt.Errorf("record continued over lines %d-%d is longer than the limit of %d bytes", rec.Line, no, s.opts.MaxLine))
}

// flushCont adds the gathered continuation lines to their field.
func (s *SacctReader) flushCont() {
	if s.targetCmd && len(s.contBuf) > 0 {
		// The command of the last step is the end of stepText.
		s.stepText = s.appendText(s.stepText, s.contBuf, false)
		s.stepSpans[len(s.stepSpans)-1].cmd1 = len(s.stepText)
	} else if s.target != nil && len(s.contBuf) > 0 {
		*s.target += s.text(s.contBuf)
	}
	s.contBuf = s.contBuf[:0]
	s.target = nil
	s.targetCmd = false
}

// stepSpan places the ID and command of one step of the pending record in
// stepText.
type stepSpan struct{ id0, id1, cmd0, cmd1 int }

// appendText appends v to buf, repaired and counted as text does when it
// is not valid UTF-8 (ascii says the caller knows it is ASCII).
func (s *SacctReader) appendText(buf, v []byte, ascii bool) []byte {
	if ascii || utf8.Valid(v) {
		return append(buf, v...)
	}
	s.notes["invalid_utf8"]++
	return append(buf, strings.ToValidUTF8(string(v), "\uFFFD")...)
}

// finishSteps gives the steps of rec (the pending record, complete) their
// IDs and commands, all in one allocation: the text of a record's steps
// lives and dies with it.
func (s *SacctReader) finishSteps(rec *job.Record) {
	if rec == nil || len(s.stepSpans) == 0 {
		return
	}
	all := string(s.stepText)
	for i, sp := range s.stepSpans {
		rec.Steps[i].ID, rec.Steps[i].Command = all[sp.id0:sp.id1], all[sp.cmd0:sp.cmd1]
	}
	s.dropSteps()
}

// dropSteps forgets the step text of the pending record.
func (s *SacctReader) dropSteps() {
	if cap(s.stepText) > 1<<20 {
		s.stepText = nil // one record with huge steps: do not keep its buffer
	}
	s.stepText, s.stepSpans = s.stepText[:0], s.stepSpans[:0]
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
func (s *SacctReader) nextCells() (cells *lineCells, lineNo int, cont bool, err error) {
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
		n := s.scan(line)
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
				b := s.body(line)
				s.cells.reset(b)
				s.cells.add(0, len(b))
				return &s.cells, no, true, nil
			}
		}
		s.seen = true
		if n != len(s.fields) && (n < len(s.fields) || s.freeIdx < 0) {
			return nil, 0, false, s.lineErr(no, "", ReasonFieldCount, fmt.Errorf("%d fields, want %d (a '|' inside a free-text field that is not the last one?)", n, len(s.fields)))
		}
		if n == len(s.fields) && len(s.delim) == 1 {
			return &s.cells, no, false, nil // split by scan
		}
		return s.split(line, n), no, false, nil
	}
}

// startsRecord reports whether a line of n fields, fewer than a record's,
// can be the first part of a record broken by a newline (see nextCells).
func (s *SacctReader) startsRecord(line []byte, n int) bool {
	if s.firstFree < 0 || n < s.firstFree+1 {
		return false
	}
	if s.cols.jobID < 0 || s.cols.jobID >= n {
		return true // the id is not on this line: nothing to check
	}
	return plausibleJobID(cellAt(s.body(line), s.delim, s.cols.jobID))
}

// plausibleJobID reports whether b can be a sacct JobID: "123", "123_4",
// "123_[1-3%2]", "123+1", "123.batch", "123.0".
func plausibleJobID(b []byte) bool {
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

// cellAt returns field i of a line without splitting the others.
func cellAt(line, delim []byte, i int) []byte {
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

func (s *SacctReader) readLine() ([]byte, int, error) {
	if s.hasUnread {
		s.hasUnread = false
		return s.unread, s.unreadNo, nil
	}
	line, err := s.lines.next()
	return line, s.lines.line, err
}

// maxSacctFields bounds the columns of a header: sacct has about 120.
const maxSacctFields = 1024

// start inspects the first line: a header gives the fields and the
// delimiter; otherwise the configured field list applies.
func (s *SacctReader) start(line []byte, no int) error {
	s.started = true
	var err error
	if isSacctHeader(line) {
		if bytes.Contains(line, []byte("|#")) {
			s.delim = []byte("|#")
		}
		s.trailing = bytes.HasSuffix(line, s.delim)
		h := line
		if s.trailing {
			h = h[:len(h)-len(s.delim)]
		}
		if n := bytes.Count(h, s.delim) + 1; n > maxSacctFields {
			err = s.lineErr(no, "", ReasonFieldCount, fmt.Errorf("header of %d fields, more than %d: the default field list applies", n, maxSacctFields))
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
			s.fields = DefaultSacctFields
		}
		s.trailing = bytes.Count(line, s.delim) == len(s.fields) && bytes.HasSuffix(line, s.delim)
	}
	s.cols = newSacctColumns(s.fields)
	s.freeIdx, s.firstFree = -1, -1
	nFree := 0
	for i, f := range s.fields {
		if freeText[strings.ToLower(f)] {
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
	s.lastFree = freeText[last]
	if s.lastFree {
		s.lastCol = last
	}
	if err != nil {
		s.header = true // the line is reported, not read as a record
	}
	return err
}

// isSacctHeader reports whether a line is a sacct header: one of its
// fields is JobID. It allocates nothing, whatever the line's length.
func isSacctHeader(line []byte) bool {
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

func (s *SacctReader) body(line []byte) []byte {
	if s.trailing {
		return bytes.TrimSuffix(line, s.delim)
	}
	return line
}

// count returns the number of fields of a line, without splitting it.
func (s *SacctReader) count(line []byte) int {
	return bytes.Count(s.body(line), s.delim) + 1
}

// split cuts a line of n fields (see count), n >= len(fields), into
// exactly len(fields) cells: extra delimiters are given back to the
// free-text column. It reuses one slice of cells, so that a line made of
// delimiters costs no allocation per field.
func (s *SacctReader) split(line []byte, n int) *lineCells {
	s.ascii = false // not known: text is checked cell by cell
	body := s.body(line)
	want := len(s.fields)
	c := &s.cells
	c.reset(body)
	dl := len(s.delim)
	if n == want || s.freeIdx < 0 {
		pos := 0
		for c.n() < want {
			k := bytes.Index(body[pos:], s.delim)
			if k < 0 {
				c.add(pos, len(body))
				break
			}
			c.add(pos, pos+k)
			pos += k + dl
		}
		return c
	}
	// The cells before the free-text column from the left, those after it
	// from the right, and what is between is the free text.
	rest := 0
	for range s.freeIdx {
		k := bytes.Index(body[rest:], s.delim)
		c.add(rest, rest+k)
		rest += k + dl
	}
	after := want - s.freeIdx - 1
	end := len(body)
	for range after {
		end = rest + bytes.LastIndex(body[rest:end], s.delim)
	}
	c.add(rest, end)
	if after > 0 {
		pos := end + dl
		for {
			k := bytes.Index(body[pos:], s.delim)
			if k < 0 {
				c.add(pos, len(body))
				break
			}
			c.add(pos, pos+k)
			pos += k + dl
		}
	}
	return c
}

// lineCells are the fields of one line: field i is b[at[2i]:at[2i+1]].
// They are kept as offsets, not slices, so that splitting a line stores
// no pointers (which the garbage collector would have to follow while it
// runs).
type lineCells struct {
	b  []byte
	at []int32
}

func (c *lineCells) reset(b []byte) { c.b, c.at = b, c.at[:0] }

func (c *lineCells) add(start, end int) { c.at = append(c.at, int32(start), int32(end)) }

// n returns the number of fields.
func (c *lineCells) n() int { return len(c.at) / 2 }

// get returns field i, or nil when the line has no such field.
func (c *lineCells) get(i int) []byte {
	if i < 0 || 2*i+1 >= len(c.at) {
		return nil
	}
	return c.b[c.at[2*i]:c.at[2*i+1]:c.at[2*i+1]]
}

// Words of eight bytes, to find a delimiter in eight bytes at once.
const (
	swarOnes = 0x0101010101010101
	swarLow7 = 0x7f7f7f7f7f7f7f7f
	swarHigh = 0x8080808080808080
)

// scan returns the number of fields of a line, as count does. With a
// one-byte delimiter it reads the line once, eight bytes at a time: when
// the line has exactly the fields of a record it leaves them in s.cells,
// as split would, and it notes whether the line is all ASCII (then no cell
// needs a UTF-8 check).
func (s *SacctReader) scan(line []byte) int {
	if len(s.delim) != 1 {
		s.ascii = false
		return s.count(line)
	}
	body := s.body(line)
	want := len(s.fields)
	cells := &s.cells
	cells.reset(body)
	d := s.delim[0]
	pat := uint64(swarOnes) * uint64(d)
	n, start := 1, 0
	var or uint64
	i := 0
	for ; i+8 <= len(body); i += 8 {
		w := binary.LittleEndian.Uint64(body[i:])
		or |= w
		x := w ^ pat
		// The high bit of each byte of m is set where x is zero, that
		// is where w holds the delimiter.
		m := ^(((x & swarLow7) + swarLow7) | x | swarLow7)
		for m != 0 {
			k := i + bits.TrailingZeros64(m)>>3
			if n < want {
				cells.add(start, k)
			}
			n++
			start = k + 1
			m &= m - 1
		}
	}
	for ; i < len(body); i++ {
		c := body[i]
		or |= uint64(c)
		if c == d {
			if n < want {
				cells.add(start, i)
			}
			n++
			start = i + 1
		}
	}
	if n == want {
		cells.add(start, len(body))
	}
	s.ascii = or&swarHigh == 0
	return n
}

// cell returns cells[i], or nil when the column is absent.
func (s *SacctReader) cell(cells *lineCells, i int) []byte {
	return cells.get(i)
}

// isStepLine reports whether a line's cells are a step's ("123.batch").
func (s *SacctReader) isStepLine(cells *lineCells) bool {
	id := s.cell(cells, s.cols.jobID)
	return len(id) > 0 && bytes.IndexByte(id, '.') > 0
}

// parseStep reads a step line: its id, its name (interned: step names
// repeat, "batch", "extern" and the programs srun starts) and its command.
//
// The ID and command of a step kept (keep) go to stepText and are set
// when its record is complete (finishSteps); those of a step not kept
// are only checked, so that repairs are counted.
func (s *SacctReader) parseStep(cells *lineCells, keep bool) job.Step {
	c := &s.cols
	var st job.Step
	idb, cmd := s.cell(cells, c.jobID), s.cell(cells, c.submitLine)
	if keep {
		sp := stepSpan{id0: len(s.stepText)}
		s.stepText = s.appendText(s.stepText, idb, s.ascii)
		sp.id1, sp.cmd0 = len(s.stepText), len(s.stepText)
		s.stepText = s.appendText(s.stepText, cmd, s.ascii)
		sp.cmd1 = len(s.stepText)
		s.stepSpans = append(s.stepSpans, sp)
	} else if !s.ascii {
		for _, v := range [2][]byte{idb, cmd} {
			if !utf8.Valid(v) {
				s.notes["invalid_utf8"]++
			}
		}
	}
	st.Name = s.label(s.cell(cells, c.jobName), s.ascii)
	return st
}

// texts sets each *dst to a copy of the matching cell, all copies in one
// allocation (the fields of one record live and die together); a cell
// that is not valid UTF-8 is repaired on its own, as text does.
func (s *SacctReader) texts(dst []*string, cells [][]byte) {
	var valid [8]bool // the most cells a caller gives
	buf := s.arena[:0]
	for i, v := range cells {
		if valid[i] = s.ascii || utf8.Valid(v); valid[i] {
			buf = append(buf, v...)
		}
	}
	all := string(buf)
	s.arena = buf[:0]
	at := 0
	for i, v := range cells {
		if !valid[i] {
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
func (s *SacctReader) labelAt(cells *lineCells, i int) string {
	v := s.cell(cells, i)
	if i < 0 || i >= cells.n() {
		return s.label(v, s.ascii)
	}
	if len(s.lastLabels) != len(s.fields) {
		s.lastLabels = make([]string, len(s.fields))
	}
	if i < len(s.lastLabels) && s.lastLabels[i] == string(v) {
		return s.lastLabels[i]
	}
	l := s.label(v, s.ascii)
	if i < len(s.lastLabels) && l == string(v) {
		s.lastLabels[i] = l
	}
	return l
}

// parseAlloc turns an allocation line's cells into a record.
func (s *SacctReader) parseAlloc(cells *lineCells, lineNo int) (rec *job.Record, err error) {
	c := &s.cols
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
	sameRaw := bytes.Equal(rawb, idb) && (s.ascii || utf8.Valid(idb))
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
	if !s.stateOK || rec.StateRaw != s.stateRaw {
		s.stateRaw, s.state, s.stateOK = rec.StateRaw, job.ParseState(rec.StateRaw), true
	}
	rec.State = s.state

	submit, err := parseSlurmTimeBytes(get(c.submit), s.opts.Location, &s.walls)
	if err != nil {
		return fail("Submit", ReasonTime, err)
	}
	start, err := parseSlurmTimeBytes(get(c.start), s.opts.Location, &s.walls)
	if err != nil {
		return fail("Start", ReasonTime, err)
	}
	end, err := parseSlurmTimeBytes(get(c.end), s.opts.Location, &s.walls)
	if err != nil {
		return fail("End", ReasonTime, err)
	}
	// Eligible only orders fold readings: a value that does not parse is
	// left out, as it was before it served that purpose.
	eligible, eerr := parseSlurmTimeBytes(get(c.eligible), s.opts.Location, &s.walls)
	if eerr == nil {
		// Eligible also dates the wait before the start (the idle split).
		rec.Eligible = eligible.T
	} else {
		s.notes["bad_eligible"]++
	}
	times := slurmTimes{submit: submit, eligible: eligible, start: start, end: end}
	if times.start.ambiguous() || times.end.ambiguous() {
		if el := get(c.elapsed); len(el) > 0 {
			// Elapsed only decides between fold readings: a value that
			// does not parse leaves the decision to the order of times.
			if d, unl, err := parseSlurmDuration(string(el)); err == nil && !unl {
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
		rec.Timelimit, rec.Unlimited, err = parseSlurmDurationBytes(tl)
		if err != nil {
			return fail("Timelimit", reasonFor(err, ReasonTime), err)
		}
	}
	if rec.Nodes, err = parseCount(get(c.nnodes)); err != nil {
		return fail("NNodes", reasonFor(err, ReasonNumber), err)
	}
	if rec.Cores, err = parseCount(get(c.ncpus)); err != nil {
		return fail("NCPUS", reasonFor(err, ReasonNumber), err)
	}
	// The request is always checked, but only read when it is used.
	hasAlloc := len(get(c.allocTRES)) > 0
	alloc, err := s.parseTRES(&s.allocMemo, get(c.allocTRES), true)
	if err != nil {
		return fail("AllocTRES", reasonFor(err, ReasonTRES), err)
	}
	req, err := s.parseTRES(&s.reqMemo, get(c.reqTRES), !hasAlloc)
	if err != nil {
		return fail("ReqTRES", reasonFor(err, ReasonTRES), err)
	}
	used := alloc
	if !hasAlloc {
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
	if field, err := checkRecord(rec); err != nil {
		return fail(sacctField(field), reasonFor(err, ReasonOrder), err)
	}
	return rec, nil
}

const timeLayout = "2006-01-02T15:04:05Z07:00"

// sacctField names a field of checkRecord as sacct does.
func sacctField(f string) string {
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

// tresMemo is the last TRES string of a column read without error, with
// what it gave: consecutive records often hold the same resources.
type tresMemo struct {
	key  []byte
	t    tres // its accelerators are the memo's own
	kept bool // t has its accelerators (read with keep)
	ok   bool
}

// parseTRES is parseTRESBytes through m: a string equal to the last one
// gives the same result (a copy of its accelerators) without reading it.
func (s *SacctReader) parseTRES(m *tresMemo, b []byte, keep bool) (tres, error) {
	if m.ok && (m.kept || !keep) && bytes.Equal(b, m.key) {
		t := m.t
		t.accels = nil
		if keep && len(m.t.accels) > 0 {
			t.accels = append([]job.Accel(nil), m.t.accels...)
		}
		return t, nil
	}
	t, err := parseTRESBytes(b, &s.labels, s.pool, &s.tres, keep)
	if err != nil {
		m.ok = false
		return t, err
	}
	m.key = append(m.key[:0], b...)
	acc := append(m.t.accels[:0], t.accels...)
	m.t, m.t.accels, m.kept, m.ok = t, acc, keep, true
	return t, nil
}

// parseCount reads a non-negative integer; empty is zero. Slurm prints
// large counts with a K or M suffix in some versions. A count above
// job.MaxCount, suffix applied, is out of range.
func parseCount(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if n, ok := digits(b); ok && n <= job.MaxCount {
		return n, nil // plain digits, the common case
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
