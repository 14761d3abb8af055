// Package timeline draws a merged trace (internal/trace) as a picture for people, slides in
// particular: one lane per rank, time across; computing (outside gompi) in green, time inside a
// gompi call in blue, time blocked waiting for a peer in orange; each collective call bracketed
// and labelled with its name and algorithm above its lane; each message a line from the start
// of its send to the end of its receive. gompirun --timeline uses it; it sits beside the stack
// and is never linked into ranks (it brings gonum.org/v1/plot).
package timeline

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/gompi/gompi/internal/trace"
)

// Options adjust Render. The zero value is a 16-inch-wide picture (1536 pixels in PNG) whose
// height grows with the number of ranks.
type Options struct {
	// Title is written above the lanes; default "gompi timeline, N ranks".
	Title string
	// Width of the picture; default 16 inches (PNG pictures have 96 pixels per inch).
	Width vg.Length
}

// Colours, chosen to stay apart for readers with the common colour-vision deficiencies.
var (
	computeColor = color.RGBA{R: 0xc7, G: 0xe9, B: 0xc0, A: 0xff} // light green
	callColor    = color.RGBA{R: 0x31, G: 0x82, B: 0xbd, A: 0xff} // blue
	waitColor    = color.RGBA{R: 0xf1, G: 0x69, B: 0x13, A: 0xff} // orange
	msgColor     = color.RGBA{R: 0x25, G: 0x25, B: 0x25, A: 0xa0} // dark grey, translucent
	bracketColor = color.RGBA{R: 0x54, G: 0x27, B: 0x88, A: 0xff} // purple
)

// Formats are the picture formats Render writes, by file extension in Save.
var Formats = []string{"png", "svg", "pdf", "jpg", "jpeg", "tiff", "eps"}

// Save renders t into the file path, in the format its extension names (Formats).
func Save(t *trace.Trace, path string, opt Options) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if !isFormat(format) {
		return fmt.Errorf("timeline: %s: unknown picture format %q (want one of %s)", path, format, strings.Join(Formats, ", "))
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	err = Render(f, t, format, opt)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func isFormat(format string) bool {
	for _, f := range Formats {
		if f == format {
			return true
		}
	}
	return false
}

// Render draws t in format (one of Formats) to w.
func Render(w io.Writer, t *trace.Trace, format string, opt Options) error {
	var ranks []*trace.Rank
	for _, rk := range t.Ranks {
		if rk != nil {
			ranks = append(ranks, rk)
		}
	}
	if len(ranks) == 0 {
		return fmt.Errorf("timeline: the trace has no ranks")
	}
	if opt.Width <= 0 {
		opt.Width = 16 * vg.Inch
	}
	if opt.Title == "" {
		opt.Title = fmt.Sprintf("gompi timeline, %d ranks", t.Size)
	}
	lane := vg.Length(math.Max(0.35, math.Min(0.9, 9.0/float64(len(ranks))))) * vg.Inch
	height := headerHeight + vg.Length(len(ranks))*lane + 0.9*vg.Inch
	height = max(height, 3.2*vg.Inch)
	if format == "jpeg" {
		format = "jpg"
	}
	var cw vg.CanvasWriterTo
	if format == "png" {
		cw = smallPNG{vgimg.PngCanvas{Canvas: vgimg.New(opt.Width, height)}}
	} else {
		var err error
		if cw, err = draw.NewFormattedCanvas(opt.Width, height, format); err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
	}
	dc := draw.New(cw)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	v := newView(t, ranks)
	p := plot.New()
	p.BackgroundColor = nil
	p.X.Label.Text = "time since the first rank's Init returned (" + v.unit + ")"
	p.X.Label.TextStyle.Font = sans(15)
	p.X.Tick.Label.Font = sans(13)
	p.Y.Tick.Label.Font = sans(14)
	p.Y.Tick.Marker = plot.ConstantTicks(v.rankTicks())
	p.X.Min, p.X.Max = 0, v.span
	p.X.Tick.Marker = plot.TickerFunc(timeTicks)
	p.Y.Min, p.Y.Max = -0.5, float64(len(ranks))-0.5
	p.Add(v)
	p.Draw(draw.Crop(dc, 0.15*vg.Inch, -0.2*vg.Inch, 0.05*vg.Inch, -headerHeight))
	header(dc, opt.Title)
	if _, err := cw.WriteTo(w); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	return nil
}

// timeTicks labels about eight round instants between lo and hi (1, 2 or 5 times a power of
// ten apart), with unlabelled ticks between: gonum's default gives as few as two.
func timeTicks(lo, hi float64) []plot.Tick {
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/8)))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= 10 {
			step *= m
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	for i := math.Ceil(lo / step * 2); i*step/2 <= hi*(1+1e-9); i++ {
		x := i * step / 2
		t := plot.Tick{Value: x}
		if math.Mod(i, 2) == 0 {
			t.Label = strconv.FormatFloat(x, 'f', decimals, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// smallPNG writes its picture with the best compression: pictures go into repositories and
// slides, and the default compression makes them a third larger.
type smallPNG struct{ vgimg.PngCanvas }

func (c smallPNG) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, c.Image()); err != nil {
		return 0, err
	}
	return buf.WriteTo(w)
}

// headerHeight is the strip at the top holding the title and the legend.
const headerHeight = 0.55 * vg.Inch

// sans is Liberation Sans of size points.
func sans(size float64) font.Font {
	return font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, vg.Points(size))
}

// style returns a left-aligned text style in Liberation Sans of size points.
func style(size float64) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    sans(size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YCenter,
		Handler: plot.DefaultTextHandler,
	}
}

// header writes the title and the legend in the strip at the top of c.
func header(c draw.Canvas, title string) {
	y := c.Max.Y - headerHeight/2
	x := c.Min.X + 0.3*vg.Inch
	ts := style(17)
	c.FillText(ts, vg.Point{X: x, Y: y}, title)
	x += ts.Width(title) + 0.5*vg.Inch
	ls := style(13)
	box := func(clr color.Color, label string) {
		c.FillPolygon(clr, rect(x, y-6, x+22, y+6))
		x += 28
		c.FillText(ls, vg.Point{X: x, Y: y}, label)
		x += ls.Width(label) + 0.3*vg.Inch
	}
	box(computeColor, "computing")
	box(callColor, "in a gompi call")
	box(waitColor, "waiting for a peer")
	c.StrokeLine2(draw.LineStyle{Color: msgColor, Width: 1.2}, x, y, x+22, y)
	arrowHead(c, vg.Point{X: x, Y: y}, vg.Point{X: x + 22, Y: y})
	x += 28
	c.FillText(ls, vg.Point{X: x, Y: y}, "message")
	x += ls.Width("message") + 0.3*vg.Inch
	c.StrokeLine2(draw.LineStyle{Color: bracketColor, Width: 1.5}, x, y+5, x+22, y+5)
	x += 28
	c.FillText(ls, vg.Point{X: x, Y: y}, "collective call")
}

// view is the plotter that draws the lanes, in data coordinates: x in the chosen unit from the
// moment the first rank's Init returned, y the lane's index (rank 0 at the top).
//
// A lane runs from the end of its rank's Init to the start of its Finalize: the program's
// own time. The clock exchanges in those two calls (which wait for the slowest rank) are in
// the trace file, not in the picture.
type view struct {
	t      *trace.Trace
	ranks  []*trace.Rank
	unit   string
	scale  float64 // nanoseconds per unit
	span   float64 // the pictured time in units
	zero   int64   // the trace time at x = 0
	lane   map[int]float64
	lo, hi map[int]int64 // by rank: where its lane starts and ends
}

func newView(t *trace.Trace, ranks []*trace.Rank) *view {
	v := &view{t: t, ranks: ranks, lane: map[int]float64{}, lo: map[int]int64{}, hi: map[int]int64{}}
	v.zero = math.MaxInt64
	var end int64
	for _, rk := range ranks {
		lo, hi := rk.Begin, rk.End
		for i := range rk.Slices {
			switch s := &rk.Slices[i]; s.Op {
			case trace.OpInit:
				lo = s.End
			case trace.OpFinalize:
				hi = s.Start
			}
		}
		v.lo[rk.Rank], v.hi[rk.Rank] = lo, hi
		v.zero = min(v.zero, lo)
		end = max(end, hi)
	}
	end -= v.zero
	switch {
	case end < 2e6:
		v.unit, v.scale = "µs", 1e3
	case end < 2e9:
		v.unit, v.scale = "ms", 1e6
	default:
		v.unit, v.scale = "s", 1e9
	}
	v.span = math.Max(float64(end)/v.scale, 1e-9)
	for i, rk := range ranks {
		v.lane[rk.Rank] = float64(len(ranks) - 1 - i)
	}
	return v
}

func (v *view) rankTicks() []plot.Tick {
	ticks := make([]plot.Tick, len(v.ranks))
	for i, rk := range v.ranks {
		ticks[i] = plot.Tick{Value: v.lane[rk.Rank], Label: fmt.Sprintf("rank %d", rk.Rank)}
	}
	return ticks
}

// DataRange implements plot.DataRanger.
func (v *view) DataRange() (xmin, xmax, ymin, ymax float64) {
	return 0, v.span, -0.5, float64(len(v.ranks)) - 0.5
}

// minWidth is the narrowest a call or a wait is drawn, so that short ones stay visible.
const minWidth = 0.8

// Plot implements plot.Plotter.
func (v *view) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	x := func(ns int64) vg.Length { return tx(float64(ns-v.zero) / v.scale) }
	laneH := ty(1) - ty(0)
	band := laneH * 0.42 // half the height of a lane's bar
	span := func(y vg.Length, from, to int64, h vg.Length, clr color.Color) {
		x0, x1 := x(from), x(to)
		if x1-x0 < minWidth {
			x1 = x0 + minWidth
		}
		c.FillPolygon(clr, c.ClipPolygonXY(rect(x0, y-h, x1, y+h)))
	}
	label := style(11)
	label.XAlign = draw.XCenter
	label.YAlign = draw.YBottom
	label.Color = bracketColor
	for _, rk := range v.ranks {
		y := ty(v.lane[rk.Rank]) - 0.12*laneH // the bar sits low in the lane; labels go above
		lo, hi := v.lo[rk.Rank], v.hi[rk.Rank]
		span(y, lo, hi, band*0.75, computeColor)
		for i := range rk.Slices {
			if s := &rk.Slices[i]; s.Start >= lo && s.End <= hi {
				span(y, s.Start, s.End, band*0.75, callColor)
			}
		}
		for i := range rk.Slices {
			if from, to, ok := rk.Slices[i].WaitSpan(); ok && from >= lo && to <= hi {
				span(y, from, to, band*0.75, waitColor)
			}
		}
		v.collectives(c, rk, x, y+band*0.75, laneH, label)
	}
	ls := draw.LineStyle{Color: msgColor, Width: vg.Points(1)}
	heads := len(v.t.Flows) <= 3000
	for _, f := range v.t.Flows {
		if f.From == f.To {
			continue
		}
		a := vg.Point{X: x(f.Send), Y: ty(v.lane[f.From]) - 0.12*laneH}
		b := vg.Point{X: x(f.Recv), Y: ty(v.lane[f.To]) - 0.12*laneH}
		c.StrokeLines(ls, c.ClipLinesXY([]vg.Point{a, b})...)
		if heads && c.Contains(b) {
			arrowHead(c, a, b)
		}
	}
}

// collectives brackets each collective call of rk above its bar (those nested in another are
// left to it) and labels the ones wide enough for their label.
func (v *view) collectives(c draw.Canvas, rk *trace.Rank, x func(int64) vg.Length, top, laneH vg.Length, label text.Style) {
	ls := draw.LineStyle{Color: bracketColor, Width: vg.Points(1.5)}
	y := top + 0.05*laneH
	end := map[int]int64{} // by lane: the end of the last bracketed call
	for i := range rk.Slices {
		s := &rk.Slices[i]
		if e, ok := end[s.Lane]; s.Op != trace.OpCollective || ok && s.Start < e {
			continue
		}
		end[s.Lane] = s.End
		x0, x1 := x(s.Start), max(x(s.End), x(s.Start)+minWidth)
		c.StrokeLines(ls, c.ClipLinesXY([]vg.Point{{X: x0, Y: y - 4}, {X: x0, Y: y}, {X: x1, Y: y}, {X: x1, Y: y - 4}})...)
		name, short := s.Name, s.Name
		if s.Alg != "" {
			name += " (" + s.Alg + ")"
		}
		if s.Failed {
			name, short = name+" failed", short+" failed"
		}
		for _, n := range []string{name, short} {
			if label.Width(n) < x1-x0 {
				c.FillText(label, vg.Point{X: (x0 + x1) / 2, Y: y + 1}, n)
				break
			}
		}
	}
}

// arrowHead draws a small filled arrow head at b, pointing from a.
func arrowHead(c draw.Canvas, a, b vg.Point) {
	dx, dy := float64(b.X-a.X), float64(b.Y-a.Y)
	n := math.Hypot(dx, dy)
	if n < 1 {
		return
	}
	dx, dy = dx/n, dy/n
	const l, w = 6, 2.5
	p1 := vg.Point{X: b.X - vg.Length(l*dx-w*dy), Y: b.Y - vg.Length(l*dy+w*dx)}
	p2 := vg.Point{X: b.X - vg.Length(l*dx+w*dy), Y: b.Y - vg.Length(l*dy-w*dx)}
	c.FillPolygon(msgColor, []vg.Point{b, p1, p2})
}

// rect is the closed polygon of a rectangle.
func rect(x0, y0, x1, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}
