// Package hostlist expands the node lists that schedulers write into job
// records into host names: Slurm's hostlist expressions
// ("cn[001-004,010],gpu[1-2]-ib", "rack[1-2]n[1-4]") and PBS's exec_host
// ("n1/0*2+n2/0-3") and exec_vnode ("(n1:ncpus=4+n1[1]:ncpus=2)+(n2:ncpus=4)").
//
// A short expression can name a huge number of hosts ("n[0-999999999999]"),
// so every function counts the hosts first, without expanding them, and
// refuses a list that names more than the caller's bound before producing a
// single name. Expansion reuses one buffer: a caller that keeps a name must
// copy it.
package hostlist

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrTooMany is returned (wrapped) when a list names more hosts than the
// caller allows; nothing was expanded.
var ErrTooMany = errors.New("too many hosts")

// maxDigits bounds the digits of a range bound: 18 decimal digits always
// fit in a uint64 without overflow.
const maxDigits = 18

// Empty reports whether s is one of the spellings schedulers use for "no
// node" ("", "None assigned", "(null)", "None").
func Empty(s string) bool {
	switch strings.TrimSpace(s) {
	case "", "None assigned", "(null)", "None", "none":
		return true
	}
	return false
}

// span is one lo-hi range of a bracket group; width is the zero-padded
// width of the names (the length of lo as written).
type span struct {
	lo, hi uint64
	width  int
}

// part is one piece of a host pattern: literal text, or a bracket group
// whose ranges, spans[lo:hi] of the parser, are tried in order.
type part struct {
	literal string
	group   bool
	lo, hi  int
}

func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func mulSat(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}

// parser holds a parsed Slurm hostlist in flat slices, reused from one
// list to the next: pattern i (one top-level item, a host name with zero
// or more bracket groups naming the product of its groups) is
// parts[pats[i]:pats[i+1]].
type parser struct {
	pats  []int
	parts []part
	spans []span
}

func (p *parser) reset() {
	p.pats, p.parts, p.spans = p.pats[:0], p.parts[:0], p.spans[:0]
}

// count returns the hosts of pattern i, saturating.
func (p *parser) count(i int) uint64 {
	n := uint64(1)
	for _, pt := range p.parts[p.pats[i]:p.pats[i+1]] {
		if !pt.group {
			continue
		}
		var g uint64
		for _, sp := range p.spans[pt.lo:pt.hi] {
			g = addSat(g, sp.hi-sp.lo+1)
		}
		n = mulSat(n, g)
	}
	return n
}

// parse reads a Slurm hostlist and counts its hosts (saturating at
// MaxUint64). Commas outside brackets separate items.
func (p *parser) parse(s string) (uint64, error) {
	p.reset()
	depth, start := 0, 0
	var total uint64
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch s[i] {
			case '[':
				if depth > 0 {
					return 0, fmt.Errorf("nested '[' at offset %d", i)
				}
				depth++
				continue
			case ']':
				if depth == 0 {
					return 0, fmt.Errorf("unbalanced ']' at offset %d", i)
				}
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		if depth != 0 {
			return 0, errors.New("unbalanced '['")
		}
		item := s[start:i]
		if err := p.pattern(item); err != nil {
			return 0, fmt.Errorf("host %.40q: %w", strings.TrimSpace(item), err)
		}
		total = addSat(total, p.count(len(p.pats)-2))
		start = i + 1
	}
	return total, nil
}

// pattern appends one item's parts.
func (p *parser) pattern(item string) error {
	item = strings.TrimSpace(item)
	if item == "" {
		return errors.New("empty host name")
	}
	if len(p.pats) == 0 {
		p.pats = append(p.pats, 0)
	}
	for item != "" {
		open := strings.IndexByte(item, '[')
		if open < 0 {
			p.parts = append(p.parts, part{literal: item})
			break
		}
		if open > 0 {
			p.parts = append(p.parts, part{literal: item[:open]})
		}
		end := strings.IndexByte(item[open:], ']')
		if end < 0 {
			return errors.New("unbalanced '['")
		}
		g := part{group: true, lo: len(p.spans)}
		for r := range strings.SplitSeq(item[open+1:open+end], ",") {
			sp, err := parseSpan(r)
			if err != nil {
				return err
			}
			p.spans = append(p.spans, sp)
		}
		g.hi = len(p.spans)
		p.parts = append(p.parts, g)
		item = item[open+end+1:]
	}
	p.pats = append(p.pats, len(p.parts))
	return nil
}

func parseSpan(r string) (span, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(r), "-")
	a, err := number(lo)
	if err != nil {
		return span{}, fmt.Errorf("range %q: %w", r, err)
	}
	b := a
	if isRange {
		if b, err = number(hi); err != nil {
			return span{}, fmt.Errorf("range %q: %w", r, err)
		}
		if b < a {
			return span{}, fmt.Errorf("range %q runs backwards", r)
		}
	}
	return span{lo: a, hi: b, width: len(lo)}, nil
}

func number(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("a bound is missing")
	}
	if len(s) > maxDigits {
		return 0, fmt.Errorf("bound %.20q has more than %d digits", s, maxDigits)
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bound %q is not a number", s)
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}

// Count returns the number of hosts a list names (counting a host named
// twice twice), without expanding it. The count saturates at MaxUint64.
func Count(s string) (uint64, error) {
	if Empty(s) {
		return 0, nil
	}
	switch syntaxOf(s) {
	case pbsHost, pbsVnode:
		n := uint64(0)
		err := forEachPBS(s, syntaxOf(s) == pbsVnode, func(string) { n++ })
		return n, err
	}
	var p parser
	return p.parse(s)
}

type syntax uint8

const (
	slurm syntax = iota
	pbsHost
	pbsVnode
)

// syntaxOf tells the formats apart: a Slurm host name holds neither '/',
// '+' nor '(' , which every PBS exec_host ("n1/0+n2/0") and exec_vnode
// ("(n1:ncpus=4)") value has.
func syntaxOf(s string) syntax {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "(") {
		return pbsVnode
	}
	if strings.ContainsAny(s, "/+") {
		return pbsHost
	}
	return slurm
}

// Expander expands host lists, reusing its buffers from one list to the
// next: a caller expanding millions of lists keeps one. The zero value is
// ready; an Expander is not safe for concurrent use.
type Expander struct {
	p   parser
	buf []byte
}

// Expand calls fn with each host name of s (see the package function
// Expand).
func (e *Expander) Expand(s string, max int, fn func(host []byte)) error {
	if Empty(s) {
		return nil
	}
	if max < 0 {
		max = 0
	}
	if st := syntaxOf(s); st != slurm {
		n, err := Count(s)
		if err != nil {
			return err
		}
		if n > uint64(max) {
			return fmt.Errorf("%w: the list names %d hosts, more than %d", ErrTooMany, n, max)
		}
		return forEachPBS(s, st == pbsVnode, func(h string) {
			e.buf = append(e.buf[:0], h...)
			fn(e.buf)
		})
	}
	if !strings.ContainsAny(s, "[],") {
		// One plain host name, the most common list: no parse needed.
		h := strings.TrimSpace(s)
		if h == "" {
			return errors.New("empty host name")
		}
		if max < 1 {
			return fmt.Errorf("%w: the list names 1 host, more than %d", ErrTooMany, max)
		}
		e.buf = append(e.buf[:0], h...)
		fn(e.buf)
		return nil
	}
	n, err := e.p.parse(s)
	if err != nil {
		return err
	}
	if n > uint64(max) {
		return fmt.Errorf("%w: the list names %d hosts, more than %d", ErrTooMany, n, max)
	}
	for i := 0; i+1 < len(e.p.pats); i++ {
		e.buf = e.expand(e.p.parts[e.p.pats[i]:e.p.pats[i+1]], e.buf[:0], fn)
	}
	return nil
}

// Expand calls fn with each host name of s, in the order written: a Slurm
// hostlist, a PBS exec_host or a PBS exec_vnode value (told apart by their
// syntax; see Hosts). A list naming more than max hosts is refused with an
// error wrapping ErrTooMany before fn is called. The name passed to fn is
// only valid during the call.
func Expand(s string, max int, fn func(host []byte)) error {
	var e Expander
	return e.Expand(s, max, fn)
}

// expand walks the product of the groups of parts, appending to prefix;
// it returns the buffer for reuse.
func (e *Expander) expand(parts []part, prefix []byte, fn func([]byte)) []byte {
	if len(parts) == 0 {
		fn(prefix)
		return prefix
	}
	pt := parts[0]
	if !pt.group {
		return e.expand(parts[1:], append(prefix, pt.literal...), fn)
	}
	n := len(prefix)
	for _, sp := range e.p.spans[pt.lo:pt.hi] {
		for v := sp.lo; ; v++ {
			buf := appendPadded(prefix[:n], v, sp.width)
			prefix = e.expand(parts[1:], buf, fn)
			if v == sp.hi {
				break
			}
		}
	}
	return prefix[:n]
}

func appendPadded(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendUint(tmp[:0], v, 10)
	for k := len(d); k < width; k++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// Hosts returns the host names of s (see Expand), each once, in the order
// first written. A list naming more than max hosts is refused.
func Hosts(s string, max int) ([]string, error) {
	var out []string
	seen := map[string]struct{}{}
	err := Expand(s, max, func(h []byte) {
		if _, ok := seen[string(h)]; ok {
			return
		}
		name := string(h)
		seen[name] = struct{}{}
		out = append(out, name)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// forEachPBS calls fn with the host of every chunk of a PBS exec_host value
// ("n1/0*2+n2/1": the host before '/') or exec_vnode value
// ("(n1:ncpus=4+n1[1]:ncpus=2)+(n2:ncpus=4)": the vnode before ':', a
// vnode "n1[1]" of a multi-vnode host counting as its host n1).
func forEachPBS(s string, vnode bool, fn func(string)) error {
	for chunk := range strings.SplitSeq(strings.TrimSpace(s), "+") {
		c := strings.TrimSpace(chunk)
		if vnode {
			c = strings.TrimLeft(c, "(")
			c = strings.TrimRight(c, ")")
			c, _, _ = strings.Cut(c, ":")
			if i := strings.IndexByte(c, '['); i > 0 && strings.HasSuffix(c, "]") {
				if _, err := number(c[i+1 : len(c)-1]); err == nil {
					c = c[:i]
				}
			}
		} else {
			c, _, _ = strings.Cut(c, "/")
		}
		if c == "" {
			return fmt.Errorf("empty host in %.40q", s)
		}
		if strings.ContainsAny(c, "()[]:/, \t") {
			return fmt.Errorf("host %.40q is not a host name", c)
		}
		fn(c)
	}
	return nil
}
