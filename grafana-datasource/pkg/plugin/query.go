package plugin

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Query types, in DataQuery.QueryType (or the model's queryType).
const (
	// QueryTypeFigures asks for utilization and AI share over time:
	// alerting-capable labelled time series.
	QueryTypeFigures = "figures"
	// QueryTypeTable asks for the top groups of the range: a table.
	QueryTypeTable = "table"
	// QueryTypeJobs asks for job rows with their class and rules: a table.
	QueryTypeJobs = "jobs"
)

// Figures a figures or table query can return. Ratios are in 0..1.
const (
	FigureUtilization    = "utilization"
	FigureAIShare        = "ai_share"
	FigureAIShareUpper   = "ai_share_upper"
	FigureAllocatedHours = "allocated_hours"
	FigureCapacityHours  = "capacity_hours"
)

// Limits of the query model.
const (
	DefaultTableLimit = 10
	MaxTableLimit     = 1000
	DefaultJobsLimit  = 100
	// MaxJobsLimit is scmon's own bound of one page of jobs.
	MaxJobsLimit = 10_000
	// MaxPoints is scmon's bound of the periods of one figures query.
	MaxPoints = 10_000
)

var (
	knownFigures   = []string{FigureUtilization, FigureAIShare, FigureAIShareUpper, FigureAllocatedHours, FigureCapacityHours}
	defaultFigures = []string{FigureUtilization, FigureAIShare, FigureAIShareUpper}
	// knownResources are the bases scmon states figures in; "primary"
	// (or empty) means the center's headline basis.
	knownResources = []string{"primary", "cpu", "nodes", "accelerator", "billing"}
	knownPeriods   = []string{"auto", "hour", "day", "week", "month", "total"}
	knownKeys      = []string{"cluster", "partition", "account", "user", "class", "kind", "model"}
	knownOrders    = []string{FigureUtilization, FigureAIShare, FigureAIShareUpper, FigureAllocatedHours}
	knownClasses   = []string{"ai_training", "ai_inference", "other", "unknown"}
	knownOrder     = []string{"desc", "asc"}
	// jobColumns are the columns of a jobs frame, in their default order.
	jobColumns = []string{"job_id", "cluster", "partition", "account", "user", "name", "state",
		"start", "end", "nodes", "cores", "accelerators", "class", "rules"}
	// privateKeys are the grouping keys that need
	// Settings.AllowGroupByAccountUser.
	privateKeys = []string{"account", "user"}
)

// queryModel is the JSON of one query, as a panel or an alert rule sends
// it. Grafana adds keys of its own (refId, datasource, intervalMs, ...);
// they are ignored. List fields take a JSON list or a comma-separated
// string, so that a multi-value dashboard variable interpolated as CSV
// works.
type queryModel struct {
	QueryType string `json:"queryType"`

	// Resource is the basis of utilization and AI share: primary (the
	// default: the center's headline basis), cpu, nodes, accelerator or
	// billing. figures and table.
	Resource string `json:"resource"`
	// Figures are the series of a figures query; default utilization,
	// ai_share, ai_share_upper.
	Figures stringList `json:"figures"`
	// Every is the step of a figures query: auto (the default: from the
	// panel's interval), hour, day, week or month, or total for one point
	// per series holding the figure of the whole range (what an alert on
	// "utilization over the last 30 days" wants: an average of periods
	// would weigh short and long periods alike). scmon's periods are
	// calendar periods in Timezone.
	Every string `json:"every"`
	// GroupBy are grouping keys: cluster, partition, account, user, class,
	// kind, model. Optional for figures, required for table.
	GroupBy stringList `json:"groupBy"`
	// Timezone is the IANA zone of the calendar periods; empty means
	// scmon's reporting zone.
	Timezone string `json:"timezone"`

	// OrderBy ranks the groups of a table query: utilization (the
	// default), ai_share, ai_share_upper or allocated_hours, highest first.
	OrderBy string `json:"orderBy"`
	// Order is desc (the default: highest first) or asc (lowest first);
	// groups where the figure has no meaning come last either way.
	Order string `json:"order"`
	// Limit is the number of rows of a table (default 10) or jobs (default
	// 100) query: a number, or a string of digits (an interpolated
	// dashboard variable).
	Limit flexInt `json:"limit"`

	// Filters; empty does not filter, a list matches any of its values.
	// Figures and table queries keep the groups whose key matches (the
	// key becomes a label of each series); jobs queries ask scmon for the
	// matching jobs and do not filter by accelerator (Kinds, Models).
	Clusters   stringList `json:"clusters"`
	Partitions stringList `json:"partitions"`
	Accounts   stringList `json:"accounts"`
	Users      stringList `json:"users"`
	Classes    stringList `json:"classes"`
	Kinds      stringList `json:"kinds"`
	Models     stringList `json:"models"`
	States     stringList `json:"states"`

	// Columns are the columns of a jobs frame, in order; empty is all.
	Columns stringList `json:"columns"`
}

// flexInt decodes a JSON number or a string of digits, so that a limit
// typed as a dashboard variable works once Grafana has replaced it.
type flexInt int

// UnmarshalJSON accepts 10, "10", "" and null.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
		b = []byte(s)
	}
	if string(b) == "null" {
		*n = 0
		return nil
	}
	var v int
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("want a whole number, not %s", b)
	}
	*n = flexInt(v)
	return nil
}

// filter is one key of a query's filters with its values.
type filter struct {
	key    string
	values []string
}

// filters returns the query's non-empty filters on grouping keys, in the
// order of knownKeys.
func (m *queryModel) filters() []filter {
	var out []filter
	for _, f := range []filter{
		{"cluster", m.Clusters}, {"partition", m.Partitions}, {"account", m.Accounts}, {"user", m.Users},
		{"class", m.Classes}, {"kind", m.Kinds}, {"model", m.Models},
	} {
		if len(f.values) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// checkPrivacy refuses a query that would show usage per account or user
// when the settings do not allow it: grouping by those keys, or filtering
// figures by them (a filter's key becomes a label of every series).
func (m *queryModel) checkPrivacy(allowed bool) error {
	if allowed || m.QueryType == QueryTypeJobs {
		return nil
	}
	for _, k := range m.GroupBy {
		if slices.Contains(privateKeys, k) {
			return fmt.Errorf("groupBy %q: grouping by account and user is off in this data source's settings (switch on \"Allow grouping by account and user\", jsonData.allowGroupByAccountUser)", k)
		}
	}
	for _, f := range m.filters() {
		if slices.Contains(privateKeys, f.key) {
			return fmt.Errorf("%ss filter: filtering figures by account and user is off in this data source's settings (switch on \"Allow grouping by account and user\", jsonData.allowGroupByAccountUser)", f.key)
		}
	}
	return nil
}

// stringList decodes a JSON list of strings or one string, splitting
// items at commas and dropping empty ones.
type stringList []string

// UnmarshalJSON accepts ["a", "b,c"], "a,b" and null.
func (l *stringList) UnmarshalJSON(b []byte) error {
	var items []string
	var one string
	switch {
	case string(b) == "null":
		*l = nil
		return nil
	case json.Unmarshal(b, &one) == nil:
		items = []string{one}
	case json.Unmarshal(b, &items) == nil:
	default:
		return fmt.Errorf("want a list of strings or a comma-separated string, not %s", b)
	}
	var out stringList
	for _, it := range items {
		for part := range strings.SplitSeq(it, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	*l = out
	return nil
}

// parseQuery decodes and validates a query's JSON; queryType is the
// DataQuery's own, which wins over the model's. The error names the field.
func parseQuery(queryType string, raw json.RawMessage) (queryModel, error) {
	var m queryModel
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return m, fmt.Errorf("query JSON: %w", err)
		}
	}
	if queryType != "" {
		m.QueryType = queryType
	}
	m.QueryType = strings.ToLower(strings.TrimSpace(m.QueryType))
	if m.QueryType == "" {
		m.QueryType = QueryTypeFigures
	}
	switch m.QueryType {
	case QueryTypeFigures, QueryTypeTable:
		return m, m.validateFigures()
	case QueryTypeJobs:
		return m, m.validateJobs()
	}
	return m, fmt.Errorf("queryType %q: want %s, %s or %s", m.QueryType, QueryTypeFigures, QueryTypeTable, QueryTypeJobs)
}

func (m *queryModel) validateFigures() error {
	m.Resource = strings.ToLower(strings.TrimSpace(m.Resource))
	if m.Resource == "" {
		m.Resource = "primary"
	}
	if !slices.Contains(knownResources, m.Resource) {
		return fmt.Errorf("resource %q: want one of %s", m.Resource, strings.Join(knownResources, ", "))
	}
	seen := map[string]bool{}
	for i, k := range m.GroupBy {
		k = strings.ToLower(k)
		if !slices.Contains(knownKeys, k) {
			return fmt.Errorf("groupBy %q: want one of %s", k, strings.Join(knownKeys, ", "))
		}
		if seen[k] {
			return fmt.Errorf("groupBy %q: given twice", k)
		}
		seen[k] = true
		m.GroupBy[i] = k
	}
	for i, c := range m.Classes {
		c = strings.ToLower(c)
		if !slices.Contains(knownClasses, c) {
			return fmt.Errorf("classes %q: want any of %s", c, strings.Join(knownClasses, ", "))
		}
		m.Classes[i] = c
	}
	if len(m.States) > 0 {
		return fmt.Errorf("states: only a jobs query filters by job state")
	}
	m.Timezone = strings.TrimSpace(m.Timezone)
	if m.QueryType == QueryTypeTable {
		return m.validateTable()
	}
	if len(m.Figures) == 0 {
		m.Figures = append(stringList(nil), defaultFigures...)
	}
	seen = map[string]bool{}
	for i, f := range m.Figures {
		f = strings.ToLower(f)
		if !slices.Contains(knownFigures, f) {
			return fmt.Errorf("figures %q: want any of %s", f, strings.Join(knownFigures, ", "))
		}
		if seen[f] {
			return fmt.Errorf("figures %q: given twice", f)
		}
		seen[f] = true
		m.Figures[i] = f
	}
	m.Every = strings.ToLower(strings.TrimSpace(m.Every))
	if m.Every == "" {
		m.Every = "auto"
	}
	if !slices.Contains(knownPeriods, m.Every) {
		return fmt.Errorf("every %q: want one of %s", m.Every, strings.Join(knownPeriods, ", "))
	}
	return nil
}

func (m *queryModel) validateTable() error {
	if len(m.GroupBy) == 0 {
		return fmt.Errorf("groupBy: a table query ranks groups, name at least one key (%s)", strings.Join(knownKeys, ", "))
	}
	m.OrderBy = strings.ToLower(strings.TrimSpace(m.OrderBy))
	if m.OrderBy == "" {
		m.OrderBy = FigureUtilization
	}
	if !slices.Contains(knownOrders, m.OrderBy) {
		return fmt.Errorf("orderBy %q: want one of %s", m.OrderBy, strings.Join(knownOrders, ", "))
	}
	m.Order = strings.ToLower(strings.TrimSpace(m.Order))
	if m.Order == "" {
		m.Order = "desc"
	}
	if !slices.Contains(knownOrder, m.Order) {
		return fmt.Errorf("order %q: want desc or asc", m.Order)
	}
	return checkLimit(&m.Limit, DefaultTableLimit, MaxTableLimit)
}

func (m *queryModel) validateJobs() error {
	for i, c := range m.Classes {
		c = strings.ToLower(c)
		if !slices.Contains(knownClasses, c) {
			return fmt.Errorf("classes %q: want any of %s", c, strings.Join(knownClasses, ", "))
		}
		m.Classes[i] = c
	}
	for i, s := range m.States {
		// scmon checks the state names and says which it knows.
		m.States[i] = strings.ToUpper(s)
	}
	if len(m.Kinds) > 0 || len(m.Models) > 0 {
		return fmt.Errorf("kinds, models: a jobs query does not filter by accelerator (scmon's jobs API has no such filter)")
	}
	seen := map[string]bool{}
	for i, c := range m.Columns {
		c = strings.ToLower(c)
		if !slices.Contains(jobColumns, c) {
			return fmt.Errorf("columns %q: want any of %s", c, strings.Join(jobColumns, ", "))
		}
		if seen[c] {
			return fmt.Errorf("columns %q: given twice", c)
		}
		seen[c] = true
		m.Columns[i] = c
	}
	return checkLimit(&m.Limit, DefaultJobsLimit, MaxJobsLimit)
}

func checkLimit(n *flexInt, def, hi int) error {
	switch {
	case *n == 0:
		*n = flexInt(def)
	case *n < 0 || int(*n) > hi:
		return fmt.Errorf("limit %d: want 1 to %d", *n, hi)
	}
	return nil
}

// period is one of scmon's calendar periods with a lower bound of its
// length (the same bounds scmon uses to refuse too many periods: sub-hour
// time zones, daylight saving time, short months).
type period struct {
	name     string
	shortest time.Duration
	nominal  time.Duration
}

var periods = []period{
	{"hour", 30 * time.Minute, time.Hour},
	{"day", 23 * time.Hour, 24 * time.Hour},
	{"week", 7*24*time.Hour - time.Hour, 7 * 24 * time.Hour},
	{"month", 28 * 24 * time.Hour, 30 * 24 * time.Hour},
}

// choosePeriod picks the step of an auto figures query: the shortest
// calendar period at least as long as the panel's interval that gives no
// more points than the panel asks for (maxPoints) and no more than scmon
// accepts (MaxPoints, counted with the shortest length of a period, as
// scmon counts). An alert rule's interval is short and its point budget
// large, so alerts get hourly figures over ranges up to about 200 days.
func choosePeriod(rng, interval time.Duration, maxPoints int64) string {
	if maxPoints <= 0 {
		maxPoints = MaxPoints
	}
	for _, p := range periods {
		if p.nominal < interval {
			continue
		}
		if int64(rng/p.nominal) <= maxPoints && int64(rng/p.shortest) <= MaxPoints {
			return p.name
		}
	}
	return periods[len(periods)-1].name
}
