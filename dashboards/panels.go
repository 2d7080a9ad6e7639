//lint:file-ignore SA1019 scmon ships classic dashboard JSON (schema 42), which Grafana provisions from files everywhere; the SDK marks it deprecated in favour of the v2 schema, which needs feature flags to provision.

package main

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Every panel and query reads from the data source the dashboard's
// datasource variable selects, so that one set of dashboards serves any
// Prometheus (or Thanos, Mimir, VictoriaMetrics) that scrapes scmon.
const (
	datasourceVar  = "datasource"
	datasourceType = "prometheus"
)

// promDS is the data source reference of every panel and target.
func promDS() common.DataSourceRef {
	typ, uid := datasourceType, "${"+datasourceVar+"}"
	return common.DataSourceRef{Type: &typ, Uid: &uid}
}

// grafanaDS is Grafana's own built-in data source, which serves the
// built-in annotations.
func grafanaDS() common.DataSourceRef {
	typ, uid := "grafana", "-- Grafana --"
	return common.DataSourceRef{Type: &typ, Uid: &uid}
}

// vizKind is a Grafana panel type.
type vizKind int

const (
	vizTimeSeries vizKind = iota
	vizStat
	vizBarGauge
	vizTable
	vizStateTimeline
)

// query is one Prometheus target of a panel.
type query struct {
	// expr is the PromQL, with Grafana's variables ($cluster,
	// $__rate_interval, ...) still in it.
	expr string
	// legend is the legend format ({{label}} templates).
	legend string
	// instant asks for an instant query; panels that reduce to one value
	// per series (stat, bar gauge, table) use it, time series do not.
	instant bool
	// table asks for Prometheus's table format (labels as columns).
	table bool
}

// panel describes one panel in the terms scmon's dashboards need; build
// turns it into the SDK's builder of its type. Fields that a panel type
// has no use for are ignored by it.
type panel struct {
	kind        vizKind
	title       string
	description string
	// unit is Grafana's unit id (percentunit, s, short, cps, ...); every
	// panel sets one, "none" for states and labels.
	unit    string
	w, h    uint32
	queries []query
	// stacked stacks the series (capacity ledgers, resources by class).
	stacked bool
	// ratio marks a 0..1 figure: the axis starts at 0 with a soft
	// maximum of 1 (an oversubscribed site may exceed it).
	ratio bool
	// minInterval is the panel's minimum query interval. Ratios of
	// counters that step once per poll need windows that span a poll, or
	// they fall to 0/0 between polls.
	minInterval string
	// dashed is a regular expression over series names drawn dashed
	// (upper bounds, demand next to supply).
	dashed string
	// tableLegend shows the legend as a table with mean and last values.
	tableLegend bool
	// mappings and steps colour and name states (up/down, ok/failed).
	mappings []dashboard.ValueMapping
	steps    []dashboard.Threshold
	// hideColumns lists table columns to hide.
	hideColumns []string
	// decimals fixes the number of decimals when set.
	decimals *float64
}

// board assembles one dashboard, numbering panels in the order they are
// added: ids are explicit and unique, so links to a panel stay valid when
// the dashboard is regenerated.
type board struct {
	b      *dashboard.DashboardBuilder
	nextID uint32
	err    error
}

// newBoard starts a dashboard with the settings every scmon dashboard
// shares and the datasource variable.
func newBoard(uid, title, description string, tags []string) *board {
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags(tags).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-7d", "now").
		Timezone(common.TimeZoneBrowser).
		Refresh("1m").
		// Grafana's built-in annotations (alerts and manual notes), stated
		// so that the annotation list is never empty.
		Annotation(dashboard.NewAnnotationQueryBuilder().
			Name("Annotations & Alerts").
			Datasource(grafanaDS()).
			Type("dashboard").
			BuiltIn(1).
			Enable(true).
			Hide(true).
			IconColor("rgba(0, 211, 255, 1)")).
		// The other scmon dashboards, with the time range and variables
		// carried over.
		Link(dashboard.NewDashboardLinkBuilder("scmon").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"scmon"}).
			AsDropdown(true).
			KeepTime(true).
			IncludeVars(true).
			TargetBlank(false).
			Icon("external link").
			Tooltip("Other scmon dashboards").
			Url("")).
		WithVariable(dashboard.NewDatasourceVariableBuilder(datasourceVar).
			Label("Data source").
			Description("The Prometheus that scrapes scmon.").
			Type(datasourceType))
	return &board{b: b, nextID: 1}
}

// queryVar adds a multi-value query variable over a label's values, with
// an All option that matches every value (.*). Queries use it as
// label=~"$name".
func (bd *board) queryVar(name, label, description, definition string) {
	bd.b.WithVariable(dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Description(description).
		Datasource(promDS()).
		Query(dashboard.StringOrMap{String: &definition}).
		Definition(definition).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		}))
}

// row starts a row; the panels added after it belong to it.
func (bd *board) row(title string) {
	bd.b.WithRow(dashboard.NewRowBuilder(title).Id(bd.nextID))
	bd.nextID++
}

// add appends a panel, laid out left to right and wrapped at the grid's
// 24 columns by the SDK.
func (bd *board) add(p panel) {
	if p.w == 0 {
		p.w = 12
	}
	if p.h == 0 {
		p.h = 8
	}
	id := bd.nextID
	bd.nextID++
	b, err := p.build(id)
	if err != nil && bd.err == nil {
		bd.err = fmt.Errorf("panel %q: %w", p.title, err)
	}
	bd.b.WithPanel(b)
}

// dashboard returns the finished dashboard.
func (bd *board) dashboard() (dashboard.Dashboard, error) {
	if bd.err != nil {
		return dashboard.Dashboard{}, bd.err
	}
	return bd.b.Build()
}

// targets returns the panel's queries as SDK builders with RefIds A, B, ...
func (p *panel) targets() ([]cog.Builder[variants.Dataquery], error) {
	if len(p.queries) == 0 {
		return nil, fmt.Errorf("no queries")
	}
	if len(p.queries) > 26 {
		return nil, fmt.Errorf("%d queries: at most 26", len(p.queries))
	}
	out := make([]cog.Builder[variants.Dataquery], 0, len(p.queries))
	for i, q := range p.queries {
		t := prometheus.NewDataqueryBuilder().
			Datasource(promDS()).
			RefId(string(rune('A' + i))).
			Expr(q.expr).
			LegendFormat(q.legend).
			EditorMode(prometheus.QueryEditorModeCode)
		if q.instant {
			t.Instant()
		} else {
			t.Range()
		}
		if q.table {
			t.Format(prometheus.PromQueryFormatTable)
		}
		out = append(out, t)
	}
	return out, nil
}

// legend is the legend every series panel shows: below the plot, as a list
// or as a table with the mean and last values.
func (p *panel) legend() *common.VizLegendOptionsBuilder {
	l := common.NewVizLegendOptionsBuilder().
		ShowLegend(true).
		Placement(common.LegendPlacementBottom).
		DisplayMode(common.LegendDisplayModeList).
		Calcs([]string{})
	if p.tableLegend {
		l.DisplayMode(common.LegendDisplayModeTable).
			Calcs([]string{"mean", "lastNotNull"}).
			SortBy("Last *").
			SortDesc(true)
	}
	return l
}

// tooltip shows every series at the cursor, largest first.
func tooltip() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().
		Mode(common.TooltipDisplayModeMulti).
		Sort(common.SortOrderDescending)
}

// thresholds returns the panel's threshold steps, a single neutral step
// when it names none.
func (p *panel) thresholds() *dashboard.ThresholdsConfigBuilder {
	steps := p.steps
	if len(steps) == 0 {
		steps = []dashboard.Threshold{{Color: "green"}}
	}
	return dashboard.NewThresholdsConfigBuilder().
		Mode(dashboard.ThresholdsModeAbsolute).
		Steps(steps)
}

// reduceLast reduces each series to its last non-null value.
func reduceLast() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().
		Calcs([]string{"lastNotNull"}).
		Values(false)
}

// dashedLine is the override value that draws a series dashed.
var dashedLine = []dashboard.DynamicConfigValue{{
	Id:    "custom.lineStyle",
	Value: map[string]any{"fill": "dash", "dash": []int{10, 10}},
}}

// build returns the SDK builder of the panel's type.
func (p *panel) build(id uint32) (cog.Builder[dashboard.Panel], error) {
	targets, err := p.targets()
	if err != nil {
		return nil, err
	}
	if p.unit == "" {
		return nil, fmt.Errorf("no unit")
	}
	if p.description == "" {
		return nil, fmt.Errorf("no description")
	}
	switch p.kind {
	case vizTimeSeries:
		b := timeseries.NewPanelBuilder().
			Id(id).Title(p.title).Description(p.description).
			Datasource(promDS()).Targets(targets).
			Span(p.w).Height(p.h).
			Unit(p.unit).
			Thresholds(p.thresholds()).
			Legend(p.legend()).
			Tooltip(tooltip()).
			DrawStyle(common.GraphDrawStyleLine).
			LineWidth(1).
			FillOpacity(0).
			ShowPoints(common.VisibilityModeNever).
			SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(false)})
		if p.stacked {
			b.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A")).
				FillOpacity(60).LineWidth(0)
		}
		if p.ratio {
			b.Min(0).AxisSoftMax(1)
		}
		if p.minInterval != "" {
			b.Interval(p.minInterval)
		}
		if p.dashed != "" {
			b.OverrideByRegexp(p.dashed, dashedLine)
		}
		if p.decimals != nil {
			b.Decimals(*p.decimals)
		}
		return b, nil
	case vizStat:
		b := stat.NewPanelBuilder().
			Id(id).Title(p.title).Description(p.description).
			Datasource(promDS()).Targets(targets).
			Span(p.w).Height(p.h).
			Unit(p.unit).
			Thresholds(p.thresholds()).
			Mappings(p.mappings).
			ReduceOptions(reduceLast()).
			Orientation(common.VizOrientationAuto).
			GraphMode(common.BigValueGraphModeNone).
			ColorMode(common.BigValueColorModeValue).
			TextMode(common.BigValueTextModeValueAndName).
			JustifyMode(common.BigValueJustifyModeAuto)
		if p.minInterval != "" {
			b.Interval(p.minInterval)
		}
		if p.decimals != nil {
			b.Decimals(*p.decimals)
		}
		return b, nil
	case vizBarGauge:
		b := bargauge.NewPanelBuilder().
			Id(id).Title(p.title).Description(p.description).
			Datasource(promDS()).Targets(targets).
			Span(p.w).Height(p.h).
			Unit(p.unit).
			Thresholds(p.thresholds()).
			ReduceOptions(reduceLast()).
			Orientation(common.VizOrientationHorizontal).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			ValueMode(common.BarGaugeValueModeColor).
			ShowUnfilled(true).
			// Each bar carries its series name; a legend would repeat it.
			Legend(common.NewVizLegendOptionsBuilder().
				ShowLegend(false).
				Placement(common.LegendPlacementBottom).
				DisplayMode(common.LegendDisplayModeList).
				Calcs([]string{}))
		if p.ratio {
			b.Min(0).Max(1)
		} else {
			b.Min(0)
		}
		if p.decimals != nil {
			b.Decimals(*p.decimals)
		}
		return b, nil
	case vizTable:
		b := table.NewPanelBuilder().
			Id(id).Title(p.title).Description(p.description).
			Datasource(promDS()).Targets(targets).
			Span(p.w).Height(p.h).
			Unit(p.unit).
			Thresholds(p.thresholds()).
			ShowHeader(true).
			CellHeight(common.TableCellHeightSm)
		if len(p.hideColumns) > 0 {
			exclude := map[string]any{}
			for _, c := range p.hideColumns {
				exclude[c] = true
			}
			b.WithTransformation(dashboard.DataTransformerConfig{
				Id:      "organize",
				Options: map[string]any{"excludeByName": exclude},
			})
		}
		return b, nil
	case vizStateTimeline:
		b := statetimeline.NewPanelBuilder().
			Id(id).Title(p.title).Description(p.description).
			Datasource(promDS()).Targets(targets).
			Span(p.w).Height(p.h).
			Unit(p.unit).
			Thresholds(p.thresholds()).
			Mappings(p.mappings).
			Legend(p.legend()).
			Tooltip(tooltip()).
			ShowValue(common.VisibilityModeNever).
			MergeValues(true).
			FillOpacity(80).
			LineWidth(0)
		return b, nil
	}
	return nil, fmt.Errorf("unknown panel kind %d", p.kind)
}

// stateMappings names the two values of a 0/1 health gauge.
func stateMappings(zero, one string) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{
		ValueMap: &dashboard.ValueMap{
			Type: dashboard.MappingTypeValueToText,
			Options: map[string]dashboard.ValueMappingResult{
				"0": {Text: &zero, Color: cog.ToPtr("red"), Index: cog.ToPtr[int32](0)},
				"1": {Text: &one, Color: cog.ToPtr("green"), Index: cog.ToPtr[int32](1)},
			},
		},
	}}
}

// ageSteps colours an age in seconds: green below warn, orange below crit,
// red above.
func ageSteps(warn, crit float64) []dashboard.Threshold {
	return []dashboard.Threshold{
		{Color: "green"},
		{Value: &warn, Color: "orange"},
		{Value: &crit, Color: "red"},
	}
}
