// Montecarlo estimates π from random points: of points (x, y) uniform in the unit square, a
// fraction π/4 falls inside the quarter circle x² + y² < 1. Each rank draws its share of the
// points and counts its hits, and Reduce adds the counts on rank 0, which prints the estimate
// 4·hits/points, its error and its standard error, and the speed-up over one rank.
//
//	go run ./cmd/gompirun -n 4 ./examples/montecarlo                  # 10 million points
//	go run ./cmd/gompirun -n 4 ./examples/montecarlo -n 100000000 -seed 7
//	go run ./cmd/gompirun -n 4 ./examples/montecarlo -tol 1e-4        # rounds until the standard error is 1e-4
//
// The points come in chunks of 65,536, and chunk k is drawn from its own generator, PCG seeded
// with (seed, k), whichever rank draws it: ranks take contiguous blocks of chunks. The hit count,
// and so the estimate, is therefore the same on any number of ranks for a given -n and -seed;
// only the time changes.
//
// With -tol, the work goes in rounds of -round chunks (64 by default, about 4 million points),
// split over the ranks, and after each round Allreduce adds the counts on every rank: every rank needs the
// total to decide whether to go on (until the standard error is at most -tol, or -n points are
// drawn), and since they all get the same integers, they all decide the same.
//
// The speed-up: the parallel run is timed on every rank, from a Barrier that starts them
// together to a Barrier after the counts are combined, and the job's time is the longest of
// the ranks' times (see examples/internal/timing: one rank's own time can miss the start of
// another's work). Then, the other ranks having finished, rank 0 draws the same chunks again
// alone: speed-up = time alone / time on p ranks. Each is done -repeat times (3) and the
// fastest run counts, as benchmarks do: a slower run met a busier machine. The count alone must
// equal the ranks' count (that is the program's check of its own decomposition), and the
// estimate must lie within 5 standard errors of π; otherwise it exits with status 1. The
// speed-up is at most the number of cores the ranks have: with more ranks than cores (gompirun
// allows it), expect about the number of cores; on 1 rank, expect about 1.
//
// Output on 4 ranks of a 2-core machine (the times vary from run to run, the rest does not):
//
//	pi ≈ 3.1414388 from 10000000 points on 4 ranks (Reduce of the hit counts)
//	error = -0.000154, standard error 0.000519
//	time on 4 ranks 0.0534 s; rank 0 alone, the same points: 0.102 s; speed-up 1.91
package main

import (
	"flag"
	"os"

	"github.com/gompi/gompi/comm"
)

func main() {
	var o options
	flag.Int64Var(&o.n, "n", 10_000_000, "number of random points (with -tol, the most)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the random points")
	flag.Float64Var(&o.tol, "tol", 0, "if > 0, draw in rounds, combined with Allreduce, until the standard error is at most this")
	flag.IntVar(&o.round, "round", 64, "with -tol, chunks of 65,536 points per round")
	flag.IntVar(&o.repeat, "repeat", 3, "times the work is done, on all ranks and on rank 0 alone; the fastest of each is reported")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return montecarlo(c, o, os.Stdout) })
}
