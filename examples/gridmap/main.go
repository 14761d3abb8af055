// Gridmap evaluates a model on a grid of parameters through the task farm (farm.Map): for each
// point (μ, σ) of the grid it draws a number of normal samples N(μ, σ²) and sums them, one task
// per point. Each point's random numbers come from a generator seeded with the point's index,
// so a result does not depend on which rank computed it. Map returns the sums in grid order;
// rank 0 prints a few, recomputes some points serially (they must match exactly, which checks
// the order) and checks that every sum lies within 6σ√n of nμ. It exits with status 1 when a
// check fails. Progress goes to standard error.
//
//	go run ./cmd/gompirun -n 4 ./examples/gridmap                            # 60 × 50 points, 100,000 samples each
//	go run ./cmd/gompirun -n 4 ./examples/gridmap -mu 10 -sigma 10 -samples 1000
package main

import (
	"flag"
	"os"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
)

func main() {
	o := options{progress: farm.ProgressAuto}
	flag.IntVar(&o.muSteps, "mu", 60, "number of values of μ, evenly spaced in [-1, 1]")
	flag.IntVar(&o.sigmaSteps, "sigma", 50, "number of values of σ, evenly spaced in [0.5, 2]")
	flag.IntVar(&o.samples, "samples", 100000, "normal samples summed at each point")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the random numbers")
	flag.IntVar(&o.check, "check", 30, "points recomputed serially on rank 0")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return gridmap(c, o, os.Stdout, os.Stderr) })
}
