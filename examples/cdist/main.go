// Cdist computes the pairwise Euclidean distances between the rows of two matrices (scipy's
// cdist), A (m×d) and B (n×d), through the task farm: rank 0 makes both from a seed and
// broadcasts B, then hands out A's rows in chunks (farm.Map, one task per chunk), each task
// returning its rows of the m×n distance matrix. The farm shows its progress on standard error:
// a bar when that is a terminal, "cdist: done/total" lines otherwise. Rank 0 then computes the
// distances serially, checks that both are equal, prints the times and the speed-up, and exits
// with status 1 if they differ.
//
//	go run ./cmd/gompirun -n 4 ./examples/cdist                 # 1000×100 against 1000×100, 100 chunks
//	go run ./examples/cdist                                      # one rank: on a terminal, a progress bar
//
// Under gompirun a rank's standard error is a pipe, so the progress comes as lines.
package main

import (
	"flag"
	"os"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
)

func main() {
	o := options{progress: farm.ProgressAuto}
	flag.IntVar(&o.m, "m", 1000, "rows of A")
	flag.IntVar(&o.n, "n", 1000, "rows of B")
	flag.IntVar(&o.d, "d", 100, "columns of A and B")
	flag.IntVar(&o.chunks, "chunks", 100, "chunks of A's rows, one task each")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the random matrices")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return cdist(c, o, os.Stdout, os.Stderr) })
}
