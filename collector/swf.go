package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/scmon/scmon/job"
)

func init() {
	registerFormat(Format{
		Name:             "swf",
		Description:      "Standard Workload Format of the Parallel Workloads Archive (gzip or plain)",
		NewReader:        func(r io.Reader, opts Options) (Reader, error) { return NewSWFReader(r, opts), nil },
		WindowFromSubmit: true,
	})
}

// swfFieldNames name the 18 data fields in LineError messages, after the
// SWF definition.
var swfFieldNames = [swfFields]string{
	"job_number", "submit_time", "wait_time", "run_time", "allocated_processors",
	"average_cpu_time", "used_memory", "requested_processors", "requested_time",
	"requested_memory", "status", "user_id", "group_id", "executable", "queue",
	"partition", "preceding_job", "think_time",
}

const swfFields = 18

// Zero-based indexes of the data fields the reader uses.
const (
	swfJob      = 0
	swfSubmit   = 1
	swfWait     = 2
	swfRun      = 3
	swfProcs    = 4
	swfReqTime  = 8
	swfStatus   = 10
	swfUser     = 11
	swfGroup    = 12
	swfApp      = 13
	swfQueue    = 14
	swfPartName = 15
)

// SWFReader reads a workload log in the Standard Workload Format of the
// Parallel Workloads Archive: header comments "; Key: value" followed by
// one line of 18 whitespace-separated numbers per job, -1 meaning unknown.
//
// Times are seconds relative to the header's UnixStartTime (0 when it is
// missing): Submit = UnixStartTime + submit, Start = Submit + max(wait, 0),
// End = Start + run. Cores are field 5, the allocated processors. A job
// with a negative run time or no allocated processors (cancelled before it
// ran, or not recorded) allocated nothing and gets a zero Start and End;
// the requested processors (field 8) are never used in its place, since
// they are a request and the archive's own utilization figures count
// field 5 only. SWF has no node counts, so Nodes stays 0.
//
// Identifiers are numbers in SWF; they are turned into names that cannot
// be mistaken for real ones: User "u<12>", Group "g<13>", Name "app<14>",
// QOS "q<15>" (the SWF queue), Partition "p<16>", each empty when -1.
// State follows field 11: 1 COMPLETED, 0 FAILED, 5 CANCELLED, and for logs
// that split checkpointed or swapped jobs into several lines, 2 (a partial
// run that continues later) PREEMPTED, 3 (last part, completed) COMPLETED,
// 4 (last part, failed) FAILED; -1 UNKNOWN and any other value OTHER. Each
// line, partial or not, is its own allocation.
//
// The header's MaxProcs and MaxNodes are offered through Capacity.
type SWFReader struct {
	readerBase
	lines *lineReader

	headerDone bool
	pending    []byte // the first data line, read with the header
	pendingNo  int
	errs       []error // header lines that could not be read
	ioErr      error

	base               int64
	hasBase            bool
	maxProcs, maxNodes int64
	tzOffset           int64
	hasTZOffset        bool
	loc                *time.Location
	hint               *CapacityHint

	fields  [swfFields][]byte
	scratch []byte
}

// NewSWFReader returns a reader over one SWF log.
func NewSWFReader(r io.Reader, opts Options) *SWFReader {
	s := &SWFReader{readerBase: newReaderBase(opts)}
	s.lines = s.newLines(r)
	return s
}

// An SWFReader keeps one note, for what it ignored without skipping a record:
// "unknown_time_zone" (a TimeZoneString this system has no zone data for).

// Capacity returns what the header says about the machine: Cores from
// MaxProcs (MaxNodes when MaxProcs is missing, as in logs older than SWF
// 2.1, where each node was one processor), Nodes from MaxNodes, Start from
// UnixStartTime and Location from TimeZoneString. It reads the header if
// Next has not yet been called, and returns nil when the header gives
// neither MaxProcs nor MaxNodes.
func (s *SWFReader) Capacity() *CapacityHint {
	s.readHeader()
	return s.hint
}

// Next returns the next job, a *LineError for a malformed line, or io.EOF.
func (s *SWFReader) Next() (*job.Record, error) {
	s.readHeader()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return nil, err
	}
	if s.pending != nil {
		line, no := s.pending, s.pendingNo
		s.pending = nil
		return s.parse(line, no)
	}
	if s.ioErr != nil {
		return nil, s.ioErr
	}
	for {
		line, err := s.lines.next()
		if err != nil {
			return nil, s.lineFailure(err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == ';' {
			continue
		}
		return s.parse(line, s.lines.line)
	}
}

// readHeader reads the comment lines before the first job once, keeping
// that job's line for Next.
func (s *SWFReader) readHeader() {
	if s.headerDone {
		return
	}
	s.headerDone = true
	defer s.makeHint()
	for {
		line, err := s.lines.next()
		if err != nil {
			if err = s.lineFailure(err); errors.As(err, new(*LineError)) {
				s.errs = append(s.errs, err)
				continue
			}
			s.ioErr = err
			return
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if line[0] != ';' {
			s.pending, s.pendingNo = append([]byte(nil), line...), s.lines.line
			return
		}
		s.headerLine(line, s.lines.line)
	}
}

// headerLine reads "; Key: value". An indented comment line continues the
// previous key (a multi-line Note or Information) and is ignored.
func (s *SWFReader) headerLine(line []byte, no int) {
	rest := line[1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	colon := bytes.IndexByte(rest, ':')
	if colon <= 0 || !swfIsKey(rest[:colon]) {
		return
	}
	key, val := string(rest[:colon]), bytes.TrimSpace(rest[colon+1:])
	switch key {
	case "UnixStartTime":
		n, err := swfLeadingInt(val)
		if err != nil || n < 0 {
			s.errs = append(s.errs, s.lineErr(no, key, ReasonTime, fmt.Errorf("%q is not a Unix time", pbsClip(val))))
			return
		}
		if n > maxSeconds {
			s.errs = append(s.errs, s.lineErr(no, key, ReasonRange, rangeErr("Unix time %d is after %d", n, int64(maxSeconds))))
			return
		}
		s.base, s.hasBase = n, true
	case "MaxProcs", "MaxNodes":
		// Values may carry prose: "338 (batch partition; 512 total)".
		n, err := swfLeadingInt(val)
		if err != nil {
			s.errs = append(s.errs, s.lineErr(no, key, ReasonNumber, err))
			return
		}
		if n > job.MaxCount {
			s.errs = append(s.errs, s.lineErr(no, key, ReasonRange, rangeErr("%d is above %d", n, job.MaxCount)))
			return
		}
		if key == "MaxProcs" {
			s.maxProcs = n
		} else {
			s.maxNodes = n
		}
	case "TimeZoneString":
		loc, err := time.LoadLocation(string(val))
		if err != nil {
			s.notes["unknown_time_zone"]++
			return
		}
		s.loc = loc
	case "TimeZone":
		// Deprecated and known to be wrong in some logs: used only when
		// there is no TimeZoneString.
		if n, err := swfLeadingInt(val); err == nil {
			s.tzOffset, s.hasTZOffset = n, true
		}
	}
}

func (s *SWFReader) makeHint() {
	loc := s.loc
	if loc == nil && s.hasTZOffset {
		loc = time.FixedZone("", int(s.tzOffset))
	}
	h := &CapacityHint{Nodes: max(s.maxNodes, 0), Location: loc}
	switch {
	case s.maxProcs > 0:
		h.Cores, h.Source = s.maxProcs, "swf header MaxProcs"
	case s.maxNodes > 0:
		h.Cores, h.Source = s.maxNodes, "swf header MaxNodes"
	default:
		return
	}
	if s.hasBase {
		h.Start = time.Unix(s.base, 0).UTC()
	}
	s.hint = h
}

func swfIsKey(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// swfLeadingInt reads the integer that starts a header value and ignores
// what follows it.
func swfLeadingInt(b []byte) (int64, error) {
	end := 0
	if end < len(b) && b[end] == '-' {
		end++
	}
	for end < len(b) && b[end] >= '0' && b[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(string(b[:end]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q does not start with an integer", pbsClip(b))
	}
	return n, nil
}

// swfValue is one numeric field: an integer, or a decimal when frac is set.
type swfValue struct {
	i    int64
	f    float64
	frac bool
}

// seconds returns a time field as a duration, exactly for integers.
func (v swfValue) seconds() time.Duration {
	if !v.frac {
		return time.Duration(v.i) * time.Second
	}
	return time.Duration(math.Round(v.f * float64(time.Second)))
}

// negative reports whether the value is below zero (unknown when -1).
func (v swfValue) negative() bool {
	if v.frac {
		return v.f < 0
	}
	return v.i < 0
}

// swfNumber reads an SWF field: an integer or a decimal number.
func swfNumber(b []byte) (swfValue, bool) {
	d := b
	neg := len(d) > 0 && d[0] == '-'
	if neg {
		d = d[1:]
	}
	if len(d) > 0 && len(d) <= 18 {
		var n int64
		i := 0
		for ; i < len(d) && d[i] >= '0' && d[i] <= '9'; i++ {
			n = n*10 + int64(d[i]-'0')
		}
		if i == len(d) {
			if neg {
				n = -n
			}
			return swfValue{i: n, f: float64(n)}, true
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return swfValue{}, false
	}
	return swfValue{i: int64(f), f: f, frac: true}, true
}

func (s *SWFReader) parse(line []byte, no int) (*job.Record, error) {
	n := 0
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		st := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		if n < swfFields {
			s.fields[n] = line[st:i]
		}
		n++
	}
	if n != swfFields {
		return nil, s.lineErr(no, "", ReasonFieldCount, fmt.Errorf("%d fields, want %d", n, swfFields))
	}
	var v [swfFields]swfValue
	for i, f := range s.fields {
		var ok bool
		if v[i], ok = swfNumber(f); !ok {
			reason := ReasonNumber
			switch i {
			case swfJob:
				reason = ReasonID
			case swfSubmit, swfWait, swfRun, swfReqTime:
				reason = ReasonTime
			}
			return nil, s.lineErr(no, swfFieldNames[i], reason, fmt.Errorf("%q is not a number", f))
		}
	}
	if v[swfJob].frac || v[swfJob].i < 0 {
		return nil, s.lineErr(no, swfFieldNames[swfJob], ReasonID, fmt.Errorf("job number %q is not a counter", s.fields[swfJob]))
	}
	// Times are seconds: each must stay within maxSeconds, so that their
	// sum with the header's start is exact and far inside time.Duration.
	for _, i := range [...]int{swfSubmit, swfWait, swfRun, swfReqTime} {
		if x := v[i]; x.f > maxSeconds || x.f < -maxSeconds {
			return nil, s.lineErr(no, swfFieldNames[i], ReasonRange, rangeErr("%q seconds is beyond %d", s.fields[i], int64(maxSeconds)))
		}
	}
	if p := v[swfProcs]; p.f > job.MaxCount {
		return nil, s.lineErr(no, swfFieldNames[swfProcs], ReasonRange, rangeErr("%q processors is above %d", s.fields[swfProcs], job.MaxCount))
	} else if p.frac && p.f >= 0 && p.f != math.Trunc(p.f) {
		return nil, s.lineErr(no, swfFieldNames[swfProcs], ReasonNumber, fmt.Errorf("%q processors is not a whole number", s.fields[swfProcs]))
	}

	pool := s.opts.Strings
	rec := &job.Record{
		Source: s.opts.Name, Line: no, Cluster: s.opts.Cluster,
		JobID:     string(s.fields[swfJob]),
		User:      s.idLabel("u", swfUser),
		Group:     s.idLabel("g", swfGroup),
		Name:      s.idLabel("app", swfApp),
		QOS:       s.idLabel("q", swfQueue),
		Partition: s.idLabel("p", swfPartName),
		StateRaw:  pool.Bytes(s.fields[swfStatus]),
	}
	switch st := v[swfStatus]; {
	case st.frac:
		rec.State = job.StateOther
	case st.i == 1 || st.i == 3:
		rec.State = job.StateCompleted
	case st.i == 0 || st.i == 4:
		rec.State = job.StateFailed
	case st.i == 5:
		rec.State = job.StateCancelled
	case st.i == 2:
		rec.State = job.StatePreempted
	case st.i == -1:
		rec.State = job.StateUnknown
	default:
		rec.State = job.StateOther
	}
	if rt := v[swfReqTime]; !rt.negative() {
		rec.Timelimit = rt.seconds()
	}
	if p := v[swfProcs]; p.f >= 1 {
		rec.Cores = int64(p.f) // a whole number (checked above), exact below 2^53
	}
	if v[swfSubmit].negative() {
		return rec, nil // cannot be placed in time
	}
	rec.Submit = time.Unix(s.base, 0).UTC().Add(v[swfSubmit].seconds())
	if v[swfRun].negative() || rec.Cores == 0 {
		return rec, nil // allocated nothing
	}
	rec.Start = rec.Submit
	if !v[swfWait].negative() {
		rec.Start = rec.Start.Add(v[swfWait].seconds())
	}
	rec.End = rec.Start.Add(v[swfRun].seconds())
	return s.final(rec)
}

// label turns a numeric SWF identifier into an interned name with a
// prefix, or "" when it is unknown (negative).
func (s *SWFReader) idLabel(prefix string, field int) string {
	f := s.fields[field]
	if len(f) == 0 || f[0] == '-' {
		return ""
	}
	s.scratch = append(append(s.scratch[:0], prefix...), f...)
	return s.opts.Strings.Bytes(s.scratch)
}

var _ capacityHinter = (*SWFReader)(nil)
