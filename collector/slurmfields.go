package collector

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scmon/scmon/internal/intern"
	"github.com/scmon/scmon/job"
)

// localTime is a wall-clock time read in a zone. In a daylight-saving fold
// the same wall time names two instants: T is the earlier, Alt the later
// (equal to T everywhere else), so that callers can choose the reading that
// keeps start before end.
type localTime struct {
	T, Alt time.Time
}

// parseSlurmTime reads a Slurm timestamp: "YYYY-MM-DDTHH:MM:SS" in loc,
// RFC 3339 with an offset, or Unix seconds (SLURM_TIME_FORMAT=%s). "Unknown",
// "None", "N/A" and the empty string give the zero time and no error.
func parseSlurmTime(s string, loc *time.Location) (localTime, error) {
	switch s {
	case "", "Unknown", "None", "N/A", "(null)", "unknown", "0":
		return localTime{}, nil
	}
	if allDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return localTime{}, err
		}
		t := time.Unix(n, 0).UTC()
		return localTime{T: t, Alt: t}, nil
	}
	if len(s) > 19 && (s[len(s)-1] == 'Z' || strings.ContainsAny(s[19:], "+-")) {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return localTime{}, fmt.Errorf("timestamp %q: %w", s, err)
		}
		return localTime{T: t, Alt: t}, nil
	}
	return parseWallClock(s, "2006-01-02T15:04:05", loc)
}

// parseWallClock parses a wall-clock time without offset in loc and
// resolves daylight-saving folds and gaps.
func parseWallClock(s, layout string, loc *time.Location) (localTime, error) {
	w, err := time.Parse(layout, s) // as UTC: its fields are the wall clock
	if err != nil {
		return localTime{}, fmt.Errorf("timestamp %q does not match %s", s, layout)
	}
	return resolveWall(w, loc), nil
}

// resolveWall turns wall-clock fields (carried in a UTC time) into the
// instants they name in loc.
func resolveWall(w time.Time, loc *time.Location) localTime {
	if loc == time.UTC || loc == nil {
		return localTime{T: w, Alt: w}
	}
	var found []time.Time
	for _, probe := range []time.Duration{-26 * time.Hour, 26 * time.Hour} {
		_, off := w.Add(probe).In(loc).Zone()
		u := w.Add(-time.Duration(off) * time.Second)
		if sameWall(u.In(loc), w) {
			dup := false
			for _, f := range found {
				dup = dup || f.Equal(u)
			}
			if !dup {
				found = append(found, u)
			}
		}
	}
	switch len(found) {
	case 0: // a gap (spring forward): the time does not exist; take the
		// offset in force before the change, as the clock would read it.
		_, off := w.Add(-26 * time.Hour).In(loc).Zone()
		u := w.Add(-time.Duration(off) * time.Second)
		return localTime{T: u, Alt: u}
	case 1:
		return localTime{T: found[0], Alt: found[0]}
	}
	a, b := found[0], found[1]
	if b.Before(a) {
		a, b = b, a
	}
	return localTime{T: a, Alt: b}
}

func sameWall(t, w time.Time) bool {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := w.Date()
	return y1 == y2 && m1 == m2 && d1 == d2 && t.Hour() == w.Hour() && t.Minute() == w.Minute() && t.Second() == w.Second()
}

// ambiguous reports whether the wall time named two instants.
func (l localTime) ambiguous() bool { return !l.T.Equal(l.Alt) }

// orderTimes picks, for wall times in a fold, the readings that keep
// submit <= start <= end. It reports whether a fold had to be resolved.
func orderTimes(submit, start, end localTime) (s, st, e time.Time, resolved bool) {
	s, st, e = submit.T, start.T, end.T
	if !(start.ambiguous() || end.ambiguous() || submit.ambiguous()) {
		return s, st, e, false
	}
	if !st.IsZero() && !e.IsZero() && e.Before(st) {
		if end.ambiguous() && !end.Alt.Before(st) {
			e = end.Alt
		} else if start.ambiguous() && !e.Before(start.T) {
			st = start.T
		}
	}
	if !s.IsZero() && !st.IsZero() && st.Before(s) && start.ambiguous() && !start.Alt.Before(s) && (e.IsZero() || !e.Before(start.Alt)) {
		st = start.Alt
	}
	return s, st, e, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseSlurmDuration reads "[D-]HH:MM:SS", "MM:SS", "MM:SS.mmm" and plain
// minutes. "UNLIMITED", "Partition_Limit", "INVALID" and "" give zero with
// unlimited reporting whether the limit is open-ended.
func parseSlurmDuration(s string) (d time.Duration, unlimited bool, err error) {
	switch strings.ToUpper(s) {
	case "", "NONE", "INVALID", "N/A":
		return 0, false, nil
	case "UNLIMITED", "PARTITION_LIMIT", "INFINITE":
		return 0, true, nil
	}
	days := 0
	if i := strings.IndexByte(s, '-'); i >= 0 {
		days, err = strconv.Atoi(s[:i])
		if err != nil || days < 0 {
			return 0, false, fmt.Errorf("duration %q: bad day count", s)
		}
		s = s[i+1:]
	}
	frac := time.Duration(0)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		ms, err := strconv.ParseFloat("0"+s[i:], 64)
		if err != nil {
			return 0, false, fmt.Errorf("duration %q: bad fraction", s)
		}
		frac = time.Duration(ms * float64(time.Second))
		s = s[:i]
	}
	parts := strings.Split(s, ":")
	var h, m, sec int
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, false, fmt.Errorf("duration %q: bad number %q", s, p)
		}
		nums[i] = n
	}
	switch len(nums) {
	case 1:
		if days > 0 { // "D-HH"
			h = nums[0]
		} else { // plain minutes
			m = nums[0]
		}
	case 2:
		if days > 0 { // "D-HH:MM"
			h, m = nums[0], nums[1]
		} else { // "MM:SS"
			m, sec = nums[0], nums[1]
		}
	case 3:
		h, m, sec = nums[0], nums[1], nums[2]
	default:
		return 0, false, fmt.Errorf("duration %q: too many fields", s)
	}
	d = time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + frac
	return d, false, nil
}

// tres holds the parts of a Slurm TRES string that scmon uses.
type tres struct {
	cpu, node int64
	hasCPU    bool
	hasNode   bool
	billing   float64
	accels    []job.Accel
}

// parseTRES reads "billing=36,cpu=36,gres/gpu=4,gres/gpu:a100=4,mem=48000M,node=3".
// For each GRES name, the untyped entry is the count when present and the
// typed entries say which types it is made of; without it the typed entries
// are summed. The two are never added.
func parseTRES(s string, pool *intern.Pool) (tres, error) {
	var t tres
	if s == "" {
		return t, nil
	}
	type gres struct {
		untyped    int64
		hasUntyped bool
		typed      []job.Accel
	}
	var order []string
	byName := map[string]*gres{}
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return t, fmt.Errorf("TRES item %q has no '='", item)
		}
		switch {
		case k == "cpu":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return t, fmt.Errorf("TRES cpu=%q is not a count", v)
			}
			t.cpu, t.hasCPU = n, true
		case k == "node":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return t, fmt.Errorf("TRES node=%q is not a count", v)
			}
			t.node, t.hasNode = n, true
		case k == "billing":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return t, fmt.Errorf("TRES billing=%q is not a number", v)
			}
			t.billing = f
		case strings.HasPrefix(k, "gres/"):
			name, typ, _ := strings.Cut(k[len("gres/"):], ":")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || name == "" {
				return t, fmt.Errorf("TRES %s=%q is not a count", k, v)
			}
			g := byName[name]
			if g == nil {
				g = &gres{}
				byName[name] = g
				order = append(order, name)
			}
			if typ == "" {
				g.untyped += n
				g.hasUntyped = true
			} else {
				g.typed = append(g.typed, job.Accel{Name: pool.String(name), Type: pool.String(typ), Count: n})
			}
		}
	}
	for _, name := range order {
		g := byName[name]
		t.accels = append(t.accels, splitGRES(pool.String(name), g.untyped, g.hasUntyped, g.typed)...)
	}
	return t, nil
}

// splitGRES combines the untyped count of one GRES name with its typed
// entries: typed counts are kept up to the untyped total and any remainder
// is returned with an empty type.
func splitGRES(name string, untyped int64, hasUntyped bool, typed []job.Accel) []job.Accel {
	if !hasUntyped {
		return typed
	}
	var out []job.Accel
	left := untyped
	for _, a := range typed {
		if left <= 0 {
			break
		}
		if a.Count > left {
			a.Count = left
		}
		left -= a.Count
		if a.Count > 0 {
			out = append(out, a)
		}
	}
	if left > 0 {
		out = append(out, job.Accel{Name: name, Count: left})
	}
	return out
}
