// Julia draws the Julia set of z² + c, one row of pixels at a time, two ways: statically, each
// rank computing a fixed block of rows (gathered with collectives.Gatherv), and dynamically,
// rows handed out by the task farm (farm.Map) as ranks become free. Rows through the middle of
// the set take many more iterations than rows near the edges, so the static blocks are
// unequal work: rank 0 prints the time of each way, and each rank's time for its block. It
// checks that both images equal a serial computation (exits with status 1 if not) and, with
// -o, writes the image as a PNG file.
//
//	go run ./cmd/gompirun -n 4 ./examples/julia -o julia.png
//	go run ./cmd/gompirun -n 4 ./examples/julia -width 1600 -height 1200 -iter 1000 -cr -0.4 -ci 0.6
package main

import (
	"flag"
	"os"

	"github.com/gompi/gompi/comm"
)

func main() {
	var o options
	flag.IntVar(&o.width, "width", 800, "image width in pixels")
	flag.IntVar(&o.height, "height", 600, "image height in pixels")
	flag.IntVar(&o.iter, "iter", 500, "most iterations per pixel")
	flag.Float64Var(&o.cr, "cr", -0.8, "real part of c")
	flag.Float64Var(&o.ci, "ci", 0.156, "imaginary part of c")
	flag.StringVar(&o.png, "o", "", "write the image to this PNG file")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return julia(c, o, os.Stdout) })
}
