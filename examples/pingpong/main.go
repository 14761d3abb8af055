// Command pingpong measures point-to-point latency between ranks 0 and 1 the way OSU's
// osu_latency does: a message goes back and forth, and half the round trip is the one-way
// latency. testdata/pingpong.c is the same program in C against MPI, for comparison with OpenMPI
// (docs/BENCHMARKS.md has the commands and the numbers).
//
//	go run ./cmd/gompirun -n 2 ./examples/pingpong
//
// It prints one line per message size: "SIZE LATENCY_US".
package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/gompi/gompi/comm"
)

func main() {
	scale := flag.Float64("scale", 1, "multiply the number of round trips by this (less for a quick run)")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return run(c, *scale, fmt.Printf) })
}

func run(c *comm.Comm, scale float64, printf func(string, ...any) (int, error)) error {
	if c.Size() < 2 {
		return fmt.Errorf("pingpong needs 2 ranks, got %d", c.Size())
	}
	buf := make([]byte, 1<<20)
	for _, n := range []int{1, 1024, 65536, 1 << 20} {
		iters := 20000
		if n >= 65536 {
			iters = 2000
		}
		iters = max(1, int(float64(iters)*scale))
		round := func() error {
			switch c.Rank() {
			case 0:
				if err := comm.Send(c, buf[:n], 1, 1); err != nil {
					return err
				}
				_, err := comm.Recv(c, buf[:n], 1, 2)
				return err
			case 1:
				if _, err := comm.Recv(c, buf[:n], 0, 1); err != nil {
					return err
				}
				return comm.Send(c, buf[:n], 0, 2)
			}
			return nil
		}
		for range 100 { // warm-up, as osu_latency does
			if err := round(); err != nil {
				return err
			}
		}
		t0 := time.Now()
		for range iters {
			if err := round(); err != nil {
				return err
			}
		}
		if c.Rank() == 0 {
			printf("%d %.2f\n", n, float64(time.Since(t0).Nanoseconds())/1e3/float64(iters)/2)
		}
	}
	return nil
}
