package web

import (
	"context"
	"errors"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// Backend is what the web server reads. The daemon implements it; the
// server never touches a source, a store or the configuration itself, so
// that a request can only read published state or ask the daemon for a
// computation it bounds.
//
// Every method must be safe for concurrent use: requests are served in
// parallel.
type Backend interface {
	// Snapshot returns the snapshot last published, or nil before the
	// first one. The server only reads it.
	Snapshot() *snapshot.Snapshot

	// Figures computes the figures of q from the job store: utilization and
	// AI share over [q.From, q.To), split into calendar periods when
	// q.Every is set and grouped by q.By. The server has validated q
	// already. An error wrapping ErrInvalidQuery is answered with 400,
	// one wrapping ErrNotReady with 503, anything else with 500.
	Figures(ctx context.Context, q FiguresQuery) (*report.Report, error)

	// Jobs returns the stored runs that match q, ordered by start time,
	// at most q.Limit of them, and says whether more rows follow. The
	// server has validated q already. Errors map to status codes as for
	// Figures.
	Jobs(ctx context.Context, q JobsQuery) (JobsPage, error)

	// Reload reloads the configuration. A configuration that fails to load
	// is refused, the running one is kept, and the error says why; it is
	// shown to the operator who asked for the reload.
	Reload(ctx context.Context) error

	// Ready reports whether the daemon serves figures it stands by (the
	// store is open and the first snapshot is published); when it does
	// not, reason says what it waits for.
	Ready() (ready bool, reason string)
}

// ErrInvalidQuery marks a Backend error caused by the query rather than by
// the daemon (a limit the store refuses, a time before the store's
// history): the API answers it with 400 and the error text.
var ErrInvalidQuery = errors.New("invalid query")

// ErrNotReady marks a Backend error that goes away by itself (the store is
// still loading): the API answers it with 503.
var ErrNotReady = errors.New("not ready")

// FiguresQuery asks for the figures of a time range. It mirrors
// usage.Query, without the inventory, which the daemon owns.
type FiguresQuery struct {
	// From and To bound the range [From, To); To is after From.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Every splits the range into calendar periods (hour, day, week,
	// month); usage.None asks for totals only.
	Every usage.Period `json:"every,omitempty"`
	// By groups the figures by these keys, in this order; empty means no
	// groups.
	By []usage.Key `json:"by,omitempty"`
	// Location is the calendar of Every (days start at its midnight). Nil
	// means the daemon's configured reporting location.
	Location *time.Location `json:"-"`
}

// JobsQuery selects stored runs. Zero fields do not filter; a list field
// matches any of its values. It maps one to one onto jobstore.JobQuery.
type JobsQuery struct {
	// From and To select the runs whose allocation [start, end) overlaps
	// [From, To); a running job's end is open. Either may be zero (no
	// bound on that side).
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`

	Clusters   []string    `json:"clusters,omitempty"`
	Partitions []string    `json:"partitions,omitempty"`
	Accounts   []string    `json:"accounts,omitempty"`
	Users      []string    `json:"users,omitempty"`
	Classes    []job.Class `json:"classes,omitempty"`
	States     []job.State `json:"states,omitempty"`

	// Limit is the most rows to return, 1 to MaxJobsLimit; Offset skips
	// rows, for paging.
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// Limits of the job API's limit parameter, as the API defines them.
const (
	// DefaultJobsLimit is the page size when the request names none.
	DefaultJobsLimit = apiv1.DefaultJobsLimit
	// MaxJobsLimit bounds one page, well below what the store refuses.
	MaxJobsLimit = apiv1.MaxJobsLimit
)

// The jobs answer is the API's own type, so that a Backend fills the wire
// document directly and the API cannot drift from what backends return.
type (
	// JobsPage is one page of job rows. The backend fills Jobs and More
	// (asking its store for Limit+1 rows to find out); the server sets
	// Limit and Offset from the query before answering.
	JobsPage = apiv1.JobsPage
	// JobRow is one run of a job as the job API returns it.
	JobRow = apiv1.Job
	// Accelerator is a count of one generic resource held by a run.
	Accelerator = apiv1.Accelerator
)

// NewJobRow builds the row of a stored record and its decision, so that a
// Backend maps its store's rows without knowing the JSON shape.
func NewJobRow(r *job.Record, d job.Decision) JobRow {
	row := JobRow{
		JobID:        r.JobID,
		Cluster:      r.Cluster,
		Partition:    r.Partition,
		Account:      r.Account,
		User:         r.User,
		Name:         r.Name,
		State:        r.State.String(),
		Start:        r.Start.UTC(),
		End:          r.End.UTC(),
		Nodes:        r.Nodes,
		Cores:        r.Cores,
		Accelerators: make([]Accelerator, 0, len(r.Accels)),
		Class:        d.Class.String(),
		Rules:        append([]string{}, d.Rules...),
	}
	for _, a := range r.Accels {
		row.Accelerators = append(row.Accelerators, Accelerator{Name: a.Name, Type: a.Type, Count: a.Count})
	}
	return row
}
