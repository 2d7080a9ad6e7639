package collector

import (
	"hash/maphash"
	"strings"
	"unicode/utf8"

	"github.com/scmon/scmon/internal/intern"
)

// labelTable interns the values that repeat from one record to the next
// (partitions, accounts, users, states, QOS, node lists, GRES names and
// types) with a fixed number of slots: a value seen before costs a hash
// and a comparison and allocates nothing, and a file of endless distinct
// values (hostile or merely large) cannot make it grow, since a new value
// takes the place of an old one. It is keyed by the bytes of the value,
// with a seed of its own, so that a file cannot choose values that collide.
//
// A labelTable is not safe for concurrent use: each reader has its own.
type labelTable struct {
	seed  maphash.Seed
	slots []string // a power of two, in sets of two
	fills int      // values made since the table last grew
}

const (
	// labelSlots is the most values a table holds: real dumps have
	// hundreds of users and partitions, a few thousand node lists. A table
	// starts with minLabelSlots and doubles while it misses often, so that
	// a small input costs a small table.
	labelSlots    = 8192
	minLabelSlots = 256
	// maxLabel is the longest value a table holds; a longer one is copied
	// each time (it is rare, and would let a file pin much memory).
	maxLabel = 256
)

// get returns the string equal to b, from the table when it holds it;
// otherwise it makes it (through pool when not nil) and keeps it.
func (t *labelTable) get(b []byte, pool *intern.Pool) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxLabel {
		return pool.Bytes(b)
	}
	if t.slots == nil {
		t.seed = maphash.MakeSeed()
		t.slots = make([]string, minLabelSlots)
	}
	i := int(maphash.Bytes(t.seed, b)) & (len(t.slots) - 1) &^ 1
	if s := t.slots[i]; s == string(b) {
		return s
	}
	if s := t.slots[i+1]; s == string(b) {
		t.slots[i], t.slots[i+1] = s, t.slots[i] // the most recent first
		return s
	}
	s := pool.Bytes(b)
	if t.fills++; t.fills > len(t.slots) && len(t.slots) < labelSlots {
		t.slots, t.fills = make([]string, 2*len(t.slots)), 0
		i = int(maphash.Bytes(t.seed, b)) & (len(t.slots) - 1) &^ 1
	}
	t.slots[i], t.slots[i+1] = s, t.slots[i]
	return s
}

// label is readerBase.label through the reader's table: valid UTF-8
// (ascii says the caller knows the value is ASCII) is interned by the
// table, the caller's pool (Options.Strings) making what the table misses
// when the caller gave one; invalid UTF-8 is repaired and counted as
// readerBase.label does.
func (s *SacctReader) label(v []byte, ascii bool) string {
	if len(v) == 0 {
		return ""
	}
	if !ascii && !utf8.Valid(v) {
		s.notes["invalid_utf8"]++
		v = []byte(strings.ToValidUTF8(string(v), "\uFFFD"))
	}
	return s.labels.get(v, s.pool)
}
