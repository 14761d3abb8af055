package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
)

// options are the program's flags.
type options struct {
	muSteps, sigmaSteps int
	samples             int
	seed                uint64
	check               int
	progress            farm.Progress
}

// point is one task: a point of the grid and its index, which seeds its random numbers. It
// holds no pointers, so it travels as plain memory.
type point struct {
	Index     int
	Mu, Sigma float64
}

// grid returns the points, μ varying slowest.
func grid(muSteps, sigmaSteps int) []point {
	at := func(lo, hi float64, i, n int) float64 {
		if n == 1 {
			return lo
		}
		return lo + (hi-lo)*float64(i)/float64(n-1)
	}
	pts := make([]point, 0, muSteps*sigmaSteps)
	for i := range muSteps {
		for j := range sigmaSteps {
			pts = append(pts, point{Index: len(pts), Mu: at(-1, 1, i, muSteps), Sigma: at(0.5, 2, j, sigmaSteps)})
		}
	}
	return pts
}

// model sums samples draws of N(p.Mu, p.Sigma²) from a generator seeded with (seed, p.Index).
func model(p point, samples int, seed uint64) float64 {
	rng := rand.New(rand.NewPCG(seed, uint64(p.Index)))
	sum := 0.0
	for range samples {
		sum += p.Mu + p.Sigma*rng.NormFloat64()
	}
	return sum
}

// gridmap is the program: the farm on every rank, the report and the checks on rank 0. Progress
// goes to progress (rank 0's standard error).
func gridmap(c *comm.Comm, o options, out, progress io.Writer) error {
	if o.muSteps < 1 || o.sigmaSteps < 1 || o.samples < 1 || o.check < 0 {
		return fmt.Errorf("gridmap: -mu %d -sigma %d -samples %d -check %d: want at least 1 (0 checks allowed)", o.muSteps, o.sigmaSteps, o.samples, o.check)
	}
	var tasks farm.Tasks
	eval := farm.RegisterFunc(&tasks, "model", func(p point) float64 { return model(p, o.samples, o.seed) })
	opt := farm.Options{Progress: o.progress, Output: progress}
	return farm.Run(context.Background(), c, &tasks, opt, func(f *farm.Farm) error {
		pts := grid(o.muSteps, o.sigmaSteps)
		t0 := time.Now()
		sums, err := farm.Map(context.Background(), f, eval, pts)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "gridmap: %d points (%d μ × %d σ), %d normal samples each, on ranks %v: %.2f s\n",
			len(pts), o.muSteps, o.sigmaSteps, o.samples, f.Workers(), time.Since(t0).Seconds())
		for _, i := range []int{0, o.sigmaSteps - 1, len(pts) - o.sigmaSteps, len(pts) - 1} {
			p := pts[i]
			fmt.Fprintf(out, "  μ = %6.3f, σ = %5.3f: mean %8.5f\n", p.Mu, p.Sigma, sums[i]/float64(o.samples))
		}
		n := float64(o.samples)
		for i, p := range pts {
			if d := math.Abs(sums[i] - n*p.Mu); d > 6*p.Sigma*math.Sqrt(n) {
				return fmt.Errorf("gridmap: point %d (μ %g, σ %g): sum %g is %g from nμ, more than 6σ√n = %g", i, p.Mu, p.Sigma, sums[i], d, 6*p.Sigma*math.Sqrt(n))
			}
		}
		checks := min(o.check, len(pts))
		for k := range checks {
			i := 0
			if checks > 1 {
				i = k * (len(pts) - 1) / (checks - 1) // the first and the last, and evenly between
			}
			if want := model(pts[i], o.samples, o.seed); sums[i] != want {
				return fmt.Errorf("gridmap: point %d: the farm gave %v, a serial run %v", i, sums[i], want)
			}
		}
		fmt.Fprintf(out, "checked: %d points recomputed serially, equal; every sum within 6σ√n of nμ\n", checks)
		return nil
	})
}
