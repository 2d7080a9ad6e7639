package jobstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// in adds "column matches one of values" (nothing when values is empty):
// an array parameter where placeholders are numbered (PostgreSQL), a list
// of placeholders otherwise (SQLite).
func (b *queryBuilder) in(column string, values []string) {
	switch {
	case len(values) == 0:
	case b.d.numbered:
		b.where = append(b.where, column+" = ANY("+b.arg(values)+")")
	default:
		ph := make([]string, len(values))
		for i, v := range values {
			ph[i] = b.arg(v)
		}
		b.where = append(b.where, column+" IN ("+strings.Join(ph, ", ")+")")
	}
}

// jobsQuery returns the SQL and arguments of q for dialect d. maxDuration
// is the longest run stored (meta's max_duration): an ended run that
// overlaps [From, To) started at most that long before From, which bounds
// the index range of start times to read; running runs are found through
// the end_time index.
func jobsQuery(q JobQuery, d *dialect, maxDuration int64) (string, []any, error) {
	limit := q.Limit
	switch {
	case limit < 0 || q.Offset < 0:
		return "", nil, errors.New("limit and offset must not be negative")
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		return "", nil, fmt.Errorf("limit %d is over the maximum of %d", limit, MaxLimit)
	}
	b := &queryBuilder{d: d}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return "", nil, fmt.Errorf("time range [%s, %s) is empty", q.From.UTC().Format("2006-01-02T15:04:05Z"), q.To.UTC().Format("2006-01-02T15:04:05Z"))
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
	b.in("cluster", q.Clusters)
	b.in("partition_name", q.Partitions)
	b.in("account", q.Accounts)
	b.in("user_name", q.Users)
	classes := make([]string, len(q.Classes))
	for i, c := range q.Classes {
		if _, ok := classByName[c.String()]; !ok {
			return "", nil, fmt.Errorf("unknown class %s", c)
		}
		classes[i] = c.String()
	}
	b.in("class", classes)
	states := make([]string, len(q.States))
	for i, s := range q.States {
		states[i] = s.String()
	}
	b.in("state", states)

	var sb strings.Builder
	sb.WriteString("SELECT " + readColumns + " FROM jobs")
	if len(b.where) > 0 {
		sb.WriteString(" WHERE " + strings.Join(b.where, " AND "))
	}
	sb.WriteString(" ORDER BY start_time, id LIMIT " + b.arg(int64(limit)) + " OFFSET " + b.arg(int64(q.Offset)))
	return sb.String(), b.args, nil
}
