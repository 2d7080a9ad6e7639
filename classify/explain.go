package classify

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/scmon/scmon/job"
)

// Explanation says why a record got its class: what the rules read, which
// rules fired on what text, the scores, the thresholds and the decision.
// It is built fresh for each call and owned by the caller.
type Explanation struct {
	// JobID is the record's job id as the scheduler prints it.
	JobID string `json:"job_id"`
	// Cluster is the record's cluster, when known.
	Cluster string `json:"cluster,omitempty"`
	// Rules names the rule set.
	Rules string `json:"rules"`
	// Evidence lists the fields the rules read, with their values.
	Evidence []FieldValue `json:"evidence"`
	// AccelForced is set when a forced-accelerator declaration applied:
	// the record's accelerators were then no evidence.
	AccelForced string `json:"accel_forced,omitempty"`
	// Fired lists the rules that made the decision: the decisive rule, or
	// every evidence rule that matched.
	Fired []RuleHit `json:"fired"`
	// Shadowed lists rules that matched but did not count because a
	// decisive rule decided first.
	Shadowed []RuleHit `json:"shadowed,omitempty"`
	// Scores are the evidence stage's totals per class.
	Scores []ClassScore `json:"scores"`
	// Thresholds are the rule set's thresholds.
	Thresholds Thresholds `json:"thresholds"`
	// Lexicon lists the lexicon terms found, counted or not (one term
	// per family and class counts, the strongest).
	Lexicon []LexiconHit `json:"lexicon"`
	// Cues are the secondary cues of training versus inference.
	Cues []string `json:"cues,omitempty"`
	// Stage is the stage that decided.
	Stage Stage `json:"stage"`
	// AIDecision says how decision 1 (AI or not) went.
	AIDecision string `json:"ai_decision,omitempty"`
	// SubtypeDecision says how decision 2 (training or inference) went.
	SubtypeDecision string `json:"subtype_decision,omitempty"`
	// Context lists the context stage's evidence; nil when the stage did
	// not run for the job (it runs on batches, for jobs the rules left
	// undecided or unclear).
	Context []ContextHit `json:"context,omitempty"`
	// ContextDecision says how the two decisions went with the context.
	ContextDecision string `json:"context_decision,omitempty"`
	// Learned is the learned stage's say, when it ran.
	Learned *LearnedHit `json:"learned,omitempty"`
	// Final names the stage whose decision stands: rules, context or
	// learned.
	Final string `json:"final"`
	// Decision is what Classify returns for the record.
	Decision Decision `json:"decision"`
	// Reason says in one sentence why the decision was made.
	Reason string `json:"reason"`
}

// LexiconHit is one lexicon term found in a record.
type LexiconHit struct {
	// Term, Family, Class, Weight and Source are the term's.
	Term   string  `json:"term"`
	Family string  `json:"family"`
	Class  Prior   `json:"class"`
	Weight float64 `json:"weight"`
	Source string  `json:"source"`
	// Field is where it was found and Text the tokens matched.
	Field string `json:"field"`
	Text  string `json:"text"`
	// Counted says whether it added to a score.
	Counted bool `json:"counted"`
}

// FieldValue is one field as the rules read it.
type FieldValue struct {
	// Field is the field name.
	Field string `json:"field"`
	// Values are the values read (clipped), or the formatted number.
	Values []string `json:"values"`
}

// RuleHit is one rule that matched, with what it matched.
type RuleHit struct {
	// ID and Description identify the rule.
	ID          string `json:"id"`
	Description string `json:"description"`
	// Stage, Class and Weight are the rule's.
	Stage  Stage   `json:"stage"`
	Class  Class   `json:"class"`
	Weight float64 `json:"weight,omitempty"`
	// Matches are the condition leaves that held, with the text matched.
	Matches []Match `json:"matches"`
}

// Match is one leaf of a condition that held.
type Match struct {
	// Field names the field; for the command pseudo-field, the part the
	// text came from ("command[step_commands]").
	Field string `json:"field"`
	// Op is the condition in compact form (`command regex /torchrun/`).
	Op string `json:"op"`
	// Text is the matched text: the regex or contains match, the value
	// equal to the operand, or the compared number.
	Text string `json:"text"`
	// Value is the whole field value matched, clipped.
	Value string `json:"value,omitempty"`
}

// ClassScore is a class's evidence total.
type ClassScore struct {
	// Class is the class scored.
	Class Class `json:"class"`
	// Score is the sum of the weights of its evidence rules that fired.
	Score float64 `json:"score"`
}

// Explain classifies r and says why. It does not use the cache and does not
// count hits, and its decision always equals Classify's.
func (c *RuleClassifier) Explain(r *job.Record) *Explanation {
	var ev evidence
	c.x.extract(r, &ev)
	rs := c.rs
	ex := &Explanation{
		JobID:       r.JobID,
		Cluster:     r.Cluster,
		Rules:       rs.source,
		AccelForced: ev.forced,
		Thresholds:  rs.thresholds,
	}
	for f := fieldID(0); f < numFields; f++ {
		if !rs.used.has(f) {
			continue
		}
		fv := FieldValue{Field: f.String()}
		switch {
		case fieldInfos[f].typ != textField:
			fv.Values = []string{formatNum(f, ev.num[f])}
		case f == fCommand:
			for _, p := range ev.cmdParts {
				fv.Values = append(fv.Values, clip(p.text, 480))
			}
		default:
			for _, v := range ev.values(f) {
				fv.Values = append(fv.Values, clip(v, 480))
			}
		}
		if fv.Values == nil {
			fv.Values = []string{}
		}
		ex.Evidence = append(ex.Evidence, fv)
	}

	hit := func(r *rule, log []Match) RuleHit {
		return RuleHit{ID: r.ID, Description: r.Description, Stage: r.Stage, Class: r.Class, Weight: r.Weight, Matches: log}
	}
	var decisive *rule
	for _, r := range rs.rules[:rs.nDecisive] {
		var log []Match
		if !r.when.eval(&ev, &log) {
			continue
		}
		if decisive == nil {
			decisive = r
			ex.Fired = append(ex.Fired, hit(r, log))
		} else {
			ex.Shadowed = append(ex.Shadowed, hit(r, log))
		}
	}
	var evHits []RuleHit
	for _, r := range rs.rules[rs.nDecisive:] {
		var log []Match
		if r.when.eval(&ev, &log) {
			evHits = append(evHits, hit(r, log))
		}
	}
	o := rs.evaluate(&ev)
	for i, h := range o.lex {
		t := rs.lex.terms[h.term]
		ex.Lexicon = append(ex.Lexicon, LexiconHit{Term: t.Term, Family: t.Family, Class: t.Prior, Weight: t.Weight,
			Source: t.Source, Field: h.field.String(), Text: h.text, Counted: o.counted[i]})
	}
	for _, cu := range o.cues {
		ex.Cues = append(ex.Cues, fmt.Sprintf("%s (%+g training)", cu.why, cu.weight))
	}
	ex.Final = "rules"
	for _, cl := range Classes {
		if cl != Unknown {
			ex.Scores = append(ex.Scores, ClassScore{Class: cl, Score: o.scores[cl]})
		}
	}
	if decisive != nil {
		ex.Stage = Decisive
		ex.Decision = Decision{Class: decisive.Class, Rules: []string{decisive.ID}}
		ex.Reason = fmt.Sprintf("decisive rule %s matched first", decisive.ID)
		ex.Shadowed = append(ex.Shadowed, evHits...)
		ex.Lexicon = nil
		ex.Cues = nil
		return ex
	}
	ex.Stage = Evidence
	ex.Fired = evHits
	ex.Decision = Decision{Class: o.class, Rules: o.rules}
	ex.AIDecision, ex.SubtypeDecision = o.aiWhy, o.subWhy
	ex.Reason = o.aiWhy
	if o.subWhy != "" {
		ex.Reason += "; " + o.subWhy
	}
	return ex
}

// Explain says why record i got its decision, with every stage: the rules
// and lexicon, the two decisions, the context of the batch and the learned
// model.
func (b *Batch) Explain(i int) *Explanation {
	ex := b.c.Explain(b.recs[i])
	if b.later == nil || b.later[i] == nil {
		return ex
	}
	l := b.later[i]
	ex.Context = l.ctx
	if ex.Context == nil {
		ex.Context = []ContextHit{}
	}
	if l.ctxOut != nil {
		ex.ContextDecision = l.ctxOut.aiWhy
		if l.ctxOut.subWhy != "" {
			ex.ContextDecision += "; " + l.ctxOut.subWhy
		}
		ex.Final = "context"
		ex.Reason = "with context: " + ex.ContextDecision
	}
	ex.Learned = l.learned
	if l.learned != nil && l.learned.Decided {
		ex.Final = "learned"
		ex.Reason = "learned stage: " + l.learned.Reason
	}
	ex.Decision = l.d
	return ex
}

// String renders the explanation as WriteText does.
func (e *Explanation) String() string {
	var b strings.Builder
	_ = e.WriteText(&b)
	return b.String()
}

// WriteText renders the explanation for a terminal.
func (e *Explanation) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	title := "job " + e.JobID
	if e.Cluster != "" {
		title += " (cluster " + e.Cluster + ")"
	}
	ew.printf("%s: %s\n", title, e.Decision.Class)
	ew.printf("  decided by: %s (%s stage of rules %s)\n", e.Final, e.Stage, e.Rules)
	ew.printf("  reason:     %s\n", e.Reason)
	ew.printf("evidence:\n")
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	for _, fv := range e.Evidence {
		vals := make([]string, len(fv.Values))
		for i, v := range fv.Values {
			vals[i] = strconv.Quote(v)
		}
		if fieldInfos[mustField(fv.Field)].typ != textField {
			copy(vals, fv.Values)
		}
		if len(vals) == 0 {
			vals = []string{"(none)"}
		}
		fmt.Fprintf(tw, "  %s\t%s\n", fv.Field, strings.Join(vals, " | "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if e.AccelForced != "" {
		ew.printf("  accelerators ignored: %s\n", e.AccelForced)
	}
	writeHits := func(title string, hits []RuleHit) {
		if len(hits) == 0 {
			return
		}
		ew.printf("%s:\n", title)
		for _, h := range hits {
			what := h.Class.String()
			if h.Stage == Evidence {
				what = fmt.Sprintf("%+g %s", h.Weight, h.Class)
			}
			ew.printf("  %s [%s %s] %s\n", h.ID, h.Stage, what, h.Description)
			for _, m := range h.Matches {
				if m.Text == "(no match)" {
					ew.printf("      %s holds\n", clip(m.Op, 72))
					continue
				}
				ew.printf("      %s: %s matched %q\n", m.Field, clip(m.Op, 72), m.Text)
			}
		}
	}
	if len(e.Fired) == 0 {
		ew.printf("rules fired: none\n")
	}
	writeHits("rules fired", e.Fired)
	writeHits("also matched, not counted (a decisive rule decided first)", e.Shadowed)
	if len(e.Lexicon) > 0 {
		ew.printf("lexicon:\n")
		for _, h := range e.Lexicon {
			mark := "+"
			if !h.Counted {
				mark = " "
			}
			ew.printf("  %s %q [%s, %s %+g] in %s %q (source: %s)\n", mark, h.Term, h.Family, h.Class, h.Weight, h.Field, h.Text, h.Source)
		}
	}
	if len(e.Scores) > 0 {
		parts := make([]string, len(e.Scores))
		for i, s := range e.Scores {
			parts[i] = fmt.Sprintf("%s %s", s.Class, fmtScore(s.Score))
		}
		ew.printf("scores: %s (min_score %s, min_margin %s, subtype_margin %s)\n", strings.Join(parts, ", "),
			fmtScore(e.Thresholds.MinScore), fmtScore(e.Thresholds.MinMargin), fmtScore(e.Thresholds.SubtypeMargin))
	}
	if len(e.Cues) > 0 {
		ew.printf("secondary cues: %s\n", strings.Join(e.Cues, ", "))
	}
	if e.AIDecision != "" {
		ew.printf("decision 1 (AI or not): %s\n", e.AIDecision)
	}
	if e.SubtypeDecision != "" {
		ew.printf("decision 2 (training or inference): %s\n", e.SubtypeDecision)
	}
	if e.Context != nil {
		if len(e.Context) == 0 {
			ew.printf("context: no account, user, work directory or name family with enough agreeing decided jobs\n")
		} else {
			ew.printf("context:\n")
			for _, h := range e.Context {
				ew.printf("  %s [%s]\n", h, h.Rule)
			}
			ew.printf("  with context: %s\n", e.ContextDecision)
		}
	}
	if l := e.Learned; l != nil {
		ew.printf("learned: %s (fitted on %d confident decisions, %d of the job's tokens known)\n", l.Reason, l.Examples, l.Known)
		if len(l.Top) > 0 {
			parts := make([]string, len(l.Top))
			for i, t := range l.Top {
				parts[i] = fmt.Sprintf("%s %+.2f", t.Token, t.Weight)
			}
			ew.printf("  top tokens for %s: %s\n", l.Class, strings.Join(parts, ", "))
		}
	}
	ew.printf("final: %s stage\n", e.Final)
	return ew.err
}

func mustField(name string) fieldID {
	f, _ := lookupField(name)
	return f
}

// errWriter keeps the first write error so that renderers can print
// freely and check once.
type errWriter struct {
	w   io.Writer
	err error
}

// Write writes p unless an earlier write failed.
func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

// MarshalText writes the stage name.
func (s Stage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a stage name.
func (s *Stage) UnmarshalText(b []byte) error {
	switch string(b) {
	case "decisive":
		*s = Decisive
	case "evidence":
		*s = Evidence
	default:
		return fmt.Errorf("unknown stage %q (want decisive or evidence)", b)
	}
	return nil
}
