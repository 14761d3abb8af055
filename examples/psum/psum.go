package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/examples/internal/blocks"
	"github.com/gompi/gompi/examples/internal/npyfile"
	"github.com/gompi/gompi/examples/internal/pyfmt"
)

// options are the program's flags.
type options struct {
	n              int    // length of the generated vector
	seed           uint64 // seed of the generated vector
	xFile          string // .npy file holding the vector, or ""
	generatorFlags bool   // -n or -seed was given on the command line
}

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

// input returns the vector: read from the -x file when there is one, otherwise generated.
func input(o options) ([]float64, error) {
	if o.xFile != "" {
		if o.generatorFlags {
			return nil, errors.New("psum: -x reads the vector from a file, -n and -seed make a random one: give one or the other")
		}
		v, err := npyfile.ReadVector(o.xFile)
		if err != nil {
			return nil, fmt.Errorf("psum: -x: %w", err)
		}
		return v, nil
	}
	if o.n < 0 {
		return nil, fmt.Errorf("psum: -n %d is negative", o.n)
	}
	return vector(o.n, o.seed), nil
}

// psum is the program: rank 0 gets the vector and broadcasts its length (or -1 if it has none)
// and scatters it in blocks, each rank sums its block, Allreduce adds the partial sums, and
// rank 0 checks the total against a serial sum, printing "sum = S , serial sum = T" to out. It
// fails if the two differ by more than 1e-12 times the sum of the elements' absolute values.
func psum(c *comm.Comm, o options, out io.Writer) error {
	var v []float64
	var inputErr error
	size := []int{-1}
	if c.Rank() == 0 {
		if v, inputErr = input(o); inputErr == nil {
			size[0] = len(v)
		}
	}
	if err := collectives.Bcast(c, size, 0); err != nil {
		return err
	}
	if inputErr != nil {
		return inputErr
	}
	if size[0] < 0 {
		return errors.New("psum: rank 0 could not get the vector")
	}
	_, counts := blocks.Even(size[0], c.Size())
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
	// The tolerance is relative to the sum of |x|, the size of the terms, so that a vector whose
	// elements cancel (a sum near 0) is judged fairly.
	serial, scale := 0.0, 0.0
	for _, x := range v {
		serial += x
		scale += math.Abs(x)
	}
	fmt.Fprintf(out, "sum = %s , serial sum = %s\n", pyfmt.Float(total[0]), pyfmt.Float(serial))
	if diff := math.Abs(total[0] - serial); diff > 1e-12*scale {
		return fmt.Errorf("psum: parallel and serial sums differ by %g, more than 1e-12 × %g (the sum of |x|)", diff, scale)
	}
	return nil
}
