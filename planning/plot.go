package planning

import (
	"fmt"
	"image/color"
	"image/png"
	"io"
	"strings"
	"time"

	"github.com/scmon/scmon/classify"
)

// PlotPeriod is one period of a plot: what each class held, on the
// headline basis, and the idle split of cores and accelerators.
type PlotPeriod struct {
	From, To time.Time
	// Capacity and Held are in units of the basis (any unit: only their
	// ratios are drawn); Held is indexed by classify.Class.
	Capacity float64
	Held     [4]float64
	Cores    Split
	Accel    Split
}

// PlotData is what Plot draws.
type PlotData struct {
	Title string
	// Basis names the resource of the utilization panel.
	Basis    string
	Location *time.Location
	Periods  []PlotPeriod
}

// Plot formats.
const (
	PlotSVG = "svg"
	PlotPNG = "png"
)

var (
	colTraining  = color.RGBA{31, 119, 180, 255}
	colInference = color.RGBA{23, 190, 207, 255}
	colOther     = color.RGBA{180, 180, 180, 255}
	colUnknown   = color.RGBA{255, 127, 14, 255}
	colText      = color.RGBA{30, 30, 30, 255}
	colGrid      = color.RGBA{225, 225, 225, 255}
	colAIShare   = color.RGBA{200, 30, 30, 255}
	reasonColors = map[string]color.RGBA{
		ReasonDown:     {90, 90, 90, 255},
		ReasonDrained:  {148, 103, 189, 255},
		ReasonPlanned:  {140, 86, 75, 255},
		ReasonBlocked:  {214, 39, 40, 255},
		ReasonMismatch: {255, 187, 120, 255},
		ReasonNoDemand: {174, 199, 232, 255},
	}
)

const (
	plotW, plotH = 1000, 900
	left, right  = 70.0, 190.0
)

// Plot draws utilization stacked by class with the AI share and its upper
// bound, and the idle split of cores and of accelerators, one bar per
// period, as SVG or PNG.
func Plot(w io.Writer, d *PlotData, format string) error {
	if len(d.Periods) == 0 {
		return fmt.Errorf("plot: no period to draw")
	}
	var c canvas
	var svg *svgCanvas
	var img *pngCanvas
	switch format {
	case PlotSVG:
		svg = newSVG(plotW, plotH)
		c = svg
	case PlotPNG:
		img = newPNG(plotW, plotH)
		c = img
	default:
		return fmt.Errorf("plot: format %q is not svg or png", format)
	}
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	c.text(left, 24, d.Title, -1, colText)

	// Panel 1: utilization by class, AI share and its upper bound.
	p1 := panel{c: c, top: 50, height: 330, n: len(d.Periods)}
	p1.frame(fmt.Sprintf("Utilization of %s by class; AI share of allocated (line) and its upper bound (dashed)", d.Basis))
	var share, upper [][2]float64
	for i, p := range d.Periods {
		if p.Capacity <= 0 {
			continue
		}
		y := 0.0
		for _, cl := range []classify.Class{classify.AITraining, classify.AIInference, classify.Other, classify.Unknown} {
			v := p.Held[cl] / p.Capacity
			p1.bar(i, y, v, classColor(cl))
			y += v
		}
		held := p.Held[0] + p.Held[1] + p.Held[2] + p.Held[3]
		if held > 0 {
			ai := p.Held[classify.AITraining] + p.Held[classify.AIInference]
			share = append(share, p1.point(i, ai/held))
			upper = append(upper, p1.point(i, (ai+p.Held[classify.Unknown])/held))
		}
	}
	c.line(upper, colAIShare, 1.5, true)
	c.line(share, colAIShare, 2, false)
	p1.legend([]legendItem{{"AI training", colTraining}, {"AI inference", colInference}, {"other", colOther}, {"unknown", colUnknown},
		{"AI share", colAIShare}, {"AI upper (dashed)", colAIShare}})

	// Panels 2 and 3: idle split.
	idle := func(top float64, title string, get func(p *PlotPeriod) *Split) {
		pp := panel{c: c, top: top, height: 170, n: len(d.Periods)}
		pp.frame(title)
		for i := range d.Periods {
			s := get(&d.Periods[i])
			if s.CapacitySeconds <= 0 {
				continue
			}
			y := 0.0
			for _, r := range Reasons {
				v := float64(s.Reason(r)) / float64(s.CapacitySeconds)
				pp.bar(i, y, v, reasonColors[r])
				y += v
			}
		}
		var items []legendItem
		for _, r := range Reasons {
			items = append(items, legendItem{strings.ReplaceAll(r, "_", " "), reasonColors[r]})
		}
		pp.legend(items)
	}
	idle(440, "Idle cores by reason (share of core capacity)", func(p *PlotPeriod) *Split { return &p.Cores })
	idle(670, "Idle accelerators by reason (share of accelerator capacity)", func(p *PlotPeriod) *Split { return &p.Accel })

	// Period labels under the last panel, at most about 15.
	step := max(1, (len(d.Periods)+14)/15)
	pl := panel{c: c, top: 670, height: 170, n: len(d.Periods)}
	for i := 0; i < len(d.Periods); i += step {
		x := pl.x(i) + pl.barWidth()/2
		c.text(x, 858, d.Periods[i].From.In(loc).Format("01-02"), 0, colText)
	}
	c.text(left, 885, "periods from "+d.Periods[0].From.In(loc).Format("2006-01-02 15:04 -07:00")+" to "+d.Periods[len(d.Periods)-1].To.In(loc).Format("2006-01-02 15:04 -07:00"), -1, colText)

	if svg != nil {
		_, err := w.Write(svg.bytes())
		return err
	}
	return png.Encode(w, img.img)
}

func classColor(c classify.Class) color.RGBA {
	switch c {
	case classify.AITraining:
		return colTraining
	case classify.AIInference:
		return colInference
	case classify.Other:
		return colOther
	}
	return colUnknown
}

type legendItem struct {
	label string
	col   color.RGBA
}

// panel is one chart: n bars across, 0..100% up.
type panel struct {
	c           canvas
	top, height float64
	n           int
}

func (p *panel) width() float64    { return plotW - left - right }
func (p *panel) barWidth() float64 { return p.width() / float64(p.n) }
func (p *panel) x(i int) float64   { return left + float64(i)*p.barWidth() }
func (p *panel) y(v float64) float64 {
	return p.top + p.height - min(max(v, 0), 1)*p.height
}

func (p *panel) frame(title string) {
	p.c.text(left, p.top-10, title, -1, colText)
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		y := p.y(v)
		p.c.line([][2]float64{{left, y}, {left + p.width(), y}}, colGrid, 1, false)
		p.c.text(left-6, y+4, fmt.Sprintf("%d%%", int(v*100)), 1, colText)
	}
}

// bar draws the part of bar i from v0 to v0+h (fractions of the axis).
func (p *panel) bar(i int, v0, h float64, col color.RGBA) {
	if h <= 0 {
		return
	}
	gap := min(2, p.barWidth()/5)
	y0, y1 := p.y(v0), p.y(v0+h)
	p.c.rect(p.x(i)+gap/2, y1, p.barWidth()-gap, y0-y1, col)
}

func (p *panel) point(i int, v float64) [2]float64 {
	return [2]float64{p.x(i) + p.barWidth()/2, p.y(v)}
}

func (p *panel) legend(items []legendItem) {
	x := plotW - right + 15
	for k, it := range items {
		y := p.top + 10 + float64(k)*18
		p.c.rect(x, y-9, 12, 10, it.col)
		p.c.text(x+18, y, it.label, -1, colText)
	}
}
