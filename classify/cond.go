package classify

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// opKind is a condition operator.
type opKind uint8

const (
	opRegex opKind = iota
	opContains
	opEquals
	opIn
	opGT
	opGE
	opLT
	opLE
	opEQ
	opNE
	opAll
	opAny
	opNot
	numOps
)

var opNames = [numOps]string{
	opRegex: "regex", opContains: "contains", opEquals: "equals", opIn: "in",
	opGT: "gt", opGE: "ge", opLT: "lt", opLE: "le", opEQ: "eq", opNE: "ne",
	opAll: "all", opAny: "any", opNot: "not",
}

// String returns the operator as rules files spell it.
func (o opKind) String() string { return opNames[o] }

// operator sets by field type; "in" serves both.
var (
	textOps    = []opKind{opRegex, opContains, opEquals, opIn}
	numericOps = []opKind{opGT, opGE, opLT, opLE, opEQ, opNE, opIn}
)

func lookupOp(name string) (opKind, bool) {
	for i, n := range opNames {
		if n == name {
			return opKind(i), true
		}
	}
	return 0, false
}

// cond is a compiled condition: a leaf (one field, one operator) or a
// combinator over other conditions.
type cond struct {
	op    opKind
	field fieldID
	re    *regexp.Regexp
	lits  []string  // regex: folded literals every match contains (see prefilter.go)
	str   string    // contains, equals
	strs  []string  // in (text)
	num   float64   // numeric comparisons
	nums  []float64 // in (numeric)
	kids  []*cond
}

// parseCond compiles a decoded YAML condition. path names the condition
// in messages ("when.all[2]").
func parseCond(v any, path string) (*cond, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a condition must be a mapping, not %s", path, describeYAML(v))
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: empty condition", path)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ops []opKind
	hasField := false
	for _, k := range keys {
		if k == "field" {
			hasField = true
			continue
		}
		op, ok := lookupOp(k)
		if !ok {
			return nil, fmt.Errorf("%s: unknown operator %q (known: field, %s)", path, k, strings.Join(opNames[:], ", "))
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("%s: field %v has no operator", path, m["field"])
	}
	if len(ops) > 1 {
		names := make([]string, len(ops))
		for i, o := range ops {
			names[i] = o.String()
		}
		return nil, fmt.Errorf("%s: more than one operator (%s); combine conditions with all", path, strings.Join(names, ", "))
	}
	op := ops[0]
	switch op {
	case opAll, opAny:
		if hasField {
			return nil, fmt.Errorf("%s: %s takes a list of conditions, not a field", path, op)
		}
		list, ok := m[op.String()].([]any)
		if !ok {
			return nil, fmt.Errorf("%s.%s: want a list of conditions, not %s", path, op, describeYAML(m[op.String()]))
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("%s.%s: empty list", path, op)
		}
		c := &cond{op: op}
		for i, item := range list {
			k, err := parseCond(item, fmt.Sprintf("%s.%s[%d]", path, op, i))
			if err != nil {
				return nil, err
			}
			c.kids = append(c.kids, k)
		}
		return c, nil
	case opNot:
		if hasField {
			return nil, fmt.Errorf("%s: not takes one condition, not a field", path)
		}
		k, err := parseCond(m["not"], path+".not")
		if err != nil {
			return nil, err
		}
		return &cond{op: opNot, kids: []*cond{k}}, nil
	}
	if !hasField {
		return nil, fmt.Errorf("%s: operator %s has no field", path, op)
	}
	fname, ok := m["field"].(string)
	if !ok {
		return nil, fmt.Errorf("%s: field must be a name, not %s", path, describeYAML(m["field"]))
	}
	f, ok := lookupField(fname)
	if !ok {
		return nil, fmt.Errorf("%s: unknown field %q (known: %s)", path, fname, strings.Join(fieldNames(), ", "))
	}
	c := &cond{op: op, field: f}
	val := m[op.String()]
	vpath := path + "." + op.String()
	typ := fieldInfos[f].typ
	if typ == textField {
		if !slices.Contains(textOps, op) {
			return nil, fmt.Errorf("%s: operator %s compares numbers, and %s is a text field (use regex, contains, equals or in)", path, op, f)
		}
		switch op {
		case opRegex:
			s, err := scalarString(val, vpath)
			if err != nil {
				return nil, err
			}
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("%s: bad regex %q: %w", vpath, s, err)
			}
			c.re = re
			c.lits = requiredLiterals(s)
		case opContains, opEquals:
			s, err := scalarString(val, vpath)
			if err != nil {
				return nil, err
			}
			if op == opContains && s == "" {
				return nil, fmt.Errorf("%s: empty string matches everything", vpath)
			}
			c.str = s
			if op == opContains && !isASCII(s) {
				// Case folding of non-ASCII text can change its length:
				// let the regexp engine fold.
				c.re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(s))
			}
		case opIn:
			list, err := nonEmptyList(val, vpath)
			if err != nil {
				return nil, err
			}
			for i, item := range list {
				s, err := scalarString(item, fmt.Sprintf("%s[%d]", vpath, i))
				if err != nil {
					return nil, err
				}
				c.strs = append(c.strs, s)
			}
		}
		return c, nil
	}
	if !slices.Contains(numericOps, op) {
		return nil, fmt.Errorf("%s: operator %s matches text, and %s is a %s field (use gt, ge, lt, le, eq, ne or in)", path, op, f, typeName(typ))
	}
	if op == opIn {
		list, err := nonEmptyList(val, vpath)
		if err != nil {
			return nil, err
		}
		for i, item := range list {
			n, err := parseNumber(item, typ, fmt.Sprintf("%s[%d]", vpath, i))
			if err != nil {
				return nil, err
			}
			c.nums = append(c.nums, n)
		}
		return c, nil
	}
	n, err := parseNumber(val, typ, vpath)
	if err != nil {
		return nil, err
	}
	c.num = n
	return c, nil
}

func nonEmptyList(v any, path string) ([]any, error) {
	list, ok := v.([]any)
	switch {
	case !ok:
		return nil, fmt.Errorf("%s: want a list, not %s", path, describeYAML(v))
	case len(list) == 0:
		return nil, fmt.Errorf("%s: empty list", path)
	}
	return list, nil
}

func typeName(t fieldType) string {
	if t == durationField {
		return "duration"
	}
	return "count"
}

func describeYAML(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%v", v)
}

// scalarString accepts a YAML scalar as text: numbers and booleans read as
// they are written ("8", "true").
func scalarString(v any, path string) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("%s: want a string, not %s", path, describeYAML(v))
}

// parseNumber reads a count (a number) or a duration ("2h", "90m",
// "1d12h", "0").
func parseNumber(v any, typ fieldType, path string) (float64, error) {
	if typ == countField {
		switch x := v.(type) {
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case uint64:
			return float64(x), nil
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return 0, fmt.Errorf("%s: %v is not a finite number", path, x)
			}
			return x, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %q is not a number", path, x)
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return 0, fmt.Errorf("%s: %q is not a finite number", path, x)
			}
			return f, nil
		}
		return 0, fmt.Errorf("%s: want a number, not %s", path, describeYAML(v))
	}
	switch x := v.(type) {
	case int:
		if x == 0 {
			return 0, nil
		}
	case string:
		d, err := ParseDuration(x)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		return d.Seconds(), nil
	}
	return 0, fmt.Errorf("%s: want a duration with a unit such as \"2h\" or \"1d12h\", not %s", path, describeYAML(v))
}

// ParseDuration reads the durations of rule files: Go durations ("90m",
// "2h30m") with an optional leading day count ("1d", "2d12h").
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var days time.Duration
	if i := strings.IndexByte(in, 'd'); i > 0 {
		n, err := strconv.ParseUint(in[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("duration %q: bad day count", s)
		}
		// More days would wrap past the largest Duration to a negative one.
		if maxDays := uint64(math.MaxInt64 / int64(24*time.Hour)); n > maxDays {
			return 0, fmt.Errorf("duration %q: the day count is above %d (the longest duration is about 292 years)", s, maxDays)
		}
		days = time.Duration(n) * 24 * time.Hour
		in = in[i+1:]
		if in == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(in)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("duration %q: want a form such as \"90m\", \"2h\" or \"1d12h\"", s)
	}
	if d > math.MaxInt64-days {
		return 0, fmt.Errorf("duration %q: the longest duration is about 292 years", s)
	}
	return days + d, nil
}

// eval reports whether the condition holds. When log is not nil, the
// matches that made it hold are appended to it.
func (c *cond) eval(ev *evidence, log *[]Match) bool {
	switch c.op {
	case opAll:
		mark := 0
		if log != nil {
			mark = len(*log)
		}
		for _, k := range c.kids {
			if !k.eval(ev, log) {
				if log != nil {
					*log = (*log)[:mark]
				}
				return false
			}
		}
		return true
	case opAny:
		for _, k := range c.kids {
			if k.eval(ev, log) {
				return true
			}
		}
		return false
	case opNot:
		if c.kids[0].eval(ev, nil) {
			return false
		}
		if log != nil {
			*log = append(*log, Match{Field: c.kids[0].fieldLabel(), Op: c.String(), Text: "(no match)"})
		}
		return true
	}
	if fieldInfos[c.field].typ != textField {
		return c.evalNum(ev, log)
	}
	for i, v := range ev.values(c.field) {
		if !ev.mayMatch(c, i) {
			continue
		}
		if log == nil {
			if ev.matches(c, i, v) {
				return true
			}
			continue
		}
		start, end, ok := c.matchText(v, true)
		if !ok {
			continue
		}
		if log != nil {
			*log = append(*log, c.textMatch(ev, v, start, end))
		}
		return true
	}
	return false
}

// matchText applies a text operator to one value. With want set it also
// returns the bounds of the matched text.
func (c *cond) matchText(v string, want bool) (start, end int, ok bool) {
	switch c.op {
	case opRegex:
		if !want {
			return 0, 0, c.re.MatchString(v)
		}
		loc := c.re.FindStringIndex(v)
		if loc == nil {
			return 0, 0, false
		}
		return loc[0], loc[1], true
	case opContains:
		if c.re != nil {
			loc := c.re.FindStringIndex(v)
			if loc == nil {
				return 0, 0, false
			}
			return loc[0], loc[1], true
		}
		i := indexFold(v, c.str)
		if i < 0 {
			return 0, 0, false
		}
		return i, i + len(c.str), true
	case opEquals:
		return 0, len(v), strings.EqualFold(v, c.str)
	case opIn:
		for _, s := range c.strs {
			if strings.EqualFold(v, s) {
				return 0, len(v), true
			}
		}
	}
	return 0, 0, false
}

func (c *cond) evalNum(ev *evidence, log *[]Match) bool {
	n := ev.num[c.field]
	if !n.present {
		return false
	}
	var ok bool
	switch c.op {
	case opGT:
		ok = n.v > c.num
	case opGE:
		ok = n.v >= c.num
	case opLT:
		ok = n.v < c.num
	case opLE:
		ok = n.v <= c.num
	case opEQ:
		ok = n.v == c.num
	case opNE:
		ok = n.v != c.num
	case opIn:
		ok = slices.Contains(c.nums, n.v)
	}
	if ok && log != nil {
		*log = append(*log, Match{Field: c.field.String(), Op: c.String(), Text: formatNum(c.field, n)})
	}
	return ok
}

// textMatch describes a text match for explanations; for the command
// pseudo-field it names the part the text came from.
func (c *cond) textMatch(ev *evidence, v string, start, end int) Match {
	label := c.field.String()
	value := v
	if c.field == fCommand {
		for i := len(ev.cmdParts) - 1; i >= 0; i-- {
			p := ev.cmdParts[i]
			if start >= p.start {
				label = "command[" + p.from + "]"
				value = p.text
				start -= p.start
				end -= p.start
				if end > len(p.text) {
					end = len(p.text)
				}
				break
			}
		}
	}
	return Match{Field: label, Op: c.String(), Text: strings.TrimSpace(value[start:end]), Value: clip(value, 240)}
}

func (c *cond) fieldLabel() string {
	if c.op >= opAll {
		return ""
	}
	return c.field.String()
}

// String renders the condition in a compact form for explanations:
// `command regex /torchrun/`, `all(...)`.
func (c *cond) String() string {
	var b strings.Builder
	c.write(&b)
	return b.String()
}

func (c *cond) write(b *strings.Builder) {
	switch c.op {
	case opAll, opAny, opNot:
		b.WriteString(c.op.String())
		b.WriteByte('(')
		for i, k := range c.kids {
			if i > 0 {
				b.WriteString(", ")
			}
			k.write(b)
		}
		b.WriteByte(')')
		return
	}
	b.WriteString(c.field.String())
	b.WriteByte(' ')
	b.WriteString(c.op.String())
	b.WriteByte(' ')
	switch c.op {
	case opRegex:
		b.WriteByte('/')
		b.WriteString(c.re.String())
		b.WriteByte('/')
	case opContains, opEquals:
		b.WriteString(strconv.Quote(c.str))
	case opIn:
		b.WriteByte('[')
		if c.strs != nil {
			for i, s := range c.strs {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.Quote(s))
			}
		} else {
			for i, n := range c.nums {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(formatNum(c.field, numVal{n, true}))
			}
		}
		b.WriteByte(']')
	default:
		b.WriteString(formatNum(c.field, numVal{c.num, true}))
	}
}

// fields adds the fields the condition reads to s.
func (c *cond) fields(s *fieldSet) {
	if c.op >= opAll {
		for _, k := range c.kids {
			k.fields(s)
		}
		return
	}
	s.add(c.field)
}

// thresholds adds the numbers numeric leaves compare against, per field:
// they split numeric values into the buckets of the evidence signature.
func (c *cond) thresholds(m map[fieldID][]float64) {
	if c.op >= opAll {
		for _, k := range c.kids {
			k.thresholds(m)
		}
		return
	}
	if fieldInfos[c.field].typ == textField {
		return
	}
	if c.op == opIn {
		m[c.field] = append(m[c.field], c.nums...)
	} else {
		m[c.field] = append(m[c.field], c.num)
	}
}

// indexFold is strings.Index with ASCII case folding, without allocating
// lower-case copies; sub must be ASCII.
func indexFold(s, sub string) int {
	n := len(sub)
	if n == 0 {
		return 0
	}
	c0 := sub[0]
	if !isASCIILetter(c0) {
		// The first byte has no case: jump between its occurrences.
		for i := 0; i+n <= len(s); i++ {
			j := strings.IndexByte(s[i:len(s)-n+1], c0)
			if j < 0 {
				return -1
			}
			i += j
			if strings.EqualFold(s[i:i+n], sub) {
				return i
			}
		}
		return -1
	}
	lo, up := c0|0x20, c0&^0x20
	for i := 0; i+n <= len(s); i++ {
		if (s[i] == lo || s[i] == up) && strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}

func isASCIILetter(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// bucket places v among sorted thresholds so that two values in the same
// bucket compare identically against every threshold: below t[0] is 0,
// equal to t[0] is 1, between t[0] and t[1] is 2, and so on.
func bucket(t []float64, n numVal) int {
	if !n.present {
		return -1
	}
	if math.IsInf(n.v, 1) {
		return 2*len(t) + 1
	}
	p := sort.SearchFloat64s(t, n.v)
	if p < len(t) && t[p] == n.v {
		return 2*p + 1
	}
	return 2 * p
}
