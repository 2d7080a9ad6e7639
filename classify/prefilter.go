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

// litIndex finds in one pass over a folded value which of a rule set's
// prefilter literals it contains, where trying each expression's literals
// in turn would search the value once per literal: the default rules hold
// hundreds. Values are scanned byte pair by byte pair; a pair that starts
// no literal costs one bit test.
type litIndex struct {
	lits []string
	// ids are each condition's literals; a condition absent here is
	// filtered with containsAny.
	ids    map[*cond][]int32
	pairs  [1 << 16 / 64]uint64 // the first two bytes of every literal
	byPair map[uint16][]int32
	// regexps numbers the regular expressions of single-valued fields,
	// one number per expression and field: rules that share an
	// expression (a list of model names read by two rules) run it once
	// per record.
	regexps map[*cond]int32
	nRegexp int
}

// newLitIndex indexes the literals of the rules' conditions.
func newLitIndex(rules []*rule) *litIndex {
	x := &litIndex{ids: map[*cond][]int32{}, byPair: map[uint16][]int32{}, regexps: map[*cond]int32{}}
	known := map[string]int32{}
	type reKey struct {
		expr  string
		field fieldID
	}
	res := map[reKey]int32{}
	var walk func(c *cond)
	walk = func(c *cond) {
		for _, k := range c.kids {
			walk(k)
		}
		if c.op == opRegex && !fieldInfos[c.field].multi {
			k := reKey{c.re.String(), c.field}
			id, ok := res[k]
			if !ok {
				id = int32(len(res))
				res[k] = id
			}
			x.regexps[c] = id
		}
		if c.lits == nil || slices.ContainsFunc(c.lits, func(l string) bool { return len(l) < 2 }) {
			return
		}
		if _, done := x.ids[c]; done {
			return
		}
		ids := make([]int32, 0, len(c.lits))
		for _, l := range c.lits {
			id, ok := known[l]
			if !ok {
				id = int32(len(x.lits))
				known[l] = id
				x.lits = append(x.lits, l)
				p := pairOf(l)
				x.pairs[p/64] |= 1 << (p % 64)
				x.byPair[p] = append(x.byPair[p], id)
			}
			ids = append(ids, id)
		}
		x.ids[c] = ids
	}
	for _, r := range rules {
		walk(r.when)
	}
	x.nRegexp = len(res)
	return x
}

func pairOf(s string) uint16 { return uint16(s[0])<<8 | uint16(s[1]) }

// scan returns the set of literals the folded value v contains, as bits
// by literal id, reusing out's storage.
func (x *litIndex) scan(v string, out []uint64) []uint64 {
	n := (len(x.lits) + 63) / 64
	out = slices.Grow(out[:0], n)[:n]
	clear(out)
	for i := 0; i+1 < len(v); i++ {
		p := uint16(v[i])<<8 | uint16(v[i+1])
		if x.pairs[p/64]&(1<<(p%64)) == 0 {
			continue
		}
		for _, id := range x.byPair[p] {
			if strings.HasPrefix(v[i:], x.lits[id]) {
				out[id/64] |= 1 << (id % 64)
			}
		}
	}
	return out
}

// mayMatch reports whether value i of the condition's field holds one of
// the literals every match of the condition's expression contains (true
// when the condition has no literals).
func (e *evidence) mayMatch(c *cond, i int) bool {
	if c.lits == nil {
		return true
	}
	var ids []int32
	ok := false
	if e.lits != nil {
		ids, ok = e.lits.ids[c]
	}
	if !ok {
		return containsAny(e.folded(c.field)[i], c.lits)
	}
	bits := e.litBits(c.field)[i]
	for _, id := range ids {
		if bits[id/64]&(1<<(id%64)) != 0 {
			return true
		}
	}
	return false
}

// litBits returns the literal sets of a text field's values (scan of
// folded), index for index with values, made on first use.
func (e *evidence) litBits(f fieldID) [][]uint64 {
	if !e.litDone.has(f) {
		e.litDone.add(f)
		vals := e.folded(f)
		out := make([][]uint64, len(vals))
		for i, v := range vals {
			out[i] = e.lits.scan(v, nil)
		}
		e.litSets[f] = out
	}
	return e.litSets[f]
}

// matches applies the condition's text operator to value i of its field,
// v. The result of a regular expression on a single-valued field is kept
// for the record, for the other conditions with the same expression.
func (e *evidence) matches(c *cond, i int, v string) bool {
	id, ok := int32(0), false
	if e.lits != nil {
		id, ok = e.lits.regexps[c]
	}
	if !ok {
		_, _, m := c.matchText(v, false)
		return m
	}
	if e.reDone == nil {
		n := (e.lits.nRegexp + 63) / 64
		e.reDone, e.reHit = make([]uint64, n), make([]uint64, n)
	}
	w, bit := id/64, uint64(1)<<(id%64)
	if e.reDone[w]&bit == 0 {
		e.reDone[w] |= bit
		if c.re.MatchString(v) {
			e.reHit[w] |= bit
		}
	}
	return e.reHit[w]&bit != 0
}
