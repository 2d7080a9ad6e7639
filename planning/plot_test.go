package planning

import (
	"bytes"
	"encoding/xml"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
)

func plotData() *PlotData {
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	d := &PlotData{Title: "test", Basis: "core-hours"}
	for i := range 3 {
		p := PlotPeriod{From: t0.AddDate(0, 0, i), To: t0.AddDate(0, 0, i+1), Capacity: 100}
		p.Held[classify.AITraining] = 20
		p.Held[classify.AIInference] = 10
		p.Held[classify.Other] = 30
		p.Held[classify.Unknown] = 5
		p.Cores = Split{CapacitySeconds: 100, AllocatedSeconds: 40, Blocked: 30, Mismatch: 20, NoDemand: 10}
		p.Accel = Split{CapacitySeconds: 10, AllocatedSeconds: 5, NoDemand: 5}
		d.Periods = append(d.Periods, p)
	}
	return d
}

// TestPlotPNG draws a known series and reads the colours back where the
// bars must be.
func TestPlotPNG(t *testing.T) {
	var buf bytes.Buffer
	if err := Plot(&buf, plotData(), PlotPNG); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != plotW || b.Dy() != plotH {
		t.Fatalf("size %v", b)
	}
	p1 := panel{top: 50, height: 330, n: 3}
	p2 := panel{top: 440, height: 170, n: 3}
	p3 := panel{top: 670, height: 170, n: 3}
	x := int(p1.x(1) + p1.barWidth()/2 + 20) // away from the AI share line
	for _, tt := range []struct {
		name string
		y    float64
		want color.RGBA
	}{
		{"training at 10%", p1.y(0.10), colTraining},
		{"inference at 25%", p1.y(0.25), colInference},
		{"other at 45%", p1.y(0.45), colOther},
		{"unknown at 62%", p1.y(0.62), colUnknown},
		{"nothing at 80%", p1.y(0.80), color.RGBA{255, 255, 255, 255}},
		{"blocked cores at 15%", p2.y(0.15), reasonColors[ReasonBlocked]},
		{"mismatch cores at 40%", p2.y(0.40), reasonColors[ReasonMismatch]},
		{"no demand cores at 55%", p2.y(0.55), reasonColors[ReasonNoDemand]},
		{"no demand accelerators at 45%", p3.y(0.45), reasonColors[ReasonNoDemand]},
	} {
		got := color.RGBAModel.Convert(img.At(x, int(tt.y))).(color.RGBA)
		if got != tt.want {
			t.Errorf("%s: pixel (%d,%d) is %v, want %v", tt.name, x, int(tt.y), got, tt.want)
		}
	}
}

// TestPlotSVG checks that the SVG is well-formed and holds one bar
// segment per class and reason drawn.
func TestPlotSVG(t *testing.T) {
	var buf bytes.Buffer
	if err := Plot(&buf, plotData(), PlotSVG); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	dec := xml.NewDecoder(strings.NewReader(s))
	rects := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	// background + 3 periods x (4 classes + 3 core reasons + 1 accelerator
	// reason) + legend swatches (6 + 6 + 6).
	if want := 1 + 3*(4+3+1) + 18; rects != want {
		t.Errorf("%d rects, want %d", rects, want)
	}
	if err := Plot(&buf, &PlotData{}, PlotSVG); err == nil {
		t.Error("empty plot accepted")
	}
	if err := Plot(&buf, plotData(), "gif"); err == nil {
		t.Error("gif accepted")
	}
}
