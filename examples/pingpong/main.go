// Command pingpong measures point-to-point latency between ranks 0 and 1 the way OSU's
// osu_latency does: a message goes back and forth, and half the round trip is the one-way
// latency; separate send and receive buffers, 10,000 timed round trips after 100 untimed ones
// up to 8 KiB, 1,000 after 10 above. testdata/pingpong.c is the same program in C against MPI,
// for comparison with OpenMPI (docs/BENCHMARKS.md has the commands and the numbers); for every
// size and the other OSU tests, see cmd/gompi-bench.
//
//	go run ./cmd/gompirun -n 2 ./examples/pingpong
//
// It prints one line per message size: "SIZE LATENCY_US". Ranks beyond 1 idle. After each size,
// ranks 0 and 1 check every byte they received and fail if one is wrong.
package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

func main() {
	scale := flag.Float64("scale", 1, "multiply the number of timed round trips by this (less for a quick run)")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return run(c, *scale, fmt.Printf) })
}

// sizes are the message sizes in bytes.
var sizes = []int{1, 1024, 65536, 1 << 20}

// rounds returns OSU's timed and warm-up round trips for a message of n bytes.
func rounds(n int) (timed, warmup int) {
	if n > 8192 {
		return 1000, 10
	}
	return 10000, 100
}

func run(c *comm.Comm, scale float64, printf func(string, ...any) (int, error)) error {
	if c.Size() < 2 {
		return fmt.Errorf("pingpong needs 2 ranks, got %d", c.Size())
	}
	me, peer := c.Rank(), 1-c.Rank()
	send, recv := make([]byte, sizes[len(sizes)-1]), make([]byte, sizes[len(sizes)-1])
	for _, n := range sizes {
		timed, warmup := rounds(n)
		timed = max(1, int(float64(timed)*scale))
		fill(send[:n], me, n)
		clear(recv[:n])
		if err := collectives.Barrier(c); err != nil { // every size starts together, as in osu_latency
			return err
		}
		if me > 1 {
			continue // idle
		}
		round := func() error {
			if me == 0 {
				if err := comm.Send(c, send[:n], 1, 1); err != nil {
					return err
				}
				_, err := comm.Recv(c, recv[:n], 1, 1)
				return err
			}
			if _, err := comm.Recv(c, recv[:n], 0, 1); err != nil {
				return err
			}
			return comm.Send(c, send[:n], 0, 1)
		}
		for range warmup {
			if err := round(); err != nil {
				return err
			}
		}
		t0 := time.Now()
		for range timed {
			if err := round(); err != nil {
				return err
			}
		}
		d := time.Since(t0)
		if err := check(recv[:n], peer, n); err != nil {
			return fmt.Errorf("pingpong, %d bytes, rank %d: %w", n, me, err)
		}
		if me == 0 {
			printf("%d %.2f\n", n, float64(d.Nanoseconds())/1e3/float64(timed)/2)
		}
	}
	return nil
}

// pattern is byte i of the n-byte message rank sends; testdata/pingpong.c uses the same.
func pattern(rank, n, i int) byte { return byte(i*7 + n + 31*rank + 1) }

func fill(buf []byte, rank, n int) {
	for i := range buf {
		buf[i] = pattern(rank, n, i)
	}
}

// check compares a received message with what rank sent.
func check(buf []byte, rank, n int) error {
	for i, got := range buf {
		if want := pattern(rank, n, i); got != want {
			return fmt.Errorf("received byte %d = 0x%02x, want 0x%02x", i, got, want)
		}
	}
	return nil
}
