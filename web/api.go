package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// MaxPoints bounds the periods of one figures query (hourly buckets over
// more than a year are refused), so that a request cannot ask the daemon
// for an answer larger than any chart can show.
const MaxPoints = 10_000

// MaxCells bounds the groups times the periods of one figures answer (a
// daily series by partition over 50 years, or by user over a month for 600
// users): each cell is a full set of figures, 1.3 KB of JSON, so the
// largest answer stays near 30 MB. A backend stops a query as soon as its
// groups pass the bound, and the API answers 400.
const MaxCells = 20_000

// MaxFilterValues bounds the values of all list filters of one jobs query
// together: each becomes a parameter of the store's query, and stores
// refuse more than a few tens of thousands of them.
const MaxFilterValues = 1_000

// paramError is a request parameter that does not validate; its text names
// the parameter.
type paramError struct {
	param, msg string
}

func (e *paramError) Error() string { return fmt.Sprintf("parameter %q: %s", e.param, e.msg) }

func paramErrorf(param, format string, args ...any) error {
	return &paramError{param: param, msg: fmt.Sprintf(format, args...)}
}

// apiGet wraps an API handler: GET and HEAD only, JSON errors.
func apiGet(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed (use GET)")
			return
		}
		h(w, r)
	})
}

func apiNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "no API endpoint "+r.URL.Path+" (see "+strings.Join([]string{apiv1.PathSummary, apiv1.PathFigures, apiv1.PathJobs, apiv1.PathRuleHits}, ", ")+")")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a NaN or an infinity can get here; say so instead of
		// sending half a document.
		code = http.StatusInternalServerError
		body, _ = json.Marshal(apiv1.Error{Error: "encode answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiv1.Error{Error: msg})
}

// backendError answers an error of a Backend call.
func (s *Server) backendError(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, ErrInvalidQuery):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNotReady):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%s took longer than %s: narrow the range or use a longer period", what, s.opts.QueryTimeout))
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		s.log.Error("query failed", "query", what, "err", err)
		writeError(w, http.StatusInternalServerError, what+": "+err.Error())
	}
}

// query runs f with the query timeout once a slot of lane is free. The
// API's queries and the status page's chart have lanes of their own, so
// that API queries, however heavy, never keep the page waiting.
func (s *Server) query(ctx context.Context, lane chan struct{}, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	select {
	case lane <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-lane }()
	return f(ctx)
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	snap := s.b.Snapshot()
	if snap == nil {
		writeError(w, http.StatusServiceUnavailable, "no snapshot published yet: the daemon is still starting")
		return
	}
	sum := buildSummary(snap)
	sum.Ready, sum.Reason = s.b.Ready()
	writeJSON(w, http.StatusOK, sum)
}

// buildSummary turns the snapshot into the summary, keeping the
// snapshot's order of clusters and windows.
func buildSummary(snap *snapshot.Snapshot) *apiv1.Summary {
	sum := &apiv1.Summary{
		Time:     snap.Time,
		Headline: make([]apiv1.HeadlineFigure, 0, len(snap.Headline)),
		Windows:  make([]apiv1.WindowFigure, 0, len(snap.Windows)),
		Sources:  make([]apiv1.SourceStatus, 0, len(snap.Sources)),
		Config: apiv1.ConfigStatus{
			LastReloadSuccess: snap.Config.LastReloadSuccess,
			LastReload:        snap.Config.LastReload,
			Hash:              snap.Config.Hash,
		},
	}
	for _, h := range snap.Headline {
		sum.Headline = append(sum.Headline, apiv1.HeadlineFigure{Cluster: h.Cluster, Window: h.Window, Basis: h.Basis,
			Utilization: finite(h.Utilization), AIShare: finite(h.AIShare)})
	}
	for _, x := range snap.Windows {
		sum.Windows = append(sum.Windows, apiv1.WindowFigure{Cluster: x.Cluster, Resource: x.Resource, Window: x.Window,
			Utilization: finite(x.Utilization), AIShare: finite(x.AIShare), AIShareUpper: finite(x.AIShareUpper)})
	}
	sum.Current = current(snap)
	for _, src := range snap.Sources {
		st := apiv1.SourceStatus{
			Name: src.Name, Kind: src.Kind, Up: src.Up,
			LastSuccess: src.LastSuccess, LastRecord: src.LastRecord,
			LagSeconds: src.Lag.Seconds(),
			Records:    map[string]float64{},
			Polls:      src.PollCount, Failures: src.Failures,
			LastError: src.LastError,
		}
		for k, v := range src.Records {
			st.Records[k] = v
			if strings.HasPrefix(k, "skipped") {
				st.Skipped += v
			}
		}
		if src.PollCount > 0 {
			st.PollSecondsAverage = src.PollSeconds / src.PollCount
		}
		sum.Sources = append(sum.Sources, st)
	}
	return sum
}

// current sums running and pending jobs per cluster, in the snapshot's
// cluster order (clusters only the jobs name come last, sorted).
func current(snap *snapshot.Snapshot) []apiv1.ClusterNow {
	idx := map[string]int{}
	out := make([]apiv1.ClusterNow, 0, len(snap.Clusters))
	at := func(c string) *apiv1.ClusterNow {
		i, ok := idx[c]
		if !ok {
			i = len(out)
			idx[c] = i
			out = append(out, apiv1.ClusterNow{Cluster: c})
		}
		return &out[i]
	}
	for _, c := range snap.Clusters {
		at(c)
	}
	known := len(out)
	accel := func(a []snapshot.AccelSeconds) float64 {
		var n float64
		for _, x := range a {
			n += x.Seconds
		}
		return n
	}
	for _, c := range snap.Running {
		n := at(c.Cluster)
		n.RunningJobs += c.Jobs
		n.RunningCores += c.Cores
		n.RunningAccelerators += accel(c.Accel)
	}
	for _, c := range snap.Pending {
		n := at(c.Cluster)
		n.PendingJobs += c.Jobs
		n.PendingCores += c.Cores
		n.PendingAccelerators += accel(c.Accel)
	}
	extra := out[known:]
	sort.Slice(extra, func(a, b int) bool { return extra[a].Cluster < extra[b].Cluster })
	return out
}

// finite replaces a NaN or an infinity, which JSON cannot carry, with 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func (s *Server) ruleHits(w http.ResponseWriter, r *http.Request) {
	snap := s.b.Snapshot()
	if snap == nil {
		writeError(w, http.StatusServiceUnavailable, "no snapshot published yet: the daemon is still starting")
		return
	}
	out := apiv1.RuleHits{Time: snap.Time, Rules: make([]apiv1.RuleHit, 0, len(snap.RuleHits))}
	for id, n := range snap.RuleHits {
		out.Rules = append(out.Rules, apiv1.RuleHit{Rule: id, Hits: n})
	}
	sort.Slice(out.Rules, func(a, b int) bool {
		x, y := out.Rules[a], out.Rules[b]
		if x.Hits != y.Hits {
			return x.Hits > y.Hits
		}
		return x.Rule < y.Rule
	})
	writeJSON(w, http.StatusOK, out)
}

// params reads a request's query parameters, refusing names it does not
// know so that a misspelt filter is an error rather than ignored.
type params struct {
	v url.Values
}

func newParams(r *http.Request, known ...string) (params, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params{}, paramErrorf("query", "malformed query string: %v", err)
	}
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !slices.Contains(known, k) {
			return params{}, paramErrorf(k, "unknown parameter (known: %s)", strings.Join(known, ", "))
		}
	}
	return params{v: v}, nil
}

// one returns the single value of name ("" when absent).
func (p params) one(name string) (string, error) {
	vs := p.v[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSpace(vs[0]), nil
	}
	return "", paramErrorf(name, "given %d times; give it once", len(vs))
}

// list returns the values of name, given repeated or comma-separated,
// without empty items.
func (p params) list(name string) []string {
	var out []string
	for _, v := range p.v[name] {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// instant reads an RFC 3339 time; required says whether it may be absent.
func (p params) instant(name string, required bool) (time.Time, error) {
	v, err := p.one(name)
	if err != nil {
		return time.Time{}, err
	}
	if v == "" {
		if required {
			return time.Time{}, paramErrorf(name, "required: an RFC 3339 time such as 2025-03-01T00:00:00Z")
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, paramErrorf(name, "%q is not an RFC 3339 time such as 2025-03-01T00:00:00Z", v)
	}
	return t, nil
}

// number reads a whole number in [lo, hi], def when absent.
func (p params) number(name string, def, lo, hi int) (int, error) {
	v, err := p.one(name)
	if err != nil || v == "" {
		return def, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, paramErrorf(name, "%q is not a whole number", v)
	}
	if n < lo || n > hi {
		return 0, paramErrorf(name, "%d is out of range [%d, %d]", n, lo, hi)
	}
	return n, nil
}

// location reads an IANA time zone name; nil when absent.
func (p params) location(name string) (*time.Location, error) {
	v, err := p.one(name)
	if err != nil || v == "" {
		return nil, err
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		return nil, paramErrorf(name, "unknown time zone %q (want an IANA name such as UTC or Europe/Berlin)", v)
	}
	return loc, nil
}

// parseFigures validates a figures request.
func parseFigures(r *http.Request) (FiguresQuery, error) {
	var q FiguresQuery
	p, err := newParams(r, apiv1.FiguresParams...)
	if err != nil {
		return q, err
	}
	if q.From, err = p.instant(apiv1.ParamFrom, true); err != nil {
		return q, err
	}
	if q.To, err = p.instant(apiv1.ParamTo, true); err != nil {
		return q, err
	}
	if !q.To.After(q.From) {
		return q, paramErrorf(apiv1.ParamTo, "%s is not after from (%s): the range [from, to) is empty", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	every, err := p.one(apiv1.ParamEvery)
	if err != nil {
		return q, err
	}
	if q.Every, err = usage.ParsePeriod(strings.ToLower(every)); err != nil {
		return q, paramErrorf(apiv1.ParamEvery, "%q is not a period (want hour, day, week or month)", every)
	}
	if n := usage.MaxBuckets(q.From, q.To, q.Every); n > MaxPoints {
		return q, paramErrorf(apiv1.ParamEvery, "%s from %s to %s gives more than %d periods: choose a longer period or a shorter range", q.Every, q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), MaxPoints)
	}
	if q.By, err = usage.ParseKeys(strings.Join(p.list(apiv1.ParamBy), ",")); err != nil {
		return q, paramErrorf(apiv1.ParamBy, "%v", err)
	}
	if q.Location, err = p.location(apiv1.ParamTimezone); err != nil {
		return q, err
	}
	return q, nil
}

func (s *Server) figures(w http.ResponseWriter, r *http.Request) {
	q, err := parseFigures(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var rep *report.Report
	err = s.query(r.Context(), s.queries, func(ctx context.Context) error {
		var err error
		rep, err = s.b.Figures(ctx, q)
		if err == nil && rep == nil {
			err = errors.New("backend returned no report")
		}
		return err
	})
	if err != nil {
		s.backendError(w, r, "figures", err)
		return
	}
	writeJSON(w, http.StatusOK, apiReport(rep))
}

// apiReport returns the API's document of a report. The figures are the
// API's own types already (package report uses them), so only the top level
// is copied: the headline's basis becomes its name.
func apiReport(r *report.Report) *apiv1.Report {
	return &apiv1.Report{
		Title:    r.Title,
		Window:   r.Window,
		Capacity: r.Capacity,
		Inputs:   r.Inputs,
		Headline: apiv1.Headline{
			Basis:        string(r.Headline.Basis),
			Utilization:  r.Headline.Utilization,
			AIShare:      r.Headline.AIShare,
			AIShareUp:    r.Headline.AIShareUp,
			AIOfCapacity: r.Headline.AIOfCapacity,
		},
		Figures:    r.Figures,
		By:         r.By,
		Groups:     r.Groups,
		Every:      r.Every,
		Series:     r.Series,
		Unmapped:   r.Unmapped,
		Skipped:    r.Skipped,
		Duplicates: r.Duplicates,
		Warnings:   r.Warnings,
		NoCapacity: r.NoCapacity,
	}
}

// stateNames are the job states the jobs API filters on.
var stateNames = func() map[string]job.State {
	m := map[string]job.State{}
	for s := job.StateUnknown; s <= job.StateOther; s++ {
		m[s.String()] = s
	}
	return m
}()

// parseJobs validates a jobs request.
func parseJobs(r *http.Request) (JobsQuery, error) {
	var q JobsQuery
	p, err := newParams(r, apiv1.JobsParams...)
	if err != nil {
		return q, err
	}
	if q.From, err = p.instant(apiv1.ParamFrom, false); err != nil {
		return q, err
	}
	if q.To, err = p.instant(apiv1.ParamTo, false); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return q, paramErrorf(apiv1.ParamTo, "%s is not after from (%s): the range [from, to) is empty", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	q.Clusters = p.list(apiv1.ParamCluster)
	q.Partitions = p.list(apiv1.ParamPartition)
	q.Accounts = p.list(apiv1.ParamAccount)
	q.Users = p.list(apiv1.ParamUser)
	if n := len(q.Clusters) + len(q.Partitions) + len(q.Accounts) + len(q.Users) + len(p.list(apiv1.ParamClass)) + len(p.list(apiv1.ParamState)); n > MaxFilterValues {
		return q, paramErrorf("query", "%d filter values, more than %d: ask for fewer clusters, partitions, accounts or users at once", n, MaxFilterValues)
	}
	for _, c := range p.list(apiv1.ParamClass) {
		cls, err := job.ParseClass(strings.ToLower(c))
		if err != nil {
			return q, paramErrorf(apiv1.ParamClass, "%q is not a class (want ai_training, ai_inference, other or unknown)", c)
		}
		q.Classes = append(q.Classes, cls)
	}
	for _, st := range p.list(apiv1.ParamState) {
		s, ok := stateNames[strings.ToUpper(st)]
		if !ok {
			return q, paramErrorf(apiv1.ParamState, "%q is not a job state (want one of %s)", st, strings.Join(sortedKeys(stateNames), ", "))
		}
		q.States = append(q.States, s)
	}
	if q.Limit, err = p.number(apiv1.ParamLimit, DefaultJobsLimit, 1, MaxJobsLimit); err != nil {
		return q, err
	}
	if q.Offset, err = p.number(apiv1.ParamOffset, 0, 0, math.MaxInt32); err != nil {
		return q, err
	}
	return q, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Server) jobs(w http.ResponseWriter, r *http.Request) {
	q, err := parseJobs(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var page JobsPage
	err = s.query(r.Context(), s.queries, func(ctx context.Context) error {
		var err error
		page, err = s.b.Jobs(ctx, q)
		return err
	})
	if err != nil {
		s.backendError(w, r, "jobs", err)
		return
	}
	if len(page.Jobs) > q.Limit {
		page.Jobs, page.More = page.Jobs[:q.Limit], true
	}
	if page.Jobs == nil {
		page.Jobs = []apiv1.Job{}
	}
	for i := range page.Jobs {
		if page.Jobs[i].Accelerators == nil {
			page.Jobs[i].Accelerators = []apiv1.Accelerator{}
		}
		if page.Jobs[i].Rules == nil {
			page.Jobs[i].Rules = []string{}
		}
	}
	page.Limit, page.Offset = q.Limit, q.Offset
	writeJSON(w, http.StatusOK, page)
}
