// Hybrid is the lecture's OpenMP matrix-vector product, y = A x, with both kinds of parallelism
// at once: ranks (processes, each with its own memory) share the rows of A in blocks, as in
// examples/matvec, and inside each rank -threads goroutines (threads, sharing the rank's
// memory) share that rank's rows in blocks again, as OpenMP's "parallel for" (Cython's prange)
// shares loop iterations. Allgatherv assembles y on every rank.
//
//	go run ./cmd/gompirun -n 2 ./examples/hybrid -threads 2      # 2 ranks × 2 goroutines
//	go run ./cmd/gompirun -n 4 ./examples/hybrid -threads 1      # ranks only
//	go run ./cmd/gompirun -n 1 ./examples/hybrid -threads 4      # goroutines only, like OpenMP
//
// A and x are uniform random numbers in [0, 1), made by rank 0 from -seed as examples/matvec
// makes them (the same A and x for the same -n and -seed). -threads defaults to the number of
// CPUs the rank may use (GOMAXPROCS, which gompirun sets to the rank's share of the host), as
// OpenMP's number of threads defaults to the cores.
//
// Each y[i] is one loop over row i, the same loop whoever runs it, so the parallel y must equal
// rank 0's serial product bit for bit: rank 0 checks that and exits with status 1 otherwise. It
// also prints the speed-up: the time of one parallel product (the job's time, from a Barrier to
// a Barrier after Allgatherv, the longest of the ranks' times: see examples/internal/timing)
// against one serial product on rank 0 alone, each the fastest of -repeat runs. With ranks ×
// goroutines above the number of cores, the workers take turns and the speed-up stops growing;
// a matrix-vector product also reads each element of A once, so memory bandwidth, not
// arithmetic, bounds it early.
//
// Output of the first command on a 2-core machine shared with other jobs, where the times vary
// by a third from run to run, and the speed-up with them:
//
//	y = A x for N = 2000 on 2 ranks × 2 goroutines; max |y - serial y| = 0 (bit for bit)
//	time per product 2.88 ms on 2 ranks × 2 goroutines, 7.1 ms serial on rank 0: speed-up 2.46
package main

import (
	"flag"
	"os"

	"github.com/gompi/gompi/comm"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 2000, "size N of the random N×N matrix and N-vector")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the random matrix and vector")
	flag.IntVar(&o.threads, "threads", 0, "goroutines per rank (0: GOMAXPROCS, the CPUs the rank may use)")
	flag.IntVar(&o.repeat, "repeat", 10, "products timed, in parallel and serially; the fastest of each is reported")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return hybrid(c, o, os.Stdout) })
}
