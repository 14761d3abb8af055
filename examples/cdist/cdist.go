package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
)

// options are the program's flags.
type options struct {
	m, n, d  int
	chunks   int
	seed     uint64
	progress farm.Progress
}

// matrix returns rows×cols uniform numbers in [0, 1), row by row, from a PCG stream.
func matrix(rows, cols int, seed, stream uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, stream))
	a := make([]float64, rows*cols)
	for i := range a {
		a[i] = rng.Float64()
	}
	return a
}

// distances returns the distances between each row of a and each row of b (d columns each),
// row by row: len(a)/d rows of len(b)/d distances.
func distances(a, b []float64, d int) []float64 {
	ra, rb := len(a)/d, len(b)/d
	out := make([]float64, 0, ra*rb)
	for i := range ra {
		x := a[i*d : (i+1)*d]
		for j := range rb {
			y := b[j*d : (j+1)*d]
			s := 0.0
			for k := range x {
				t := x[k] - y[k]
				s += t * t
			}
			out = append(out, math.Sqrt(s))
		}
	}
	return out
}

// chunkRows returns the first row of each of k chunks of m rows (as equal as possible) and,
// last, m.
func chunkRows(m, k int) []int {
	first := make([]int, k+1)
	for i := range k {
		first[i+1] = first[i] + m/k
		if i < m%k {
			first[i+1]++
		}
	}
	return first
}

// cdist is the program: B broadcast, the farm on every rank, the check and the report on rank 0.
func cdist(c *comm.Comm, o options, out, progress io.Writer) error {
	if o.m < 1 || o.n < 1 || o.d < 1 || o.chunks < 1 || o.chunks > o.m {
		return fmt.Errorf("cdist: -m %d -n %d -d %d -chunks %d: want sizes of at least 1 and 1 to m chunks", o.m, o.n, o.d, o.chunks)
	}
	var a []float64
	b := make([]float64, o.n*o.d)
	if c.Rank() == 0 {
		a, b = matrix(o.m, o.d, o.seed, 1), matrix(o.n, o.d, o.seed, 2)
	}
	if err := collectives.Bcast(c, b, 0); err != nil {
		return err
	}
	var tasks farm.Tasks
	rows := farm.RegisterFunc(&tasks, "cdist", func(chunk []float64) []float64 { return distances(chunk, b, o.d) })
	opt := farm.Options{Progress: o.progress, Output: progress}
	return farm.Run(context.Background(), c, &tasks, opt, func(f *farm.Farm) error {
		first := chunkRows(o.m, o.chunks)
		chunks := make([][]float64, o.chunks)
		for k := range chunks {
			chunks[k] = a[first[k]*o.d : first[k+1]*o.d]
		}
		t0 := time.Now()
		parts, err := farm.Map(context.Background(), f, rows, chunks)
		if err != nil {
			return err
		}
		dist := make([]float64, 0, o.m*o.n)
		for _, p := range parts {
			dist = append(dist, p...)
		}
		took := time.Since(t0)

		t0 = time.Now()
		serial := distances(a, b, o.d)
		serialTook := time.Since(t0)
		if len(dist) != len(serial) {
			return fmt.Errorf("cdist: the farm gave %d distances, want %d", len(dist), len(serial))
		}
		for i := range serial {
			if dist[i] != serial[i] {
				return fmt.Errorf("cdist: distance of row %d of A to row %d of B: farm %v, serial %v", i/o.n, i%o.n, dist[i], serial[i])
			}
		}
		fmt.Fprintf(out, "cdist: %d×%d against %d×%d in %d chunks on ranks %v: farm %.3f s, serial %.3f s, speed-up %.1f×\n",
			o.m, o.d, o.n, o.d, o.chunks, f.Workers(), took.Seconds(), serialTook.Seconds(), serialTook.Seconds()/took.Seconds())
		fmt.Fprintf(out, "checked: the %d×%d distances equal the serial ones\n", o.m, o.n)
		return nil
	})
}
