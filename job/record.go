// Package job defines the scheduler-neutral job record that every reader
// produces and that the classifier and the accounting engine consume.
//
// A Record is one allocation: one run of one job (or of one array task or one
// heterogeneous component). Scheduler steps never form records of their own;
// they are folded into their allocation as evidence for classification, since
// the resources they use are already held by the allocation.
package job

import (
	"strings"
	"time"
)

// State is the base state of an allocation as the scheduler reported it.
type State uint8

// The base states. Flags that a scheduler appends (Slurm's "CANCELLED by 1001")
// are stripped; unrecognised states map to StateOther rather than being lost.
const (
	StateUnknown State = iota
	StatePending
	StateRunning
	StateSuspended
	StateCompleted
	StateCancelled
	StateFailed
	StateTimeout
	StateNodeFail
	StatePreempted
	StateBootFail
	StateDeadline
	StateOutOfMemory
	StateRequeued
	StateResizing
	StateOther
)

var stateNames = [...]string{
	StateUnknown:     "UNKNOWN",
	StatePending:     "PENDING",
	StateRunning:     "RUNNING",
	StateSuspended:   "SUSPENDED",
	StateCompleted:   "COMPLETED",
	StateCancelled:   "CANCELLED",
	StateFailed:      "FAILED",
	StateTimeout:     "TIMEOUT",
	StateNodeFail:    "NODE_FAIL",
	StatePreempted:   "PREEMPTED",
	StateBootFail:    "BOOT_FAIL",
	StateDeadline:    "DEADLINE",
	StateOutOfMemory: "OUT_OF_MEMORY",
	StateRequeued:    "REQUEUED",
	StateResizing:    "RESIZING",
	StateOther:       "OTHER",
}

// String returns the scheduler's upper-case spelling of the state.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "OTHER"
}

// ParseState maps a scheduler state string such as "CANCELLED by 1001",
// "COMPLETED" or "OUT_OF_ME+" (sacct truncation) to its base state. It never
// fails: unknown spellings give StateOther so that the record is still counted.
func ParseState(s string) State {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, "+")
	if s == "" {
		return StateUnknown
	}
	up := strings.ToUpper(s)
	for i, name := range stateNames {
		if up == name {
			return State(i)
		}
	}
	// sacct truncates to the column width in fixed-width output and marks
	// the cut with '+'; accept any unambiguous prefix of a known state.
	var found State
	n := 0
	for i, name := range stateNames {
		if i != int(StateOther) && strings.HasPrefix(name, up) {
			found = State(i)
			n++
		}
	}
	if n == 1 {
		return found
	}
	switch up {
	case "CA":
		return StateCancelled
	case "CD":
		return StateCompleted
	case "F":
		return StateFailed
	case "TO":
		return StateTimeout
	case "R":
		return StateRunning
	case "PD":
		return StatePending
	case "NF":
		return StateNodeFail
	case "OOM":
		return StateOutOfMemory
	case "PR":
		return StatePreempted
	}
	return StateOther
}

// MaxCount is the largest count of nodes, cores or accelerators, and of
// accelerators summed over one record, that a reader accepts: 2^31 - 1,
// about a thousand times the largest machine. Bounding every count (and
// every product a reader forms, such as nodes x cores per node) well below
// the range of int64 and of the 32-bit counters of compact stores means that
// no later sum of a record's counts can wrap around; a reader refuses a
// larger value rather than let it wrap into a small or negative one.
const MaxCount = 1<<31 - 1

// Accel is a count of one kind of generic resource (GRES) held by an
// allocation or present on a node: Name is the GRES name ("gpu", "npu",
// "dcu", "mlu", ...), Type its optional type ("a100", "910b3"), Count how many.
type Accel struct {
	Name  string
	Type  string
	Count int64
}

// Step is one scheduler step of an allocation (Slurm "123.0", "123.batch").
// Only its name and command line are kept: they are classification evidence.
type Step struct {
	ID      string
	Name    string
	Command string
}

// Record is one allocation: one run of a job, array task or heterogeneous
// component, with the resources it held and the evidence needed to classify it.
//
// Times are absolute instants. A zero Start means the allocation never
// started and holds nothing; a zero End with a non-zero Start means it is
// still running (it is counted up to the end of the window or now).
type Record struct {
	// Source and Line locate the record in its input, for messages.
	Source string
	Line   int

	Cluster string
	// JobID is the identifier as the scheduler prints it ("123", "123_7",
	// "123+1", "4711[3].pbs01").
	JobID string
	// RawID is the scheduler's internal unique id of the allocation when it
	// differs from JobID (Slurm's JobIDRaw); empty otherwise.
	RawID string

	Name       string
	User       string
	Group      string
	Account    string
	Partition  string
	QOS        string
	WCKey      string
	Comment    string
	SubmitLine string
	WorkDir    string
	NodeList   string

	State    State
	StateRaw string
	ExitCode string

	Submit time.Time
	// Eligible is when the job became eligible to start (Slurm's Eligible:
	// dependencies met, begin time reached, not held). From it to Start the
	// job waited for resources; zero when the input does not record it, and
	// then Submit is the best estimate of when waiting began.
	Eligible time.Time
	Start    time.Time
	End      time.Time
	// Timelimit is the requested wall time; zero when unset and
	// Unlimited true for UNLIMITED or a partition default.
	Timelimit time.Duration
	Unlimited bool

	Nodes int64
	Cores int64
	// Accels lists the generic resources held, one entry per name and type,
	// with untyped remainders given an empty Type (never counted twice).
	Accels []Accel
	// Billing is the scheduler's own billing figure when it records one
	// (Slurm's billing TRES); scmon's billing basis uses inventory weights.
	Billing float64

	Steps []Step
}

// Started reports whether the allocation ever held resources.
func (r *Record) Started() bool { return !r.Start.IsZero() }

// Running reports whether the allocation started and has not ended.
func (r *Record) Running() bool { return !r.Start.IsZero() && r.End.IsZero() }

// Key identifies one run of one allocation across repeated reads of the
// same source: overlapping polls and duplicated lines give the same key, a
// requeued run (new start time) a new one.
func (r *Record) Key() string {
	var b strings.Builder
	b.Grow(len(r.Cluster) + len(r.JobID) + len(r.RawID) + 24)
	b.WriteString(r.Cluster)
	b.WriteByte('/')
	b.WriteString(r.JobID)
	b.WriteByte('/')
	b.WriteString(r.RawID)
	b.WriteByte('@')
	if !r.Start.IsZero() {
		b.WriteString(r.Start.UTC().Format("20060102T150405"))
	}
	return b.String()
}

// RunHash is a 64-bit FNV-1a hash of what Key holds except the cluster:
// the job id, the raw id and the start. It allocates nothing and costs the
// same whatever the cluster's name; stores that keep the cluster apart
// (as an index) use it to find a run again and compare the cluster
// themselves, so that a long cluster name does not make every record dear.
func (r *Record) RunHash() uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, s := range [2]string{r.JobID, r.RawID} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h = (h ^ 0xff) * prime // a separator no id byte can stand for
	}
	if !r.Start.IsZero() {
		u := uint64(r.Start.Unix())
		for range 8 {
			h = (h ^ (u & 0xff)) * prime
			u >>= 8
		}
	}
	return h
}

// AccelCount returns the number of generic resources of the given name
// (all types), or of all names when name is empty.
func (r *Record) AccelCount(name string) int64 {
	var n int64
	for _, a := range r.Accels {
		if name == "" || a.Name == name {
			n += a.Count
		}
	}
	return n
}

// MarshalText writes the state's name, so that JSON carries "COMPLETED"
// rather than a number.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state name as ParseState does.
func (s *State) UnmarshalText(b []byte) error {
	*s = ParseState(string(b))
	return nil
}
