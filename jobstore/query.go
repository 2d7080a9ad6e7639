package jobstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/scmon/scmon/job"
)

// queryBuilder assembles a WHERE clause and its arguments.
type queryBuilder struct {
	d     *dialect
	where []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (b *queryBuilder) arg(v any) string {
	b.args = append(b.args, v)
	if b.d.numbered {
		return "$" + strconv.Itoa(len(b.args))
	}
	return "?"
}

// jobFilter is what Jobs checks on the decoded records: the time range
// and the lists of values a field must be one of.
type jobFilter struct {
	// from and to are the range in Unix seconds (0: open); timed is set
	// when either is.
	from, to                              int64
	timed                                 bool
	clusters, partitions, accounts, users map[string]bool
	classes                               map[job.Class]bool
	// states holds state names: a state without a storage code is stored
	// as OTHER, and matches as OTHER.
	states map[string]bool
}

// set returns the values as a set, nil when there are none.
func set[T comparable](values []T) map[T]bool {
	if len(values) == 0 {
		return nil
	}
	m := make(map[T]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// matchTimes reports whether a run of start and end (Unix seconds, 0:
// unset) overlaps f's time range. Runs that never started hold nothing and
// overlap no range; a running run's end is open.
func (f *jobFilter) matchTimes(start, end int64) bool {
	return start != 0 && (f.to == 0 || start < f.to) && (f.from == 0 || end == 0 || end > f.from)
}

// matchHead reports whether a record of head h may pass f: false when its
// times or the strings of its head rule it out.
func (f *jobFilter) matchHead(h *docHead) bool {
	in := func(m map[string]bool, v []byte) bool { return m == nil || m[string(v)] }
	return (!f.timed || f.matchTimes(h.start, h.end)) && in(f.clusters, h.cluster) && in(f.partitions, h.partition) &&
		in(f.accounts, h.account) && in(f.users, h.user)
}

// match reports whether r with decision d passes f.
func (f *jobFilter) match(r *job.Record, d job.Decision) bool {
	if f.timed && !f.matchTimes(unixOf(r.Start), unixOf(r.End)) {
		return false
	}
	in := func(m map[string]bool, v string) bool { return m == nil || m[v] }
	return in(f.clusters, r.Cluster) && in(f.partitions, r.Partition) && in(f.accounts, r.Account) &&
		in(f.users, r.User) && (f.classes == nil || f.classes[d.Class]) && in(f.states, r.State.String())
}

// jobsPlan is how Jobs answers a query: the SQL selecting the blocks that
// may hold matching records (by their time bounds), the filter of the
// records, and the rows to skip and return.
type jobsPlan struct {
	sql           string
	args          []any
	filter        *jobFilter
	offset, limit int
}

// jobsQuery checks q and returns its plan for dialect d.
func jobsQuery(q JobQuery, d *dialect) (*jobsPlan, error) {
	limit := q.Limit
	switch {
	case limit < 0 || q.Offset < 0:
		return nil, errors.New("limit and offset must not be negative")
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		return nil, fmt.Errorf("limit %d is over the maximum of %d", limit, MaxLimit)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return nil, fmt.Errorf("time range [%s, %s) is empty", q.From.UTC().Format("2006-01-02T15:04:05Z"), q.To.UTC().Format("2006-01-02T15:04:05Z"))
	}
	for _, c := range q.Classes {
		if _, ok := classByName[c.String()]; !ok {
			return nil, fmt.Errorf("unknown class %s", c)
		}
	}
	b := &queryBuilder{d: d}
	f := &jobFilter{
		from: unixOf(q.From), to: unixOf(q.To), timed: !q.From.IsZero() || !q.To.IsZero(),
		clusters: set(q.Clusters), partitions: set(q.Partitions), accounts: set(q.Accounts), users: set(q.Users),
		classes: set(q.Classes),
	}
	if len(q.States) > 0 {
		f.states = map[string]bool{}
		for _, st := range q.States {
			f.states[st.String()] = true
		}
	}
	// A block may hold a match when one of its runs started before To and
	// one ended after From or is still running.
	if f.timed {
		b.where = append(b.where, "min_start > 0")
	}
	if f.to != 0 {
		b.where = append(b.where, "min_start < "+b.arg(f.to))
	}
	if f.from != 0 {
		b.where = append(b.where, "(max_end > "+b.arg(f.from)+" OR running > 0)")
	}
	var sb strings.Builder
	sb.WriteString("SELECT id, keys, data FROM blocks")
	if len(b.where) > 0 {
		sb.WriteString(" WHERE " + strings.Join(b.where, " AND "))
	}
	sb.WriteString(" ORDER BY id")
	return &jobsPlan{sql: sb.String(), args: b.args, filter: f, offset: q.Offset, limit: limit}, nil
}
