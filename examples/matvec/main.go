// Matvec computes y = A x in parallel with gonum: A is distributed by blocks of rows, each rank
// multiplies its rows by x, and Allgatherv assembles y. A and x are random (-n, -seed) or read
// from NumPy .npy files (-A, -x: float64 arrays of shapes (N, N) and (N,)), such as the
// lecture's random-matrix.npy and random-vector.npy. Any N and any number of ranks work, N
// smaller than the number of ranks included. Rank 0 prints y (all of it up to 20 elements,
// else the first and last 5, each with every digit, as Python prints a float) and
// "max |y - A x| = E" against a serial product, exits with status 1 if E is above 1e-12
// relative to the size of the terms, and otherwise writes y to the .npy file -o names, if any.
//
//	go run ./cmd/gompirun -n 4 ./examples/matvec
//	go run ./cmd/gompirun -n 3 ./examples/matvec -n 1000
//	go run ./cmd/gompirun -n 4 ./examples/matvec -A random-matrix.npy -x random-vector.npy -o y.npy
//
// numpy.load("y.npy") then sits beside numpy.dot(A, x): they agree to 1e-12 relative to the
// size of the terms (gonum and NumPy's BLAS may add a row's products in different orders).
package main

import (
	"flag"
	"os"

	"github.com/gompi/gompi/comm"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 16, "size N of the random N×N matrix and N-vector")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the random matrix and vector")
	flag.StringVar(&o.aFile, "A", "", "read A from this .npy file (float64, shape (N, N)) instead")
	flag.StringVar(&o.xFile, "x", "", "read x from this .npy file (float64, shape (N,)) instead")
	flag.StringVar(&o.yFile, "o", "", "write y to this .npy file")
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { o.generatorFlags = o.generatorFlags || f.Name == "n" || f.Name == "seed" })
	comm.Main(func(c *comm.Comm) error { return matvec(c, o, os.Stdout) })
}
