package planning

import (
	"fmt"
	"html"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// canvas is what a plot draws on: SVG text or a PNG image, with the same
// coordinates (pixels, origin top left) so that both look alike.
type canvas interface {
	rect(x, y, w, h float64, c color.RGBA)
	line(pts [][2]float64, c color.RGBA, width float64, dashed bool)
	// text writes s with its baseline at y, starting at x (anchor -1),
	// centred on it (0) or ending at it (1).
	text(x, y float64, s string, anchor int, c color.RGBA)
}

// charWidth is the advance of one character of the plot's fixed font.
const charWidth = 7

type svgCanvas struct {
	b strings.Builder
}

func newSVG(w, h int) *svgCanvas {
	c := &svgCanvas{}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&c.b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", w, h)
	return c
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func (c *svgCanvas) rect(x, y, w, h float64, col color.RGBA) {
	if w <= 0 || h <= 0 {
		return
	}
	fmt.Fprintf(&c.b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"/>`+"\n", x, y, w, h, hex(col))
}

func (c *svgCanvas) line(pts [][2]float64, col color.RGBA, width float64, dashed bool) {
	if len(pts) < 2 {
		return
	}
	var p strings.Builder
	for i, q := range pts {
		if i > 0 {
			p.WriteByte(' ')
		}
		fmt.Fprintf(&p, "%.2f,%.2f", q[0], q[1])
	}
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="6,4"`
	}
	fmt.Fprintf(&c.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%.1f"%s/>`+"\n", p.String(), hex(col), width, dash)
}

func (c *svgCanvas) text(x, y float64, s string, anchor int, col color.RGBA) {
	a := "start"
	switch anchor {
	case 0:
		a = "middle"
	case 1:
		a = "end"
	}
	fmt.Fprintf(&c.b, `<text x="%.2f" y="%.2f" text-anchor="%s" fill="%s">%s</text>`+"\n", x, y, a, hex(col), html.EscapeString(s))
}

func (c *svgCanvas) bytes() []byte { return []byte(c.b.String() + "</svg>\n") }

type pngCanvas struct {
	img *image.RGBA
}

func newPNG(w, h int) *pngCanvas {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{255, 255, 255, 255}), image.Point{}, draw.Src)
	return &pngCanvas{img: img}
}

func (c *pngCanvas) rect(x, y, w, h float64, col color.RGBA) {
	if w <= 0 || h <= 0 {
		return
	}
	r := image.Rect(int(math.Round(x)), int(math.Round(y)), int(math.Round(x+w)), int(math.Round(y+h)))
	draw.Draw(c.img, r, image.NewUniform(col), image.Point{}, draw.Src)
}

func (c *pngCanvas) line(pts [][2]float64, col color.RGBA, width float64, dashed bool) {
	half := math.Max(0, (width-1)/2)
	var run float64
	for i := 1; i < len(pts); i++ {
		x0, y0, x1, y1 := pts[i-1][0], pts[i-1][1], pts[i][0], pts[i][1]
		n := math.Max(math.Abs(x1-x0), math.Abs(y1-y0))
		steps := int(math.Ceil(n))
		for s := 0; s <= steps; s++ {
			t := 0.0
			if steps > 0 {
				t = float64(s) / float64(steps)
			}
			run++
			if dashed && math.Mod(run, 10) >= 6 {
				continue
			}
			x, y := x0+(x1-x0)*t, y0+(y1-y0)*t
			for dx := -half; dx <= half; dx++ {
				for dy := -half; dy <= half; dy++ {
					c.img.SetRGBA(int(math.Round(x+dx)), int(math.Round(y+dy)), col)
				}
			}
		}
	}
}

func (c *pngCanvas) text(x, y float64, s string, anchor int, col color.RGBA) {
	w := float64(len([]rune(s)) * charWidth)
	switch anchor {
	case 0:
		x -= w / 2
	case 1:
		x -= w
	}
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: basicfont.Face7x13,
		Dot: fixed.Point26_6{X: fixed.I(int(math.Round(x))), Y: fixed.I(int(math.Round(y)))}}
	d.DrawString(s)
}
