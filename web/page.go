package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

//go:embed page.html
var pageFS embed.FS

// pageTemplate is the status page. html/template escapes every value for
// its context (text, attribute, SVG), so cluster, partition and source
// names print as written whatever characters they hold.
var pageTemplate = template.Must(template.New("page.html").ParseFS(pageFS, "page.html"))

// contentSecurityPolicy forbids scripts and every load from elsewhere: the
// page is one self-contained document that works offline.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// pageData is the view of the status page; every figure is formatted here,
// with its unit, so that the template only places strings.
type pageData struct {
	Title    string
	Version  string
	Now      string
	Zone     string
	Ready    bool
	Reason   string
	Snapshot bool
	SnapTime string
	SnapAge  string

	Windows   []string
	Headline  []headlineRow
	Current   []currentRow
	Idle      []idleRow
	Accels    []accelRow
	NowRows   []nowRow
	Reasons   []string
	Chart     *chartView
	ChartNote string
	Sources   []sourceRow
	Config    configView

	FiguresLink string
	JobsLink    string
}

// headlineRow is one cluster's headline figures, one cell per window.
type headlineRow struct {
	Cluster string
	Basis   string
	Cells   []headlineCell
}

// headlineCell is one window's pair of figures; Present is false when the
// snapshot has no figure for that window.
type headlineCell struct {
	Window      string
	Present     bool
	Utilization string
	AIShare     string
	UtilBar     float64 // 0..100, the width of the cell's bar
}

// currentRow is what runs and waits on one cluster now.
type currentRow struct {
	Cluster                                        string
	RunningJobs, RunningCores, RunningAccelerators string
	PendingJobs, PendingCores, PendingAccelerators string
}

// sourceRow is one source's health.
type sourceRow struct {
	Name, Kind  string
	State       string
	Up          bool
	LastSuccess string
	SuccessAge  string
	LastRecord  string
	Lag         string
	Stored      string
	Skipped     string
	HasSkipped  bool
	Failures    string
	Polls       string
	PollAvg     string
	LastError   string
}

// configView is the configuration's state.
type configView struct {
	Known      bool
	Success    bool
	LastReload string
	Hash       string
}

// chartCache is the last chart computed, valid for one snapshot and one
// day range.
type chartCache struct {
	snap     *snapshot.Snapshot
	from, to time.Time
	chart    *chartView
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	if !getOrHead(w, r) {
		return
	}
	var buf bytes.Buffer
	if err := s.renderPage(r.Context(), &buf); err != nil {
		s.log.Error("rendering status page failed", "err", err)
		plain(w, http.StatusInternalServerError, "render status page: "+err.Error()+"\n")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// renderPage writes the status page into buf.
func (s *Server) renderPage(ctx context.Context, buf *bytes.Buffer) error {
	now := s.opts.Now()
	loc := s.opts.Location
	d := &pageData{
		Title:   s.opts.Title,
		Version: s.opts.Version,
		Now:     now.In(loc).Format(stampZone),
		Zone:    zoneLabel(loc, now),
	}
	d.Ready, d.Reason = s.b.Ready()
	snap := s.b.Snapshot()
	if snap != nil {
		d.Snapshot = true
		d.SnapTime = snap.Time.In(loc).Format(stampZone)
		d.SnapAge = age(now, snap.Time)
		sum := buildSummary(snap)
		d.Windows, d.Headline = headlineRows(sum.Headline)
		d.Current = currentRows(sum.Current)
		d.Idle, d.Reasons = idleRows(snap), snapshot.IdleReasons
		d.Accels, d.NowRows = accelRows(snap), nowRows(snap)
		d.Sources = sourceRows(sum.Sources, now, loc)
		d.Config = configView{
			Known:      !sum.Config.LastReload.IsZero() || sum.Config.Hash != "",
			Success:    sum.Config.LastReloadSuccess,
			LastReload: stamp(sum.Config.LastReload, loc),
			Hash:       shortHash(sum.Config.Hash),
		}
	}
	d.Chart, d.ChartNote = s.dailyChart(ctx, snap, now)

	to := now.Truncate(time.Second).UTC()
	from := to.AddDate(0, 0, -7)
	d.FiguresLink = "api/v1/figures?from=" + from.Format(time.RFC3339) + "&to=" + to.Format(time.RFC3339) + "&every=day&by=cluster"
	d.JobsLink = "api/v1/jobs?from=" + to.Add(-time.Hour).Format(time.RFC3339) + "&limit=20"
	return s.page.Execute(buf, d)
}

// dailyChart returns the chart of the last ChartDays whole days, from the
// cache when the snapshot has not changed since it was computed.
func (s *Server) dailyChart(ctx context.Context, snap *snapshot.Snapshot, now time.Time) (*chartView, string) {
	loc := s.opts.Location
	y, m, day := now.In(loc).Date()
	to := time.Date(y, m, day, 0, 0, 0, 0, loc)
	from := to.AddDate(0, 0, -s.opts.ChartDays)

	s.chartMu.Lock()
	defer s.chartMu.Unlock()
	if c := s.chart; c.chart != nil && snap != nil && c.snap == snap && c.from.Equal(from) && c.to.Equal(to) {
		return c.chart, ""
	}
	var rep *report.Report
	err := s.query(ctx, s.pageQueries, func(ctx context.Context) error {
		var err error
		rep, err = s.b.Figures(ctx, FiguresQuery{From: from, To: to, Every: usage.Day, Location: loc})
		return err
	})
	switch {
	case errors.Is(err, ErrNotReady):
		return nil, "The chart appears once the job store is loaded."
	case err != nil:
		s.log.Warn("status page chart failed", "err", err)
		return nil, "The chart is unavailable: " + err.Error()
	case rep == nil || len(rep.Series) == 0:
		return nil, "No daily figures for the last " + strconv.Itoa(s.opts.ChartDays) + " days."
	}
	c := buildChart(rep, loc)
	if snap != nil {
		s.chart = chartCache{snap: snap, from: from, to: to, chart: c}
	}
	return c, ""
}

// headlineRows arranges the headline figures as one row per cluster and
// one column per window, in the snapshot's order.
func headlineRows(hs []apiv1.HeadlineFigure) ([]string, []headlineRow) {
	var windows []string
	seenW := map[string]bool{}
	rowIdx := map[string]int{}
	var rows []headlineRow
	for _, h := range hs {
		if !seenW[h.Window] {
			seenW[h.Window] = true
			windows = append(windows, h.Window)
		}
		if _, ok := rowIdx[h.Cluster]; !ok {
			rowIdx[h.Cluster] = len(rows)
			rows = append(rows, headlineRow{Cluster: h.Cluster, Basis: basisName(h.Basis)})
		}
	}
	for i := range rows {
		rows[i].Cells = make([]headlineCell, len(windows))
		for j, w := range windows {
			rows[i].Cells[j].Window = w
		}
	}
	for _, h := range hs {
		row := &rows[rowIdx[h.Cluster]]
		for j, w := range windows {
			if w == h.Window {
				row.Cells[j] = headlineCell{Window: w, Present: true, Utilization: pct(h.Utilization), AIShare: pct(h.AIShare),
					UtilBar: clamp01(h.Utilization) * 100}
			}
		}
	}
	return windows, rows
}

func clamp01(v float64) float64 {
	v = finite(v)
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

func currentRows(cs []apiv1.ClusterNow) []currentRow {
	out := make([]currentRow, 0, len(cs))
	for _, c := range cs {
		out = append(out, currentRow{
			Cluster:             c.Cluster,
			RunningJobs:         count(c.RunningJobs),
			RunningCores:        count(c.RunningCores),
			RunningAccelerators: count(c.RunningAccelerators),
			PendingJobs:         count(c.PendingJobs),
			PendingCores:        count(c.PendingCores),
			PendingAccelerators: count(c.PendingAccelerators),
		})
	}
	return out
}

func sourceRows(ss []apiv1.SourceStatus, now time.Time, loc *time.Location) []sourceRow {
	out := make([]sourceRow, 0, len(ss))
	for _, s := range ss {
		row := sourceRow{
			Name: s.Name, Kind: s.Kind, Up: s.Up, State: "down",
			LastSuccess: stampNoZone(s.LastSuccess, loc),
			LastRecord:  stampNoZone(s.LastRecord, loc),
			Lag:         duration(time.Duration(s.LagSeconds * float64(time.Second))),
			Stored:      count(s.Records["stored"]),
			Skipped:     count(s.Skipped),
			HasSkipped:  s.Skipped > 0,
			Failures:    count(s.Failures),
			Polls:       count(s.Polls),
			LastError:   s.LastError,
		}
		if s.Up {
			row.State = "up"
		}
		if s.LastSuccess.IsZero() && s.LastRecord.IsZero() && s.LagSeconds == 0 {
			// Nothing read yet: a lag of zero would claim the source is
			// current.
			row.Lag = "–"
		}
		if !s.LastSuccess.IsZero() {
			row.SuccessAge = age(now, s.LastSuccess)
		}
		if s.Polls > 0 {
			row.PollAvg = seconds(s.PollSecondsAverage)
		}
		out = append(out, row)
	}
	return out
}

// stampZone writes an instant with its UTC offset.
const stampZone = offsetLayout

// stamp formats an instant in loc, "never" for the zero time.
func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(loc).Format(stampZone)
}

// stampNoZone formats an instant in loc for a column whose heading names
// the zone, "never" for the zero time. It still carries the UTC offset:
// the offset of a zone changes with daylight saving time.
func stampNoZone(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(loc).Format(offsetLayout)
}

// age says how long ago t was, in words.
func age(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return "in " + duration(-d)
	}
	if d < time.Second {
		return "just now"
	}
	return duration(d) + " ago"
}

// duration formats d with its two largest units: 45 s, 3 min 20 s,
// 2 h 5 min, 3 d 4 h.
func duration(d time.Duration) string {
	if d < 0 {
		return "-" + duration(-d)
	}
	if d < time.Second {
		return "0 s"
	}
	s := int64(d / time.Second)
	days, s := s/86400, s%86400
	h, s := s/3600, s%3600
	m, s := s/60, s%60
	parts := []struct {
		n    int64
		unit string
	}{{days, "d"}, {h, "h"}, {m, "min"}, {s, "s"}}
	var out []string
	for _, p := range parts {
		if p.n == 0 && len(out) == 0 {
			continue
		}
		out = append(out, strconv.FormatInt(p.n, 10)+" "+p.unit)
		if len(out) == 2 {
			break
		}
	}
	return strings.Join(out, " ")
}

// seconds formats a short duration in seconds or milliseconds.
func seconds(v float64) string {
	if v < 1 {
		return strconv.FormatFloat(v*1000, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " s"
}

// count formats a count with thousands separators; counts are whole
// numbers, but the snapshot carries them as floats.
func count(v float64) string {
	v = finite(v)
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
