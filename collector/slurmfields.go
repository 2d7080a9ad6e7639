package collector

import (
	"bytes"
	"errors"
	"fmt"
	"math"
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

// slurmTimes are the wall times of one record, each with its fold
// readings, and its Elapsed when the input gives one.
type slurmTimes struct {
	submit, eligible, start, end localTime
	elapsed                      time.Duration
	hasElapsed                   bool
}

// resolve picks, when any time lies in a daylight-saving fold, the
// readings that keep Submit <= Eligible <= Start <= End (times that are
// unknown are left out of the order) and, among those, the ones whose
// End - Start is nearest to Elapsed (which excludes suspended time, so it
// may fall short of End - Start but never exceeds it). folded reports
// that a fold was met; ambiguous that several readings still fit equally
// well, in which case the earliest reading of each time is taken.
func (t slurmTimes) resolve() (submit, start, end time.Time, folded, ambiguous bool) {
	ts := [4]localTime{t.submit, t.eligible, t.start, t.end}
	if !(ts[0].ambiguous() || ts[1].ambiguous() || ts[2].ambiguous() || ts[3].ambiguous()) {
		return ts[0].T, ts[2].T, ts[3].T, false, false
	}
	best, bestScore, found := [4]time.Time{ts[0].T, ts[1].T, ts[2].T, ts[3].T}, time.Duration(0), false
	tie := false
	// Try the strict order first, then start <= end alone.
	for _, strict := range []bool{true, false} {
		for combo := range 16 {
			var c [4]time.Time
			skip := false
			for i, lt := range ts {
				if combo&(1<<i) != 0 {
					if !lt.ambiguous() {
						skip = true // the same reading as bit clear
						break
					}
					c[i] = lt.Alt
				} else {
					c[i] = lt.T
				}
			}
			if skip || !ordered(c, strict) {
				continue
			}
			var score time.Duration
			if t.hasElapsed && !c[2].IsZero() && !c[3].IsZero() {
				score = c[3].Sub(c[2]) - t.elapsed
				if score < 0 {
					score = -score + time.Nanosecond // Elapsed never exceeds End - Start
				}
			}
			switch {
			case !found || score < bestScore:
				best, bestScore, found, tie = c, score, true, false
			case score == bestScore && !(best[0].Equal(c[0]) && best[2].Equal(c[2]) && best[3].Equal(c[3])):
				tie = true
			}
		}
		if found {
			break
		}
	}
	return best[0], best[2], best[3], true, found && tie
}

// ordered reports whether the known times of c (submit, eligible, start,
// end) are in order; with strict false only start <= end is required.
func ordered(c [4]time.Time, strict bool) bool {
	if !strict {
		return c[2].IsZero() || c[3].IsZero() || !c[3].Before(c[2])
	}
	var prev time.Time
	for _, x := range c {
		if x.IsZero() {
			continue
		}
		if !prev.IsZero() && x.Before(prev) {
			return false
		}
		prev = x
	}
	return true
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
	var days int64
	if i := strings.IndexByte(s, '-'); i >= 0 {
		days, err = strconv.ParseInt(s[:i], 10, 64)
		if err != nil && errors.Is(err, strconv.ErrRange) && s[0] != '-' {
			return 0, false, rangeErr("duration %q: day count", s)
		}
		if err != nil || days < 0 {
			return 0, false, fmt.Errorf("duration %q: bad day count", s)
		}
		s = s[i+1:]
	}
	frac := time.Duration(0)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		ms, err := strconv.ParseFloat("0"+s[i:], 64)
		if err != nil || ms >= 1 {
			return 0, false, fmt.Errorf("duration %q: bad fraction", s)
		}
		frac = time.Duration(ms * float64(time.Second))
		s = s[:i]
	}
	var nums [3]int64
	k := 0
	for p := range strings.SplitSeq(s, ":") {
		if k == len(nums) {
			return 0, false, fmt.Errorf("duration %q: too many fields", s)
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil && errors.Is(err, strconv.ErrRange) && p[0] != '-' {
			return 0, false, rangeErr("duration %q: number %q", s, p)
		}
		if err != nil || n < 0 {
			return 0, false, fmt.Errorf("duration %q: bad number %q", s, p)
		}
		nums[k] = n
		k++
	}
	var h, m, sec int64
	switch k {
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
	}
	// Each part is checked before it is scaled, so nothing can wrap.
	const lim = maxSeconds
	if days > lim/86400 || h > lim/3600 || m > lim/60 || sec > lim {
		return 0, false, rangeErr("duration %q is longer than %d seconds", s, int64(lim))
	}
	total := days*86400 + h*3600 + m*60 + sec
	if total > lim {
		return 0, false, rangeErr("duration %q is longer than %d seconds", s, int64(lim))
	}
	return time.Duration(total)*time.Second + frac, false, nil
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
		index      map[string]int // type -> typed entry, for long lists
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
			n, err := tresCount(k, v)
			if err != nil {
				return t, err
			}
			t.cpu, t.hasCPU = n, true
		case k == "node":
			n, err := tresCount(k, v)
			if err != nil {
				return t, err
			}
			t.node, t.hasNode = n, true
		case k == "billing":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
				return t, fmt.Errorf("TRES billing=%q is not a finite number", v)
			}
			t.billing = f
		case strings.HasPrefix(k, "gres/"):
			name, typ, _ := strings.Cut(k[len("gres/"):], ":")
			if name == "" {
				return t, fmt.Errorf("TRES %s=%q has no GRES name", k, v)
			}
			n, err := tresCount(k, v)
			if err != nil {
				return t, err
			}
			g := byName[name]
			if g == nil {
				g = &gres{}
				byName[name] = g
				order = append(order, name)
			}
			var ok bool
			if typ == "" {
				if g.untyped, ok = addCount(g.untyped, n); !ok {
					return t, rangeErr("TRES %s: repeated counts sum above %d", k, job.MaxCount)
				}
				g.hasUntyped = true
				continue
			}
			// A repeated type is summed into its first entry, checked; an
			// index keeps a record of many types linear.
			i := -1
			if g.index != nil {
				if j, seen := g.index[typ]; seen {
					i = j
				}
			} else {
				for j := range g.typed {
					if g.typed[j].Type == typ {
						i = j
						break
					}
				}
			}
			if i >= 0 {
				if g.typed[i].Count, ok = addCount(g.typed[i].Count, n); !ok {
					return t, rangeErr("TRES %s: repeated counts sum above %d", k, job.MaxCount)
				}
				continue
			}
			g.typed = append(g.typed, job.Accel{Name: pool.String(name), Type: pool.String(typ), Count: n})
			if g.index == nil && len(g.typed) > 8 {
				g.index = make(map[string]int, 2*len(g.typed))
				for j, a := range g.typed {
					g.index[a.Type] = j
				}
			} else if g.index != nil {
				g.index[g.typed[len(g.typed)-1].Type] = len(g.typed) - 1
			}
		}
	}
	for _, name := range order {
		g := byName[name]
		t.accels = append(t.accels, splitGRES(pool.String(name), g.untyped, g.hasUntyped, g.typed)...)
	}
	return t, nil
}

// tresCount reads the count of one TRES item.
func tresCount(k, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err == nil && n > job.MaxCount || err != nil && errors.Is(err, strconv.ErrRange) && v != "" && v[0] != '-' {
		return 0, rangeErr("TRES %s=%q is above %d", k, v, job.MaxCount)
	}
	if err != nil || n < 0 {
		return 0, fmt.Errorf("TRES %s=%q is not a count", k, v)
	}
	return n, nil
}

// splitGRES combines the untyped count of one GRES name with its typed
// entries: typed counts are kept up to the untyped total and any remainder
// is returned with an empty type.
func splitGRES(name string, untyped int64, hasUntyped bool, typed []job.Accel) []job.Accel {
	if !hasUntyped {
		return typed
	}
	return appendSplitGRES(nil, name, untyped, typed)
}

// appendSplitGRES appends to out what splitGRES returns for a GRES name
// with an untyped count.
func appendSplitGRES(out []job.Accel, name string, untyped int64, typed []job.Accel) []job.Accel {
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

// wallCache remembers a stretch of wall-clock times that read in one way
// only in a zone, with its offset, so that the timestamps of a dump (which
// almost all fall in one such stretch) resolve without a zone lookup each.
type wallCache struct {
	loc    *time.Location
	lo, hi int64 // wall-clock seconds (as if UTC) of the stretch, [lo, hi)
	off    int64 // the zone's offset in the stretch, seconds east of UTC
	ok     bool

	// The date of the last "YYYY-MM-DDT" read, with the wall-clock
	// seconds of its midnight: the times of a dump come in runs of one day.
	day    [11]byte
	daySec int64
	dayOK  bool
}

// resolve is resolveWall(w, loc), from the cache when it can.
func (c *wallCache) resolve(w time.Time, loc *time.Location) localTime {
	if loc == time.UTC || loc == nil {
		return localTime{T: w, Alt: w}
	}
	ws := w.Unix()
	if c.ok && c.loc == loc && ws >= c.lo && ws < c.hi {
		t := time.Unix(ws-c.off, 0).UTC()
		return localTime{T: t, Alt: t}
	}
	lt := resolveWall(w, loc)
	if !lt.T.Equal(lt.Alt) {
		return lt
	}
	// Every wall time whose probes (26 hours either side) and reading stay
	// inside the zone period of this reading has this one reading: keep
	// that stretch, with a margin.
	off := ws - lt.T.Unix()
	start, end := lt.T.In(loc).ZoneBounds()
	const margin = 28 * 3600
	abs := off
	if abs < 0 {
		abs = -abs
	}
	c.loc, c.off, c.ok = loc, off, true
	c.lo, c.hi = math.MinInt64, math.MaxInt64
	if !start.IsZero() {
		c.lo = start.Unix() + margin + abs
	}
	if !end.IsZero() {
		c.hi = end.Unix() - margin - abs
	}
	if c.lo >= c.hi || ws < c.lo || ws >= c.hi {
		c.ok = false
	}
	return lt
}

// parseSlurmTimeBytes is parseSlurmTime over bytes: the common form
// "YYYY-MM-DDTHH:MM:SS" is read without allocating and resolved through
// the cache; any other value goes to parseSlurmTime, so that values and
// errors are the same.
func parseSlurmTimeBytes(b []byte, loc *time.Location, c *wallCache) (localTime, error) {
	if len(b) == 19 && c.dayOK && string(b[:11]) == string(c.day[:]) && b[13] == ':' && b[16] == ':' {
		h, hok := twoDigits(b[11], b[12])
		m, mok := twoDigits(b[14], b[15])
		sec, sok := twoDigits(b[17], b[18])
		if hok && mok && sok && h <= 23 && m <= 59 && sec <= 59 {
			ws := c.daySec + int64(h*3600+m*60+sec)
			if loc == time.UTC || loc == nil {
				t := time.Unix(ws, 0).UTC()
				return localTime{T: t, Alt: t}, nil
			}
			if c.ok && c.loc == loc && ws >= c.lo && ws < c.hi {
				t := time.Unix(ws-c.off, 0).UTC()
				return localTime{T: t, Alt: t}, nil
			}
		}
	}
	if w, ok := wallClock19(b); ok {
		copy(c.day[:], b[:11])
		c.daySec = w.Unix() - int64(w.Hour()*3600+w.Minute()*60+w.Second())
		c.dayOK = true
		return c.resolve(w, loc), nil
	}
	return parseSlurmTime(string(b), loc)
}

// twoDigits reads two ASCII digits.
func twoDigits(a, b byte) (int, bool) {
	a, b = a-'0', b-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

// wallClock19 reads "YYYY-MM-DDTHH:MM:SS" as a UTC time carrying the wall
// clock; ok is false for anything else, including out-of-range fields
// (which time.Parse then reports).
func wallClock19(b []byte) (time.Time, bool) {
	if len(b) != 19 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for k := i; k < i+n; k++ {
			d := b[k] - '0'
			if d > 9 {
				return -1
			}
			v = v*10 + int(d)
		}
		return v
	}
	y, mo, d := num(0, 4), num(5, 2), num(8, 2)
	h, mi, s := num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 {
		return time.Time{}, false
	}
	if d > daysIn(time.Month(mo), y) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC), true
}

func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// digits reads a run of at most 9 ASCII digits; ok is false for anything
// else (empty, signs, longer runs), which callers leave to strconv.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// parseSlurmDurationBytes is parseSlurmDuration over bytes: "UNLIMITED"
// and "[D-]HH:MM:SS" (and its shorter forms) of plain digits are read
// without allocating; anything else goes to parseSlurmDuration.
func parseSlurmDurationBytes(b []byte) (time.Duration, bool, error) {
	if string(b) == "UNLIMITED" {
		return 0, true, nil
	}
	if d, ok := fastDuration(b); ok {
		return d, false, nil
	}
	return parseSlurmDuration(string(b))
}

func fastDuration(b []byte) (time.Duration, bool) {
	var days int64
	if i := bytes.IndexByte(b, '-'); i >= 0 {
		var ok bool
		if days, ok = digits(b[:i]); !ok {
			return 0, false
		}
		b = b[i+1:]
	}
	var nums [3]int64
	k := 0
	for len(b) > 0 || k == 0 {
		if k == len(nums) {
			return 0, false
		}
		i := bytes.IndexByte(b, ':')
		part := b
		if i >= 0 {
			part, b = b[:i], b[i+1:]
			if len(b) == 0 {
				return 0, false // a trailing ':': leave it to the full parser
			}
		} else {
			b = nil
		}
		n, ok := digits(part)
		if !ok {
			return 0, false
		}
		nums[k] = n
		k++
	}
	var h, m, sec int64
	switch k {
	case 1:
		if days > 0 {
			h = nums[0]
		} else {
			m = nums[0]
		}
	case 2:
		if days > 0 {
			h, m = nums[0], nums[1]
		} else {
			m, sec = nums[0], nums[1]
		}
	case 3:
		h, m, sec = nums[0], nums[1], nums[2]
	}
	const lim = maxSeconds
	if days > lim/86400 || h > lim/3600 || m > lim/60 || sec > lim {
		return 0, false
	}
	total := days*86400 + h*3600 + m*60 + sec
	if total > lim {
		return 0, false
	}
	return time.Duration(total) * time.Second, true
}

// tresScratch is the working space of parseTRESBytes, kept by a reader so
// that reading a TRES string allocates only the accelerator list it
// returns.
type tresScratch struct {
	groups [maxFastGRES]fastGRES
	out    []job.Accel
}

// maxFastGRES bounds the GRES names, and the types of each, that
// parseTRESBytes handles itself; longer lists go to parseTRES.
const maxFastGRES = 8

type fastGRES struct {
	name       []byte
	untyped    int64
	hasUntyped bool
	typed      [maxFastGRES]job.Accel
	n          int
}

// parseTRESBytes is parseTRES over bytes for the common case (integer
// counts, a few GRES names and types): it reads without allocating
// anything but the accelerator list. Anything else, errors included, is
// read again by parseTRES, so that results and messages are the same.
//
// Names and types are interned through labels (pool making what it
// misses). With keep false the string is only checked: the accelerator
// list is not made.
func parseTRESBytes(b []byte, labels *labelTable, pool *intern.Pool, sc *tresScratch, keep bool) (tres, error) {
	if t, ok := fastTRES(b, labels, pool, sc, keep); ok {
		return t, nil
	}
	return parseTRES(string(b), pool)
}

func fastTRES(b []byte, labels *labelTable, pool *intern.Pool, sc *tresScratch, keep bool) (tres, bool) {
	var t tres
	if len(b) == 0 {
		return t, true
	}
	ng := 0
	for len(b) > 0 {
		item := b
		if i := bytes.IndexByte(b, ','); i >= 0 {
			item, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(item) == 0 {
			continue
		}
		eq := bytes.IndexByte(item, '=')
		if eq < 0 {
			return t, false
		}
		k, v := item[:eq], item[eq+1:]
		switch {
		case string(k) == "cpu" || string(k) == "node":
			n, ok := digits(v)
			if !ok || n > job.MaxCount {
				return t, false
			}
			if k[0] == 'c' {
				t.cpu, t.hasCPU = n, true
			} else {
				t.node, t.hasNode = n, true
			}
		case string(k) == "billing":
			n, ok := digits(v)
			if !ok {
				return t, false
			}
			t.billing = float64(n)
		case bytes.HasPrefix(k, []byte("gres/")):
			nt := k[len("gres/"):]
			name, typ := nt, []byte(nil)
			if c := bytes.IndexByte(nt, ':'); c >= 0 {
				name, typ = nt[:c], nt[c+1:]
			}
			if len(name) == 0 {
				return t, false
			}
			n, ok := digits(v)
			if !ok || n > job.MaxCount {
				return t, false
			}
			gi := -1
			for i := 0; i < ng; i++ {
				if bytes.Equal(sc.groups[i].name, name) {
					gi = i
					break
				}
			}
			if gi < 0 {
				if ng == maxFastGRES {
					return t, false
				}
				gi = ng
				ng++
				sc.groups[gi] = fastGRES{name: name}
			}
			g := &sc.groups[gi]
			if len(typ) == 0 {
				if g.untyped, ok = addCount(g.untyped, n); !ok {
					return t, false
				}
				g.hasUntyped = true
				continue
			}
			i := -1
			for j := 0; j < g.n; j++ {
				if g.typed[j].Type == string(typ) {
					i = j
					break
				}
			}
			if i >= 0 {
				if g.typed[i].Count, ok = addCount(g.typed[i].Count, n); !ok {
					return t, false
				}
				continue
			}
			if g.n == maxFastGRES {
				return t, false
			}
			g.typed[g.n] = job.Accel{Name: labels.get(name, pool), Type: labels.get(typ, pool), Count: n}
			g.n++
		}
	}
	if !keep {
		return t, true
	}
	out := sc.out[:0]
	for i := 0; i < ng; i++ {
		g := &sc.groups[i]
		if !g.hasUntyped {
			out = append(out, g.typed[:g.n]...)
			continue
		}
		out = appendSplitGRES(out, labels.get(g.name, pool), g.untyped, g.typed[:g.n])
	}
	sc.out = out[:0]
	if len(out) > 0 {
		t.accels = append([]job.Accel(nil), out...)
	}
	return t, true
}
