// Package intern deduplicates repeated strings (users, accounts, partitions,
// states) so that millions of records share one copy of each value.
package intern

// Pool hands out one canonical copy of each distinct string it has seen. A
// Pool is not safe for concurrent use; give each reader its own or guard it.
type Pool struct {
	m map[string]string
}

// New returns an empty pool.
func New() *Pool { return &Pool{m: make(map[string]string)} }

// Bytes returns the canonical string equal to b, copying b only the first
// time that value is seen.
func (p *Pool) Bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if p == nil {
		return string(b)
	}
	if s, ok := p.m[string(b)]; ok { // no allocation: the compiler optimises this lookup
		return s
	}
	s := string(b)
	p.m[s] = s
	return s
}

// String returns the canonical copy of s.
func (p *Pool) String(s string) string {
	if s == "" || p == nil {
		return s
	}
	if c, ok := p.m[s]; ok {
		return c
	}
	p.m[s] = s
	return s
}

// Len returns the number of distinct strings held.
func (p *Pool) Len() int { return len(p.m) }
