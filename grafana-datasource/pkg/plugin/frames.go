package plugin

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// typeVersion is the data plane contract version the frames follow; a
// non-zero version tells Grafana (and its alerting) that the frame type
// can be trusted.
var typeVersion = data.FrameTypeVersion{0, 1}

// figureInfo says how each figure is shown.
var figureInfo = map[string]struct {
	title string
	unit  string
	ratio bool
}{
	FigureUtilization:    {"utilization", "percentunit", true},
	FigureAIShare:        {"AI share", "percentunit", true},
	FigureAIShareUpper:   {"AI share upper bound", "percentunit", true},
	FigureAllocatedHours: {"allocated hours", "h", false},
	FigureCapacityHours:  {"capacity hours", "h", false},
}

// resourceOf returns the figures of a resource (cpu, nodes, accelerator,
// billing).
func resourceOf(f *apiv1.Figures, res string) apiv1.Resource {
	switch res {
	case "nodes":
		return f.Nodes
	case "accelerator":
		return f.Accelerator.Resource
	case "billing":
		return f.Billing
	}
	return f.CPU
}

// shareOf returns the AI share and its upper bound on a resource's basis
// and the allocation it is a share of. Node-hours have no AI share of
// their own: scmon states the share of a node basis in core-hours.
func shareOf(f *apiv1.Figures, res string) (share, upper, of float64) {
	switch res {
	case "accelerator":
		return f.AIShare.Accelerator, f.AIShare.AcceleratorUpper, f.Accelerator.AllocatedHours
	case "billing":
		return f.AIShare.Billing, f.AIShare.BillingUpper, f.Billing.AllocatedHours
	}
	return f.AIShare.CPU, f.AIShare.CPUUpper, f.CPU.AllocatedHours
}

// figureValue returns one figure of f on resource res, or nil where the
// figure has no meaning: utilization and capacity where scmon knows no
// capacity (a group by account or class, billing by accelerator model),
// AI share where nothing was allocated. A null is drawn as a gap and
// ignored by alert reductions, where a zero would read as an idle center.
func figureValue(f *apiv1.Figures, res, figure string) *float64 {
	r := resourceOf(f, res)
	var v float64
	switch figure {
	case FigureUtilization:
		if !f.HasCapacity || r.CapacityHours <= 0 {
			return nil
		}
		v = r.Utilization
	case FigureCapacityHours:
		if !f.HasCapacity {
			return nil
		}
		v = r.CapacityHours
	case FigureAllocatedHours:
		v = r.AllocatedHours
	case FigureAIShare, FigureAIShareUpper:
		share, upper, of := shareOf(f, res)
		if of <= 0 {
			return nil
		}
		v = share
		if figure == FigureAIShareUpper {
			v = upper
		}
	default:
		return nil
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// resolveResource maps "primary" to the report's headline basis.
func resolveResource(res string, r *apiv1.Report) string {
	if res != "primary" {
		return res
	}
	switch b := r.Headline.Basis; b {
	case "cpu", "nodes", "accelerator", "billing":
		return b
	}
	return "cpu"
}

// series is one group of a report with its periods.
type series struct {
	keys    map[string]string
	periods []apiv1.Period
}

// reportSeries returns the groups of a grouped report, or the whole
// center as the one group of an ungrouped one. For a report of totals
// (total true) each group has one period: the whole window.
func reportSeries(r *apiv1.Report, by []string, total bool) []series {
	whole := func(f apiv1.Figures) []apiv1.Period {
		return []apiv1.Period{{From: r.Window.From, To: r.Window.To, Figures: f}}
	}
	if len(by) == 0 {
		if total {
			return []series{{periods: whole(r.Figures)}}
		}
		return []series{{periods: r.Series}}
	}
	out := make([]series, 0, len(r.Groups))
	for _, g := range r.Groups {
		s := series{keys: g.Keys, periods: g.Series}
		if total {
			s.periods = whole(g.Figures)
		}
		out = append(out, s)
	}
	return out
}

// groupTitle joins a group's values in the order of the grouping keys.
func groupTitle(keys map[string]string, by []string) string {
	vals := make([]string, 0, len(by))
	for _, k := range by {
		vals = append(vals, keys[k])
	}
	return strings.Join(vals, " ")
}

// figuresFrames turns a figures report into labelled time series in the
// time series multi format: one frame per group and figure, each with a
// time field (the start of each period, UTC) and a nullable number field
// whose labels (figure, resource and the group's keys) are unique among
// the frames, as Grafana's alerting requires.
func figuresFrames(r *apiv1.Report, m queryModel, executed string) (data.Frames, error) {
	res := resolveResource(m.Resource, r)
	var frames data.Frames
	seen := map[string]bool{}
	for _, s := range reportSeries(r, m.GroupBy, m.Every == "total") {
		for _, fig := range m.Figures {
			labels := data.Labels{"figure": fig, "resource": res}
			for _, k := range m.GroupBy {
				labels[k] = s.keys[k]
			}
			id := labels.String()
			if seen[id] {
				return nil, fmt.Errorf("scmon returned two groups with the keys %s", id)
			}
			seen[id] = true

			times := make([]time.Time, len(s.periods))
			vals := make([]*float64, len(s.periods))
			for i := range s.periods {
				times[i] = s.periods[i].From.UTC()
				vals[i] = figureValue(&s.periods[i].Figures, res, fig)
			}
			info := figureInfo[fig]
			title := res + " " + info.title
			if g := groupTitle(s.keys, m.GroupBy); g != "" {
				title = g + ": " + title
			}
			value := data.NewField(fig, labels, vals).SetConfig(&data.FieldConfig{DisplayNameFromDS: title, Unit: info.unit})
			if info.ratio {
				value.Config.SetMin(0)
				value.Config.SetMax(1)
			}
			frame := data.NewFrame("", data.NewField("time", nil, times), value)
			frame.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: typeVersion, PreferredVisualization: data.VisTypeGraph}
			frames = append(frames, frame)
		}
	}
	if len(frames) == 0 {
		// The data plane's empty answer: a typed frame without fields says
		// "no data" rather than "no answer".
		frames = data.Frames{data.NewFrame("").SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: typeVersion})}
	}
	annotate(frames[0], executed, r.Warnings)
	return frames, nil
}

// annotate puts the request sent to scmon and scmon's warnings on the
// first frame of an answer, where the query inspector and the panel show
// them.
func annotate(f *data.Frame, executed string, warnings []string) {
	if f.Meta == nil {
		f.Meta = &data.FrameMeta{}
	}
	f.Meta.ExecutedQueryString = executed
	for _, w := range warnings {
		f.AppendNotices(data.Notice{Severity: data.NoticeSeverityWarning, Text: "scmon: " + w})
	}
}

// tableRow is one group of a table query.
type tableRow struct {
	keys   map[string]string
	jobs   int64
	values map[string]*float64
}

// tableFrame turns a grouped report without periods into the top
// m.Limit groups by m.OrderBy, highest first or (m.Order asc) lowest
// first (groups where the figure has
// no meaning last, ties by key), as one table frame.
func tableFrame(r *apiv1.Report, m queryModel, executed string) *data.Frame {
	res := resolveResource(m.Resource, r)
	cols := []string{FigureUtilization, FigureAIShare, FigureAIShareUpper, FigureAllocatedHours, FigureCapacityHours}
	rows := make([]tableRow, 0, len(r.Groups))
	for _, g := range r.Groups {
		row := tableRow{keys: g.Keys, values: map[string]*float64{}}
		for _, c := range g.Classes {
			row.jobs += c.Jobs
		}
		for _, c := range cols {
			row.values[c] = figureValue(&g.Figures, res, c)
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b tableRow) int {
		x, y := a.values[m.OrderBy], b.values[m.OrderBy]
		switch {
		case x == nil && y != nil:
			return 1
		case x != nil && y == nil:
			return -1
		case x != nil && y != nil && *x != *y:
			if m.Order == "asc" {
				return cmp.Compare(*x, *y)
			}
			return cmp.Compare(*y, *x)
		}
		for _, k := range m.GroupBy {
			if c := strings.Compare(a.keys[k], b.keys[k]); c != 0 {
				return c
			}
		}
		return 0
	})
	if len(rows) > int(m.Limit) {
		rows = rows[:m.Limit]
	}

	frame := data.NewFrame("top " + strings.Join(m.GroupBy, ", ") + " by " + res + " " + figureInfo[m.OrderBy].title)
	for _, k := range m.GroupBy {
		vals := make([]string, len(rows))
		for i, row := range rows {
			vals[i] = row.keys[k]
		}
		frame.Fields = append(frame.Fields, data.NewField(k, nil, vals))
	}
	jobs := make([]int64, len(rows))
	for i, row := range rows {
		jobs[i] = row.jobs
	}
	frame.Fields = append(frame.Fields, data.NewField("jobs", nil, jobs))
	for _, c := range cols {
		vals := make([]*float64, len(rows))
		for i, row := range rows {
			vals[i] = row.values[c]
		}
		info := figureInfo[c]
		f := data.NewField(c, nil, vals).SetConfig(&data.FieldConfig{DisplayNameFromDS: res + " " + info.title, Unit: info.unit})
		if info.ratio {
			f.Config.SetMin(0)
			f.Config.SetMax(1)
		}
		frame.Fields = append(frame.Fields, f)
	}
	frame.Meta = &data.FrameMeta{Type: data.FrameTypeTable, PreferredVisualization: data.VisTypeTable}
	annotate(frame, executed, r.Warnings)
	return frame
}

// jobsFrame turns a page of jobs into a table frame, one row per run, with
// the columns m.Columns names (all when none) in their order.
func jobsFrame(p *apiv1.JobsPage, m queryModel, executed string) *data.Frame {
	limit := int(m.Limit)
	n := len(p.Jobs)
	var (
		id, cluster, partition, account = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		user, name, state, accels       = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		class, rules                    = make([]string, n), make([]string, n)
		start, end                      = make([]*time.Time, n), make([]*time.Time, n)
		nodes, cores                    = make([]int64, n), make([]int64, n)
	)
	for i, j := range p.Jobs {
		id[i], cluster[i], partition[i], account[i] = j.JobID, j.Cluster, j.Partition, j.Account
		user[i], name[i], state[i], class[i] = j.User, j.Name, j.State, j.Class
		start[i], end[i] = optionalTime(j.Start), optionalTime(j.End)
		nodes[i], cores[i] = j.Nodes, j.Cores
		rules[i] = strings.Join(j.Rules, ", ")
		as := make([]string, 0, len(j.Accelerators))
		for _, a := range j.Accelerators {
			g := a.Name
			if a.Type != "" {
				g += ":" + a.Type
			}
			as = append(as, fmt.Sprintf("%s:%d", g, a.Count))
		}
		accels[i] = strings.Join(as, ", ")
	}
	frame := data.NewFrame("jobs",
		data.NewField("job_id", nil, id),
		data.NewField("cluster", nil, cluster),
		data.NewField("partition", nil, partition),
		data.NewField("account", nil, account),
		data.NewField("user", nil, user),
		data.NewField("name", nil, name),
		data.NewField("state", nil, state),
		data.NewField("start", nil, start),
		data.NewField("end", nil, end),
		data.NewField("nodes", nil, nodes),
		data.NewField("cores", nil, cores),
		data.NewField("accelerators", nil, accels),
		data.NewField("class", nil, class),
		data.NewField("rules", nil, rules),
	)
	if len(m.Columns) > 0 {
		fields := make([]*data.Field, 0, len(m.Columns))
		for _, c := range m.Columns {
			for _, f := range frame.Fields {
				if f.Name == c {
					fields = append(fields, f)
				}
			}
		}
		frame.Fields = fields
	}
	frame.Meta = &data.FrameMeta{Type: data.FrameTypeTable, PreferredVisualization: data.VisTypeTable}
	var notes []string
	if p.More {
		notes = append(notes, fmt.Sprintf("more jobs match than the limit of %d: raise limit or narrow the filters", limit))
	}
	annotate(frame, executed, nil)
	for _, t := range notes {
		frame.AppendNotices(data.Notice{Severity: data.NoticeSeverityInfo, Text: t})
	}
	return frame
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
