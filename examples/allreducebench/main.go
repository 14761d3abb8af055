// Command allreducebench measures the time of one Allreduce (Sum of float64) for a few vector
// sizes, like OSU's osu_allreduce: after a warm-up and a barrier, rank 0 times a loop of calls
// and prints the mean. testdata/allreducebench.c is the same program in C against MPI, for
// comparison with OpenMPI (docs/BENCHMARKS.md has the commands and the numbers).
//
//	go run ./cmd/gompirun -n 4 ./examples/allreducebench
//
// It prints one line per vector size: "BYTES MICROSECONDS".
package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

func main() {
	scale := flag.Float64("scale", 1, "multiply the number of calls by this (less for a quick run)")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return run(c, *scale, fmt.Printf) })
}

// sizes are the vector sizes in bytes, and iters the calls timed at each.
var (
	sizes = []int{8, 1024, 65536, 1 << 20}
	iters = []int{10000, 10000, 1000, 200}
)

func run(c *comm.Comm, scale float64, printf func(string, ...any) (int, error)) error {
	send, recv := make([]float64, sizes[len(sizes)-1]/8), make([]float64, sizes[len(sizes)-1]/8)
	for i := range send {
		send[i] = float64(c.Rank() + i)
	}
	for k, bytes := range sizes {
		n := bytes / 8
		it := max(1, int(float64(iters[k])*scale))
		for range max(1, it/10) { // warm-up, as OSU does
			if err := collectives.Allreduce(c, send[:n], recv[:n], collectives.Sum); err != nil {
				return err
			}
		}
		if err := collectives.Barrier(c); err != nil {
			return err
		}
		t0 := time.Now()
		for range it {
			if err := collectives.Allreduce(c, send[:n], recv[:n], collectives.Sum); err != nil {
				return err
			}
		}
		d := time.Since(t0)
		// Check the last result: element i is the sum over ranks r of r+i.
		p := c.Size()
		for _, i := range []int{0, n - 1} {
			if want := float64(p*(p-1)/2 + p*i); recv[i] != want {
				return fmt.Errorf("allreduce of %d bytes: element %d = %v, want %v", bytes, i, recv[i], want)
			}
		}
		if c.Rank() == 0 {
			printf("%d %.2f\n", bytes, float64(d.Nanoseconds())/1e3/float64(it))
		}
	}
	return nil
}
