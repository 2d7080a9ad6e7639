package v1

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Paths of the endpoints, relative to the server's root (a reverse proxy
// may add a prefix).
const (
	PathSummary  = "/api/v1/summary"
	PathFigures  = "/api/v1/figures"
	PathJobs     = "/api/v1/jobs"
	PathRuleHits = "/api/v1/rules/hits"
)

// Names of the query parameters. The server refuses a parameter it does not
// know rather than ignore it, so that a misspelt filter is an error.
const (
	ParamFrom      = "from"
	ParamTo        = "to"
	ParamEvery     = "every"
	ParamBy        = "by"
	ParamTimezone  = "tz"
	ParamCluster   = "cluster"
	ParamPartition = "partition"
	ParamAccount   = "account"
	ParamUser      = "user"
	ParamClass     = "class"
	ParamState     = "state"
	ParamLimit     = "limit"
	ParamOffset    = "offset"
)

// FiguresParams are the parameters /api/v1/figures accepts.
var FiguresParams = []string{ParamFrom, ParamTo, ParamEvery, ParamBy, ParamTimezone}

// JobsParams are the parameters /api/v1/jobs accepts.
var JobsParams = []string{ParamFrom, ParamTo, ParamCluster, ParamPartition, ParamAccount, ParamUser, ParamClass, ParamState, ParamLimit, ParamOffset}

// FiguresRequest asks /api/v1/figures for the figures of [From, To).
type FiguresRequest struct {
	// From and To bound the range [From, To); both are required and To is
	// after From.
	From, To time.Time
	// Every splits the range into calendar periods: hour, day, week or
	// month. Empty asks for totals only. A request whose periods would
	// pass the server's bound (about a year of hours) is refused.
	Every string
	// By groups the figures by these keys, in this order: cluster,
	// partition, account, user, class, kind (accelerator kind) or model.
	By []string
	// Timezone is the IANA name of the calendar of Every (days start at
	// its midnight); empty means the server's reporting zone.
	Timezone string
}

// Values returns the request's URL query parameters, as the server reads
// them: times in UTC, lists comma-separated, empty fields left out.
func (q FiguresRequest) Values() url.Values {
	v := url.Values{}
	setTime(v, ParamFrom, q.From)
	setTime(v, ParamTo, q.To)
	setString(v, ParamEvery, q.Every)
	setList(v, ParamBy, q.By)
	setString(v, ParamTimezone, q.Timezone)
	return v
}

// Bounds of the jobs request's Limit.
const (
	// DefaultJobsLimit is the page size when a request names none.
	DefaultJobsLimit = 100
	// MaxJobsLimit bounds one page, so that one request cannot hold a
	// large part of the store in memory.
	MaxJobsLimit = 10_000
)

// JobsRequest asks /api/v1/jobs for the runs that match every non-empty
// filter (a list matches any of its values).
type JobsRequest struct {
	// From and To select the runs whose allocation [start, end) overlaps
	// [From, To); a running job's end is open. Either may be zero (no
	// bound on that side).
	From, To   time.Time
	Clusters   []string
	Partitions []string
	Accounts   []string
	Users      []string
	// Classes are class names: ai_training, ai_inference, other, unknown.
	Classes []string
	// States are base job states in the scheduler's spelling (COMPLETED,
	// RUNNING, TIMEOUT, ...).
	States []string
	// Limit is the most rows to return, 1 to MaxJobsLimit; zero means
	// DefaultJobsLimit. Offset skips rows, for paging: ask again with
	// Offset + len(JobsPage.Jobs) while JobsPage.More is set.
	Limit  int
	Offset int
}

// Values returns the request's URL query parameters, as the server reads
// them: times in UTC, lists comma-separated, empty fields left out.
func (q JobsRequest) Values() url.Values {
	v := url.Values{}
	setTime(v, ParamFrom, q.From)
	setTime(v, ParamTo, q.To)
	setList(v, ParamCluster, q.Clusters)
	setList(v, ParamPartition, q.Partitions)
	setList(v, ParamAccount, q.Accounts)
	setList(v, ParamUser, q.Users)
	setList(v, ParamClass, q.Classes)
	setList(v, ParamState, q.States)
	if q.Limit > 0 {
		v.Set(ParamLimit, strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		v.Set(ParamOffset, strconv.Itoa(q.Offset))
	}
	return v
}

func setTime(v url.Values, name string, t time.Time) {
	if !t.IsZero() {
		v.Set(name, t.UTC().Format(time.RFC3339Nano))
	}
}

func setString(v url.Values, name, s string) {
	if s != "" {
		v.Set(name, s)
	}
}

func setList(v url.Values, name string, items []string) {
	if len(items) > 0 {
		v.Set(name, strings.Join(items, ","))
	}
}
