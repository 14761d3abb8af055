package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
)

// options are the program's flags.
type options struct {
	width, height, iter int
	cr, ci              float64
	png                 string
}

// The region of the complex plane drawn: x in [-xSpan, xSpan], y in [-ySpan, ySpan] scaled to
// the image's aspect ratio.
const xSpan = 1.6

// row returns the escape iteration of each pixel of row y (the iteration at which |z| passed
// 2, or o.iter if it never did).
func row(o options, y int) []uint16 {
	ySpan := xSpan * float64(o.height) / float64(o.width)
	y0 := ySpan - 2*ySpan*float64(y)/float64(max(o.height-1, 1))
	out := make([]uint16, o.width)
	for x := range out {
		re, im := -xSpan+2*xSpan*float64(x)/float64(max(o.width-1, 1)), y0
		n := 0
		for ; n < o.iter && re*re+im*im <= 4; n++ {
			re, im = re*re-im*im+o.cr, 2*re*im+o.ci
		}
		out[x] = uint16(n)
	}
	return out
}

// blocks returns the first row of each rank's block and, last, height.
func blocks(height, p int) []int {
	first := make([]int, p+1)
	for i := range p {
		first[i+1] = first[i] + height/p
		if i < height%p {
			first[i+1]++
		}
	}
	return first
}

// julia is the program: both ways on every rank, the check, the report and the image on rank 0.
func julia(c *comm.Comm, o options, out io.Writer) error {
	if o.width < 1 || o.height < 1 || o.iter < 1 || o.iter > math.MaxUint16 {
		return fmt.Errorf("julia: -width %d -height %d -iter %d: want sizes of at least 1 and 1 to %d iterations", o.width, o.height, o.iter, math.MaxUint16)
	}
	root := c.Rank() == 0

	// Static: each rank its block of rows.
	if err := collectives.Barrier(c); err != nil {
		return err
	}
	t0 := time.Now()
	first := blocks(o.height, c.Size())
	mine := make([]uint16, 0, (first[c.Rank()+1]-first[c.Rank()])*o.width)
	for y := first[c.Rank()]; y < first[c.Rank()+1]; y++ {
		mine = append(mine, row(o, y)...)
	}
	mineTook := time.Since(t0).Seconds()
	counts := make([]int, c.Size())
	for r := range counts {
		counts[r] = (first[r+1] - first[r]) * o.width
	}
	var static []uint16
	if root {
		static = make([]uint16, o.width*o.height)
	}
	if err := collectives.Gatherv(c, mine, collectives.Packed(static, counts), 0); err != nil {
		return err
	}
	staticTook := time.Since(t0)
	rankTimes := make([]float64, c.Size())
	if err := collectives.Gather(c, []float64{mineTook}, rankTimes, 0); err != nil {
		return err
	}

	// Dynamic: rows handed out by the farm.
	var tasks farm.Tasks
	rowTask := farm.RegisterFunc(&tasks, "julia", func(y int) []uint16 { return row(o, y) })
	var rows [][]uint16
	var dynamicTook time.Duration
	opt := farm.Options{RootWorks: true, Progress: farm.ProgressOff}
	err := farm.Run(context.Background(), c, &tasks, opt, func(f *farm.Farm) error {
		ys := make([]int, o.height)
		for y := range ys {
			ys[y] = y
		}
		t0 := time.Now()
		var err error
		rows, err = farm.Map(context.Background(), f, rowTask, ys)
		dynamicTook = time.Since(t0)
		return err
	})
	if err != nil || !root {
		return err
	}

	t0 = time.Now()
	serial := make([]uint16, 0, o.width*o.height)
	for y := range o.height {
		serial = append(serial, row(o, y)...)
	}
	serialTook := time.Since(t0)
	dynamic := slices.Concat(rows...)
	for i := range serial {
		if static[i] != serial[i] || dynamic[i] != serial[i] {
			return fmt.Errorf("julia: pixel (%d, %d): serial %d, static %d, dynamic %d iterations", i%o.width, i/o.width, serial[i], static[i], dynamic[i])
		}
	}
	fmt.Fprintf(out, "julia: %d×%d pixels, c = %g%+gi, up to %d iterations, %d ranks\n", o.width, o.height, o.cr, o.ci, o.iter, c.Size())
	fmt.Fprintf(out, "serial:  %.3f s\n", serialTook.Seconds())
	fmt.Fprintf(out, "static:  %.3f s (blocks of rows; each rank's time:", staticTook.Seconds())
	for _, s := range rankTimes {
		fmt.Fprintf(out, " %.3f", s)
	}
	fmt.Fprintf(out, " s)\ndynamic: %.3f s (rows from the farm)\n", dynamicTook.Seconds())
	fmt.Fprintln(out, "checked: static and dynamic images equal the serial one")
	if o.png != "" {
		if err := writePNG(o.png, serial, o); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s\n", o.png)
	}
	return nil
}

// writePNG draws the iteration counts: black inside the set, blue to yellow outside, by the
// logarithm of the escape iteration.
func writePNG(path string, counts []uint16, o options) error {
	img := image.NewRGBA(image.Rect(0, 0, o.width, o.height))
	top := math.Log(float64(o.iter) + 1)
	for i, n := range counts {
		col := color.RGBA{A: 255}
		if int(n) < o.iter {
			t := math.Log(float64(n)+1) / top
			col = color.RGBA{R: uint8(255 * t), G: uint8(255 * math.Sqrt(t)), B: uint8(255 * (1 - t) * 0.8), A: 255}
		}
		img.SetRGBA(i%o.width, i/o.width, col)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("julia: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("julia: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("julia: writing %s: %w", path, err)
	}
	return nil
}
