// Matvec computes y = A x in parallel with gonum: A is distributed by blocks of rows, each rank
// multiplies its rows by x, and Allgatherv assembles y. A and x are random (-n, -seed) or read
// from NumPy .npy files (-A, -x), such as the lecture's random-matrix.npy and random-vector.npy.
// Any N and any number of ranks work, N smaller than the number of ranks included. Rank 0 prints
// y and "max |y - A x| = E" against a serial product, and exits with status 1 if E is above
// 1e-12 relative to the size of the terms.
//
//	go run ./cmd/gompirun -n 4 ./examples/matvec
//	go run ./cmd/gompirun -n 3 ./examples/matvec -n 1000
//	go run ./cmd/gompirun -n 4 ./examples/matvec -A random-matrix.npy -x random-vector.npy
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
	flag.StringVar(&o.aFile, "A", "", "read A from this .npy file (N×N float64) instead")
	flag.StringVar(&o.xFile, "x", "", "read x from this .npy file (N float64) instead")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return matvec(c, o, os.Stdout) })
}
