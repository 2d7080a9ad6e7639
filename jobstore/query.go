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

// jobFilter is the part of a JobQuery that Jobs checks on the decoded
// records: the lists of values a field must be one of.
type jobFilter struct {
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

// empty reports whether f lets every record through.
func (f *jobFilter) empty() bool {
	return f.clusters == nil && f.partitions == nil && f.accounts == nil && f.users == nil && f.classes == nil && f.states == nil
}

// match reports whether r with decision d passes f.
func (f *jobFilter) match(r *job.Record, d job.Decision) bool {
	in := func(m map[string]bool, v string) bool { return m == nil || m[v] }
	return in(f.clusters, r.Cluster) && in(f.partitions, r.Partition) && in(f.accounts, r.Account) &&
		in(f.users, r.User) && (f.classes == nil || f.classes[d.Class]) && in(f.states, r.State.String())
}

// jobsQuery returns the SQL and arguments of q's time range for dialect
// d, and the filter of its other fields, which Jobs applies to the
// decoded records. maxDuration is the longest run stored (meta's
// max_duration): an ended run that overlaps [From, To) started at most that
// long before From, which bounds the index range of start times to read;
// running runs are found through their partial index. The SQL applies q's
// limit and offset only when the filter is empty.
func jobsQuery(q JobQuery, d *dialect, maxDuration int64) (string, []any, *jobFilter, error) {
	limit := q.Limit
	switch {
	case limit < 0 || q.Offset < 0:
		return "", nil, nil, errors.New("limit and offset must not be negative")
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		return "", nil, nil, fmt.Errorf("limit %d is over the maximum of %d", limit, MaxLimit)
	}
	b := &queryBuilder{d: d}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return "", nil, nil, fmt.Errorf("time range [%s, %s) is empty", q.From.UTC().Format("2006-01-02T15:04:05Z"), q.To.UTC().Format("2006-01-02T15:04:05Z"))
	}
	// Runs that never started (start_time 0) hold nothing and overlap no
	// range.
	before := func() string {
		if q.To.IsZero() {
			return ""
		}
		return " AND start_time < " + b.arg(q.To.Unix())
	}
	switch {
	case !q.From.IsZero():
		from := q.From.Unix()
		lo := max(from-max(maxDuration, 0), 1)
		ended := "start_time >= " + b.arg(lo) + before() + " AND end_time > " + b.arg(from)
		running := "end_time IS NULL AND start_time > 0" + before()
		b.where = append(b.where, "(("+ended+") OR ("+running+"))")
	case !q.To.IsZero():
		b.where = append(b.where, "start_time > 0"+before())
	}
	f := &jobFilter{
		clusters: set(q.Clusters), partitions: set(q.Partitions), accounts: set(q.Accounts), users: set(q.Users),
		classes: set(q.Classes),
	}
	for _, c := range q.Classes {
		if _, ok := classByName[c.String()]; !ok {
			return "", nil, nil, fmt.Errorf("unknown class %s", c)
		}
	}
	if len(q.States) > 0 {
		f.states = map[string]bool{}
		for _, st := range q.States {
			f.states[st.String()] = true
		}
	}

	var sb strings.Builder
	sb.WriteString("SELECT " + readColumns + " FROM jobs")
	if len(b.where) > 0 {
		sb.WriteString(" WHERE " + strings.Join(b.where, " AND "))
	}
	sb.WriteString(" ORDER BY start_time, id")
	if f.empty() {
		sb.WriteString(" LIMIT " + b.arg(int64(limit)) + " OFFSET " + b.arg(int64(q.Offset)))
	}
	return sb.String(), b.args, f, nil
}
