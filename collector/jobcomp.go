package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/scmon/scmon/job"
)

func init() {
	registerFormat(Format{
		Name:        "slurm-jobcomp",
		Description: "Slurm jobcomp/filetxt log (JobCompType=jobcomp/filetxt), one Key=value line per finished job",
		NewReader:   func(r io.Reader, opts Options) (Reader, error) { return NewJobcompReader(r, opts), nil },
	})
}

// jobcompKeys are the keys Slurm's jobcomp/filetxt plugin has written, in
// the current order followed by those of older releases. A value ends
// where a blank is followed by one of them and '=' (see JobcompReader).
var jobcompKeys = [...]string{
	"JobId", "UserId", "GroupId", "Name", "JobState", "Partition", "TimeLimit",
	"StartTime", "EndTime", "NodeList", "NodeCnt", "ProcCnt", "WorkDir",
	"ReservationName", "Tres", "Account", "QOS", "WcKey", "Cluster",
	"SubmitTime", "EligibleTime", "ArrayJobId", "ArrayTaskId", "HetJobId",
	"HetJobOffset", "DerivedExitCode", "ExitCode",
	// Older releases.
	"RunTime", "MinMemoryCPU", "MinMemoryNode", "BlockId", "MaxProcs",
	"Connection", "Reboot", "Rotate", "Geometry", "Start",
}

// Indexes into jobcompKeys of the keys the reader uses.
const (
	jcJobID = iota
	jcUserID
	jcGroupID
	jcName
	jcJobState
	jcPartition
	jcTimeLimit
	jcStartTime
	jcEndTime
	jcNodeList
	jcNodeCnt
	jcProcCnt
	jcWorkDir
	jcReservation
	jcTres
	jcAccount
	jcQOS
	jcWcKey
	jcCluster
	jcSubmitTime
	jcEligibleTime
	jcArrayJobID
	jcArrayTaskID
	jcHetJobID
	jcHetJobOffset
	jcDerivedExitCode
	jcExitCode
	jcNumKeys = len(jobcompKeys)
)

// jobcompKeyIndex returns the index of a known key, or -1.
func jobcompKeyIndex(b []byte) int {
	for i, k := range jobcompKeys {
		if string(b) == k {
			return i
		}
	}
	return -1
}

// JobcompReader reads the log of Slurm's jobcomp/filetxt plugin: one line
// of Key=value pairs per finished job, times in Options.Location, as
// written by every release since 2.x (the older ones lack NodeCnt, Tres
// and the exit codes, and give TimeLimit as [D-]HH:MM:SS, not minutes).
//
// Values are not quoted, and Name and WorkDir may hold blanks and '=': a
// value ends only where a blank is followed by a key Slurm writes and '='
// and that key has not yet appeared on the line, so "Name=a b=c JobState=X"
// keeps "a b=c" as the name. A job name that itself holds " Partition=..."
// cannot be told apart from the real field.
//
// Cores are ProcCnt and nodes NodeCnt (counted from NodeList for releases
// without NodeCnt). Tres is the job's request, not an allocation record:
// the reader takes GRES (accelerators) and billing from it because the log
// has nothing better, so a job that asked for GPUs is credited with them.
// A job whose NodeList is "(null)" or "None assigned", or whose ProcCnt is
// 0, never ran: Start and End are zero. Array tasks get the sacct-style id
// "<ArrayJobId>_<ArrayTaskId>" and heterogeneous components
// "<HetJobId>+<HetJobOffset>", with JobId kept as RawID, so that they match
// what sacct reports for the same jobs. Cluster is the line's own, or
// Options.Cluster when the line has none or says "unknown".
type JobcompReader struct {
	readerBase
	lines *lineReader
	vals  [jcNumKeys][]byte
}

// NewJobcompReader returns a reader over one jobcomp/filetxt log.
func NewJobcompReader(r io.Reader, opts Options) *JobcompReader {
	j := &JobcompReader{readerBase: newReaderBase(opts)}
	j.lines = j.newLines(r)
	return j
}

// A JobcompReader's notes are "dst_fold" (a record with a wall time in a
// daylight-saving fold, read so that Submit <= Eligible <= Start <= End),
// "dst_ambiguous" (such a record whose order still fits several readings:
// the earliest is taken; the log has no Elapsed to decide) and
// "invalid_utf8" (text repaired).

// Next returns the next job, a *LineError for a malformed line, or io.EOF.
func (j *JobcompReader) Next() (*job.Record, error) {
	for {
		line, err := j.lines.next()
		if err != nil {
			return nil, j.lineFailure(err)
		}
		line = bytes.TrimRight(line, " \t\r")
		if len(bytes.TrimLeft(line, " \t")) == 0 {
			continue
		}
		return j.parse(line, j.lines.line)
	}
}

// split cuts a line into the values of its keys (see JobcompReader for the
// rule). Unknown keys after a field that cannot hold blanks start a field
// of their own, which is ignored.
func (j *JobcompReader) split(line []byte) error {
	clear(j.vals[:])
	if !bytes.HasPrefix(line, []byte("JobId=")) {
		return errors.New(`a jobcomp line starts with "JobId="`)
	}
	var seen uint64
	cur, start := jcJobID, len("JobId=")
	seen |= 1 << jcJobID
	for i := start; i < len(line); {
		sp := bytes.IndexByte(line[i:], ' ')
		if sp < 0 {
			break
		}
		sp += i
		k := sp + 1
		for k < len(line) && (line[k] >= 'A' && line[k] <= 'Z' || line[k] >= 'a' && line[k] <= 'z' || line[k] == '_') {
			k++
		}
		if k == sp+1 || k == len(line) || line[k] != '=' {
			i = sp + 1
			continue
		}
		idx := jobcompKeyIndex(line[sp+1 : k])
		boundary := false
		switch {
		case idx >= 0:
			boundary = seen&(1<<idx) == 0
		case cur != jcName && cur != jcWorkDir:
			boundary = true // an unknown key after a value without blanks
		}
		if !boundary {
			i = sp + 1
			continue
		}
		if cur >= 0 {
			j.vals[cur] = line[start:sp]
		}
		cur, start = idx, k+1
		if idx >= 0 {
			seen |= 1 << idx
		}
		i = start
	}
	if cur >= 0 {
		j.vals[cur] = line[start:]
	}
	return nil
}

func (j *JobcompReader) parse(line []byte, no int) (*job.Record, error) {
	if err := j.split(line); err != nil {
		return nil, j.lineErr(no, "", ReasonRecord, err)
	}
	v := &j.vals
	pool := j.opts.Strings
	fail := func(key int, reason string, err error) (*job.Record, error) {
		return nil, j.lineErr(no, jobcompKeys[key], reason, err)
	}
	id := bytes.TrimSpace(v[jcJobID])
	if len(id) == 0 || bytes.ContainsAny(id, " \t") {
		return fail(jcJobID, ReasonID, fmt.Errorf("job id %q is empty or has blanks", id))
	}
	rec := &job.Record{
		Source: j.opts.Name, Line: no,
		User:      j.label(jobcompName(v[jcUserID])),
		Group:     j.label(jobcompName(v[jcGroupID])),
		Name:      j.text(v[jcName]),
		Partition: j.label(v[jcPartition]),
		Account:   j.label(v[jcAccount]),
		QOS:       j.label(v[jcQOS]),
		WCKey:     j.label(v[jcWcKey]),
		WorkDir:   j.text(v[jcWorkDir]),
		ExitCode:  j.label(v[jcExitCode]),
		StateRaw:  j.label(v[jcJobState]),
		Cluster:   j.label(v[jcCluster]),
	}
	rec.State = job.ParseState(rec.StateRaw)
	if rec.Cluster == "" || rec.Cluster == "unknown" {
		rec.Cluster = j.opts.Cluster
	}
	raw := string(id)
	switch {
	case len(v[jcArrayJobID]) > 0 && len(v[jcArrayTaskID]) > 0:
		rec.JobID = string(v[jcArrayJobID]) + "_" + string(v[jcArrayTaskID])
	case len(v[jcHetJobID]) > 0 && len(v[jcHetJobOffset]) > 0:
		rec.JobID = string(v[jcHetJobID]) + "+" + string(v[jcHetJobOffset])
	default:
		rec.JobID = raw
	}
	if rec.JobID != raw {
		rec.RawID = raw
	}

	var err error
	if tl := v[jcTimeLimit]; len(tl) > 0 {
		if rec.Timelimit, rec.Unlimited, err = jobcompTimeLimit(tl); err != nil {
			return fail(jcTimeLimit, reasonFor(err, ReasonTime), err)
		}
	}
	var lt [4]localTime
	for i, key := range [4]int{jcSubmitTime, jcEligibleTime, jcStartTime, jcEndTime} {
		if lt[i], err = j.time(v[key]); err != nil && key != jcEligibleTime {
			return fail(key, ReasonTime, err)
		}
	}
	var folded, ambiguous bool
	rec.Submit, rec.Start, rec.End, folded, ambiguous = slurmTimes{submit: lt[0], eligible: lt[1], start: lt[2], end: lt[3]}.resolve()
	if folded {
		j.notes["dst_fold"]++
	}
	if ambiguous {
		j.notes["dst_ambiguous"]++
	}

	hasProcs := len(v[jcProcCnt]) > 0
	if hasProcs {
		if rec.Cores, err = jobcompCount(v[jcProcCnt]); err != nil {
			return fail(jcProcCnt, reasonFor(err, ReasonNumber), err)
		}
	}
	if len(v[jcNodeCnt]) > 0 {
		if rec.Nodes, err = jobcompCount(v[jcNodeCnt]); err != nil {
			return fail(jcNodeCnt, reasonFor(err, ReasonNumber), err)
		}
	}
	nodeList := v[jcNodeList]
	ran := !(len(nodeList) == 0 || string(nodeList) == "(null)" || string(nodeList) == "None assigned" || hasProcs && rec.Cores == 0)
	if ran {
		rec.NodeList = j.label(nodeList)
		if len(v[jcNodeCnt]) == 0 {
			if rec.Nodes, err = jobcompHostCount(nodeList); err != nil {
				return fail(jcNodeList, reasonFor(err, ReasonTRES), err)
			}
		}
	}
	if len(v[jcTres]) > 0 {
		t, err := parseTRES(string(v[jcTres]), pool)
		if err != nil {
			return fail(jcTres, reasonFor(err, ReasonTRES), err)
		}
		rec.Accels, rec.Billing = t.accels, t.billing
		if !hasProcs && t.hasCPU {
			rec.Cores = t.cpu
		}
		if rec.Nodes == 0 && ran && t.hasNode {
			rec.Nodes = t.node
		}
	}
	if !ran {
		rec.Start, rec.End = time.Time{}, time.Time{}
	}
	if rec.Started() && !rec.End.IsZero() && rec.End.Before(rec.Start) {
		return fail(jcEndTime, ReasonOrder, fmt.Errorf("end %s is before start %s", v[jcEndTime], v[jcStartTime]))
	}
	if field, err := checkRecord(rec); err != nil {
		key := map[string]int{"cores": jcProcCnt, "nodes": jcNodeCnt, "timelimit": jcTimeLimit, "end": jcEndTime}[field]
		if field == "accelerators" || field == "billing" {
			key = jcTres
		}
		return fail(key, reasonFor(err, ReasonOrder), err)
	}
	return rec, nil
}

// time reads a jobcomp timestamp ("%FT%T" in local time, or "unknown"),
// parsing the usual shape without allocating.
func (j *JobcompReader) time(b []byte) (localTime, error) {
	if w, ok := jobcompWall(b); ok {
		return resolveWall(w, j.opts.Location), nil
	}
	return parseSlurmTime(string(b), j.opts.Location)
}

// jobcompWall reads "YYYY-MM-DDTHH:MM:SS" into wall-clock fields carried
// in a UTC time; ok is false for any other shape.
func jobcompWall(b []byte) (time.Time, bool) {
	if len(b) != 19 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	var v [6]int
	for i, span := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		for _, c := range b[span[0]:span[1]] {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			v[i] = v[i]*10 + int(c-'0')
		}
	}
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return time.Time{}, false
	}
	t := time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.UTC)
	if t.Day() != v[2] {
		return time.Time{}, false
	}
	return t, true
}

// jobcompTimeLimit reads TimeLimit: minutes in current releases,
// [D-]HH:MM:SS in old ones, or UNLIMITED / Partition_Limit.
func jobcompTimeLimit(b []byte) (time.Duration, bool, error) {
	if jobcompDigits(b) {
		if len(b) > 18 {
			return 0, false, rangeErr("time limit of %q minutes", b)
		}
		var n int64
		for _, c := range b {
			n = n*10 + int64(c-'0')
		}
		if n > maxSeconds/60 {
			return 0, false, rangeErr("time limit of %d minutes is longer than %d seconds", n, int64(maxSeconds))
		}
		return time.Duration(n) * time.Minute, false, nil
	}
	if d, ok := jobcompClock(b); ok {
		return d, false, nil
	}
	return parseSlurmDuration(string(b))
}

// jobcompClock reads the usual "[D-]HH:MM:SS" without allocating; ok is
// false for any other shape.
func jobcompClock(b []byte) (time.Duration, bool) {
	var days int64
	if i := bytes.IndexByte(b, '-'); i >= 0 {
		if !jobcompDigits(b[:i]) || i > 6 {
			return 0, false
		}
		days, _ = jobcompCount(b[:i])
		if days > maxSeconds/86400 {
			return 0, false // out of range: parseSlurmDuration says so
		}
		b = b[i+1:]
	}
	if len(b) != 8 || b[2] != ':' || b[5] != ':' || !jobcompDigits(b[:2]) || !jobcompDigits(b[3:5]) || !jobcompDigits(b[6:]) {
		return 0, false
	}
	h := int64(b[0]-'0')*10 + int64(b[1]-'0')
	m := int64(b[3]-'0')*10 + int64(b[4]-'0')
	sec := int64(b[6]-'0')*10 + int64(b[7]-'0')
	return time.Duration(((days*24+h)*60+m)*60+sec) * time.Second, true
}

// jobcompDigits reports whether b is a non-empty run of decimal digits.
func jobcompDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// jobcompName returns the name of "alice(1001)", or the value unchanged
// when it has no "(uid)".
func jobcompName(b []byte) []byte {
	if i := bytes.IndexByte(b, '('); i > 0 && b[len(b)-1] == ')' {
		return b[:i]
	}
	return b
}

// jobcompCount reads a decimal count in [0, job.MaxCount].
func jobcompCount(b []byte) (int64, error) {
	if !jobcompDigits(b) {
		return 0, fmt.Errorf("%q is not a count", pbsClip(b))
	}
	if len(b) > 18 {
		return 0, rangeErr("count %q is above %d", pbsClip(b), job.MaxCount)
	}
	var n int64
	for _, c := range b {
		n = n*10 + int64(c-'0')
	}
	if n > job.MaxCount {
		return 0, rangeErr("count %d is above %d", n, job.MaxCount)
	}
	return n, nil
}

// jobcompHostCount counts the hosts of a Slurm hostlist expression such as
// "c[001-004,010],g01" or "rack[1-2]n[1-4]" (the product of its bracket
// groups).
func jobcompHostCount(b []byte) (int64, error) {
	var total int64
	depth, start := 0, 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) {
			switch b[i] {
			case '[':
				depth++
				continue
			case ']':
				depth--
				if depth < 0 {
					return 0, fmt.Errorf("unbalanced ']' in %q", b)
				}
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		if depth != 0 {
			return 0, fmt.Errorf("unbalanced '[' in %q", b)
		}
		n, err := jobcompHostExpr(b[start:i])
		if err != nil {
			return 0, err
		}
		var ok bool
		if total, ok = addCount(total, n); !ok {
			return 0, rangeErr("node list %q names more than %d hosts", pbsClip(b), job.MaxCount)
		}
		start = i + 1
	}
	return total, nil
}

// jobcompHostExpr counts the hosts of one hostlist item without top-level
// commas.
func jobcompHostExpr(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty host name in node list")
	}
	n := int64(1)
	for {
		open := bytes.IndexByte(b, '[')
		if open < 0 {
			return n, nil
		}
		end := bytes.IndexByte(b[open:], ']')
		if end < 0 {
			return 0, fmt.Errorf("unbalanced '[' in %q", b)
		}
		var group int64
		for r := range bytes.SplitSeq(b[open+1:open+end], []byte{','}) {
			lo, hi, isRange := bytes.Cut(r, []byte{'-'})
			a, err := jobcompCount(lo)
			if err != nil {
				return 0, fmt.Errorf("host range %q: %w", r, err)
			}
			width := int64(1)
			if isRange {
				z, err := jobcompCount(hi)
				if err != nil || z < a {
					return 0, fmt.Errorf("host range %q is not lo-hi", pbsClip(r))
				}
				width = z - a + 1
			}
			var ok bool
			if group, ok = addCount(group, width); !ok {
				return 0, rangeErr("node list %q names more than %d hosts", pbsClip(b), job.MaxCount)
			}
		}
		var ok bool
		if n, ok = mulCount(n, group); !ok {
			return 0, rangeErr("node list %q names more than %d hosts", pbsClip(b), job.MaxCount)
		}
		b = b[open+end+1:]
	}
}
