package classify

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A regular expression is tried on a value only when the value contains
// one of the literals every match of the expression must contain. Most
// rules look for names that most commands lack, so this skips most regexp
// runs on the uncached path. Literals and values are compared in folded
// form (see foldKey), which keeps the filter sound for case-insensitive
// expressions: it may let a value through that does not match, never stop
// one that does.

const (
	// minLiteral is the shortest literal worth filtering on.
	minLiteral = 2
	// maxSet bounds the literal sets built while walking an expression.
	maxSet = 64
)

// requiredLiterals returns folded literals such that every match of expr
// contains at least one of them, or nil when no useful set exists.
func requiredLiterals(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	in := literalInfo(re.Simplify())
	set := best(in.req, in.exact)
	if quality(set) < minLiteral {
		return nil
	}
	return set
}

// litInfo describes what a subexpression can match: exact is the complete
// set of strings it matches when small and finite (nil otherwise); req is a
// set of which every match contains one (nil: no requirement known).
type litInfo struct {
	exact []string
	req   []string
}

var emptyOnly = []string{""}

func literalInfo(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpLiteral:
		s := foldKey(string(re.Rune))
		return litInfo{exact: []string{s}, req: []string{s}}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{exact: emptyOnly}
	case syntax.OpCharClass:
		// A small class ([_-], [23]) extends neighbouring literals.
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				set = appendUnique(set, foldKey(string(r)))
				if len(set) > 4 {
					return litInfo{}
				}
			}
		}
		return litInfo{exact: set}
	case syntax.OpCapture:
		return literalInfo(re.Sub[0])
	case syntax.OpQuest:
		sub := literalInfo(re.Sub[0])
		if sub.exact == nil {
			return litInfo{}
		}
		return litInfo{exact: union(sub.exact, emptyOnly)}
	case syntax.OpPlus:
		sub := literalInfo(re.Sub[0])
		return litInfo{req: best(sub.req, sub.exact)}
	case syntax.OpRepeat:
		if re.Min == 0 {
			return litInfo{}
		}
		sub := literalInfo(re.Sub[0])
		return litInfo{req: best(sub.req, sub.exact)}
	case syntax.OpAlternate:
		var exact, req []string
		exactOK, reqOK := true, true
		for _, s := range re.Sub {
			in := literalInfo(s)
			if exactOK && in.exact != nil {
				exact = union(exact, in.exact)
				exactOK = len(exact) <= maxSet
			} else {
				exactOK = false
			}
			if b := best(in.req, in.exact); reqOK && b != nil && quality(b) > 0 {
				req = union(req, b)
				reqOK = len(req) <= maxSet
			} else {
				reqOK = false
			}
		}
		out := litInfo{}
		if exactOK {
			out.exact = exact
		}
		if reqOK {
			out.req = req
		}
		return out
	case syntax.OpConcat:
		// Runs of children with exact sets concatenate into exact strings
		// that must appear whole; the best run or child requirement wins.
		run := emptyOnly
		allExact := true
		var cand []string
		flush := func() {
			cand = best(cand, run)
			run = emptyOnly
		}
		for _, s := range re.Sub {
			in := literalInfo(s)
			if in.exact == nil {
				allExact = false
				flush()
				cand = best(cand, in.req)
				continue
			}
			next := cross(run, in.exact)
			if next == nil { // too many combinations: start a new run
				flush()
				allExact = false
				next = in.exact
			}
			run = next
		}
		out := litInfo{}
		if allExact {
			out.exact = run
		}
		flush()
		out.req = cand
		return out
	}
	return litInfo{}
}

// quality is the length of the shortest string of a set: the filter is as
// selective as its weakest literal. A nil or empty-string set is useless.
func quality(set []string) int {
	if len(set) == 0 {
		return 0
	}
	q := -1
	for _, s := range set {
		if q < 0 || len(s) < q {
			q = len(s)
		}
	}
	return q
}

// best returns the more selective of two requirement sets: the one whose
// shortest literal is longer, then the one whose literals are longer on
// average (".py" is in every Python command, "finetune" is not).
func best(a, b []string) []string {
	qa, qb := quality(a), quality(b)
	switch {
	case qb > qa:
		return b
	case qa > qb:
		return a
	case qa == 0:
		return nil
	case meanLen(b) > meanLen(a):
		return b
	}
	return a
}

func meanLen(set []string) float64 {
	n := 0
	for _, s := range set {
		n += len(s)
	}
	return float64(n) / float64(len(set))
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		out = appendUnique(out, s)
	}
	return out
}

func cross(a, b []string) []string {
	if len(a)*len(b) > maxSet {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = appendUnique(out, x+y)
		}
	}
	return out
}

// containsAny reports whether the folded value holds one of the literals.
func containsAny(folded string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(folded, l) {
			return true
		}
	}
	return false
}

// foldKey maps s to a canonical case: each rune becomes the smallest
// lower-case form in its simple case-folding orbit, the equivalence the
// regexp engine uses for (?i). Two strings that match case-insensitively
// have equal keys, so a literal found in a match is found in the key. An
// ASCII string without upper-case letters is returned as is.
func foldKey(s string) string {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	m := unicode.ToLower(r)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if l := unicode.ToLower(f); l < m {
			m = l
		}
	}
	return m
}
