package classify

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/job"
)

// fieldID names one record field that rules can read.
type fieldID uint8

// The fields. The order is the display order of explanations and the order
// in which the evidence signature is written.
const (
	fJobName fieldID = iota
	fSubmitLine
	fStepNames
	fStepCommands
	fCommand
	fWorkDir
	fComment
	fWCKey
	fAccount
	fUser
	fGroup
	fCluster
	fPartition
	fQOS
	fState
	fAccelKind
	fAccelModel
	fAccelVendor
	fAccelCount
	fNodes
	fCores
	fElapsed
	fTimelimit
	numFields
)

// fieldType says which operators apply to a field.
type fieldType uint8

const (
	textField     fieldType = iota // regex, contains, equals, in
	countField                     // gt, ge, lt, le, eq, ne, in with numbers
	durationField                  // the same with durations ("2h", "1d12h")
)

type fieldInfo struct {
	name  string
	typ   fieldType
	multi bool // several values; a condition holds when any value matches
	doc   string
}

var fieldInfos = [numFields]fieldInfo{
	fJobName:      {"job_name", textField, false, "job name (Slurm JobName, PBS jobname)"},
	fSubmitLine:   {"submit_line", textField, false, "the submission command (Slurm SubmitLine, e.g. \"sbatch train.sh\")"},
	fStepNames:    {"step_names", textField, true, "names of the job's steps; an srun step is named after its executable"},
	fStepCommands: {"step_commands", textField, true, "command lines of the job's steps (the srun command)"},
	fCommand:      {"command", textField, false, "all command texts joined by newlines: submit line, step commands, step names, job name"},
	fWorkDir:      {"work_dir", textField, false, "working directory"},
	fComment:      {"comment", textField, false, "job comment (where the site stores one)"},
	fWCKey:        {"wckey", textField, false, "workload characterization key"},
	fAccount:      {"account", textField, false, "account charged"},
	fUser:         {"user", textField, false, "user name"},
	fGroup:        {"group", textField, false, "group name"},
	fCluster:      {"cluster", textField, false, "cluster name"},
	fPartition:    {"partition", textField, false, "partition (Slurm) or queue (PBS)"},
	fQOS:          {"qos", textField, false, "quality of service"},
	fState:        {"state", textField, false, "base state: COMPLETED, FAILED, TIMEOUT, CANCELLED, ..."},
	fAccelKind:    {"accel_kind", textField, true, "accelerator kinds held (gpu, npu, dcu, mlu, xpu); none where accelerators are forced"},
	fAccelModel:   {"accel_model", textField, true, "accelerator models held (A100, H100, Ascend 910B, K100, ...)"},
	fAccelVendor:  {"accel_vendor", textField, true, "accelerator vendors held (nvidia, amd, huawei, hygon, cambricon)"},
	fAccelCount:   {"accel_count", countField, false, "accelerators held, all kinds; absent where accelerators were forced or a GRES is not in the accelerator table (neither says the job needs none)"},
	fNodes:        {"nodes", countField, false, "nodes allocated"},
	fCores:        {"cores", countField, false, "cores (CPUs) allocated"},
	fElapsed:      {"elapsed", durationField, false, "run time, end - start; absent while running"},
	fTimelimit:    {"timelimit", durationField, false, "requested wall time; UNLIMITED compares as infinite; absent when unset"},
}

func lookupField(name string) (fieldID, bool) {
	for i, fi := range fieldInfos {
		if fi.name == name {
			return fieldID(i), true
		}
	}
	return 0, false
}

func fieldNames() []string {
	names := make([]string, numFields)
	for i, fi := range fieldInfos {
		names[i] = fi.name
	}
	return names
}

// String returns the field name as rules files spell it.
func (f fieldID) String() string { return fieldInfos[f].name }

// fieldSet is a bit set of fields.
type fieldSet uint32

func (s fieldSet) has(f fieldID) bool { return s&(1<<f) != 0 }
func (s *fieldSet) add(f fieldID)     { *s |= 1 << f }

// accelFields are the fields derived from the record's accelerators.
const accelFields = fieldSet(1<<fAccelKind | 1<<fAccelModel | 1<<fAccelVendor | 1<<fAccelCount)

// commandParts are the fields the command pseudo-field is made of.
const commandParts = fieldSet(1<<fJobName | 1<<fSubmitLine | 1<<fStepNames | 1<<fStepCommands)

// numVal is the value of a numeric field: a count, or a duration in
// seconds. Absent values never satisfy a comparison.
type numVal struct {
	v       float64
	present bool
}

// evidence is what the rules read from one record: the fields in use,
// extracted once. Multi-valued fields keep every value.
type evidence struct {
	single [numFields]string
	multi  [numFields][]string
	num    [numFields]numVal
	// forced names the declaration that made the accelerators no evidence.
	forced string
	// lex holds the lexicon terms found in the text fields.
	lex []lexHit
	// command parts, with their source, for explanations.
	cmdParts []cmdPart
	// folded values (foldKey), made on first use by the regexp prefilter.
	foldSingle [numFields]string
	foldMulti  [numFields][]string
	foldDone   fieldSet
	// lits indexes the rule set's prefilter literals; litSets holds,
	// per text field and value, the literals found (see mayMatch).
	lits    *litIndex
	litSets [numFields][][]uint64
	litDone fieldSet
	// reDone and reHit are the regular expressions run on the record and
	// those that matched, by number (see litIndex.regexps).
	reDone, reHit []uint64
}

type cmdPart struct {
	from  string // submit_line, step_commands, step_names, job_name
	start int    // offset in the joined command
	text  string
}

// values returns the text values of a field; a single-valued field gives a
// one-element slice that aliases the evidence (no allocation).
func (e *evidence) values(f fieldID) []string {
	if fieldInfos[f].multi {
		return e.multi[f]
	}
	return e.single[f : f+1]
}

// folded returns the values of a text field in foldKey form, index for
// index with values.
func (e *evidence) folded(f fieldID) []string {
	if !e.foldDone.has(f) {
		e.foldDone.add(f)
		if fieldInfos[f].multi {
			vals := e.multi[f]
			out := make([]string, len(vals))
			for i, v := range vals {
				out[i] = foldKey(v)
			}
			e.foldMulti[f] = out
		} else {
			e.foldSingle[f] = foldKey(e.single[f])
		}
	}
	if fieldInfos[f].multi {
		return e.foldMulti[f]
	}
	return e.foldSingle[f : f+1]
}

// Bounds on the evidence read from one record, so that a job with
// thousands of steps or a submit line holding a whole script costs no more
// than an ordinary one, in time and in cache memory. Extraction and the
// evidence signature apply the same bounds.
const (
	// maxSteps is the number of steps read, from the first.
	maxSteps = 64
	// maxText is the number of bytes read of each text value.
	maxText = 8 << 10
	// maxAccels is the number of generic-resource entries read, from the
	// first: a record with tens of thousands of distinct GRES types (a
	// broken or hostile input) costs what one with 64 does. The readers
	// refuse records with more distinct GRES than this anyway.
	maxAccels = 64
)

// boundAccels returns the generic resources that count as evidence.
func boundAccels(r *job.Record) []job.Accel {
	if len(r.Accels) > maxAccels {
		return r.Accels[:maxAccels]
	}
	return r.Accels
}

// boundText cuts s to maxText bytes (at a rune boundary).
func boundText(s string) string {
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// boundSteps returns the steps that count as evidence.
func boundSteps(r *job.Record) []job.Step {
	if len(r.Steps) > maxSteps {
		return r.Steps[:maxSteps]
	}
	return r.Steps
}

// extractor turns records into evidence for one rule set.
type extractor struct {
	used   fieldSet
	forced []forcedDecl
	table  *accel.Table
	lex    *lexicon
	lits   *litIndex
}

// extract reads the used fields of r.
func (x *extractor) extract(r *job.Record, ev *evidence) {
	ev.lits = x.lits
	u := x.used
	if u.has(fCommand) {
		u |= commandParts
	}
	set := func(f fieldID, s string) {
		if u.has(f) {
			ev.single[f] = boundText(s)
		}
	}
	set(fJobName, r.Name)
	set(fSubmitLine, r.SubmitLine)
	set(fWorkDir, r.WorkDir)
	set(fComment, r.Comment)
	set(fWCKey, r.WCKey)
	set(fAccount, r.Account)
	set(fUser, r.User)
	set(fGroup, r.Group)
	set(fCluster, r.Cluster)
	set(fPartition, r.Partition)
	set(fQOS, r.QOS)
	if u.has(fState) {
		ev.single[fState] = r.State.String()
	}
	if u.has(fStepNames) || u.has(fStepCommands) {
		steps := boundSteps(r)
		names := make([]string, 0, len(steps))
		cmds := make([]string, 0, len(steps))
		for _, s := range steps {
			if s.Name != "" {
				names = append(names, boundText(s.Name))
			}
			if s.Command != "" {
				cmds = append(cmds, boundText(s.Command))
			}
		}
		ev.multi[fStepNames] = names
		ev.multi[fStepCommands] = cmds
	}
	if x.used.has(fCommand) {
		ev.single[fCommand], ev.cmdParts = joinCommand(r)
	}
	if x.lex != nil && len(x.lex.terms) > 0 {
		for _, f := range lexFields {
			for _, v := range ev.values(f) {
				ev.lex = x.lex.match(ev.lex, v, f)
			}
		}
	}
	if u&accelFields != 0 {
		x.extractAccels(r, ev)
	}
	for _, f := range [...]fieldID{fNodes, fCores, fElapsed, fTimelimit} {
		if u.has(f) {
			ev.num[f] = numValue(r, f)
		}
	}
}

// numValue reads a numeric field other than accel_count, which depends on
// the accelerator table.
func numValue(r *job.Record, f fieldID) numVal {
	switch f {
	case fNodes:
		return numVal{float64(r.Nodes), true}
	case fCores:
		return numVal{float64(r.Cores), true}
	case fElapsed:
		if r.Start.IsZero() || r.End.IsZero() {
			return numVal{}
		}
		return numVal{max(r.End.Sub(r.Start).Seconds(), 0), true}
	case fTimelimit:
		switch {
		case r.Unlimited:
			return numVal{math.Inf(1), true}
		case r.Timelimit > 0:
			return numVal{r.Timelimit.Seconds(), true}
		}
	}
	return numVal{}
}

// joinCommand builds the command pseudo-field: the submit line, the step
// commands, the step names and the job name, one per line, duplicates
// dropped.
func joinCommand(r *job.Record) (string, []cmdPart) {
	steps := boundSteps(r)
	parts := make([]cmdPart, 0, 2+2*len(steps))
	seen := make(map[string]bool, 2+2*len(steps))
	add := func(from, s string) {
		s = boundText(s)
		if s == "" || seen[s] {
			return
		}
		seen[s] = true
		parts = append(parts, cmdPart{from: from, text: s})
	}
	add("submit_line", r.SubmitLine)
	for _, s := range steps {
		add("step_commands", s.Command)
	}
	for _, s := range steps {
		add("step_names", s.Name)
	}
	add("job_name", r.Name)
	var b strings.Builder
	for i := range parts {
		if i > 0 {
			b.WriteByte('\n')
		}
		parts[i].start = b.Len()
		b.WriteString(parts[i].text)
	}
	return b.String(), parts
}

// extractAccels resolves the record's generic resources through the table.
// Where a declaration forces accelerators on every job, the forced kinds
// are dropped: they say nothing about the workload.
func (x *extractor) extractAccels(r *job.Record, ev *evidence) {
	var ignoreKinds []string
	ignoreAll := false
	for _, d := range x.forced {
		if d.matches(r) {
			if ev.forced == "" {
				ev.forced = d.String()
			}
			if d.Kind == "" {
				ignoreAll = true
			} else {
				ignoreKinds = append(ignoreKinds, d.Kind)
			}
		}
	}
	var kinds, models, vendors []string
	var count int64
	unsure := false // a device held that says nothing either way
	for _, a := range boundAccels(r) {
		dev, res := x.table.Lookup(a.Name, a.Type)
		if res == accel.Unknown && a.Count > 0 {
			unsure = true
		}
		if res != accel.Accelerator || a.Count <= 0 {
			continue
		}
		if ignoreAll || contains(ignoreKinds, dev.Kind) {
			unsure = true
			continue
		}
		count += a.Count
		kinds = appendUnique(kinds, dev.Kind)
		if dev.Model != "" {
			models = appendUnique(models, dev.Model)
		}
		if dev.Vendor != "" {
			vendors = appendUnique(vendors, dev.Vendor)
		}
	}
	ev.multi[fAccelKind] = kinds
	ev.multi[fAccelModel] = models
	ev.multi[fAccelVendor] = vendors
	// Forced or unknown devices and nothing else: the job may need them or
	// not, so neither "holds an accelerator" nor "holds none" holds.
	ev.num[fAccelCount] = numVal{float64(count), count > 0 || !unsure}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func appendUnique(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}

// formatNum renders a numeric field value for explanations.
func formatNum(f fieldID, n numVal) string {
	if !n.present {
		return "(absent)"
	}
	if math.IsInf(n.v, 1) {
		return "UNLIMITED"
	}
	if fieldInfos[f].typ == durationField {
		return formatDuration(n.v)
	}
	return strconv.FormatFloat(n.v, 'f', -1, 64)
}

// formatDuration writes seconds in the unit form rules are written in
// ("1d2h", "90m" as "1h30m", "45s").
func formatDuration(sec float64) string {
	total := int64(math.Round(sec))
	var b strings.Builder
	for _, u := range [...]struct {
		n    int64
		unit string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}} {
		if total >= u.n {
			b.WriteString(strconv.FormatInt(total/u.n, 10))
			b.WriteString(u.unit)
			total %= u.n
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}
