package classify

import (
	"bytes"
	_ "embed" // the default rule set
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/viper"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/job"
)

//go:embed rules/default.yaml
var defaultRulesYAML []byte

// DefaultRulesName is the name the built-in rule set goes by in messages,
// explanations and the base key of rules files.
const DefaultRulesName = "default"

// DefaultRulesYAML returns the built-in rule set as the YAML file it is
// written in, so that an operator can start a rules file from a copy.
func DefaultRulesYAML() []byte { return bytes.Clone(defaultRulesYAML) }

// DefaultRules returns the built-in rule set.
func DefaultRules() (*RuleSet, error) {
	rs, err := ParseRules(DefaultRulesName, defaultRulesYAML)
	if err != nil {
		return nil, fmt.Errorf("built-in rules: %w", err)
	}
	return rs, nil
}

// Stage says how a rule takes part in a decision.
type Stage uint8

// The stages.
const (
	// Decisive rules are tried in order; the first that matches decides
	// the class outright. Operator overrides and unambiguous signatures
	// (a serving engine, an evaluation harness) belong here.
	Decisive Stage = iota
	// Evidence rules that match add their weight to their class; the
	// thresholds then decide between the best class and unknown.
	Evidence
)

// String returns the name used in rules files.
func (s Stage) String() string {
	if s == Decisive {
		return "decisive"
	}
	return "evidence"
}

// Thresholds decide between the best-scoring class of the evidence stage
// and unknown: the best score must reach MinScore and lead the second best
// by at least MinMargin. A tie is always unknown.
type Thresholds struct {
	// MinScore is the least score the best class needs.
	MinScore float64 `json:"min_score"`
	// MinMargin is the least lead of the best class over the second.
	MinMargin float64 `json:"min_margin"`
	// SubtypeMargin is the least difference between the training and
	// inference scores that settles the subtype of an AI job by itself;
	// below it, secondary cues and then SubtypeDefault do.
	SubtypeMargin float64 `json:"subtype_margin"`
	// SubtypeDefault is the subtype of an AI job that nothing else
	// settles.
	SubtypeDefault Class `json:"subtype_default"`
}

// ForcedAccelerators declares a partition or QOS (or both; shell patterns
// such as "dcu*" allowed) where the scheduler forces an accelerator onto
// every job, so that holding one there is no evidence of AI. Kind limits
// the declaration to one accelerator kind; empty means all kinds.
type ForcedAccelerators struct {
	// Partition is a shell pattern of partition (PBS queue) names.
	Partition string `mapstructure:"partition" json:"partition,omitempty"`
	// QOS is a shell pattern of QOS names.
	QOS string `mapstructure:"qos" json:"qos,omitempty"`
	// Kind is the forced accelerator kind (gpu, npu, dcu, mlu, xpu), or empty
	// for all kinds.
	Kind string `mapstructure:"kind" json:"kind,omitempty"`
}

type forcedDecl struct {
	ForcedAccelerators
	source string
}

func (d forcedDecl) matches(r *job.Record) bool {
	if d.Partition != "" {
		if ok, _ := path.Match(d.Partition, r.Partition); !ok {
			return false
		}
	}
	if d.QOS != "" {
		if ok, _ := path.Match(d.QOS, r.QOS); !ok {
			return false
		}
	}
	return true
}

// String describes the declaration for explanations.
func (d forcedDecl) String() string {
	var parts []string
	if d.Partition != "" {
		parts = append(parts, "partition "+d.Partition)
	}
	if d.QOS != "" {
		parts = append(parts, "qos "+d.QOS)
	}
	s := strings.Join(parts, " and ")
	if d.Kind != "" {
		s += " (kind " + d.Kind + ")"
	}
	return s + " forces accelerators (" + d.source + ")"
}

// RuleInfo describes one rule of a rule set, for listings and exporters.
type RuleInfo struct {
	// ID is the rule's unique id, the label of its hit counter.
	ID string `json:"id"`
	// Description says in a few words what the rule recognises.
	Description string `json:"description"`
	// Class is the class the rule decides or scores.
	Class Class `json:"class"`
	// Stage is decisive or evidence.
	Stage Stage `json:"stage"`
	// Weight is an evidence rule's weight; zero for a decisive rule.
	Weight float64 `json:"weight,omitempty"`
	// Condition is the rule's condition in compact text form.
	Condition string `json:"condition"`
	// Source names the file the rule comes from ("default" for built-ins).
	Source string `json:"source"`
	// Family names the family of tools the rule recognises
	// ("serving_engines", "hpc_md"), shared with lexicon terms, so that a
	// family can be disabled or held out as a whole; empty for none.
	Family string `json:"family,omitempty"`
}

type rule struct {
	RuleInfo
	when *cond
}

// RuleSet is a validated, compiled rule set. It is immutable, so one value
// can serve any number of classifiers and goroutines; reloading a rules
// file makes a new RuleSet.
type RuleSet struct {
	source     string
	rules      []*rule // decisive rules in order, then evidence rules
	nDecisive  int
	thresholds Thresholds
	forced     []forcedDecl
	lex        *lexicon
	context    ContextSettings
	learned    LearnedSettings
	used       fieldSet
	// cuts holds, per numeric field, the sorted values rules compare
	// against: values between two cuts classify alike.
	cuts [numFields][]float64
}

// Source names where the rule set was read from.
func (rs *RuleSet) Source() string { return rs.source }

// Thresholds returns the thresholds of the evidence stage.
func (rs *RuleSet) Thresholds() Thresholds { return rs.thresholds }

// Forced returns the forced-accelerator declarations.
func (rs *RuleSet) Forced() []ForcedAccelerators {
	out := make([]ForcedAccelerators, len(rs.forced))
	for i, d := range rs.forced {
		out[i] = d.ForcedAccelerators
	}
	return out
}

// Rules lists the rules: decisive rules in evaluation order, then evidence
// rules.
func (rs *RuleSet) Rules() []RuleInfo {
	out := make([]RuleInfo, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r.RuleInfo
	}
	return out
}

// Fields lists the record fields the rules read, which are also the fields
// of the evidence signature that classification results are cached by.
func (rs *RuleSet) Fields() []string {
	var out []string
	for f := fieldID(0); f < numFields; f++ {
		if rs.used.has(f) {
			out = append(out, f.String())
		}
	}
	return out
}

// FieldNames lists every field a rule condition can read.
func FieldNames() []string { return fieldNames() }

// LoadRules reads a rules file.
func LoadRules(file string) (*RuleSet, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	return ParseRules(file, data)
}

// ruleFile is the top level of a rules file.
type ruleFile struct {
	Version            int                  `mapstructure:"version"`
	Base               string               `mapstructure:"base"`
	Thresholds         thresholdsFile       `mapstructure:"thresholds"`
	ForcedAccelerators []ForcedAccelerators `mapstructure:"forced_accelerators"`
	Disable            []string             `mapstructure:"disable"`
	Rules              []map[string]any     `mapstructure:"rules"`
	Lexicon            map[string]any       `mapstructure:"lexicon"`
	Context            map[string]any       `mapstructure:"context"`
	Learned            map[string]any       `mapstructure:"learned"`
}

type thresholdsFile struct {
	MinScore       *float64 `mapstructure:"min_score"`
	MinMargin      *float64 `mapstructure:"min_margin"`
	SubtypeMargin  *float64 `mapstructure:"subtype_margin"`
	SubtypeDefault string   `mapstructure:"subtype_default"`
}

var (
	topKeys       = []string{"version", "base", "thresholds", "forced_accelerators", "disable", "rules", "lexicon", "context", "learned"}
	thresholdKeys = []string{"min_score", "min_margin", "subtype_margin", "subtype_default"}
	forcedKeys    = []string{"partition", "qos", "kind"}
	ruleKeys      = []string{"id", "description", "class", "stage", "weight", "when", "family"}
	validID       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)
)

// maxErrors bounds the problems reported for one file.
const maxErrors = 20

// ParseRules reads a rules file's content; name names it in messages. The
// file is decoded strictly: unknown keys, fields and operators, bad
// regular expressions, unknown classes, duplicate ids and missing weights
// are refused, each problem reported with the rule id and the reason.
func ParseRules(name string, data []byte) (*RuleSet, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	fail := func(format string, args ...any) {
		if len(errs) < maxErrors {
			errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
		}
	}
	settings := v.AllSettings()
	checkKeys(settings, topKeys, "", fail)
	if m, ok := settings["thresholds"].(map[string]any); ok {
		checkKeys(m, thresholdKeys, "thresholds: ", fail)
	}
	if list, ok := settings["forced_accelerators"].([]any); ok {
		for i, item := range list {
			if m, ok := item.(map[string]any); ok {
				checkKeys(m, forcedKeys, fmt.Sprintf("forced_accelerators[%d]: ", i), fail)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var f ruleFile
	if err := v.UnmarshalExact(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if f.Version != 0 && f.Version != 1 {
		fail("version %d is not supported (want 1)", f.Version)
	}

	rs := &RuleSet{source: name}
	var base *RuleSet
	switch f.Base {
	case "", "none":
	case DefaultRulesName:
		if name == DefaultRulesName {
			fail("the built-in rules cannot have a base")
			return nil, errors.Join(errs...)
		}
		var err error
		if base, err = DefaultRules(); err != nil {
			return nil, err
		}
	default:
		fail("base %q: want %q or nothing", f.Base, DefaultRulesName)
		return nil, errors.Join(errs...)
	}

	// Thresholds: the file's values replace the base's, key by key.
	if base != nil {
		rs.thresholds = base.thresholds
	}
	scoreOK, marginOK := true, true
	if t := f.Thresholds.MinScore; t != nil {
		rs.thresholds.MinScore = *t
	} else if base == nil {
		fail("thresholds: min_score is missing")
		scoreOK = false
	}
	if t := f.Thresholds.MinMargin; t != nil {
		rs.thresholds.MinMargin = *t
	} else if base == nil {
		fail("thresholds: min_margin is missing")
		marginOK = false
	}
	if s := rs.thresholds.MinScore; scoreOK && (s <= 0 || math.IsInf(s, 0) || math.IsNaN(s)) {
		fail("thresholds: min_score must be a positive number, not %v", s)
	}
	if m := rs.thresholds.MinMargin; marginOK && (m < 0 || math.IsInf(m, 0) || math.IsNaN(m)) {
		fail("thresholds: min_margin must be zero or more, not %v", m)
	}
	switch t := f.Thresholds.SubtypeMargin; {
	case t != nil:
		rs.thresholds.SubtypeMargin = *t
	case base == nil:
		rs.thresholds.SubtypeMargin = rs.thresholds.MinMargin
	}
	if m := rs.thresholds.SubtypeMargin; f.Thresholds.SubtypeMargin != nil && (m < 0 || math.IsInf(m, 0) || math.IsNaN(m)) {
		fail("thresholds: subtype_margin must be zero or more, not %v", m)
	}
	switch sd := f.Thresholds.SubtypeDefault; {
	case sd != "":
		c, err := ParseClass(sd)
		if err != nil || !c.IsAI() {
			fail("thresholds: subtype_default %q: want ai_training or ai_inference", sd)
		}
		rs.thresholds.SubtypeDefault = c
	case base == nil:
		rs.thresholds.SubtypeDefault = AITraining
	}

	// Lexicon: the built-in one (or the base's), plus the file's terms.
	lf, err := decodeLexicon(f.Lexicon)
	if err != nil {
		fail("%v", err)
	}
	var baseLex *lexicon
	switch {
	case base != nil:
		baseLex = base.lex
	case lf.Builtin == nil || *lf.Builtin:
		lx, err := defaultLexicon()
		if err != nil {
			return nil, err
		}
		baseLex = lx
	}
	if name == DefaultRulesName && f.Lexicon == nil {
		rs.lex = baseLex
	} else {
		lx, lerrs := buildLexicon(baseLex, lf, name)
		for _, e := range lerrs {
			fail("%v", e)
		}
		rs.lex = lx
	}

	// Context and learned stages: the file's keys replace the base's.
	rs.context, rs.learned = DefaultContextSettings(), DefaultLearnedSettings()
	if base != nil {
		rs.context, rs.learned = base.context, base.learned
	}
	if err := decodeStrict(f.Context, &rs.context, "enabled", "min_jobs", "min_share", "weight"); err != nil {
		fail("context: %v", err)
	} else if err := rs.context.validate(); err != nil {
		fail("context: %v", err)
	}
	if err := decodeStrict(f.Learned, &rs.learned, "enabled", "min_examples", "min_probability", "min_tokens"); err != nil {
		fail("learned: %v", err)
	} else if err := rs.learned.validate(); err != nil {
		fail("learned: %v", err)
	}

	// Forced-accelerator declarations add to the base's.
	if base != nil {
		rs.forced = append(rs.forced, base.forced...)
	}
	for i, d := range f.ForcedAccelerators {
		where := fmt.Sprintf("forced_accelerators[%d]", i)
		if d.Partition == "" && d.QOS == "" {
			fail("%s: name a partition, a qos or both", where)
			continue
		}
		bad := false
		for _, p := range []string{d.Partition, d.QOS} {
			if _, err := path.Match(p, ""); err != nil {
				fail("%s: pattern %q: %v", where, p, err)
				bad = true
			}
		}
		if d.Kind != "" && !slices.Contains(accel.Kinds, d.Kind) {
			fail("%s: kind %q is not one of %s", where, d.Kind, strings.Join(accel.Kinds, ", "))
			bad = true
		}
		if !bad {
			rs.forced = append(rs.forced, forcedDecl{ForcedAccelerators: d, source: name + " " + where})
		}
	}

	// Rules.
	var own []*rule
	seen := map[string]int{}
	for i, m := range f.Rules {
		r, err := parseRule(m, i, name)
		if err != nil {
			fail("%v", err)
			continue
		}
		if j, dup := seen[r.ID]; dup {
			fail("rule %q: duplicate id (first used by rules[%d])", r.ID, j)
			continue
		}
		seen[r.ID] = i
		own = append(own, r)
	}
	var inherited []*rule
	if base != nil {
		disabled := map[string]bool{}
		for _, id := range f.Disable {
			if !slices.ContainsFunc(base.rules, func(r *rule) bool { return r.ID == id }) {
				fail("disable: no rule %q in the %s rules", id, f.Base)
			}
			disabled[id] = true
		}
		for _, r := range base.rules {
			// A rule of the file with a base rule's id replaces it.
			if _, replaced := seen[r.ID]; !replaced && !disabled[r.ID] {
				inherited = append(inherited, r)
			}
		}
	} else if len(f.Disable) > 0 {
		fail("disable: only rules of a base can be disabled (set base: %s)", DefaultRulesName)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// Decisive rules of the file come first: operator overrides win over
	// the base's signatures. Evidence order does not matter.
	for _, list := range [][]*rule{own, inherited} {
		for _, r := range list {
			if r.Stage == Decisive {
				rs.rules = append(rs.rules, r)
			}
		}
	}
	rs.nDecisive = len(rs.rules)
	for _, list := range [][]*rule{own, inherited} {
		for _, r := range list {
			if r.Stage == Evidence {
				rs.rules = append(rs.rules, r)
			}
		}
	}
	if len(rs.rules) == 0 {
		return nil, fmt.Errorf("%s: no rules", name)
	}
	if len(rs.rules) > math.MaxUint16 {
		return nil, fmt.Errorf("%s: %d rules, more than %d", name, len(rs.rules), math.MaxUint16)
	}
	rs.index()
	return rs, nil
}

// index records which fields the rules read and the cut points of the
// numeric fields.
func (rs *RuleSet) index() {
	rs.used = 0
	rs.cuts = [numFields][]float64{}
	cuts := map[fieldID][]float64{}
	for _, r := range rs.rules {
		r.when.fields(&rs.used)
		r.when.thresholds(cuts)
	}
	if rs.lex != nil && len(rs.lex.terms) > 0 {
		for _, f := range lexFields {
			rs.used.add(f)
		}
	}
	// The secondary cues of decision 2 read the record's shape.
	rs.used.add(fNodes)
	rs.used.add(fElapsed)
	rs.used.add(fState)
	rs.used.add(fSubmitLine)
	cuts[fNodes] = append(cuts[fNodes], 2)
	cuts[fElapsed] = append(cuts[fElapsed], 12*3600, 24*3600)
	rs.used.add(fAccelCount)
	cuts[fAccelCount] = append(cuts[fAccelCount], 1, 2, 3, 5, 8)
	for f, list := range cuts {
		sort.Float64s(list)
		rs.cuts[f] = slices.Compact(list)
	}
}

func checkKeys(m map[string]any, known []string, where string, fail func(string, ...any)) {
	var unknown []string
	for k := range m {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		fail("%sunknown key %q (known: %s)", where, k, strings.Join(known, ", "))
	}
}

// parseRule compiles one entry of the rules list.
func parseRule(m map[string]any, i int, source string) (*rule, error) {
	id, _ := scalarString(m["id"], "")
	where := fmt.Sprintf("rules[%d]", i)
	if id != "" {
		where = fmt.Sprintf("rule %q", id)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(ruleKeys, k) {
			return nil, fmt.Errorf("%s: unknown key %q (known: %s)", where, k, strings.Join(ruleKeys, ", "))
		}
	}
	switch {
	case m["id"] == nil:
		return nil, fmt.Errorf("%s: id is missing", where)
	case id == "":
		return nil, fmt.Errorf("%s: id must be a non-empty string", where)
	case !validID.MatchString(id):
		return nil, fmt.Errorf("%s: id may hold only letters, digits and _ . : - (and starts with a letter or digit)", where)
	}
	r := &rule{RuleInfo: RuleInfo{ID: id, Source: source}}
	desc, ok := m["description"].(string)
	if !ok || strings.TrimSpace(desc) == "" {
		return nil, fmt.Errorf("%s: description is missing", where)
	}
	r.Description = strings.TrimSpace(desc)
	if fam, has := m["family"]; has {
		f, ok := fam.(string)
		if !ok || !validID.MatchString(f) {
			return nil, fmt.Errorf("%s: family must be a name of letters, digits and _ . : -, not %v", where, fam)
		}
		r.Family = f
	}
	cls, ok := m["class"].(string)
	if !ok {
		return nil, fmt.Errorf("%s: class is missing", where)
	}
	c, err := ParseClass(cls)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	r.Class = c
	switch st, _ := m["stage"].(string); st {
	case "decisive":
		r.Stage = Decisive
		if _, has := m["weight"]; has {
			return nil, fmt.Errorf("%s: weight applies to evidence rules only; a decisive rule decides outright", where)
		}
	case "evidence":
		r.Stage = Evidence
		if c == Unknown {
			return nil, fmt.Errorf("%s: an evidence rule cannot score class unknown (unknown is what weak evidence gives)", where)
		}
		w, has := m["weight"]
		if !has {
			return nil, fmt.Errorf("%s: evidence rule needs a weight", where)
		}
		f, err := parseNumber(w, countField, where+": weight")
		if err != nil {
			return nil, err
		}
		if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%s: weight must be a non-zero number, not %v", where, w)
		}
		r.Weight = f
	case "":
		return nil, fmt.Errorf("%s: stage is missing (decisive or evidence)", where)
	default:
		return nil, fmt.Errorf("%s: stage %q is not decisive or evidence", where, st)
	}
	when, has := m["when"]
	if !has {
		return nil, fmt.Errorf("%s: when is missing", where)
	}
	cnd, err := parseCond(when, "when")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	r.when = cnd
	r.Condition = cnd.String()
	return r, nil
}
