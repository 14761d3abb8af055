package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

// vector returns the n-element input vector: uniform numbers in [0, 1) from a PCG generator
// seeded with seed, the same on every rank and every run.
func vector(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0))
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.Float64()
	}
	return v
}

// blocks returns how many elements each of p ranks gets when n elements are dealt out as evenly
// as possible (the first n%p ranks get one more).
func blocks(n, p int) []int {
	counts := make([]int, p)
	for i := range counts {
		counts[i] = n / p
		if i < n%p {
			counts[i]++
		}
	}
	return counts
}

// psum is the program: rank 0 makes the vector and scatters it in blocks, each rank sums its
// block, Allreduce adds the partial sums, and rank 0 checks the total against a serial sum,
// printing "sum = S , serial sum = T" to out. It fails if the two differ by more than 1e-12
// relative.
func psum(c *comm.Comm, n int, seed uint64, out io.Writer) error {
	if n < 0 {
		return fmt.Errorf("psum: -n %d is negative", n)
	}
	counts := blocks(n, c.Size())
	var v []float64
	if c.Rank() == 0 {
		v = vector(n, seed)
	}
	mine := make([]float64, counts[c.Rank()])
	if err := collectives.Scatterv(c, collectives.Packed(v, counts), mine, 0); err != nil {
		return err
	}
	local := 0.0
	for _, x := range mine {
		local += x
	}
	total := []float64{0}
	if err := collectives.Allreduce(c, []float64{local}, total, collectives.Sum); err != nil {
		return err
	}
	if c.Rank() != 0 {
		return nil
	}
	serial := 0.0
	for _, x := range v {
		serial += x
	}
	fmt.Fprintf(out, "sum = %v , serial sum = %v\n", total[0], serial)
	if diff := math.Abs(total[0] - serial); diff > 1e-12*math.Abs(serial) && diff > 1e-300 {
		return fmt.Errorf("psum: parallel and serial sums differ by %g (relative %g > 1e-12)", diff, diff/math.Abs(serial))
	}
	return nil
}
