// Psum sums a vector in parallel: rank 0 makes a seeded random vector and scatters it in blocks
// (any length, any number of ranks), each rank sums its block, and Allreduce adds the partial
// sums. Rank 0 prints "sum = S , serial sum = T" and exits with status 1 if they differ by more
// than 1e-12 relative.
//
//	go run ./cmd/gompirun -n 4 ./examples/psum -n 1000 -seed 7
package main

import (
	"flag"
	"os"

	"github.com/gompi/gompi/comm"
)

func main() {
	n := flag.Int("n", 128, "length of the vector")
	seed := flag.Uint64("seed", 1, "seed of the random vector")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return psum(c, *n, *seed, os.Stdout) })
}
