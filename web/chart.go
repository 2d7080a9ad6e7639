package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/report"
)

// Geometry of the status page's chart, in SVG user units; the SVG scales to
// the page width.
const (
	chartWidth     = 960
	chartHeight    = 320
	chartLeft      = 56 // room for the y labels
	chartRight     = 16
	chartTop       = 40 // room for the legend
	chartBottom    = 30 // room for the x labels
	chartMaxLabels = 12 // at most this many x labels
)

// chartView is everything the template needs to draw the chart: all
// coordinates are computed here, the template only places them.
type chartView struct {
	Width, Height          int
	Left, Right, Top, Base float64
	// TickEnd is where the x ticks end below the axis.
	TickEnd float64
	// Basis names the resource of the utilization line.
	Basis  string
	Days   int
	From   string
	To     string
	Zone   string
	YTicks []tick
	XTicks []tick
	Series []seriesView
	Legend []legendItem
	// Rows are the daily values as table rows, one value per series.
	Rows []dayRow
	// NoCapacity reports that some days had no capacity, so that their
	// utilization is not drawn.
	NoCapacity bool
}

// tick is one axis label and its position.
type tick struct {
	Pos   float64
	Label string
}

// seriesView is one line of the chart.
type seriesView struct {
	Key, Name, Class string
	// Segments are polyline point lists; a day without a value breaks
	// the line.
	Segments []string
	Points   []pointView
}

// legendItem is one entry of the legend: a line swatch and its name.
type legendItem struct {
	Class, Name     string
	X, X2, TextX, Y float64
}

// dayRow is one day of the table under the chart.
type dayRow struct {
	Day    string
	Values []string
}

// pointView is one day's value.
type pointView struct {
	X, Y  float64
	Day   string
	Value string
	Title string
}

// basisName is how the page names a basis.
func basisName(b string) string {
	switch capacity.Basis(b) {
	case capacity.BasisCores:
		return "CPU cores"
	case capacity.BasisAccelerator:
		return "accelerators"
	case capacity.BasisBilling:
		return "billing units"
	case capacity.BasisNodes:
		return "nodes"
	}
	return b
}

// buildChart lays out the daily series of rep.
func buildChart(rep *report.Report, loc *time.Location) *chartView {
	basis := report.HeadlineFor(rep.Headline.Basis, &rep.Figures).Basis
	c := &chartView{
		Width: chartWidth, Height: chartHeight,
		Left: chartLeft, Right: chartWidth - chartRight, Top: chartTop, Base: chartHeight - chartBottom,
		TickEnd: chartHeight - chartBottom + 5,
		Basis:   basisName(string(basis)),
		Days:    len(rep.Series),
		Zone:    loc.String(),
	}
	if len(rep.Series) > 0 {
		c.Zone = zoneLabel(loc, rep.Series[len(rep.Series)-1].From)
		c.From = rep.Series[0].From.In(loc).Format("2006-01-02")
		c.To = rep.Series[len(rep.Series)-1].From.In(loc).Format("2006-01-02")
	}
	for _, p := range []float64{0, 0.25, 0.5, 0.75, 1} {
		c.YTicks = append(c.YTicks, tick{Pos: c.y(p), Label: strconv.Itoa(int(p*100)) + " %"})
	}
	n := len(rep.Series)
	step := (n + chartMaxLabels - 1) / chartMaxLabels
	if step < 1 {
		step = 1
	}
	for i, p := range rep.Series {
		// Label from the last day backwards, so that the newest day is
		// always labelled.
		if (n-1-i)%step == 0 {
			c.XTicks = append(c.XTicks, tick{Pos: c.x(i, n), Label: p.From.In(loc).Format("Jan 2")})
		}
	}
	util := seriesView{Key: "utilization", Name: "Utilization (" + c.Basis + ")", Class: "s-util"}
	share := seriesView{Key: "ai_share", Name: "AI share of allocated", Class: "s-ai"}
	upper := seriesView{Key: "ai_share_upper", Name: "AI share, unknown jobs counted as AI", Class: "s-upper"}
	var segU, segA, segP []string
	flush := func(sv *seriesView, seg *[]string) {
		if len(*seg) > 0 {
			sv.Segments = append(sv.Segments, strings.Join(*seg, " "))
			*seg = nil
		}
	}
	for i, p := range rep.Series {
		day := p.From.In(loc).Format("2006-01-02")
		h := report.HeadlineFor(basis, &p.Figures)
		u, a, up := h.Utilization, h.AIShare, h.AIShareUp
		x := c.x(i, n)
		row := dayRow{Day: day + " " + p.From.In(loc).Format("Mon"), Values: []string{"–", pct(a), pct(up)}}
		if p.HasCapacity {
			row.Values[0] = pct(u)
		}
		c.Rows = append(c.Rows, row)
		add := func(sv *seriesView, seg *[]string, v float64, what string) {
			pt := pointView{X: x, Y: c.y(v), Day: day, Value: pct(v)}
			pt.Title = fmt.Sprintf("%s (%s): %s %s", day, p.From.In(loc).Format("Mon"), what, pt.Value)
			sv.Points = append(sv.Points, pt)
			*seg = append(*seg, coord(pt.X)+","+coord(pt.Y))
		}
		if p.HasCapacity {
			add(&util, &segU, u, "utilization of "+c.Basis)
		} else {
			c.NoCapacity = true
			flush(&util, &segU)
		}
		add(&share, &segA, a, "AI share")
		add(&upper, &segP, up, "AI share with unknown as AI")
	}
	flush(&util, &segU)
	flush(&share, &segA)
	flush(&upper, &segP)
	c.Series = []seriesView{util, share, upper}
	// The legend runs left to right above the plot; a 12-unit font is
	// about 7 units wide per character.
	lx := c.Left
	for _, sv := range c.Series {
		c.Legend = append(c.Legend, legendItem{Class: sv.Class, Name: sv.Name, X: lx, X2: lx + 22, TextX: lx + 28, Y: 16})
		lx += 28 + 7*float64(len([]rune(sv.Name))) + 24
	}
	return c
}

// x is the centre of day i of n.
func (c *chartView) x(i, n int) float64 {
	w := (c.Right - c.Left) / float64(n)
	return round1(c.Left + (float64(i)+0.5)*w)
}

// y is the height of ratio v, clamped to the plot.
func (c *chartView) y(v float64) float64 {
	if v < 0 || v != v {
		v = 0
	}
	if v > 1 {
		v = 1
	}
	return round1(c.Base - v*(c.Base-c.Top))
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

func coord(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// pct formats a ratio as report.WriteTable does: one decimal and a percent
// sign.
func pct(v float64) string {
	v = finite(v)
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}
