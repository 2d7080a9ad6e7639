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
// (literal empty) whose ranges are tried in order.
type part struct {
	literal string
	spans   []span
}

func (p *part) size() uint64 {
	var n uint64
	for _, s := range p.spans {
		n = addSat(n, s.hi-s.lo+1)
	}
	return n
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

// pattern is one top-level item of a Slurm hostlist: a host name with zero
// or more bracket groups, naming the product of its groups.
type pattern []part

func (p pattern) count() uint64 {
	n := uint64(1)
	for i := range p {
		if p[i].spans != nil {
			n = mulSat(n, p[i].size())
		}
	}
	return n
}

// splitTop splits a Slurm hostlist at the commas outside brackets.
func splitTop(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			if depth > 0 {
				return nil, fmt.Errorf("nested '[' at offset %d", i)
			}
			depth++
		case ']':
			if depth == 0 {
				return nil, fmt.Errorf("unbalanced ']' at offset %d", i)
			}
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced '['")
	}
	return append(out, s[start:]), nil
}

func parsePattern(item string) (pattern, error) {
	item = strings.TrimSpace(item)
	if item == "" {
		return nil, errors.New("empty host name")
	}
	var p pattern
	for item != "" {
		open := strings.IndexByte(item, '[')
		if open < 0 {
			p = append(p, part{literal: item})
			break
		}
		if open > 0 {
			p = append(p, part{literal: item[:open]})
		}
		end := strings.IndexByte(item[open:], ']')
		if end < 0 {
			return nil, errors.New("unbalanced '['")
		}
		g := part{spans: []span{}}
		for r := range strings.SplitSeq(item[open+1:open+end], ",") {
			sp, err := parseSpan(r)
			if err != nil {
				return nil, err
			}
			g.spans = append(g.spans, sp)
		}
		p = append(p, g)
		item = item[open+end+1:]
	}
	return p, nil
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

// parseSlurm reads a Slurm hostlist into patterns and counts its hosts
// (saturating at MaxUint64).
func parseSlurm(s string) ([]pattern, uint64, error) {
	items, err := splitTop(s)
	if err != nil {
		return nil, 0, err
	}
	pats := make([]pattern, 0, len(items))
	var total uint64
	for _, it := range items {
		p, err := parsePattern(it)
		if err != nil {
			return nil, 0, fmt.Errorf("host %.40q: %w", strings.TrimSpace(it), err)
		}
		pats = append(pats, p)
		total = addSat(total, p.count())
	}
	return pats, total, nil
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
	_, n, err := parseSlurm(s)
	return n, err
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

// Expand calls fn with each host name of s, in the order written: a Slurm
// hostlist, a PBS exec_host or a PBS exec_vnode value (told apart by their
// syntax; see Hosts). A list naming more than max hosts is refused with an
// error wrapping ErrTooMany before fn is called. The name passed to fn is
// only valid during the call.
func Expand(s string, max int, fn func(host []byte)) error {
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
		var buf []byte
		return forEachPBS(s, st == pbsVnode, func(h string) {
			buf = append(buf[:0], h...)
			fn(buf)
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
		var one [64]byte
		fn(append(one[:0], h...))
		return nil
	}
	pats, n, err := parseSlurm(s)
	if err != nil {
		return err
	}
	if n > uint64(max) {
		return fmt.Errorf("%w: the list names %d hosts, more than %d", ErrTooMany, n, max)
	}
	var buf []byte
	for _, p := range pats {
		buf = expand(p, 0, buf[:0], fn)
	}
	return nil
}

// expand walks the product of p's groups from part i on, appending to
// prefix; it returns the buffer for reuse.
func expand(p pattern, i int, prefix []byte, fn func([]byte)) []byte {
	if i == len(p) {
		fn(prefix)
		return prefix
	}
	if p[i].spans == nil {
		return expand(p, i+1, append(prefix, p[i].literal...), fn)
	}
	n := len(prefix)
	for _, sp := range p[i].spans {
		for v := sp.lo; ; v++ {
			buf := appendPadded(prefix[:n], v, sp.width)
			prefix = expand(p, i+1, buf, fn)
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
