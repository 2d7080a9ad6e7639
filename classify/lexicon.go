package classify

import (
	"bytes"
	_ "embed" // the built-in lexicon
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

//go:embed lexicon/lexicon.yaml
var defaultLexiconYAML []byte

// DefaultLexiconYAML returns the built-in lexicon as written.
func DefaultLexiconYAML() []byte { return bytes.Clone(defaultLexiconYAML) }

// Prior is the class a lexicon term speaks for.
type Prior uint8

// The priors. PriorAI is evidence of AI that says nothing of training or
// inference (a framework, a model family): it lifts both AI classes.
const (
	PriorAI Prior = iota
	PriorTraining
	PriorInference
	PriorOther
)

var priorNames = [...]string{PriorAI: "ai", PriorTraining: "ai_training", PriorInference: "ai_inference", PriorOther: "other"}

// String returns the prior as lexicon files spell it.
func (p Prior) String() string { return priorNames[p] }

// MarshalText writes the prior's name.
func (p Prior) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

func parsePrior(s string) (Prior, error) {
	for i, n := range priorNames {
		if n == s {
			return Prior(i), nil
		}
	}
	return 0, fmt.Errorf("class %q is not one of ai, ai_training, ai_inference, other", s)
}

// Term is one lexicon entry: a word or a few words that name a tool, a
// model family or an application, with the class it speaks for.
type Term struct {
	// Term is the text as written ("Megatron-LM", "torch_npu", "训练").
	Term string `json:"term"`
	// Prior is the class the term speaks for.
	Prior Prior `json:"class"`
	// Weight is the evidence the term adds, on the rules' scale.
	Weight float64 `json:"weight"`
	// Family groups the term with its kind of tool.
	Family string `json:"family"`
	// Source says where the term comes from: the project or vendor that
	// ships it.
	Source string `json:"source"`
	// Origin names the file the term was read from.
	Origin string `json:"origin"`

	words  []string // the term split like words()
	tokens []string // the term split like Tokenize
	cjk    bool     // a CJK term: matched inside CJK runs
}

// lexicon is a compiled set of terms, indexed by their first word and
// first token.
type lexicon struct {
	terms    []*Term
	byWord   map[string][]int32
	byToken  map[string][]int32
	cjkTerms []int32
	// byAffix indexes the one-word AI terms of minAffix letters or more,
	// which are also found at the start or end of a longer word
	// ("runroberta", "llamafactory"): mixed-case brand names such as
	// "runRoBERTa" split no better.
	byAffix  map[string][]int32
	famIndex map[string]int // family name to dense index
	famNames []string
}

// lexFile is the shape of a lexicon, in the built-in file and in the
// lexicon section of a rules file.
type lexFile struct {
	// Builtin false drops the built-in lexicon (rules files without a
	// base only).
	Builtin  *bool       `mapstructure:"builtin"`
	Families []lexFamily `mapstructure:"families"`
	Disable  []string    `mapstructure:"disable"`
}

type lexFamily struct {
	Name        string    `mapstructure:"name"`
	Description string    `mapstructure:"description"`
	Class       string    `mapstructure:"class"`
	Weight      *float64  `mapstructure:"weight"`
	Terms       []lexTerm `mapstructure:"terms"`
}

type lexTerm struct {
	Term   string   `mapstructure:"term"`
	Class  string   `mapstructure:"class"`
	Weight *float64 `mapstructure:"weight"`
	Source string   `mapstructure:"source"`
}

// defaultLexicon parses the built-in lexicon.
func defaultLexicon() (*lexicon, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(defaultLexiconYAML)); err != nil {
		return nil, fmt.Errorf("built-in lexicon: %w", err)
	}
	var f lexFile
	if err := v.UnmarshalExact(&f); err != nil {
		return nil, fmt.Errorf("built-in lexicon: %w", err)
	}
	lx, errs := buildLexicon(nil, f, "lexicon")
	if len(errs) > 0 {
		return nil, fmt.Errorf("built-in lexicon: %w", errs[0])
	}
	return lx, nil
}

// decodeLexicon reads the lexicon section of a rules file.
func decodeLexicon(raw any) (lexFile, error) {
	var f lexFile
	d, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{ErrorUnused: true, Result: &f})
	if err != nil {
		return f, err
	}
	if err := d.Decode(raw); err != nil {
		return f, fmt.Errorf("lexicon: %w", err)
	}
	return f, nil
}

// buildLexicon compiles the families of f on top of base (nil for none):
// a family of f with a base family's name adds terms to it, and inherits
// its class and weight; disabled families are dropped.
func buildLexicon(base *lexicon, f lexFile, origin string) (*lexicon, []error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	type famDefault struct {
		class  Prior
		weight float64
	}
	defaults := map[string]famDefault{}
	var terms []*Term
	if base != nil {
		for _, t := range base.terms {
			if _, ok := defaults[t.Family]; !ok {
				defaults[t.Family] = famDefault{t.Prior, t.Weight}
			}
		}
		terms = append(terms, base.terms...)
	}
	for i, fam := range f.Families {
		where := fmt.Sprintf("lexicon.families[%d]", i)
		if fam.Name == "" || !validID.MatchString(fam.Name) {
			fail("%s: name must be letters, digits and _ . : -, not %q", where, fam.Name)
			continue
		}
		where = fmt.Sprintf("lexicon family %q", fam.Name)
		def, inherited := defaults[fam.Name]
		if fam.Class != "" {
			p, err := parsePrior(fam.Class)
			if err != nil {
				fail("%s: %v", where, err)
				continue
			}
			def.class = p
		} else if !inherited {
			fail("%s: class is missing (ai, ai_training, ai_inference or other)", where)
			continue
		}
		if fam.Weight != nil {
			def.weight = *fam.Weight
		} else if !inherited {
			fail("%s: weight is missing", where)
			continue
		}
		if w := def.weight; w <= 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			fail("%s: weight must be a positive number, not %v", where, w)
			continue
		}
		defaults[fam.Name] = def
		if len(fam.Terms) == 0 {
			fail("%s: no terms", where)
		}
		for j, lt := range fam.Terms {
			tw := fmt.Sprintf("%s term[%d]", where, j)
			t := &Term{Term: strings.TrimSpace(lt.Term), Prior: def.class, Weight: def.weight, Family: fam.Name, Source: strings.TrimSpace(lt.Source), Origin: origin}
			if lt.Class != "" {
				p, err := parsePrior(lt.Class)
				if err != nil {
					fail("%s: %v", tw, err)
					continue
				}
				t.Prior = p
			}
			if lt.Weight != nil {
				if w := *lt.Weight; w <= 0 || math.IsInf(w, 0) || math.IsNaN(w) {
					fail("%s: weight must be a positive number, not %v", tw, w)
					continue
				}
				t.Weight = *lt.Weight
			}
			t.words, t.tokens = words(t.Term), Tokenize(t.Term)
			if len(t.words) == 0 {
				fail("%s: term %q has no letters or digits", tw, lt.Term)
				continue
			}
			if t.Source == "" {
				fail("%s: term %q: source is missing (say which project or vendor it comes from)", tw, t.Term)
				continue
			}
			t.cjk = len(t.words) == 1 && kindOf([]rune(t.words[0])[0]) == kCJK
			terms = append(terms, t)
		}
	}
	if len(f.Disable) > 0 {
		known := map[string]bool{}
		for _, t := range terms {
			known[t.Family] = true
		}
		for _, name := range f.Disable {
			if !known[name] {
				fail("lexicon.disable: no family %q", name)
			}
		}
		terms = slices.DeleteFunc(slices.Clone(terms), func(t *Term) bool { return slices.Contains(f.Disable, t.Family) })
	}
	return indexLexicon(terms), errs
}

func indexLexicon(terms []*Term) *lexicon {
	lx := &lexicon{terms: terms, byWord: map[string][]int32{}, byToken: map[string][]int32{}, byAffix: map[string][]int32{}, famIndex: map[string]int{}}
	for i, t := range terms {
		if _, ok := lx.famIndex[t.Family]; !ok {
			lx.famIndex[t.Family] = len(lx.famNames)
			lx.famNames = append(lx.famNames, t.Family)
		}
		if t.cjk {
			lx.cjkTerms = append(lx.cjkTerms, int32(i))
			continue
		}
		lx.byWord[t.words[0]] = appendUniqueIdx(lx.byWord[t.words[0]], int32(i))
		if len(t.words) == 1 && len(t.words[0]) >= minAffix && t.Prior != PriorOther {
			lx.byAffix[t.words[0]] = appendUniqueIdx(lx.byAffix[t.words[0]], int32(i))
		}
		lx.byToken[t.tokens[0]] = appendUniqueIdx(lx.byToken[t.tokens[0]], int32(i))
	}
	return lx
}

func appendUniqueIdx(list []int32, i int32) []int32 {
	if slices.Contains(list, i) {
		return list
	}
	return append(list, i)
}

// families lists the lexicon's families.
func (lx *lexicon) families() []string {
	if lx == nil {
		return nil
	}
	return slices.Clone(lx.famNames)
}

// without returns the lexicon without the named families.
func (lx *lexicon) without(families []string) *lexicon {
	if lx == nil {
		return nil
	}
	var terms []*Term
	for _, t := range lx.terms {
		if !slices.Contains(families, t.Family) {
			terms = append(terms, t)
		}
	}
	return indexLexicon(terms)
}

// Terms lists the lexicon terms in force, in file order.
func (rs *RuleSet) Terms() []Term {
	if rs.lex == nil {
		return nil
	}
	out := make([]Term, len(rs.lex.terms))
	for i, t := range rs.lex.terms {
		out[i] = *t
	}
	return out
}

// lexHit is one lexicon term found in a record.
type lexHit struct {
	term  int32
	field fieldID
	text  string // the token or tokens matched, as found
}

// minAffix is the shortest term found at the start or end of a word.
const minAffix = 5

// lexFields are the text fields the lexicon reads.
var lexFields = [...]fieldID{fJobName, fSubmitLine, fStepNames, fStepCommands, fWorkDir, fComment, fWCKey}

// match appends the terms found in text to hits (each term once).
func (lx *lexicon) match(hits []lexHit, text string, f fieldID) []lexHit {
	if lx == nil || len(lx.terms) == 0 || text == "" {
		return hits
	}
	has := func(t int32) bool {
		for _, h := range hits {
			if h.term == t {
				return true
			}
		}
		return false
	}
	scan := func(toks []string, index map[string][]int32, seq func(*Term) []string) {
		for i, tok := range toks {
			for _, ti := range index[tok] {
				want := seq(lx.terms[ti])
				if i+len(want) > len(toks) || has(ti) {
					continue
				}
				ok := true
				for k := 1; k < len(want); k++ {
					if toks[i+k] != want[k] {
						ok = false
						break
					}
				}
				if ok {
					hits = append(hits, lexHit{term: ti, field: f, text: strings.Join(toks[i:i+len(want)], " ")})
				}
			}
		}
	}
	ws := words(text)
	scan(ws, lx.byWord, func(t *Term) []string { return t.words })
	for _, w := range ws {
		for n := minAffix; n < len(w); n++ {
			for _, part := range [2]string{w[:n], w[len(w)-n:]} {
				for _, ti := range lx.byAffix[part] {
					if !has(ti) {
						hits = append(hits, lexHit{term: ti, field: f, text: w})
					}
				}
			}
		}
	}
	scan(Tokenize(text), lx.byToken, func(t *Term) []string { return t.tokens })
	if len(lx.cjkTerms) > 0 {
		for _, w := range ws {
			if kindOf([]rune(w)[0]) != kCJK {
				continue
			}
			for _, ti := range lx.cjkTerms {
				if !has(ti) && strings.Contains(w, lx.terms[ti].words[0]) {
					hits = append(hits, lexHit{term: ti, field: f, text: lx.terms[ti].words[0]})
				}
			}
		}
	}
	return hits
}
