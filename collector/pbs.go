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
		Name:        "pbs",
		Description: "OpenPBS, PBS Pro and Torque accounting logs (a file, or a directory of daily files YYYYMMDD)",
		NewReader:   func(r io.Reader, opts Options) (Reader, error) { return NewPBSReader(r, opts), nil },
		Directories: true,
	})
}

// PBSReader reads the accounting log of OpenPBS, PBS Pro or Torque: lines
// "MM/DD/YYYY HH:MM:SS;<type>;<jobid>;<key=value ...>" with the timestamp in
// Options.Location.
//
// Only E (ended) and R (rerun) records describe an allocation: an R record
// carries the usage of a run the server aborted and requeued, so it becomes
// a run of its own (state REQUEUED) next to the E record of the final run.
// Every other record type (Q, S, D, A, reservation and license records) is
// read and skipped without error; a D record is remembered so that the E
// record of a job the user deleted says CANCELLED rather than FAILED, which
// works only when both are in the same file. An E record with a non-zero
// Exit_status is FAILED, or TIMEOUT when resources_used.walltime reached
// Resource_List.walltime; a missing Exit_status gives UNKNOWN. Exit_status
// is kept in ExitCode as written.
//
// Resources are taken from what the server allocated before what the job
// asked for. Cores: the ncpus of exec_vnode, else the cores listed in
// exec_host, else Resource_List.ncpus, else the select or nodes request.
// exec_host comes before Resource_List.ncpus because Torque writes a
// default ncpus=1 next to a nodes=1:ppn=4 request that exec_host shows
// holding four cores. GPUs: the ngpus of exec_vnode, else
// Resource_List.ngpus, else the select request, else the gpus= (or gpu=)
// of a Torque nodes request; they are reported as job.Accel "gpu". Nodes:
// the distinct hosts of exec_host, else Resource_List.nodect, else the
// nodes request.
//
// Array parents ("123[]", or any record with array_indices) are skipped
// without error, since their subjobs ("123[4]") carry the usage. A record
// whose start is missing or 0 never ran and gets a zero Start and End.
type PBSReader struct {
	readerBase
	lines   *lineReader
	deleted map[string]struct{}
	hosts   [][]byte // exec_host names of the current line, reused
	scratch []byte
}

// NewPBSReader returns a reader over one PBS accounting file.
func NewPBSReader(r io.Reader, opts Options) *PBSReader {
	p := &PBSReader{readerBase: newReaderBase(opts), deleted: map[string]struct{}{}}
	p.lines = p.newLines(r)
	return p
}

// A PBSReader's notes are "array_parent" (array parent records skipped),
// "end_from_walltime" and "end_from_timestamp" (a record without end=
// whose end was taken from resources_used.walltime or from the record's
// own timestamp) and "invalid_utf8" (text repaired).

// Next returns the next allocation, a *LineError for a malformed line, or
// io.EOF.
func (p *PBSReader) Next() (*job.Record, error) {
	for {
		line, err := p.lines.next()
		if err != nil {
			return nil, p.lineFailure(err)
		}
		rec, err := p.parseLine(line, p.lines.line)
		if err != nil || rec != nil {
			return rec, err
		}
	}
}

// pbsRecord collects the attributes of one E or R record before the
// record is assembled, so that precedence does not depend on their order.
type pbsRecord struct {
	ctime, qtime, start, end int64
	hasEnd                   bool
	execHost, execVnode      []byte
	ncpus, ngpus, nodect     int64
	hasNcpus, hasNgpus       bool
	hasNodect                bool
	selectSpec, nodesSpec    []byte
	nodectSpec               []byte // a nodes request written into nodect
	usedWall                 time.Duration
	hasUsedWall              bool
	exit                     []byte
	arrayParent              bool
}

func (p *PBSReader) parseLine(line []byte, no int) (*job.Record, error) {
	line = bytes.TrimRight(line, " \t\r")
	if len(line) == 0 {
		return nil, nil
	}
	stamp, rest, ok1 := bytes.Cut(line, []byte{';'})
	typ, rest, ok2 := bytes.Cut(rest, []byte{';'})
	id, msg, ok3 := bytes.Cut(rest, []byte{';'})
	if !ok1 || !ok2 || !ok3 {
		return nil, p.lineErr(no, "", ReasonFieldCount, errors.New("want 4 fields separated by ';' (time;type;id;message)"))
	}
	wall, ok := pbsStamp(stamp)
	if !ok {
		return nil, p.lineErr(no, "timestamp", ReasonTime, fmt.Errorf("%q is not MM/DD/YYYY HH:MM:SS", stamp))
	}
	if len(typ) != 1 {
		return nil, p.lineErr(no, "type", ReasonRecord, fmt.Errorf("record type %q is not one letter", typ))
	}
	switch typ[0] {
	case 'D':
		if len(id) > 0 {
			p.deleted[string(id)] = struct{}{}
		}
		return nil, nil
	case 'E', 'R':
	default:
		return nil, nil
	}
	if len(id) == 0 || bytes.ContainsAny(id, " \t") {
		return nil, p.lineErr(no, "jobid", ReasonID, fmt.Errorf("job id %q is empty or has blanks", id))
	}

	pool := p.opts.Strings
	rec := &job.Record{Source: p.opts.Name, Line: no, Cluster: p.opts.Cluster}
	var a pbsRecord
	var ferr error
	err := pbsEachAttr(msg, func(key, val []byte) bool {
		if ferr = p.attr(rec, &a, key, val, no); ferr != nil {
			return false
		}
		return true
	})
	if ferr != nil {
		return nil, ferr
	}
	if err != nil {
		return nil, p.lineErr(no, "", ReasonRecord, err)
	}
	if a.arrayParent || bytes.Contains(id, []byte("[]")) {
		p.notes["array_parent"]++
		return nil, nil
	}
	rec.JobID = string(id)

	// Times: epoch seconds, absolute whatever the log's zone.
	if a.ctime > 0 {
		rec.Submit = time.Unix(a.ctime, 0).UTC()
	} else if a.qtime > 0 {
		rec.Submit = time.Unix(a.qtime, 0).UTC()
	}
	if a.start > 0 {
		rec.Start = time.Unix(a.start, 0).UTC()
		switch {
		case a.hasEnd && a.end > 0:
			rec.End = time.Unix(a.end, 0).UTC()
		case a.hasUsedWall:
			rec.End = rec.Start.Add(a.usedWall)
			p.notes["end_from_walltime"]++
		default:
			// The server writes E and R records when the run ends.
			lt := resolveWall(wall, p.opts.Location)
			rec.End = lt.T
			if rec.End.Before(rec.Start) {
				rec.End = lt.Alt
			}
			p.notes["end_from_timestamp"]++
		}
		if rec.End.Before(rec.Start) {
			return nil, p.lineErr(no, "end", ReasonOrder, fmt.Errorf("end %d is before start %d", rec.End.Unix(), a.start))
		}
	}

	if err := p.resources(rec, &a, no); err != nil {
		return nil, err
	}

	rec.StateRaw = pool.Bytes(typ)
	rec.ExitCode = p.label(a.exit)
	_, wasDeleted := p.deleted[string(id)]
	switch {
	case typ[0] == 'R':
		rec.State = job.StateRequeued
	case wasDeleted:
		delete(p.deleted, string(id))
		rec.State = job.StateCancelled
	case len(a.exit) == 0:
		rec.State = job.StateUnknown
	case len(a.exit) == 1 && a.exit[0] == '0':
		rec.State = job.StateCompleted
	case a.hasUsedWall && rec.Timelimit > 0 && a.usedWall >= rec.Timelimit:
		// Killed at its walltime limit: what Slurm calls TIMEOUT.
		rec.State = job.StateTimeout
	default:
		// Positive values are the job script's status (a job killed by a
		// signal shows 128 or 256 plus the signal); negative ones are
		// server codes, which differ between PBS Pro and Torque (-11 is a
		// rerun in one, an exceeded walltime in the other): all are
		// failures, and ExitCode keeps the number.
		rec.State = job.StateFailed
	}
	return p.final(rec)
}

// attr stores one key=value of an E or R record.
func (p *PBSReader) attr(rec *job.Record, a *pbsRecord, key, val []byte, no int) error {
	var err error
	num := func(dst *int64) {
		if *dst, err = pbsInt(val); err != nil {
			err = p.lineErr(no, string(key), ReasonNumber, err)
		}
	}
	count := func(dst *int64) {
		if *dst, err = pbsCount(val); err != nil {
			err = p.lineErr(no, string(key), reasonFor(err, ReasonNumber), err)
		}
	}
	epoch := func(dst *int64) {
		if *dst, err = pbsInt(val); err != nil || *dst < 0 {
			err = p.lineErr(no, string(key), ReasonTime, fmt.Errorf("%q is not a Unix time", val))
		} else if *dst > maxSeconds {
			err = p.lineErr(no, string(key), ReasonRange, rangeErr("Unix time %d is after %d", *dst, int64(maxSeconds)))
		}
	}
	switch string(key) {
	case "user":
		rec.User = p.label(val)
	case "group":
		rec.Group = p.label(val)
	case "account", "Account_Name":
		rec.Account = p.label(val)
	case "queue":
		rec.Partition = p.label(val)
	case "jobname", "Job_Name":
		rec.Name = p.text(val)
	case "ctime":
		epoch(&a.ctime)
	case "qtime":
		epoch(&a.qtime)
	case "start":
		epoch(&a.start)
	case "end":
		epoch(&a.end)
		a.hasEnd = true
	case "exec_host":
		a.execHost = val
	case "exec_vnode":
		a.execVnode = val
	case "Resource_List.ncpus":
		count(&a.ncpus)
		a.hasNcpus = true
	case "Resource_List.ngpus":
		count(&a.ngpus)
		a.hasNgpus = true
	case "Resource_List.nodect":
		if n, nerr := pbsCount(val); nerr == nil {
			a.nodect, a.hasNodect = n, true
		} else if errors.Is(nerr, errOutOfRange) {
			err = p.lineErr(no, string(key), ReasonRange, nerr)
		} else if _, cerr := pbsChunks(val); cerr == nil && val[0] >= '0' && val[0] <= '9' && bytes.IndexByte(val, ':') > 0 {
			// Some Torque sites write the whole nodes request here
			// ("1:ppn=24:gpu=4"): read it as one.
			a.nodectSpec = val
		} else {
			err = p.lineErr(no, string(key), ReasonNumber, nerr)
		}
	case "Resource_List.select":
		a.selectSpec = val
	case "Resource_List.nodes":
		a.nodesSpec = val
	case "Resource_List.walltime":
		if rec.Timelimit, err = pbsDuration(val); err != nil {
			err = p.lineErr(no, string(key), reasonFor(err, ReasonTime), err)
		}
	case "resources_used.walltime":
		if a.usedWall, err = pbsDuration(val); err != nil {
			err = p.lineErr(no, string(key), reasonFor(err, ReasonTime), err)
		}
		a.hasUsedWall = true
	case "Exit_status":
		var n int64
		num(&n)
		a.exit = val
	case "session", "run_count":
		var n int64
		num(&n)
	case "array_indices":
		a.arrayParent = true
	}
	return err
}

// resources fills cores, nodes, GPUs and the node list (see PBSReader for
// the order of the sources).
func (p *PBSReader) resources(rec *job.Record, a *pbsRecord, no int) error {
	var vn pbsCounts
	if len(a.execVnode) > 0 {
		var err error
		if vn, err = pbsVnodes(a.execVnode); err != nil {
			return p.lineErr(no, "exec_vnode", reasonFor(err, ReasonTRES), err)
		}
	}
	var hostCores int64
	if len(a.execHost) > 0 {
		var err error
		p.hosts = p.hosts[:0]
		if hostCores, p.hosts, err = pbsExecHost(a.execHost, p.hosts); err != nil {
			return p.lineErr(no, "exec_host", reasonFor(err, ReasonTRES), err)
		}
	}
	var sel, nodes pbsCounts
	if len(a.selectSpec) > 0 {
		var err error
		if sel, err = pbsChunks(a.selectSpec); err != nil {
			return p.lineErr(no, "Resource_List.select", reasonFor(err, ReasonTRES), err)
		}
	}
	nodesSpec, nodesField := a.nodesSpec, "Resource_List.nodes"
	if len(nodesSpec) == 0 && len(a.nodectSpec) > 0 {
		nodesSpec, nodesField = a.nodectSpec, "Resource_List.nodect"
	}
	if len(nodesSpec) > 0 {
		var err error
		if nodes, err = pbsChunks(nodesSpec); err != nil {
			return p.lineErr(no, nodesField, reasonFor(err, ReasonTRES), err)
		}
	}

	switch {
	case vn.cores > 0:
		rec.Cores = vn.cores
	case hostCores > 0:
		rec.Cores = hostCores
	case a.hasNcpus:
		rec.Cores = a.ncpus
	case sel.cores > 0:
		rec.Cores = sel.cores
	default:
		rec.Cores = nodes.cores
	}
	var gpus int64
	switch {
	case vn.gpus > 0:
		gpus = vn.gpus
	case a.hasNgpus:
		gpus = a.ngpus
	case sel.gpus > 0:
		gpus = sel.gpus
	default:
		gpus = nodes.gpus
	}
	if gpus > 0 {
		rec.Accels = []job.Accel{{Name: "gpu", Count: gpus}}
	}
	switch {
	case len(p.hosts) > 0:
		rec.Nodes = int64(len(p.hosts))
	case a.hasNodect:
		rec.Nodes = a.nodect
	default:
		rec.Nodes = nodes.nodes
	}
	switch len(p.hosts) {
	case 0:
	case 1:
		rec.NodeList = p.label(p.hosts[0])
	default:
		p.scratch = p.scratch[:0]
		for i, h := range p.hosts {
			if i > 0 {
				p.scratch = append(p.scratch, ',')
			}
			p.scratch = append(p.scratch, h...)
		}
		rec.NodeList = p.text(p.scratch)
	}
	p.hosts = p.hosts[:0]
	return nil
}

// pbsStamp reads "MM/DD/YYYY HH:MM:SS" into wall-clock fields carried in a
// UTC time, without allocating.
func pbsStamp(b []byte) (time.Time, bool) {
	if len(b) != 19 || b[2] != '/' || b[5] != '/' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	var v [6]int
	for i, span := range [6][2]int{{0, 2}, {3, 5}, {6, 10}, {11, 13}, {14, 16}, {17, 19}} {
		for _, c := range b[span[0]:span[1]] {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			v[i] = v[i]*10 + int(c-'0')
		}
	}
	mon, day, year, h, m, s := v[0], v[1], v[2], v[3], v[4], v[5]
	if mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(mon), day, h, m, s, 0, time.UTC)
	if t.Day() != day { // 02/31 and the like
		return time.Time{}, false
	}
	return t, true
}

// pbsEachAttr calls fn for every key=value of a record's message. Values
// may be quoted ("account=\"my project\"") and keep their blanks; the
// quotes are removed. A blank-separated word that is not key=value
// continues the previous value, since older servers wrote job names with
// blanks unquoted. It stops early when fn returns false.
func pbsEachAttr(msg []byte, fn func(key, val []byte) bool) error {
	var key []byte
	valStart, valEnd := -1, -1
	flush := func() bool {
		if key == nil {
			return true
		}
		v := msg[valStart:valEnd]
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return fn(key, v)
	}
	i := 0
	for i < len(msg) {
		for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t') {
			i++
		}
		if i == len(msg) {
			break
		}
		s := i
		quoted := false
		for i < len(msg) && (quoted || (msg[i] != ' ' && msg[i] != '\t')) {
			if msg[i] == '"' {
				quoted = !quoted
			}
			i++
		}
		if quoted {
			return fmt.Errorf("unterminated quote in %q", pbsClip(msg[s:]))
		}
		tok := msg[s:i]
		eq := bytes.IndexByte(tok, '=')
		if eq > 0 && pbsIsKey(tok[:eq]) {
			if !flush() {
				return nil
			}
			key, valStart, valEnd = tok[:eq], s+eq+1, i
			continue
		}
		if key != nil {
			valEnd = i
		}
	}
	flush()
	return nil
}

func pbsIsKey(b []byte) bool {
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '.'):
		default:
			return false
		}
	}
	return len(b) > 0
}

// pbsClip shortens a value quoted in an error message.
func pbsClip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// pbsInt reads a decimal integer with an optional sign.
func pbsInt(b []byte) (int64, error) {
	neg := false
	d := b
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		neg, d = d[0] == '-', d[1:]
	}
	if len(d) == 0 || len(d) > 18 {
		return 0, fmt.Errorf("%q is not an integer", pbsClip(b))
	}
	var n int64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an integer", pbsClip(b))
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// pbsCount reads a count: a decimal integer in [0, job.MaxCount].
func pbsCount(b []byte) (int64, error) {
	n, err := pbsInt(b)
	if err != nil {
		if d := bytes.TrimLeft(b, "+"); len(d) > 18 && jobcompDigits(d) {
			return 0, rangeErr("count %q", pbsClip(b))
		}
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%q is not a count", pbsClip(b))
	}
	if n > job.MaxCount {
		return 0, rangeErr("count %d is above %d", n, job.MaxCount)
	}
	return n, nil
}

// pbsDuration reads a PBS time: "[[HH:]MM:]SS[.frac]", hours unbounded
// ("144:00:00"), or plain seconds.
func pbsDuration(b []byte) (time.Duration, error) {
	if len(b) == 0 {
		return 0, errors.New("empty duration")
	}
	whole, frac, hasFrac := bytes.Cut(b, []byte{'.'})
	var d time.Duration
	parts := 0
	for part := range bytes.SplitSeq(whole, []byte{':'}) {
		parts++
		n, err := pbsInt(part)
		if err != nil || n < 0 || part[0] == '-' || part[0] == '+' || parts > 3 {
			return 0, fmt.Errorf("duration %q is not [[HH:]MM:]SS", pbsClip(b))
		}
		if d > maxSeconds/60 || n > maxSeconds {
			return 0, rangeErr("duration %q is longer than %d seconds", pbsClip(b), int64(maxSeconds))
		}
		d = d*60 + time.Duration(n)
	}
	if d > maxSeconds {
		return 0, rangeErr("duration %q is longer than %d seconds", pbsClip(b), int64(maxSeconds))
	}
	d *= time.Second
	if hasFrac {
		f, err := strconv.ParseFloat("0."+string(frac), 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q has a bad fraction", pbsClip(b))
		}
		d += time.Duration(f * float64(time.Second))
	}
	return d, nil
}

// pbsCounts are resources counted from one resource expression.
type pbsCounts struct {
	nodes, cores, gpus int64
}

// pbsChunks reads a request made of '+'-separated chunks, each
// "[N|host][:res=val|:property]...": a PBS Pro select ("2:ncpus=8:ngpus=1")
// or a Torque nodes list ("2:ppn=32:gpus=2+n7:ppn=4"). Each chunk stands for
// N nodes (1 when it names a host) with ppn or ncpus cores (default 1) and
// gpus, ngpus or gpu GPUs each.
func pbsChunks(spec []byte) (pbsCounts, error) {
	var c pbsCounts
	for chunk := range bytes.SplitSeq(spec, []byte{'+'}) {
		if len(chunk) == 0 {
			return c, fmt.Errorf("empty chunk in %q", pbsClip(spec))
		}
		n, per, gpus := int64(1), int64(1), int64(0)
		first := true
		for item := range bytes.SplitSeq(chunk, []byte{':'}) {
			k, v, isRes := bytes.Cut(item, []byte{'='})
			if !isRes {
				if first && len(item) > 0 && item[0] >= '0' && item[0] <= '9' {
					var err error
					if n, err = pbsCount(item); err != nil {
						return c, fmt.Errorf("chunk count %q in %q: %w", pbsClip(item), pbsClip(spec), err)
					}
				}
				first = false
				continue // a host name or a node property
			}
			first = false
			switch string(k) {
			case "ppn", "ncpus", "gpus", "ngpus", "gpu":
				x, err := pbsCount(v)
				if err != nil {
					return c, fmt.Errorf("%s=%q in %q: %w", k, pbsClip(v), pbsClip(spec), err)
				}
				switch string(k) {
				case "ppn", "ncpus":
					per = x
				default:
					gpus = x
				}
			}
		}
		cores, ok1 := mulCount(n, per)
		g, ok2 := mulCount(n, gpus)
		var ok3, ok4, ok5 bool
		c.nodes, ok3 = addCount(c.nodes, n)
		c.cores, ok4 = addCount(c.cores, cores)
		c.gpus, ok5 = addCount(c.gpus, g)
		if !(ok1 && ok2 && ok3 && ok4 && ok5) {
			return c, rangeErr("%q asks for more than %d nodes, cores or GPUs", pbsClip(spec), job.MaxCount)
		}
	}
	return c, nil
}

// pbsVnodes sums ncpus and ngpus over an exec_vnode value
// "(v1:ncpus=8:ngpus=2)+(v2:ncpus=8)"; a chunk may hold several vnodes
// joined by '+' inside its parentheses.
func pbsVnodes(spec []byte) (pbsCounts, error) {
	var c pbsCounts
	for vn := range bytes.SplitSeq(spec, []byte{'+'}) {
		vn = bytes.TrimLeft(vn, "(")
		vn = bytes.TrimRight(vn, ")")
		_, res, _ := bytes.Cut(vn, []byte{':'})
		if len(vn) == 0 || vn[0] == ':' {
			return c, fmt.Errorf("vnode without a name in %q", pbsClip(spec))
		}
		for item := range bytes.SplitSeq(res, []byte{':'}) {
			if len(item) == 0 {
				continue
			}
			k, v, ok := bytes.Cut(item, []byte{'='})
			if !ok {
				return c, fmt.Errorf("vnode resource %q is not res=value", item)
			}
			switch string(k) {
			case "ncpus", "ngpus":
				x, err := pbsCount(v)
				if err != nil {
					return c, fmt.Errorf("%s=%q: %w", k, pbsClip(v), err)
				}
				var ok bool
				if k[1] == 'c' {
					c.cores, ok = addCount(c.cores, x)
				} else {
					c.gpus, ok = addCount(c.gpus, x)
				}
				if !ok {
					return c, rangeErr("%s summed over %q is above %d", k, pbsClip(spec), job.MaxCount)
				}
			}
		}
	}
	return c, nil
}

// pbsExecHost counts the cores of an exec_host value and appends its
// distinct host names to hosts. Forms: "n1/0+n1/1" (one core each), Torque
// ranges and lists "n1/0-3,6", PBS Pro "c1/0*16" (16 cores), and a bare
// host (one core).
func pbsExecHost(spec []byte, hosts [][]byte) (int64, [][]byte, error) {
	var cores int64
	var seen map[string]struct{}
	for entry := range bytes.SplitSeq(spec, []byte{'+'}) {
		host, slots, hasSlots := bytes.Cut(entry, []byte{'/'})
		if len(host) == 0 {
			return 0, hosts, fmt.Errorf("empty host in %q", pbsClip(spec))
		}
		if !hasSlots {
			cores++
		} else {
			for item := range bytes.SplitSeq(slots, []byte{','}) {
				n, err := pbsSlots(item)
				if err != nil {
					return 0, hosts, fmt.Errorf("%q: %w", pbsClip(entry), err)
				}
				var ok bool
				if cores, ok = addCount(cores, n); !ok {
					return 0, hosts, rangeErr("cores of %q sum above %d", pbsClip(spec), job.MaxCount)
				}
			}
		}
		if cores > job.MaxCount {
			return 0, hosts, rangeErr("cores of %q sum above %d", pbsClip(spec), job.MaxCount)
		}
		// Distinct hosts: entries of one host usually come together, so
		// compare with the last one first and index only long lists.
		if k := len(hosts); k > 0 && bytes.Equal(hosts[k-1], host) {
			continue
		}
		dup := false
		if len(hosts) < 32 {
			for _, h := range hosts {
				if bytes.Equal(h, host) {
					dup = true
					break
				}
			}
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, 2*len(hosts))
				for _, h := range hosts {
					seen[string(h)] = struct{}{}
				}
			}
			_, dup = seen[string(host)]
			if !dup {
				seen[string(host)] = struct{}{}
			}
		}
		if !dup {
			hosts = append(hosts, host)
		}
	}
	return cores, hosts, nil
}

// pbsSlots counts the cores of one exec_host slot: "3", "0-3" or "0*16".
func pbsSlots(item []byte) (int64, error) {
	if idx, count, ok := bytes.Cut(item, []byte{'*'}); ok {
		if _, err := pbsInt(idx); err != nil {
			return 0, err
		}
		n, err := pbsCount(count)
		if err != nil {
			return 0, fmt.Errorf("core count %q: %w", pbsClip(count), err)
		}
		return n, nil
	}
	if lo, hi, ok := bytes.Cut(item, []byte{'-'}); ok {
		a, err1 := pbsInt(lo)
		b, err2 := pbsInt(hi)
		if err1 != nil || err2 != nil || a < 0 || b < a {
			return 0, fmt.Errorf("core range %q", pbsClip(item))
		}
		if b-a >= job.MaxCount {
			return 0, rangeErr("core range %q holds more than %d cores", pbsClip(item), job.MaxCount)
		}
		return b - a + 1, nil
	}
	if n, err := pbsInt(item); err != nil || n < 0 {
		return 0, fmt.Errorf("core index %q", item)
	}
	return 1, nil
}
