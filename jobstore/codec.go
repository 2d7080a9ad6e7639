package jobstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/scmon/scmon/internal/intern"
	"github.com/scmon/scmon/job"
)

// row is a record as stored.
//
// The document (doc) is the record: every field but Source and Line, with
// the decision, in a compact versioned binary form. The other fields are
// what a block needs besides: the key of the run (its fingerprint, hash,
// identifies it) and the times its block's bounds are made of.
//
// Source and Line, where the stored version was read, are kept beside the
// document so that two reads of one run compare equal by their documents
// alone (docHash): re-reading a run from an overlapping poll is not a
// change.
//
// Times are Unix seconds. start is 0 for a run that never started; end is 0
// when unset.
type row struct {
	cluster, jobID, rawID string
	start, end            int64

	source string
	line   int64

	doc []byte
	// hash and docHash are the fingerprints of the run's key and of doc
	// (block.go).
	hash, docHash uint64
}

// docVersion is the version byte that starts every document. A reader
// refuses versions it does not know rather than guess.
const docVersion = 1

// Document fields, in encoding order. A document is the version byte, a
// uvarint bit mask of the fields present (non-zero), then each present
// field: strings as a uvarint length and the bytes; integers as zigzag
// varints; codes and counts as uvarints; lists as a count and their
// elements. Bits are never reused: a new field takes a new bit (which old
// readers refuse, see decodeDoc) or a new docVersion.
const (
	fCluster = iota
	fJobID
	fRawID
	fPartition
	fAccount
	fUser
	fState // stateCodes
	fClass // classCodes
	fSubmit
	fStart
	fEnd
	fCores
	fNodes
	fName
	fGroup
	fQOS
	fWCKey
	fComment
	fSubmitLine
	fWorkDir
	fNodeList
	fStateRaw
	// fStateRawSame (no payload) says StateRaw is State's own name, the
	// common case, which then takes no bytes.
	fStateRawSame
	fExitCode
	// fTimelimit holds a Timelimit of whole seconds (always, in practice)
	// as seconds, fTimelimitNanos any other in nanoseconds.
	fTimelimit
	fTimelimitNanos
	fUnlimited // no payload
	// fBillingInt holds an integral Billing as a zigzag varint,
	// fBillingFloat any other as its IEEE 754 bits, little endian.
	fBillingInt
	fBillingFloat
	fAccels // count, then name, type, count per entry
	// fSteps: count, then per step a uvarint tag, the id's bytes, name and
	// command. tag is len<<1|1 when the id is the job id, a dot and the
	// bytes (Slurm's "4711.batch" of job "4711"), len<<1 otherwise.
	fSteps
	fRules // count, then one string per rule id
	fieldCount
)

// stateCodes and classCodes are the document's codes of states and
// classes. They are the storage format, independent of the Go constants'
// order, and are only ever appended to.
var (
	stateCodes = []job.State{
		job.StateUnknown, job.StatePending, job.StateRunning, job.StateSuspended, job.StateCompleted,
		job.StateCancelled, job.StateFailed, job.StateTimeout, job.StateNodeFail, job.StatePreempted,
		job.StateBootFail, job.StateDeadline, job.StateOutOfMemory, job.StateRequeued, job.StateResizing,
		job.StateOther,
	}
	classCodes = []job.Class{job.ClassUnknown, job.ClassAITraining, job.ClassAIInference, job.ClassOther}

	stateCode = codeIndex(stateCodes)
	classCode = codeIndex(classCodes)
)

func codeIndex[T comparable](codes []T) map[T]uint64 {
	m := make(map[T]uint64, len(codes))
	for i, c := range codes {
		m[c] = uint64(i)
	}
	return m
}

// classByName maps the class column back, for query validation.
var classByName = func() map[string]job.Class {
	m := map[string]job.Class{}
	for _, c := range classCodes {
		m[c.String()] = c
	}
	return m
}()

// encodeRow converts a record and its decision to a row, appending the
// document to buf (which the row then references). It fails on what the
// store cannot keep without loss: times before 1970 (0 means unset) and
// states or classes it has no code for.
//
// The strings that are (or were, in schema version 1) also columns and
// that Jobs filters by are made valid UTF-8 without NUL bytes (PostgreSQL's
// text refuses both), the repair the readers already apply to their input,
// in the column and the document alike; the other strings are kept byte
// for byte. Negative counts are refused.
func encodeRow(r *job.Record, d job.Decision, buf []byte) (row, []byte, error) {
	var w row
	var err error
	if w.start, err = unixSeconds(r.Start, "start"); err != nil {
		return w, buf, err
	}
	if w.end, err = unixSeconds(r.End, "end"); err != nil {
		return w, buf, err
	}
	submit, err := unixSeconds(r.Submit, "submit")
	if err != nil {
		return w, buf, err
	}
	// The database's columns used to refuse these; the document would keep
	// them, but no reader expects them.
	for _, c := range [...]struct {
		what string
		n    int64
	}{{"cores", r.Cores}, {"nodes", r.Nodes}, {"accelerators", r.AccelCount("")}} {
		if c.n < 0 {
			return w, buf, fmt.Errorf("%s %d is negative", c.what, c.n)
		}
	}
	if _, ok := classCode[d.Class]; !ok {
		return w, buf, fmt.Errorf("decision has unknown class %s", d.Class)
	}
	st := r.State
	if _, ok := stateCode[st]; !ok {
		// job.State.String names every state outside the table OTHER.
		st = job.StateOther
	}
	w.cluster, w.jobID, w.rawID = cleanText(r.Cluster), cleanText(r.JobID), cleanText(r.RawID)
	w.source, w.line = cleanText(r.Source), int64(r.Line)

	c := *r
	c.Cluster, c.JobID, c.RawID = w.cluster, w.jobID, w.rawID
	c.Partition, c.Account, c.User, c.State = cleanText(r.Partition), cleanText(r.Account), cleanText(r.User), st
	at := len(buf)
	buf = appendDoc(buf, &c, d, submit, w.start, w.end)
	w.doc = buf[at:len(buf):len(buf)]
	w.hash, w.docHash = keyHash(w.cluster, w.jobID, w.rawID, w.start), docHash(w.doc)
	return w, buf, nil
}

// unixSeconds converts an instant to Unix seconds, 0 for the zero time.
// Sub-second parts are dropped: schedulers record whole seconds.
func unixSeconds(t time.Time, what string) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	u := t.Unix()
	if u <= 0 {
		return 0, fmt.Errorf("%s time %s is not after 1970-01-01T00:00:00Z", what, t.UTC().Format(time.RFC3339))
	}
	return u, nil
}

// cleanText makes s valid UTF-8 without NUL bytes, replacing offenders by
// U+FFFD.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
}

// appendDoc appends the document of r and d to buf. The times are r's in
// Unix seconds (0: unset), already checked by the caller; r's state and
// class must have codes.
func appendDoc(buf []byte, r *job.Record, d job.Decision, submit, start, end int64) []byte {
	strs := [...]struct {
		f int
		s string
	}{
		{fCluster, r.Cluster}, {fJobID, r.JobID}, {fRawID, r.RawID}, {fPartition, r.Partition},
		{fAccount, r.Account}, {fUser, r.User},
		{fName, r.Name}, {fGroup, r.Group}, {fQOS, r.QOS}, {fWCKey, r.WCKey}, {fComment, r.Comment},
		{fSubmitLine, r.SubmitLine}, {fWorkDir, r.WorkDir}, {fNodeList, r.NodeList}, {fStateRaw, r.StateRaw},
		{fExitCode, r.ExitCode},
	}
	ints := [...]struct {
		f int
		v int64
	}{
		{fSubmit, submit}, {fStart, start}, {fEnd, end}, {fCores, r.Cores}, {fNodes, r.Nodes},
	}
	state, class := stateCode[r.State], classCode[d.Class]

	var mask uint64
	set := func(f int, on bool) {
		if on {
			mask |= 1 << f
		}
	}
	for _, s := range strs {
		set(s.f, s.s != "")
	}
	for _, i := range ints {
		set(i.f, i.v != 0)
	}
	set(fState, state != 0)
	set(fClass, class != 0)
	if r.StateRaw != "" && r.StateRaw == r.State.String() {
		mask = mask&^(1<<fStateRaw) | 1<<fStateRawSame
	}
	limit := int64(r.Timelimit)
	switch {
	case r.Timelimit == 0:
	case r.Timelimit%time.Second == 0:
		mask |= 1 << fTimelimit
		limit = int64(r.Timelimit / time.Second)
	default:
		mask |= 1 << fTimelimitNanos
	}
	set(fUnlimited, r.Unlimited)
	billingInt, isInt := integral(r.Billing)
	switch {
	case r.Billing == 0 && !math.Signbit(r.Billing):
	case isInt:
		mask |= 1 << fBillingInt
	default:
		mask |= 1 << fBillingFloat
	}
	set(fAccels, len(r.Accels) > 0)
	set(fSteps, len(r.Steps) > 0)
	set(fRules, len(d.Rules) > 0)

	has := func(f int) bool { return mask&(1<<f) != 0 }
	buf = append(buf, docVersion)
	buf = binary.AppendUvarint(buf, mask)
	// Fields in bit order; strs and ints interleave with the rest.
	si, ii := 0, 0
	for f := range fieldCount {
		if si < len(strs) && strs[si].f == f {
			if has(f) {
				buf = appendString(buf, strs[si].s)
			}
			si++
			continue
		}
		if ii < len(ints) && ints[ii].f == f {
			if has(f) {
				buf = binary.AppendVarint(buf, ints[ii].v)
			}
			ii++
			continue
		}
		if !has(f) {
			continue
		}
		switch f {
		case fState:
			buf = binary.AppendUvarint(buf, state)
		case fClass:
			buf = binary.AppendUvarint(buf, class)
		case fTimelimit, fTimelimitNanos:
			buf = binary.AppendVarint(buf, limit)
		case fBillingInt:
			buf = binary.AppendVarint(buf, billingInt)
		case fBillingFloat:
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(r.Billing))
		case fAccels:
			buf = binary.AppendUvarint(buf, uint64(len(r.Accels)))
			for _, a := range r.Accels {
				buf = appendString(buf, a.Name)
				buf = appendString(buf, a.Type)
				buf = binary.AppendVarint(buf, a.Count)
			}
		case fSteps:
			buf = binary.AppendUvarint(buf, uint64(len(r.Steps)))
			for _, s := range r.Steps {
				if n := len(r.JobID); n > 0 && len(s.ID) > n && s.ID[n] == '.' && s.ID[:n] == r.JobID {
					rest := s.ID[n+1:]
					buf = binary.AppendUvarint(buf, uint64(len(rest))<<1|1)
					buf = append(buf, rest...)
				} else {
					buf = binary.AppendUvarint(buf, uint64(len(s.ID))<<1)
					buf = append(buf, s.ID...)
				}
				buf = appendString(buf, s.Name)
				buf = appendString(buf, s.Command)
			}
		case fRules:
			buf = binary.AppendUvarint(buf, uint64(len(d.Rules)))
			for _, id := range d.Rules {
				buf = appendString(buf, id)
			}
		}
	}
	return buf
}

// integral reports whether f is an integer that a varint holds exactly
// (negative zero is not: it would come back positive).
func integral(f float64) (int64, bool) {
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 || (f == 0 && math.Signbit(f)) {
		return 0, false
	}
	return int64(f), true
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// errCorrupt is wrapped by every document decoding error.
var errCorrupt = errors.New("corrupt record document")

// decoder turns documents back into records. Strings of the fields that
// repeat across records (clusters, accounts, users, states, rule ids, GRES
// and step names) are interned, so that a scan of a million records
// allocates each value once; ids, names and command lines are copied.
type decoder struct {
	pool *intern.Pool
	// last holds the value each interned field had in the previous record:
	// consecutive records mostly repeat them, and comparing is cheaper than
	// hashing.
	last [slotCount]string
	// dict returns a dictionary of compressed documents by id; nil when
	// the decoder has none (a document that needs one is then corrupt).
	dict func(id uint64) ([]byte, error)
	// scratch holds the last decompressed document.
	scratch []byte
	// pending are the strings of the record being decoded that are not
	// interned: all are copied into one allocation once decoded (resolve).
	pending []pendingString
}

// pendingString is a string decoded but not yet copied out of the
// document: into *dst, or into step's ID or Command when dst is nil.
type pendingString struct {
	dst  *string
	step int
	// command selects the step's Command rather than its ID; jobPrefix
	// puts the job id and a dot before b (a step id of the job's own).
	command, jobPrefix bool
	b                  []byte
}

// later schedules b to become *dst. b must stay valid until resolve: it
// points into the document or the decoder's scratch buffer.
func (dc *decoder) later(dst *string, b []byte) {
	dc.pending = append(dc.pending, pendingString{dst: dst, b: b})
}

// deferStep schedules b to become the ID (or Command) of step i.
func (dc *decoder) deferStep(i int, command, jobPrefix bool, b []byte) {
	dc.pending = append(dc.pending, pendingString{step: i, command: command, jobPrefix: jobPrefix, b: b})
}

// resolve copies the pending strings into one allocation, so that a
// record costs one allocation for all its strings that are not interned,
// and sets them. A consumer keeping any of them keeps that one block alive,
// which is no bigger than the record's strings.
func (dc *decoder) resolve(r *job.Record, steps []job.Step) {
	size, jobID := 0, 0
	for i := range dc.pending {
		ps := &dc.pending[i]
		size += len(ps.b)
		if ps.dst == &r.JobID {
			jobID = len(ps.b)
		}
		if ps.jobPrefix {
			size += jobID + 1 // the job id comes first in a document
		}
	}
	if size == 0 {
		return
	}
	buf := make([]byte, 0, size)
	str := func(from int) string {
		if len(buf) == from {
			return ""
		}
		return unsafe.String(&buf[from], len(buf)-from)
	}
	for i := range dc.pending {
		ps := &dc.pending[i]
		at := len(buf)
		if ps.dst != nil {
			buf = append(buf, ps.b...)
			*ps.dst = str(at)
			continue
		}
		if ps.jobPrefix {
			buf = append(append(buf, r.JobID...), '.')
		}
		buf = append(buf, ps.b...)
		if ps.command {
			steps[ps.step].Command = str(at)
		} else {
			steps[ps.step].ID = str(at)
		}
	}
}

// Interned fields, each with its own slot of decoder.last.
const (
	slotSource = iota
	slotCluster
	slotPartition
	slotAccount
	slotUser
	slotGroup
	slotQOS
	slotWCKey
	slotStateRaw
	slotExitCode
	slotAccelName
	slotAccelType
	slotStepName // and the next two: the first three steps' names
	slotRule     = slotStepName + 3
	slotCount    = slotRule + 2 // the first two rule ids
)

func newDecoder() *decoder { return &decoder{pool: intern.New()} }

// intern returns the canonical string equal to b, through the field's slot.
func (dc *decoder) intern(slot int, b []byte) string {
	if slot < slotCount {
		if string(b) == dc.last[slot] {
			return dc.last[slot]
		}
		dc.last[slot] = dc.pool.Bytes(b)
		return dc.last[slot]
	}
	return dc.pool.Bytes(b)
}

// timeOf converts stored Unix seconds back to an instant in UTC.
func timeOf(u int64) time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(u, 0).UTC()
}

// decode fills r and d from a row's source, line and document. r's and
// d's slices are reused (truncated and appended to); every other field is
// overwritten.
func (dc *decoder) decode(source []byte, line int64, doc []byte, r *job.Record, d *job.Decision) error {
	accels, steps, rules := r.Accels[:0], r.Steps[:0], d.Rules[:0]
	*r = job.Record{Source: dc.intern(slotSource, source), Line: int(line)}
	*d = job.Decision{}
	dc.pending = dc.pending[:0]

	if len(doc) == 0 {
		return fmt.Errorf("%w: empty", errCorrupt)
	}
	var body []byte
	switch doc[0] {
	case docVersion:
		body = doc[1:]
	case docVersionLZ:
		var err error
		if body, err = dc.inflate(doc); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: version %d (this scmon reads versions %d and %d)", errCorrupt, doc[0], docVersion, docVersionLZ)
	}
	p := docReader{b: body}
	mask := p.uvarint()
	if mask>>fieldCount != 0 {
		return fmt.Errorf("%w: unknown fields %#x", errCorrupt, mask>>fieldCount)
	}
	for f := range fieldCount {
		if mask&(1<<f) == 0 {
			continue
		}
		switch f {
		case fCluster:
			r.Cluster = dc.intern(slotCluster, p.bytes())
		case fJobID:
			dc.later(&r.JobID, p.bytes())
		case fRawID:
			dc.later(&r.RawID, p.bytes())
		case fPartition:
			r.Partition = dc.intern(slotPartition, p.bytes())
		case fAccount:
			r.Account = dc.intern(slotAccount, p.bytes())
		case fUser:
			r.User = dc.intern(slotUser, p.bytes())
		case fState:
			if c := p.uvarint(); c < uint64(len(stateCodes)) {
				r.State = stateCodes[c]
			} else {
				p.fail(fmt.Sprintf("state code %d", c))
			}
		case fClass:
			if c := p.uvarint(); c < uint64(len(classCodes)) {
				d.Class = classCodes[c]
			} else {
				p.fail(fmt.Sprintf("class code %d", c))
			}
		case fSubmit:
			r.Submit = timeOf(p.varint())
		case fStart:
			r.Start = timeOf(p.varint())
		case fEnd:
			r.End = timeOf(p.varint())
		case fCores:
			r.Cores = p.varint()
		case fNodes:
			r.Nodes = p.varint()
		case fName:
			dc.later(&r.Name, p.bytes())
		case fGroup:
			r.Group = dc.intern(slotGroup, p.bytes())
		case fQOS:
			r.QOS = dc.intern(slotQOS, p.bytes())
		case fWCKey:
			r.WCKey = dc.intern(slotWCKey, p.bytes())
		case fComment:
			dc.later(&r.Comment, p.bytes())
		case fSubmitLine:
			dc.later(&r.SubmitLine, p.bytes())
		case fWorkDir:
			dc.later(&r.WorkDir, p.bytes())
		case fNodeList:
			dc.later(&r.NodeList, p.bytes())
		case fStateRaw:
			r.StateRaw = dc.intern(slotStateRaw, p.bytes())
		case fStateRawSame:
			// Resolved after the loop: fState may be absent (code 0).
		case fExitCode:
			r.ExitCode = dc.intern(slotExitCode, p.bytes())
		case fTimelimit:
			r.Timelimit = time.Duration(p.varint()) * time.Second
		case fTimelimitNanos:
			r.Timelimit = time.Duration(p.varint())
		case fUnlimited:
			r.Unlimited = true
		case fBillingInt:
			r.Billing = float64(p.varint())
		case fBillingFloat:
			r.Billing = math.Float64frombits(p.uint64())
		case fAccels:
			for n := p.count(); n > 0; n-- {
				name, typ := dc.intern(slotAccelName, p.bytes()), dc.intern(slotAccelType, p.bytes())
				accels = append(accels, job.Accel{Name: name, Type: typ, Count: p.varint()})
			}
		case fSteps:
			for n := p.count(); n > 0; n-- {
				tag := p.uvarint()
				id := p.take(tag >> 1)
				var s job.Step
				// Step ids and commands are set once the steps slice
				// stops growing: deferred by index.
				if tag&1 == 1 {
					dc.deferStep(len(steps), false, true, id)
				} else {
					dc.deferStep(len(steps), false, false, id)
				}
				s.Name = dc.intern(slotStepName+min(len(steps), 2), p.bytes())
				dc.deferStep(len(steps), true, false, p.bytes())
				steps = append(steps, s)
			}
		case fRules:
			for n := p.count(); n > 0; n-- {
				rules = append(rules, dc.intern(slotRule+min(len(rules), 2), p.bytes()))
			}
		}
	}
	if mask&(1<<fStateRawSame) != 0 {
		r.StateRaw = r.State.String()
	}
	if p.err == nil {
		dc.resolve(r, steps)
	}
	if len(accels) > 0 {
		r.Accels = accels
	}
	if len(steps) > 0 {
		r.Steps = steps
	}
	if len(rules) > 0 {
		d.Rules = rules
	}
	if p.err != nil {
		return p.err
	}
	if len(p.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(p.b))
	}
	return nil
}

// docReader reads a document's primitives; the first error sticks and
// makes every later read return zero values, so that decode checks once.
type docReader struct {
	b   []byte
	err error
}

func (p *docReader) fail(what string) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: bad or truncated %s", errCorrupt, what)
	}
	p.b = nil
}

func (p *docReader) uvarint() uint64 {
	v, n := binary.Uvarint(p.b)
	if n <= 0 {
		p.fail("integer")
		return 0
	}
	p.b = p.b[n:]
	return v
}

func (p *docReader) varint() int64 {
	v, n := binary.Varint(p.b)
	if n <= 0 {
		p.fail("integer")
		return 0
	}
	p.b = p.b[n:]
	return v
}

func (p *docReader) uint64() uint64 {
	if len(p.b) < 8 {
		p.fail("float")
		return 0
	}
	v := binary.LittleEndian.Uint64(p.b)
	p.b = p.b[8:]
	return v
}

// count reads a list length, bounded by the bytes left (every element takes
// at least one byte) so that a corrupt count cannot make a huge loop.
func (p *docReader) count() int {
	n := p.uvarint()
	if n > uint64(len(p.b)) {
		p.fail("list")
		return 0
	}
	return int(n)
}

// take returns the next n bytes.
func (p *docReader) take(n uint64) []byte {
	if n > uint64(len(p.b)) {
		p.fail("string")
		return nil
	}
	s := p.b[:n:n]
	p.b = p.b[n:]
	return s
}

func (p *docReader) bytes() []byte { return p.take(p.uvarint()) }

// docHead is what peekHead reads of a document: its key strings, the
// strings Jobs filters by, and its times (Unix seconds, 0: unset).
type docHead struct {
	cluster, partition, account, user []byte
	start, end                        int64
}

// peekHead reads the head of a document of docVersion (the fields up to
// fEnd) without decoding the rest or allocating; ok is false when it
// cannot tell (another version, a corrupt document), and the caller then
// decodes the document, which reports what is wrong.
func peekHead(doc []byte) (h docHead, ok bool) {
	if len(doc) == 0 || doc[0] != docVersion {
		return h, false
	}
	p := docReader{b: doc[1:]}
	mask := p.uvarint()
	for f := range fEnd + 1 {
		if mask&(1<<f) == 0 {
			continue
		}
		switch f {
		case fState, fClass:
			p.uvarint()
		case fSubmit:
			p.varint()
		case fStart:
			h.start = p.varint()
		case fEnd:
			h.end = p.varint()
		case fCluster:
			h.cluster = p.bytes()
		case fPartition:
			h.partition = p.bytes()
		case fAccount:
			h.account = p.bytes()
		case fUser:
			h.user = p.bytes()
		default: // the ids
			p.bytes()
		}
	}
	return h, p.err == nil
}
