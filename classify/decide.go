package classify

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// How decision 2 (training or inference) was settled.
type subtypeHow uint8

const (
	subNone    subtypeHow = iota // not AI, or decided by a decisive rule
	subMargin                    // the scores differ by subtype_margin or more
	subLean                      // the scores differ by less, no cue disagrees
	subCues                      // secondary cues settled it
	subDefault                   // nothing did: the documented default
)

// Rule ids that stages other than the rules put in a Decision. They are
// part of the closed set of hit counters.
const (
	RuleSubtypeCues    = "subtype:cues"
	RuleSubtypeDefault = "subtype:default"
	RuleLearned        = "learned"
	lexiconRulePrefix  = "lexicon:"
	contextRulePrefix  = "context:"
)

// cue is a secondary cue for training versus inference: positive leans
// training, negative inference.
type cue struct {
	weight float64
	why    string
}

// outcome is what the per-record stages (rules, lexicon, the two
// decisions) make of one record. It is cached by evidence signature, so it
// holds nothing that differs between records of one signature.
type outcome struct {
	class    Class
	decisive bool
	fired    []uint16 // rule indexes: the decisive rule, or the evidence rules that matched
	lex      []lexHit // every lexicon term found
	counted  []bool   // per lex hit: whether it added to a score (the strongest of its family and class)
	scores   [len(classNames)]float64
	cues     []cue
	cueSum   float64
	sub      subtypeHow
	aiWhy    string
	subWhy   string
	// confident says the decision may inform others (context, learned
	// model): decided by a rule, or by the evidence with its margins on
	// both decisions.
	confident bool
	rules     []string // Decision.Rules
	tokens    []string // distinct tokens, for the learned model
	nameFam   string   // the job name with digits and dates stripped
	// quiet skips the reasons' text: the context stage of a batch that
	// will not be explained redecides many records and needs only classes.
	quiet bool
}

// evaluate runs the per-record stages on extracted evidence.
func (rs *RuleSet) evaluate(ev *evidence) *outcome {
	o := &outcome{}
	decisive := -1
	for i, r := range rs.rules[:rs.nDecisive] {
		if r.when.eval(ev, nil) {
			decisive = i
			break
		}
	}
	for i := rs.nDecisive; i < len(rs.rules); i++ {
		r := rs.rules[i]
		if r.when.eval(ev, nil) {
			o.scores[r.Class] += r.Weight
			o.fired = append(o.fired, uint16(i))
			o.rules = append(o.rules, r.ID)
		}
	}
	o.lex = ev.lex
	o.counted = make([]bool, len(o.lex))
	if len(o.lex) > 0 {
		// One term per family and class counts, the strongest: "gmx
		// mdrun" in a GROMACS work directory is one piece of evidence.
		type slot struct {
			fam   int
			prior Prior
		}
		best := map[slot]int{}
		for i, h := range o.lex {
			t := rs.lex.terms[h.term]
			k := slot{rs.lex.famIndex[t.Family], t.Prior}
			if j, ok := best[k]; !ok || t.Weight > rs.lex.terms[o.lex[j].term].Weight {
				best[k] = i
			}
		}
		var fams []string
		for i, h := range o.lex {
			t := rs.lex.terms[h.term]
			if best[slot{rs.lex.famIndex[t.Family], t.Prior}] != i {
				continue
			}
			o.counted[i] = true
			addPrior(&o.scores, t.Prior, t.Weight)
			fams = appendUnique(fams, lexiconRulePrefix+t.Family)
		}
		o.rules = append(o.rules, fams...)
	}
	if decisive >= 0 {
		// The scores stay, for explanations; the rule decides.
		r := rs.rules[decisive]
		o.class, o.decisive, o.confident = r.Class, true, true
		o.fired = []uint16{uint16(decisive)}
		o.rules = []string{r.ID}
		return o
	}
	o.cues = rs.cues(ev)
	for _, c := range o.cues {
		o.cueSum += c.weight
	}
	rs.decideTwo(o, &o.scores)
	return o
}

func addPrior(s *[len(classNames)]float64, p Prior, w float64) {
	switch p {
	case PriorAI:
		s[AITraining] += w
		s[AIInference] += w
	case PriorTraining:
		s[AITraining] += w
	case PriorInference:
		s[AIInference] += w
	case PriorOther:
		s[Other] += w
	}
}

// cues reads the secondary cues of training versus inference from the
// record's shape: several nodes and long runs lean training; a long
// single-node run that was stopped (its time limit, or its owner) leans
// inference, since a server runs until it is stopped; so does an array of
// single-node tasks (batch inference or evaluation over shards of data),
// and AI work on CPUs alone, which is serving or inference (llama.cpp,
// ONNX Runtime), rarely training.
func (rs *RuleSet) cues(ev *evidence) []cue {
	var out []cue
	nodes, el, acc := ev.num[fNodes], ev.num[fElapsed], ev.num[fAccelCount]
	multi := nodes.present && nodes.v >= 2
	big := acc.present && acc.v >= 8
	switch {
	case multi:
		out = append(out, cue{3, fmt.Sprintf("runs on %s nodes", formatNum(fNodes, nodes))})
	case big:
		out = append(out, cue{1, fmt.Sprintf("one node, %s accelerators", formatNum(fAccelCount, acc))})
	case acc.present && acc.v >= 1 && acc.v <= 2:
		out = append(out, cue{-1, fmt.Sprintf("one node, %s accelerator(s)", formatNum(fAccelCount, acc))})
	case acc.present && acc.v == 0:
		out = append(out, cue{-1, "no accelerator (AI work on CPUs is mostly inference)"})
	}
	// A single node with eight accelerators or more that runs into its
	// time limit is as often a long training run as a server, so the
	// stopped cue needs a small allocation.
	state := ev.single[fState]
	stopped := state == "TIMEOUT" || state == "CANCELLED"
	switch {
	case stopped && el.present && el.v >= 12*3600 && !multi && acc.present && acc.v <= 4:
		out = append(out, cue{-2, fmt.Sprintf("stopped (%s) after %s on one node with few accelerators or none", state, formatNum(fElapsed, el))})
	case !(stopped && !multi) && el.present && el.v >= 24*3600:
		out = append(out, cue{1, fmt.Sprintf("ran %s", formatNum(fElapsed, el))})
	}
	if !multi && arrayRE.MatchString(ev.single[fSubmitLine]) {
		out = append(out, cue{-1, "an array of single-node tasks (batch inference or evaluation over shards)"})
	}
	return out
}

// arrayRE finds a job array in a submit line (sbatch --array=0-99 or
// -a 1-8; not -J, which names the job in sbatch).
var arrayRE = regexp.MustCompile(`(?:^|\s)(?:--array[=\s]|-a\s*\d)`)

// decideTwo makes the two decisions on the scores: AI or not, then, for
// AI, training or inference. It fills o's class, reasons and rules.
func (rs *RuleSet) decideTwo(o *outcome, scores *[len(classNames)]float64) {
	t := rs.thresholds
	tr, in, other := scores[AITraining], scores[AIInference], scores[Other]
	ai := math.Max(tr, in)
	o.sub, o.subWhy, o.aiWhy = subNone, "", ""
	o.rules = dropMarkers(o.rules)
	switch {
	case ai <= 0 && other <= 0:
		o.class, o.aiWhy, o.confident = Unknown, "no evidence", false
		return
	case ai >= t.MinScore && ai-other >= t.MinMargin:
		if !o.quiet {
			o.aiWhy = fmt.Sprintf("AI scores %s >= min_score %s and leads other (%s) by %s >= min_margin %s",
				fmtScore(ai), fmtScore(t.MinScore), fmtScore(other), fmtScore(ai-other), fmtScore(t.MinMargin))
		}
	case other >= t.MinScore && other-ai >= t.MinMargin:
		o.class, o.confident = Other, true
		if !o.quiet {
			o.aiWhy = fmt.Sprintf("other scores %s >= min_score %s and leads AI (%s) by %s >= min_margin %s",
				fmtScore(other), fmtScore(t.MinScore), fmtScore(ai), fmtScore(other-ai), fmtScore(t.MinMargin))
		}
		return
	default:
		o.class, o.confident = Unknown, false
		best, bs, ws := "AI", ai, other
		if other > ai {
			best, bs, ws = "other", other, ai
		}
		switch {
		case bs == ws:
			if !o.quiet {
				o.aiWhy = fmt.Sprintf("tie: AI and other both score %s", fmtScore(bs))
			}
		case bs < t.MinScore:
			if !o.quiet {
				o.aiWhy = fmt.Sprintf("best score %s (%s) is below min_score %s", fmtScore(bs), best, fmtScore(t.MinScore))
			}
		default:
			if !o.quiet {
				o.aiWhy = fmt.Sprintf("%s leads by %s, less than min_margin %s", best, fmtScore(bs-ws), fmtScore(t.MinMargin))
			}
		}
		return
	}
	// Decision 2.
	d := tr - in
	sum := d + o.cueSum
	switch {
	case d != 0 && math.Abs(d) >= t.SubtypeMargin && (o.cueSum == 0 || (sum > 0) == (d > 0)):
		// The scores settle it and the job's shape does not overturn
		// them: a weak inference hint (a "demo" script) on four nodes is
		// weighed against the nodes, a strong one (an eval script) is not.
		o.sub = subMargin
		o.class = pickSign(d, AITraining)
		if !o.quiet {
			o.subWhy = fmt.Sprintf("training %s vs inference %s: the difference %s >= subtype_margin %s",
				fmtScore(tr), fmtScore(in), fmtScore(math.Abs(d)), fmtScore(t.SubtypeMargin))
		}
	case o.cueSum != 0 && sum != 0:
		o.sub = subCues
		o.class = pickSign(sum, AITraining)
		if !o.quiet {
			var why []string
			for _, c := range o.cues {
				why = append(why, fmt.Sprintf("%s (%+g)", c.why, c.weight))
			}
			o.subWhy = fmt.Sprintf("training %s vs inference %s is unclear; secondary cues: %s", fmtScore(tr), fmtScore(in), strings.Join(why, ", "))
		}
		o.rules = append(o.rules, RuleSubtypeCues)
	case d != 0:
		o.sub = subLean
		o.class = pickSign(d, AITraining)
		if !o.quiet {
			o.subWhy = fmt.Sprintf("training %s vs inference %s: the larger wins, no secondary cue disagrees", fmtScore(tr), fmtScore(in))
		}
	default:
		o.sub = subDefault
		o.class = t.SubtypeDefault
		if !o.quiet {
			o.subWhy = fmt.Sprintf("training and inference both score %s and no secondary cue: subtype_default %s", fmtScore(tr), t.SubtypeDefault)
		}
		o.rules = append(o.rules, RuleSubtypeDefault)
	}
	o.confident = o.sub == subMargin
}

func pickSign(v float64, positive Class) Class {
	if v > 0 {
		return positive
	}
	return AIInference
}

// dropMarkers removes the subtype markers a previous decideTwo added.
func dropMarkers(rules []string) []string {
	if !slices.Contains(rules, RuleSubtypeCues) && !slices.Contains(rules, RuleSubtypeDefault) {
		return rules
	}
	out := make([]string, 0, len(rules))
	for _, id := range rules {
		if id != RuleSubtypeCues && id != RuleSubtypeDefault {
			out = append(out, id)
		}
	}
	return out
}

// nameFamily reduces a job name to its family: the name's words without
// digits, dates or run numbers ("sft_qwen7b_20240501_3" is "sft qwen b").
func nameFamily(name string) string {
	f := nameWords(name)
	if genericNames[f] {
		return ""
	}
	return f
}

// genericNames are the names schedulers give jobs that were not named
// (sbatch --wrap, srun, salloc, PBS STDIN, an interactive shell) and the
// words users give anything: jobs sharing them share no habit.
var genericNames = map[string]bool{
	"wrap": true, "bash": true, "sh": true, "zsh": true, "python": true, "stdin": true, "interactive": true,
	"srun": true, "salloc": true, "jupyter": true, "job": true, "run": true, "test": true, "script": true,
	"a out": true, "sbatch": true, "sys dashboard": true, "ondemand": true, "": true,
}

func nameWords(name string) string {
	var b strings.Builder
	for _, tok := range Tokenize(name) {
		if tok[0] >= '0' && tok[0] <= '9' {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// learnTokens returns the distinct tokens of the record's text that the
// learned stage reads: no digits, at least two characters, at most
// maxLearnTokens.
func learnTokens(texts ...string) []string {
	var out []string
	for _, s := range texts {
		for _, tok := range Tokenize(s) {
			if len(tok) < 2 || (tok[0] >= '0' && tok[0] <= '9') {
				continue
			}
			if !contains(out, tok) {
				out = append(out, tok)
				if len(out) == maxLearnTokens {
					return out
				}
			}
		}
	}
	return out
}

const maxLearnTokens = 48

// clearCue is the size of secondary cues (summed) that says the subtype
// on its own: several nodes (+3), or a long single-node run ended by its
// time limit on few accelerators (-2 with the accelerator cue).
const clearCue = 2

// cueClass returns the subtype the job's own secondary cues say clearly,
// or Unknown.
func (o *outcome) cueClass() Class {
	if math.Abs(o.cueSum) < clearCue {
		return Unknown
	}
	return pickSign(o.cueSum, AITraining)
}

// keepOwnSubtype undoes a subtype that evidence from other jobs (context)
// put against the job's own clear secondary cues, when the job's own
// scores did not settle the subtype: what a job's shape says of itself
// outweighs what its account usually runs.
func keepOwnSubtype(co, own *outcome) {
	want := own.cueClass()
	if !co.class.IsAI() || want == Unknown || co.class == want {
		return
	}
	if own.class.IsAI() && own.sub == subMargin {
		return
	}
	co.class, co.sub = want, subCues
	co.rules = appendUnique(co.rules, RuleSubtypeCues)
	if co.quiet {
		return
	}
	var why []string
	for _, c := range own.cues {
		why = append(why, fmt.Sprintf("%s (%+g)", c.why, c.weight))
	}
	co.subWhy = fmt.Sprintf("the job's own secondary cues say %s clearly and outweigh the context: %s", want, strings.Join(why, ", "))
}
