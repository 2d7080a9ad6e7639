package usage

import (
	"errors"
	"sort"
)

// Ledger answers "how many resource-seconds were held in [from, to)" in
// time proportional to the hours of the window, not to the allocations
// held: the engine's prefix sums for trailing-window figures.
//
// Each allocation is two events: at its start its weights (cores, nodes,
// devices, in slots a caller numbers) begin to accrue, at its end they
// stop. Per hour the ledger keeps the sum of the event weights and their
// first moment (weight x seconds into the hour), which is all it takes to
// integrate a whole hour exactly; the hours at the two ends of a window
// are integrated from the events themselves, which the ledger keeps for
// the recent hours only (Prune drops the rest).
type Ledger struct {
	hours []int64 // sorted hour numbers (Unix seconds / 3600)
	aggs  []*hourAgg
	total []int64 // sum of every event weight, by slot
}

// Weight is a weight in one slot.
type Weight struct {
	Slot int
	W    int64
}

type hourAgg struct {
	s, m    []int64
	events  []ledgerEvent
	dropped bool // events pruned: the hour cannot be an end of a window
}

type ledgerEvent struct {
	off uint16 // seconds into the hour
	end bool
	id  uint32
}

// ErrPruned says that an end of the window falls in an hour whose events
// were pruned: the caller must compute the window another way.
var ErrPruned = errors.New("window end in a pruned hour")

const hourSec = 3600

func floorHour(t int64) int64 {
	h := t / hourSec
	if t%hourSec < 0 {
		h--
	}
	return h
}

func grow(v []int64, n int) []int64 {
	if len(v) >= n {
		return v
	}
	return append(v, make([]int64, n-len(v))...)
}

func (l *Ledger) hour(h int64) *hourAgg {
	i := sort.Search(len(l.hours), func(i int) bool { return l.hours[i] >= h })
	if i < len(l.hours) && l.hours[i] == h {
		return l.aggs[i]
	}
	a := &hourAgg{}
	l.hours = append(l.hours, 0)
	l.aggs = append(l.aggs, nil)
	copy(l.hours[i+1:], l.hours[i:])
	copy(l.aggs[i+1:], l.aggs[i:])
	l.hours[i], l.aggs[i] = h, a
	return a
}

// Add records allocation id's events: its weights accrue from start to
// end (end 0 or OpenEnd: still held). sign -1 takes back what an earlier
// Add with the same arguments recorded (the allocation was replaced).
func (l *Ledger) Add(id uint32, start, end int64, ws []Weight, sign int64) {
	if start <= 0 || (end != 0 && end != openEnd && end <= start) {
		return
	}
	l.event(id, start, false, ws, sign)
	if end != 0 && end != openEnd {
		l.event(id, end, true, ws, sign)
	}
}

func (l *Ledger) event(id uint32, t int64, end bool, ws []Weight, sign int64) {
	h := floorHour(t)
	a := l.hour(h)
	off := t - h*hourSec
	for _, w := range ws {
		n := w.Slot + 1
		a.s, a.m, l.total = grow(a.s, n), grow(a.m, n), grow(l.total, n)
		// An end event subtracts the weight its start added.
		v := sign * w.W
		if end {
			v = -v
		}
		a.s[w.Slot] += v
		a.m[w.Slot] += v * off
		l.total[w.Slot] += v
	}
	if a.dropped {
		return
	}
	ev := ledgerEvent{off: uint16(off), end: end, id: id}
	if sign > 0 {
		a.events = append(a.events, ev)
		return
	}
	for i, e := range a.events {
		if e == ev {
			a.events[i] = a.events[len(a.events)-1]
			a.events = a.events[:len(a.events)-1]
			return
		}
	}
}

// Prune drops the events of the hours before t: windows may no longer
// start or end there. Their aggregates stay.
func (l *Ledger) Prune(t int64) {
	h := floorHour(t)
	for i, x := range l.hours {
		if x >= h {
			break
		}
		if a := l.aggs[i]; !a.dropped {
			a.events, a.dropped = nil, true
		}
	}
}

// Amount adds to out (by slot) the resource-seconds held inside [from,
// to). weights gives the current weights of an allocation the window's
// end hours name (appended to buf).
func (l *Ledger) Amount(from, to int64, weights func(id uint32, buf []Weight) []Weight, out []int64) error {
	if to <= from {
		return nil
	}
	hf, ht := floorHour(from), floorHour(to)
	n := len(out)
	// act: the weight held at the start of hour hf = the sum of every
	// event before it.
	act := make([]int64, n)
	copy(act, l.total)
	i0 := sort.Search(len(l.hours), func(i int) bool { return l.hours[i] >= hf })
	for i := i0; i < len(l.hours); i++ {
		for k, v := range l.aggs[i].s {
			if k < n {
				act[k] -= v
			}
		}
	}
	var buf []Weight
	partial := func(h, off int64, sign int64) error {
		// sign x (integral over [h, h+off)) given act at h.
		for k := range act {
			out[k] += sign * off * act[k]
		}
		i := sort.Search(len(l.hours), func(i int) bool { return l.hours[i] >= h })
		if i == len(l.hours) || l.hours[i] != h || off == 0 {
			return nil
		}
		a := l.aggs[i]
		if a.dropped {
			return ErrPruned
		}
		for _, e := range a.events {
			if int64(e.off) >= off {
				continue
			}
			buf = weights(e.id, buf[:0])
			d := off - int64(e.off)
			for _, w := range buf {
				if w.Slot < n {
					v := w.W * d
					if e.end {
						v = -v
					}
					out[w.Slot] += sign * v
				}
			}
		}
		return nil
	}
	// -F(from) relative to the start of hf.
	if err := partial(hf, from-hf*hourSec, -1); err != nil {
		return err
	}
	// Whole hours from hf to ht, advancing act.
	i := i0
	for h := hf; h < ht; {
		var a *hourAgg
		if i < len(l.hours) && l.hours[i] == h {
			a = l.aggs[i]
		}
		next := ht
		if a == nil {
			if i < len(l.hours) && l.hours[i] < ht {
				next = l.hours[i]
			}
			// No event in [h, next): act holds.
			for k := range act {
				out[k] += (next - h) * hourSec * act[k]
			}
			h = next
			continue
		}
		for k := range act {
			var s, m int64
			if k < len(a.s) {
				s, m = a.s[k], a.m[k]
			}
			out[k] += hourSec*(act[k]+s) - m
			act[k] += s
		}
		i++
		h++
	}
	return partial(ht, to-ht*hourSec, 1)
}
