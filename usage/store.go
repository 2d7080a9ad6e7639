// Package usage is the accounting engine: it holds allocations in a compact
// in-memory form and attributes their resource-seconds (cores, nodes,
// accelerators by kind and model, billing units) to any window, grouping
// and time series, by overlap with the window, in exact integer seconds.
//
// The engine knows nothing of input formats or rules: it takes job records
// with the classifier's decision already made, and an inventory to compare
// them with.
package usage

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/job"
)

// openEnd marks an allocation that has not ended.
const openEnd = math.MaxUint32

// Job is one allocation in compact form: 44 bytes, strings interned.
// Times are Unix seconds (0 = not set; End = openEnd while running).
type Job struct {
	Submit, Start, End uint32
	Cores, Nodes       uint32
	// Accels is the accelerator count of the job's single device; a job
	// holding several devices keeps them in the store's overflow table.
	Accels    uint32
	Account   uint32
	User      uint32
	Rules     uint32
	Cluster   uint16
	Partition uint16
	Device    uint16
	Class     job.Class
	State     job.State
}

const (
	noDevice    = 0
	multiDevice = math.MaxUint16
)

// Device is an entry of the store's device table: an accelerator, or a
// generic resource that the accelerator table does not know (Known false),
// kept so that the report can show it rather than drop it.
type Device struct {
	accel.Device
	GRESName, GRESType string
	Known              bool
}

// DeviceCount is a count of one device of the store's device table.
type DeviceCount struct {
	Device uint16
	Count  uint32
}

// Stats counts what loading did.
type Stats struct {
	// Records is the number of allocation records offered.
	Records int64
	// Duplicates were records already held (same run read twice): the
	// newer one replaced the older, nothing was added.
	Duplicates int64
	// NeverStarted records hold no resources (pending, cancelled before
	// start); they are kept for job counts of the class table only.
	NeverStarted int64
	// IgnoredGRES counts generic resources that are not accelerators.
	IgnoredGRES int64
	// NoNodeList counts started allocations holding nodes whose node list
	// is missing or unusable (it does not parse, or names more than
	// MaxRecordNodes hosts): their occupancy falls back to NNodes x time.
	NoNodeList int64
}

// MaxRecordDevices bounds the distinct generic resources (name and type)
// of one record. Real records hold one to a few; a record with thousands
// would fill the device table shared by every record.
const MaxRecordDevices = 64

// ErrTooManyDevices is returned (wrapped) for a record with more than
// MaxRecordDevices distinct generic resources.
var ErrTooManyDevices = errors.New("too many distinct generic resources")

// CheckRecord refuses a record that must not reach shared state: one
// naming more than MaxRecordDevices distinct generic resources. The daemon
// calls it before a record is stored; Add calls it too.
func CheckRecord(r *job.Record) error {
	if len(r.Accels) <= MaxRecordDevices {
		return nil
	}
	seen := make(map[job.Accel]struct{}, MaxRecordDevices+1)
	for _, a := range r.Accels {
		seen[job.Accel{Name: a.Name, Type: a.Type}] = struct{}{}
		if len(seen) > MaxRecordDevices {
			return fmt.Errorf("record %.64s: %w: more than %d", r.JobID, ErrTooManyDevices, MaxRecordDevices)
		}
	}
	return nil
}

// entry is a device of a record being added, with its count.
type entry struct {
	dev   Device
	count uint32
}

// Store holds allocations. It is not safe for concurrent mutation; a
// query may run concurrently with other queries once loading is done.
type Store struct {
	table *accel.Table

	strs   []string
	strIdx map[string]uint32
	devs   []Device
	devIdx map[Device]uint16
	rules  [][]string
	ruleIx map[string]uint32

	jobs  []Job
	multi map[uint32][]DeviceCount
	dedup map[uint64]uint32
	// working space of Add, kept so that a record costs no allocation
	entryBuf []entry
	devBuf   []DeviceCount
	// the last rule list and its index (see rulesIndex)
	lastRulesIdx uint32
	hasLastRules bool
	// the last cluster name and its label (see clusterIndex)
	lastCl    string
	lastClIdx uint32
	hasLastCl bool

	occ     occupancy
	changes changeLog

	minSubmit, minStart, maxTime uint32
	stats                        Stats
	sealed                       bool
}

// NewStore returns an empty store that maps GRES with table (nil: defaults).
func NewStore(table *accel.Table) *Store {
	if table == nil {
		table = accel.Default()
	}
	s := &Store{
		table:  table,
		strIdx: map[string]uint32{},
		devIdx: map[Device]uint16{},
		ruleIx: map[string]uint32{},
		multi:  map[uint32][]DeviceCount{},
		dedup:  map[uint64]uint32{},
		occ:    newOccupancy(),
	}
	s.str("")                         // label 0 is the empty string
	s.devs = append(s.devs, Device{}) // device 0 is "none"
	s.ruleIx[""] = 0
	s.rules = append(s.rules, nil)
	s.minSubmit, s.minStart = math.MaxUint32, math.MaxUint32
	return s
}

func (s *Store) str(v string) uint32 {
	if i, ok := s.strIdx[v]; ok {
		return i
	}
	i := uint32(len(s.strs))
	s.strs = append(s.strs, v)
	s.strIdx[v] = i
	return i
}

// clusterIndex is str for cluster names, which repeat from record to
// record as one string: comparing with the last one is then a pointer
// comparison, where a map lookup would hash the whole name every time.
func (s *Store) clusterIndex(v string) uint32 {
	if s.hasLastCl && v == s.lastCl {
		return s.lastClIdx
	}
	s.lastCl, s.lastClIdx, s.hasLastCl = v, s.str(v), true
	return s.lastClIdx
}

// Label returns an interned label by index.
func (s *Store) Label(i uint32) string { return s.strs[i] }

// Rules returns the ids of the rules that decided job j's class.
func (s *Store) Rules(j *Job) []string { return s.rules[j.Rules] }

// Devices returns the device table; index 0 is "no device".
func (s *Store) Devices() []Device { return s.devs }

// Jobs returns the allocations held. The slice must not be modified.
func (s *Store) Jobs() []Job { return s.jobs }

// Stats returns what loading counted.
func (s *Store) Stats() Stats { return s.stats }

// Len returns the number of allocations held.
func (s *Store) Len() int { return len(s.jobs) }

func (s *Store) device(d Device) (uint16, error) {
	if i, ok := s.devIdx[d]; ok {
		return i, nil
	}
	if len(s.devs) >= multiDevice-1 {
		return 0, fmt.Errorf("more than %d distinct devices", multiDevice-2)
	}
	i := uint16(len(s.devs))
	s.devs = append(s.devs, d)
	s.devIdx[d] = i
	return i, nil
}

func unix(t time.Time) (uint32, error) {
	if t.IsZero() {
		return 0, nil
	}
	u := t.Unix()
	if u <= 0 || u >= openEnd {
		return 0, fmt.Errorf("time %s is outside 1970-2106", t.UTC().Format(time.RFC3339))
	}
	return uint32(u), nil
}

func count32(n int64, what string) (uint32, error) {
	if n < 0 || n > math.MaxUint32 {
		return 0, fmt.Errorf("%s %d is out of range", what, n)
	}
	return uint32(n), nil
}

// Add stores one allocation with its classification. A record whose key
// was already added replaces the earlier one (a later poll of the same run,
// or the same line read twice) and is counted as a duplicate.
//
// A record Add refuses leaves the store as it was: everything is checked
// before the shared tables (labels, devices, nodes) are touched.
func (s *Store) Add(r *job.Record, d job.Decision) error {
	_, err := s.AddAt(r, d)
	return err
}

// AddAt is Add, and returns the index of the allocation in Jobs: a new
// one's, or that of the earlier record it replaced. A caller that keeps
// more of each allocation than the store does (the planner's views) keys
// it by this index, so that it replaces what the store replaces.
func (s *Store) AddAt(r *job.Record, d job.Decision) (uint32, error) {
	if s.sealed {
		return 0, fmt.Errorf("add %s: the store is sealed", r.JobID)
	}
	s.stats.Records++
	if err := CheckRecord(r); err != nil {
		return 0, err
	}
	var j Job
	var err error
	if j.Submit, err = unix(r.Submit); err != nil {
		return 0, err
	}
	if j.Start, err = unix(r.Start); err != nil {
		return 0, err
	}
	if j.End, err = unix(r.End); err != nil {
		return 0, err
	}
	if j.Cores, err = count32(r.Cores, "cores"); err != nil {
		return 0, err
	}
	if j.Nodes, err = count32(r.Nodes, "nodes"); err != nil {
		return 0, err
	}
	// Devices: resolve every entry, then check that the new ones fit the
	// table, before adding any.
	entries := s.entryBuf[:0]
	defer func() { clear(entries); s.entryBuf = entries[:0] }()
	var ignored int64
	fresh := 0
	for _, a := range r.Accels {
		dev, res := s.table.Lookup(a.Name, a.Type)
		if res == accel.Ignored {
			ignored++
			continue
		}
		e := Device{Device: dev, GRESName: a.Name, GRESType: a.Type, Known: res == accel.Accelerator}
		if !e.Known {
			e.Device = accel.Device{Model: strings.Trim(a.Name+":"+a.Type, ":")}
		}
		c, err := count32(a.Count, "accelerator count")
		if err != nil {
			return 0, err
		}
		if _, ok := s.devIdx[e]; !ok && !slices.ContainsFunc(entries, func(x entry) bool { return x.dev == e }) {
			fresh++
		}
		entries = append(entries, entry{e, c})
	}
	if len(s.devs)+fresh > multiDevice-1 {
		return 0, fmt.Errorf("more than %d distinct devices", multiDevice-2)
	}
	cl, part := s.clusterIndex(r.Cluster), s.str(r.Partition)
	if cl > math.MaxUint16 || part > math.MaxUint16 {
		return 0, fmt.Errorf("more than %d distinct clusters and partitions", math.MaxUint16)
	}

	s.stats.IgnoredGRES += ignored
	if j.Start == 0 {
		j.End = 0
		s.stats.NeverStarted++
	} else if j.End == 0 {
		j.End = openEnd
	}
	j.Cluster, j.Partition = uint16(cl), uint16(part)
	j.Account, j.User = s.str(r.Account), s.str(r.User)
	j.Class, j.State = d.Class, r.State
	j.Rules = s.rulesIndex(d.Rules)

	devs := s.devBuf[:0]
	defer func() { s.devBuf = devs[:0] }()
	for _, e := range entries {
		di, err := s.device(e.dev)
		if err != nil {
			return 0, err // cannot happen: room was checked above
		}
		merged := false
		for k := range devs {
			if devs[k].Device == di {
				devs[k].Count = sat32(devs[k].Count, e.count)
				merged = true
			}
		}
		if !merged && e.count > 0 {
			devs = append(devs, DeviceCount{Device: di, Count: e.count})
		}
	}

	// The run's hash with the cluster's index mixed in, not its name, so
	// that the cost of a record does not grow with the cluster's name.
	sum := r.RunHash() ^ (uint64(cl)+1)*0x9e3779b97f4a7c15
	idx := uint32(len(s.jobs))
	var old *Job
	if prev, ok := s.dedup[sum]; ok && s.jobs[prev].Start == j.Start && s.jobs[prev].Cluster == j.Cluster {
		s.stats.Duplicates++
		idx = prev
		s.noteReplace(idx)
		delete(s.multi, idx)
		was := s.jobs[prev]
		old = &was
	} else {
		s.dedup[sum] = idx
		s.jobs = append(s.jobs, Job{})
	}
	switch len(devs) {
	case 0:
		j.Device = noDevice
	case 1:
		j.Device, j.Accels = devs[0].Device, devs[0].Count
	default:
		j.Device = multiDevice
		for _, dc := range devs {
			j.Accels = sat32(j.Accels, dc.Count)
		}
		s.multi[idx] = slices.Clone(devs)
	}
	s.jobs[idx] = j
	if old == nil || !s.sameOccupancy(idx, old, &j, r.NodeList) {
		if old != nil {
			s.release(idx, old)
		}
		s.occupy(idx, &j, r.NodeList)
	}

	if j.Submit != 0 && j.Submit < s.minSubmit {
		s.minSubmit = j.Submit
	}
	if j.Start != 0 && j.Start < s.minStart {
		s.minStart = j.Start
	}
	for _, t := range []uint32{j.Submit, j.Start, j.End} {
		if t != openEnd && t > s.maxTime {
			s.maxTime = t
		}
	}
	return idx, nil
}

// SetDecision sets the class and rules of allocation i (an index AddAt
// returned): a caller that classifies a whole input at once stores its
// records as they are read and their decisions when the input is done.
func (s *Store) SetDecision(i uint32, d job.Decision) {
	s.jobs[i].Class = d.Class
	s.jobs[i].Rules = s.rulesIndex(d.Rules)
}

// rulesIndex returns the index of a decision's rule list. Consecutive
// records often carry the same list (the same strings, even): it is
// compared with the last one before a key is built and looked up.
func (s *Store) rulesIndex(rules []string) uint32 {
	if s.hasLastRules && slices.Equal(rules, s.rules[s.lastRulesIdx]) {
		return s.lastRulesIdx
	}
	key := strings.Join(rules, "\x00")
	ri, ok := s.ruleIx[key]
	if !ok {
		ri = uint32(len(s.rules))
		s.rules = append(s.rules, append([]string(nil), rules...))
		s.ruleIx[key] = ri
	}
	s.lastRulesIdx, s.hasLastRules = ri, true
	return ri
}

// occupy records the nodes job idx holds: folded into the nodes' merged
// intervals when it has ended, held aside while it runs, or marked
// unlisted when its node list is missing or unusable. The node list is
// kept for release.
func (s *Store) occupy(idx uint32, j *Job, list string) {
	var ref listRef
	if int(idx) < len(s.occ.lists) {
		ref = s.occ.lists[idx]
		s.occ.lists[idx] = listRef{}
	}
	if j.Start == 0 || (j.End != openEnd && j.End <= j.Start) {
		return
	}
	err := s.occ.expand(j.Cluster, list)
	if err == nil && len(s.occ.pool)+len(list) > math.MaxUint32 && (ref.n == 0 || len(list) > int(ref.n)) {
		err = errors.New("the node lists kept pass 4 GiB")
	}
	if err != nil || len(s.occ.ids) == 0 {
		if j.Nodes > 0 {
			s.occ.setUnlisted(idx, true)
			s.stats.NoNodeList++
			s.occ.editNodes(j.Cluster, int64(j.Nodes), j.Start, j.End)
		}
		return
	}
	// The list is kept where the earlier record's was when it fits.
	if ref.n == 0 || len(list) > int(ref.n) {
		ref.off = uint32(len(s.occ.pool))
		s.occ.pool = append(s.occ.pool, list...)
	} else {
		copy(s.occ.pool[ref.off:], list)
	}
	ref.n = uint32(len(list))
	for len(s.occ.lists) <= int(idx) {
		s.occ.lists = append(s.occ.lists, listRef{})
	}
	s.occ.lists[idx] = ref
	if j.End == openEnd {
		s.occ.live[idx] = slices.Clone(s.occ.ids)
		for _, n := range s.occ.ids {
			s.nodeOp(opLive, idx, n, j.Start, openEnd)
		}
		return
	}
	for _, n := range s.occ.ids {
		s.nodeOp(opFold, idx, n, j.Start, j.End)
	}
}

// listOf returns the node list kept for job idx ("" for none).
func (s *Store) listOf(idx uint32) []byte {
	if int(idx) >= len(s.occ.lists) {
		return nil
	}
	ref := s.occ.lists[idx]
	return s.occ.pool[ref.off : ref.off+ref.n]
}

// sameOccupancy reports whether the record replacing old (job idx) holds
// the same nodes over the same time: the common case of a finished run
// read again, which then changes nothing.
func (s *Store) sameOccupancy(idx uint32, old, j *Job, list string) bool {
	if old.Start != j.Start || old.End != j.End {
		return false
	}
	if s.occ.isUnlisted(idx) || (old.Start != 0 && (old.End == openEnd || old.End > old.Start) && len(s.listOf(idx)) == 0) {
		return false // unlisted, or a list refused before: decide again
	}
	return string(s.listOf(idx)) == list
}

// release takes back what occupy recorded for job idx, which held old.
func (s *Store) release(idx uint32, old *Job) {
	if s.occ.isUnlisted(idx) {
		s.occ.setUnlisted(idx, false)
		s.stats.NoNodeList--
		s.occ.editNodes(old.Cluster, -int64(old.Nodes), old.Start, old.End)
		return
	}
	if ids, live := s.occ.live[idx]; live {
		delete(s.occ.live, idx)
		for _, n := range ids {
			s.nodeOp(opUnlive, idx, n, old.Start, openEnd)
		}
		return
	}
	list := s.listOf(idx)
	if len(list) == 0 {
		return
	}
	// The names were interned when the list was first read: expanding it
	// again adds none.
	if err := s.occ.expand(old.Cluster, string(list)); err != nil {
		return
	}
	for _, n := range s.occ.ids {
		s.nodeOp(opUnfold, idx, n, old.Start, old.End)
	}
}

func sat32(a, b uint32) uint32 {
	if a > math.MaxUint32-b {
		return math.MaxUint32
	}
	return a + b
}

// JobDevices returns the devices held by job i (an index into Jobs).
func (s *Store) JobDevices(i int) []DeviceCount {
	j := &s.jobs[i]
	switch j.Device {
	case noDevice:
		return nil
	case multiDevice:
		return s.multi[uint32(i)]
	}
	return []DeviceCount{{Device: j.Device, Count: j.Accels}}
}

// Span returns the default window of the records: from the first start
// (or the first submission when fromSubmit is set, as for SWF logs) to the
// latest time any record names. ok is false for an empty store.
func (s *Store) Span(fromSubmit bool) (from, to time.Time, ok bool) {
	lo := s.minStart
	if fromSubmit && s.minSubmit < lo {
		lo = s.minSubmit
	}
	if lo == math.MaxUint32 || s.maxTime <= lo {
		return time.Time{}, time.Time{}, false
	}
	return time.Unix(int64(lo), 0).UTC(), time.Unix(int64(s.maxTime), 0).UTC(), true
}

// Seal drops the deduplication index once loading is done, to save memory
// (about 30 bytes per job), and the growth room of the node interval lists. A sealed store refuses further records, since
// it could no longer recognise duplicates of earlier ones.
func (s *Store) Seal() {
	s.dedup = nil
	s.sealed = true
	// The nodes' interval lists are final: drop their growth room.
	for i, l := range s.occ.merged {
		if cap(l) > len(l) {
			s.occ.merged[i] = slices.Clip(slices.Clone(l))
		}
	}
	s.occ.ids = nil
	// No record comes any more: nothing is taken back.
	s.occ.lists, s.occ.pool, s.occ.onNode = nil, nil, nil
}

// Running calls fn for every allocation that has started and not ended,
// with the devices it holds.
func (s *Store) Running(fn func(j *Job, devs []DeviceCount)) {
	for i := range s.jobs {
		if s.jobs[i].Start != 0 && s.jobs[i].End == openEnd {
			fn(&s.jobs[i], s.JobDevices(i))
		}
	}
}

// Device returns the device table entry i.
func (s *Store) Device(i uint16) Device { return s.devs[i] }
