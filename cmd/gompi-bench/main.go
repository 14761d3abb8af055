// Command gompi-bench measures gompi the way the OSU micro-benchmarks measure MPI, and prints
// the same columns, so that its lines sit beside osu_latency's, osu_bw's, osu_allreduce's, ...
// It uses only gompi's public API (packages comm and collectives) and runs under gompirun:
//
//	gompirun -n 2 gompi-bench latency            # one-way latency, 1 B .. 4 MiB
//	gompirun -n 2 gompi-bench bw                 # bandwidth, one direction
//	gompirun -n 2 gompi-bench bibw               # bandwidth, both directions at once
//	gompirun -n 4 gompi-bench allreduce          # also bcast, reduce, allgather, alltoall, barrier
//	gompirun -n 2 gompi-bench latency --sizes 1,65472,65600 --iterations 2000
//
// testdata/gompi-bench.c is the same program in C against MPI, with the same arguments and the
// same output, for the same measurement under OpenMPI; scripts/benchcompare runs both under
// each transport and tabulates the medians (docs/BENCHMARKS.md).
//
// # What each benchmark measures
//
// Point to point (ranks 0 and 1; any further ranks only join the barrier before each size):
//
//   - latency: rank 0 sends a message to rank 1, which sends one of the same size back; the
//     time of the timed round trips over 2 × their number is the one-way latency (µs).
//   - bw: rank 0 starts a window of 64 nonblocking sends (--window), waits for them, and
//     rank 1 answers the window with a 4-byte message; size × 64 × iterations over the time
//     is the bandwidth in MB/s (10⁶ bytes per second).
//   - bibw: both ranks send a window of 64 messages to each other at once; the bandwidth counts
//     both directions.
//
// Collectives (every rank; any number of ranks): allreduce and reduce (Sum of float32, as OSU
// sums MPI_FLOAT, so sizes are multiples of 4 bytes and start at 4 B; reduce to root 0), bcast
// (from root 0), allgather (size = each rank's block), alltoall (size = the block for each
// destination) and barrier. Each rank times only the call; an untimed barrier follows every
// iteration (except for barrier itself), and the line gives the mean over ranks of each rank's
// mean time, in µs (--full adds the minimum and maximum over ranks and the iteration count). The
// "# Algorithm:" line above the table names the algorithm gompi ran at each size
// (collectives.Algorithm).
//
// # Sizes and iteration counts
//
// Sizes are powers of two from --min (1 B; 4 B for allreduce and reduce) to --max (4 MiB), or the
// list given with --sizes; 64K and 4M style suffixes (KiB, MiB) are accepted. The defaults are
// OSU's (osu-micro-benchmarks 7, c/util/osu_util.h), timed iterations + untimed warm-up:
//
//	latency                        10000 + 100 up to 8 KiB, 1000 + 10 above
//	bw, bibw (window of 64)          100 + 10  up to 8 KiB,   20 + 2  above
//	bcast, allgather, alltoall      1000 + 100 up to 8 KiB,  100 + 10 above
//	allreduce, reduce               1000 + 100 up to 8192 floats (32 KiB), 100 + 10 above
//	barrier                         1000 + 100
//
// --iterations and --warmup replace the counts at every size. OSU's latency test also starts
// at 0 bytes: --min 0 does the same.
//
// # Data checks
//
// Send buffers and receive buffers are separate and start on a 4096-byte boundary. Every send
// buffer holds a pattern computed from the sending rank, the size and (in its first and last
// element, rewritten before every iteration) the iteration number; after the last iteration of
// each size every rank that received data compares its whole receive buffer, or collective
// result, with the closed form of what it should hold. On a difference gompi-bench exits
// non-zero with a message naming the benchmark, size, rank, index, the value found and the value
// wanted. Barrier moves no data and checks nothing.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gompi/gompi/comm"
)

func main() {
	stdout := io.Writer(os.Stdout)
	if r := os.Getenv("GOMPI_RANK"); r != "" && r != "0" {
		stdout = io.Discard // help and usage once per job, not once per rank
	}
	os.Exit(cliMain(os.Args, stdout, os.Stderr, func(cfg config) error {
		comm.Main(func(c *comm.Comm) error { return run(c, cfg, os.Stdout) }) // exits
		return nil
	}))
}

// cliMain parses args, calls start with the configuration, and returns the exit code: 0, 1 when
// start fails, 2 for a bad command line.
func cliMain(args []string, stdout, stderr io.Writer, start func(config) error) int {
	app := newApp(stdout, stderr, start)
	if err := app.Run(args); err != nil {
		fmt.Fprintf(stderr, "gompi-bench: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Run 'gompi-bench --help' for usage.\n")
			return 2
		}
		return 1
	}
	return 0
}
