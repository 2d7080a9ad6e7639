package collector

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/scmon/scmon/job"
)

func init() {
	registerFormat(Format{
		Name:        "sge",
		Description: "Sun, Son of, Open and Univa Grid Engine accounting file (SGE seconds or UGE milliseconds)",
		NewReader:   func(r io.Reader, opts Options) (Reader, error) { return NewSGEReader(r, opts), nil },
	})
}

// Zero-based positions of the accounting fields the reader uses, after
// accounting(5); every Grid Engine writes them in this order and newer ones
// append fields after them.
const (
	sgeQname      = 0
	sgeHost       = 1
	sgeGroup      = 2
	sgeOwner      = 3
	sgeJobName    = 4
	sgeJobNumber  = 5
	sgeAccount    = 6
	sgePriority   = 7
	sgeSubmit     = 8
	sgeStart      = 9
	sgeEnd        = 10
	sgeFailed     = 11
	sgeExit       = 12
	sgeWallclock  = 13
	sgeGrantedPE  = 33
	sgeSlots      = 34
	sgeTaskNumber = 35
	sgeCategory   = 39
	sgePETaskID   = 41

	// sgeMinFields is the least a record must have: up to slots.
	sgeMinFields = sgeSlots + 1
	// sgeKeptFields is how many leading fields are kept for reading.
	sgeKeptFields = sgePETaskID + 1
)

var sgeFieldNames = [sgeKeptFields]string{
	sgeQname: "qname", sgeHost: "hostname", sgeGroup: "group", sgeOwner: "owner",
	sgeJobName: "job_name", sgeJobNumber: "job_number", sgeAccount: "account",
	sgePriority: "priority", sgeSubmit: "submission_time", sgeStart: "start_time",
	sgeEnd: "end_time", sgeFailed: "failed", sgeExit: "exit_status", sgeWallclock: "ru_wallclock",
	sgeGrantedPE: "granted_pe", sgeSlots: "slots", sgeTaskNumber: "task_number",
	sgeCategory: "category", sgePETaskID: "pe_taskid",
}

// sgeMilli is the smallest time value read as milliseconds: 10^11, which
// as seconds would be the year 5138 and as milliseconds is March 1973.
const sgeMilli = 100_000_000_000

// SGEReader reads the accounting file of Grid Engine (Sun, Oracle, Son of,
// Open and Univa/Altair Grid Engine): one finished job, array task or
// parallel task per line, fields separated by ':'. Lines starting with '#'
// and lines of at most one character are ignored, as qacct does. A record
// needs at least the fields up to slots (35); later ones are read when
// present and fields that newer versions append are ignored.
//
// Times: submission_time, start_time and end_time are Unix seconds in SGE
// and milliseconds in Univa Grid Engine 8.2 and later. The unit is decided
// per line by magnitude: a value of 10^11 or more is milliseconds (as
// seconds it would be after the year 5000, as milliseconds it is after
// 1973), and a line mixing the two units is refused (bad_time). Lines read
// in milliseconds are counted as the note "times_in_milliseconds". A record
// whose start_time is 0 never ran (it failed before starting, failed != 0)
// and is skipped with the note "never_started".
//
// A record whose pe_taskid names a task ("1.node07") is the accounting of
// one task of a tightly integrated parallel job, whose slots the job's own
// record (pe_taskid NONE) already holds: it is skipped with the note
// "pe_task", as a Slurm step is folded into its allocation.
//
// Partition is qname, User owner, Group group, Account account (the qsub
// -A string, "sge" when none was given), Name job_name, NodeList hostname,
// Cores slots. Nodes is 1: the record names the job's master host only, so
// a parallel job spread over several hosts is counted on that one host (a
// lower bound the node figures share). An array task (task_number > 0) has
// the JobID "job_number.task_number". Timelimit is the h_rt of the job's
// request (category "-l h_rt=SECONDS"), when given.
//
// State: failed 0 (or 100, "assumedly after job": the job ran and was
// ended by a signal) with exit_status 0 is COMPLETED. An exit_status above
// 128 means the job was killed by signal exit_status - 128: TIMEOUT when
// its wall clock reached the h_rt it asked for, CANCELLED for SIGKILL (137:
// qdel, or a hard limit other than h_rt, which the record does not tell
// apart), FAILED otherwise. Any other failed code (the job could not be
// started or set up) and any other non-zero exit_status is FAILED.
// StateRaw is the failed code, ExitCode exit_status, both as written.
//
// GPUs come from the request "-l gpu=N" in the category. Grid Engine
// counts a consumable per slot, per job or per host as the site configured
// it, which the record does not say: N is used when the job has one slot,
// where all readings agree, and otherwise the record gets no GPUs and the
// note "gpu_ambiguous".
type SGEReader struct {
	readerBase
	lines   *lineReader
	fields  [sgeKeptFields][]byte
	scratch []byte
}

// NewSGEReader returns a reader over one Grid Engine accounting file.
func NewSGEReader(r io.Reader, opts Options) *SGEReader {
	s := &SGEReader{readerBase: newReaderBase(opts)}
	s.lines = s.newLines(r)
	return s
}

// An SGEReader's notes are "never_started", "pe_task",
// "times_in_milliseconds" and "gpu_ambiguous" (see SGEReader) and
// "invalid_utf8" (text repaired).

// Next returns the next allocation, a *LineError for a malformed line, or
// io.EOF.
func (s *SGEReader) Next() (*job.Record, error) {
	for {
		line, err := s.lines.next()
		if err != nil {
			return nil, s.lineFailure(err)
		}
		rec, err := s.parse(line, s.lines.line)
		if err != nil || rec != nil {
			return rec, err
		}
	}
}

func (s *SGEReader) parse(line []byte, no int) (*job.Record, error) {
	if len(bytes.TrimSpace(line)) <= 1 || line[0] == '#' {
		return nil, nil
	}
	n := 0
	for rest := line; ; n++ {
		f, tail, more := bytes.Cut(rest, []byte{':'})
		if n < sgeKeptFields {
			s.fields[n] = f
		}
		if !more {
			n++
			break
		}
		rest = tail
	}
	if n < sgeMinFields {
		return nil, s.lineErr(no, "", ReasonFieldCount, fmt.Errorf("%d fields separated by ':', want at least %d", n, sgeMinFields))
	}
	has := func(i int) bool { return i < n }

	// Integers, checked in field order so that the first bad one is named.
	var v [sgeKeptFields]int64
	for _, i := range [...]int{sgeJobNumber, sgeSubmit, sgeStart, sgeEnd, sgeFailed, sgeExit, sgeSlots, sgeTaskNumber} {
		if !has(i) {
			continue
		}
		x, err := pbsInt(s.fields[i])
		switch {
		case i == sgeJobNumber && (err != nil || x < 0):
			return nil, s.lineErr(no, sgeFieldNames[i], ReasonID, fmt.Errorf("job number %q is not a number", pbsClip(s.fields[i])))
		case (i == sgeSubmit || i == sgeStart || i == sgeEnd) && (err != nil || x < 0):
			return nil, s.lineErr(no, sgeFieldNames[i], ReasonTime, fmt.Errorf("%q is not a Unix time", pbsClip(s.fields[i])))
		case err != nil:
			return nil, s.lineErr(no, sgeFieldNames[i], reasonFor(err, ReasonNumber), err)
		case i == sgeSlots:
			if x, err = pbsCount(s.fields[i]); err != nil {
				return nil, s.lineErr(no, sgeFieldNames[i], reasonFor(err, ReasonNumber), err)
			}
		case i == sgeTaskNumber && x < 0:
			return nil, s.lineErr(no, sgeFieldNames[i], ReasonID, fmt.Errorf("task number %d is negative", x))
		}
		v[i] = x
	}
	times, milli, err := sgeTimes(v[sgeSubmit], v[sgeStart], v[sgeEnd])
	if err != nil {
		return nil, s.lineErr(no, err.field, reasonFor(err.err, ReasonTime), err.err)
	}
	if milli {
		s.notes["times_in_milliseconds"]++
	}
	if v[sgeStart] == 0 {
		s.notes["never_started"]++
		return nil, nil
	}
	if v[sgeEnd] == 0 {
		return nil, s.lineErr(no, sgeFieldNames[sgeEnd], ReasonTime, fmt.Errorf("a job that started at %d has no end time", v[sgeStart]))
	}
	if has(sgePETaskID) {
		if t := s.fields[sgePETaskID]; len(t) > 0 && t[0] >= '0' && t[0] <= '9' && bytes.IndexByte(t, '.') > 0 {
			s.notes["pe_task"]++
			return nil, nil
		}
	}

	var wall float64
	if f := s.fields[sgeWallclock]; len(f) > 0 {
		w, err := strconv.ParseFloat(string(f), 64)
		if err != nil || !(w >= 0 && w <= maxSeconds) { // NaN fails both
			return nil, s.lineErr(no, sgeFieldNames[sgeWallclock], ReasonTime, fmt.Errorf("wall clock %q is not a number of seconds", pbsClip(f)))
		}
		wall = w
	}

	rec := &job.Record{Source: s.opts.Name, Line: no, Cluster: s.opts.Cluster,
		Partition: s.label(s.fields[sgeQname]),
		NodeList:  s.label(s.fields[sgeHost]),
		Group:     s.label(s.fields[sgeGroup]),
		User:      s.label(s.fields[sgeOwner]),
		Name:      s.text(s.fields[sgeJobName]),
		Account:   s.label(s.fields[sgeAccount]),
		StateRaw:  s.label(s.fields[sgeFailed]),
		ExitCode:  s.label(s.fields[sgeExit]),
		Submit:    times[0], Start: times[1], End: times[2],
		Cores: v[sgeSlots],
		Nodes: 1,
	}
	s.scratch = append(s.scratch[:0], s.fields[sgeJobNumber]...)
	if v[sgeTaskNumber] > 0 {
		s.scratch = strconv.AppendInt(append(s.scratch, '.'), v[sgeTaskNumber], 10)
	}
	rec.JobID = string(s.scratch)

	var gpus int64
	gpuCount := 0
	if has(sgeCategory) {
		var hrt int64
		hasHRT := false
		var ferr error
		sgeEachRequest(s.fields[sgeCategory], func(key, val []byte) {
			if ferr != nil {
				return
			}
			switch string(key) {
			case "h_rt":
				d, err := sgeSeconds(val)
				if err != nil {
					ferr = s.lineErr(no, "category", reasonFor(err, ReasonTime), fmt.Errorf("h_rt: %w", err))
					return
				}
				hrt, hasHRT = d, true
			case "gpu":
				g, err := pbsCount(val)
				if err != nil {
					ferr = s.lineErr(no, "category", reasonFor(err, ReasonTRES), fmt.Errorf("gpu=%q: %w", pbsClip(val), err))
					return
				}
				gpus = g
				gpuCount++
			}
		})
		if ferr != nil {
			return nil, ferr
		}
		if hasHRT {
			rec.Timelimit = time.Duration(hrt) * time.Second
		}
	}
	if gpuCount > 0 && gpus > 0 {
		if rec.Cores == 1 && gpuCount == 1 {
			rec.Accels = []job.Accel{{Name: "gpu", Count: gpus}}
		} else {
			s.notes["gpu_ambiguous"]++
		}
	}

	failed, exit := v[sgeFailed], v[sgeExit]
	switch {
	case failed != 0 && failed != 100:
		rec.State = job.StateFailed
	case exit == 0:
		rec.State = job.StateCompleted
	case exit > 128 && rec.Timelimit > 0 && wall >= rec.Timelimit.Seconds():
		rec.State = job.StateTimeout
	case exit == 128+9:
		rec.State = job.StateCancelled
	default:
		rec.State = job.StateFailed
	}
	return s.final(rec)
}

// sgeTimeErr names the time field at fault.
type sgeTimeErr struct {
	field string
	err   error
}

// sgeTimes turns the submission, start and end values into times, in
// seconds or milliseconds as SGEReader says. Zero values give zero times.
func sgeTimes(vals ...int64) ([3]time.Time, bool, *sgeTimeErr) {
	var out [3]time.Time
	names := [3]string{sgeFieldNames[sgeSubmit], sgeFieldNames[sgeStart], sgeFieldNames[sgeEnd]}
	milli := false
	for i, x := range vals {
		if x > maxSeconds*1000 {
			return out, false, &sgeTimeErr{names[i], rangeErr("Unix time %d is after %d seconds even in milliseconds", x, int64(maxSeconds))}
		}
		milli = milli || x >= sgeMilli
	}
	for i, x := range vals {
		switch {
		case x == 0:
			continue
		case milli && x < sgeMilli:
			return out, milli, &sgeTimeErr{names[i], fmt.Errorf("%d looks like seconds where the other times of the line are milliseconds", x)}
		case !milli && x > maxSeconds:
			return out, milli, &sgeTimeErr{names[i], rangeErr("Unix time %d is after %d seconds", x, int64(maxSeconds))}
		case milli:
			out[i] = time.UnixMilli(x).UTC()
		default:
			out[i] = time.Unix(x, 0).UTC()
		}
	}
	return out, milli, nil
}

// sgeEachRequest calls fn for every resource of the "-l" lists of a job
// category ("-l h_rt=3600,gpu=1 -pe mpi 4 -q all.q").
func sgeEachRequest(category []byte, fn func(key, val []byte)) {
	list := false // the previous word was "-l"
	for word := range bytes.FieldsSeq(category) {
		if list {
			for item := range bytes.SplitSeq(word, []byte{','}) {
				if k, v, ok := bytes.Cut(item, []byte{'='}); ok {
					fn(k, v)
				}
			}
		}
		list = string(word) == "-l"
	}
}

// sgeSeconds reads a Grid Engine time value: seconds, or "[[H:]M:]S".
func sgeSeconds(b []byte) (int64, error) {
	d, err := pbsDuration(b)
	if err != nil {
		return 0, err
	}
	return int64(d / time.Second), nil
}
