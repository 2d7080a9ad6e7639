package usage

import (
	"fmt"
	"time"
)

// Period is the length of the buckets of a time series.
type Period string

// The periods. Days, weeks (from Monday) and months follow the calendar of
// the query's location.
const (
	None  Period = ""
	Hour  Period = "hour"
	Day   Period = "day"
	Week  Period = "week"
	Month Period = "month"
)

// ParsePeriod reads a period name.
func ParsePeriod(s string) (Period, error) {
	switch p := Period(s); p {
	case None, Hour, Day, Week, Month:
		return p, nil
	}
	return None, fmt.Errorf("unknown period %q (want hour, day, week or month)", s)
}

// Span is a half-open interval [From, To).
type Span struct {
	From, To time.Time
}

// Buckets splits [from, to) at the period boundaries of loc. The first and
// last buckets are cut to the window, so that the buckets tile it exactly.
func Buckets(from, to time.Time, every Period, loc *time.Location) ([]Span, error) {
	if every == None {
		return nil, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	start, err := floor(from.In(loc), every)
	if err != nil {
		return nil, err
	}
	var out []Span
	for b := start; b.Before(to); {
		next := advance(b, every)
		lo, hi := b, next
		if lo.Before(from) {
			lo = from
		}
		if hi.After(to) {
			hi = to
		}
		out = append(out, Span{From: lo, To: hi})
		b = next
		if len(out) > 1_000_000 {
			return nil, fmt.Errorf("more than a million %s buckets: choose a longer period", every)
		}
	}
	return out, nil
}

// floor returns the start of the period holding t, in t's location.
func floor(t time.Time, every Period) (time.Time, error) {
	y, m, d := t.Date()
	loc := t.Location()
	switch every {
	case Hour:
		// An hour boundary is an hour boundary in UTC too, except in
		// zones with sub-hour offsets, whose local hours are used.
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, loc), nil
	case Day:
		return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
	case Week:
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		return time.Date(y, m, d-wd, 0, 0, 0, 0, loc), nil
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc), nil
	}
	return time.Time{}, fmt.Errorf("unknown period %q", every)
}

// advance returns the start of the period after the one starting at b.
func advance(b time.Time, every Period) time.Time {
	switch every {
	case Hour:
		return b.Add(time.Hour)
	case Day:
		return time.Date(b.Year(), b.Month(), b.Day()+1, 0, 0, 0, 0, b.Location())
	case Week:
		return time.Date(b.Year(), b.Month(), b.Day()+7, 0, 0, 0, 0, b.Location())
	default:
		return time.Date(b.Year(), b.Month()+1, 1, 0, 0, 0, 0, b.Location())
	}
}

// shortest is a lower bound of a period's length in seconds: a local hour
// can be 30 minutes where a zone moves its clock by half an hour, a day 23
// hours, a week and a month an hour less than their calendar length.
var shortest = map[Period]int64{Hour: 1800, Day: 23 * 3600, Week: 7*86400 - 3600, Month: 28*86400 - 3600}

// MaxBuckets returns an upper bound of the number of buckets Buckets gives
// for [from, to), without computing them: a caller bounds the size of an
// answer before asking for it. It works on whole seconds, since a
// time.Duration saturates at 292 years and a range from year 1 to 9999
// would pass for a short one.
func MaxBuckets(from, to time.Time, every Period) int64 {
	if every == None || !to.After(from) {
		return 0
	}
	n, ok := shortest[every]
	if !ok {
		return 0
	}
	return (to.Unix()-from.Unix())/n + 2
}
