// Psum sums a vector in parallel: rank 0 makes a seeded random vector (-n, -seed) or reads one
// from a NumPy .npy file (-x, such as the lecture's random-vector.npy: a float64 array of shape
// (N,)), scatters it in blocks (any length, any number of ranks), each rank sums its block, and
// Allreduce adds the partial sums. Rank 0 prints "sum = S , serial sum = T", both with every
// digit (Python's repr), and exits with status 1 if they differ by more than 1e-12 relative (to
// the sum of |x|).
//
//	go run ./cmd/gompirun -n 4 ./examples/psum -n 1000 -seed 7
//	go run ./cmd/gompirun -n 4 ./examples/psum -x random-vector.npy
//
// With -x, the sums can be set beside NumPy's: numpy.load("random-vector.npy").sum() agrees
// with both to 1e-12 relative (NumPy sums pairwise, psum block by block, so the last digits may
// differ).
package main

import (
	"flag"
	"os"

	"github.com/gompi/gompi/comm"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 128, "length of the random vector")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the random vector")
	flag.StringVar(&o.xFile, "x", "", "read the vector from this .npy file (float64, shape (N,)) instead")
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { o.generatorFlags = o.generatorFlags || f.Name == "n" || f.Name == "seed" })
	comm.Main(func(c *comm.Comm) error { return psum(c, o, os.Stdout) })
}
