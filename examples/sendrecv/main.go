// Command sendrecv is the two classic point-to-point lecture programs in Go: rank 0 sends a Go
// value (like mpi4py's lowercase comm.send) and a typed buffer (like comm.Send with a NumPy
// array) to rank 1, and every rank prints what it holds.
//
//	go run ./cmd/gompirun -n 2 ./examples/sendrecv
//
// Output (one line per rank for each message; the random numbers depend on -seed). Floats print
// as Python prints them, with all the digits that tell one float64 from another, so the two
// ranks' lines can be compared to the last bit:
//
//	rank = 0 , data = [1.0, 2.0, 3.0, 4.0]
//	rank = 1 , data = [1.0, 2.0, 3.0, 4.0]
//	rank = 0 , data = [0.23842319087387442, 0.50092138792625, ...]
//	rank = 1 , data = [0.23842319087387442, 0.50092138792625, ...]
//
// With -unsafe, ranks 0 and 1 then swap their buffers the way that seems natural and is not
// safe: each Sends to the other before it Receives. It works here only because the library
// buffers a small send (the eager protocol): a larger buffer, or another MPI, and both ranks
// wait for ever. Strict mode takes that buffering away, so the mistake shows at once, on
// small data, and the timeout's report names the pair:
//
//	go run ./cmd/gompirun -n 2 ./examples/sendrecv -unsafe                          # works: "swapped"
//	go run ./cmd/gompirun -n 2 --strict --timeout 3s ./examples/sendrecv -unsafe    # hangs, and says where
//
// The safe ways: comm.Sendrecv, or an Isend before the Recv (docs/TEACHING.md, section 1).
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/examples/internal/pyfmt"
)

func main() {
	seed := flag.Uint64("seed", 1, "seed of the random buffer")
	unsafe := flag.Bool("unsafe", false, "then swap buffers between ranks 0 and 1 by Send before Recv on both (hangs under gompirun --strict)")
	flag.Parse()
	comm.Main(func(world *comm.Comm) error {
		if err := run(world, *seed, os.Stdout); err != nil || !*unsafe {
			return err
		}
		return swapUnsafely(world, os.Stdout)
	})
}

// run is the whole program on one rank; it writes that rank's lines to out.
func run(c *comm.Comm, seed uint64, out interface{ Write([]byte) (int, error) }) error {
	if c.Size() < 2 {
		return fmt.Errorf("sendrecv needs at least 2 ranks, got %d: run it as `gompirun -n 2 ./examples/sendrecv`", c.Size())
	}
	rank := c.Rank()

	// A Go value, encoded with gob: any type works, the receiver decodes into its own variable.
	var data []float64
	switch rank {
	case 0:
		data = []float64{1.0, 2.0, 3.0, 4.0}
		if err := c.SendValue(data, 1, 11); err != nil {
			return err
		}
	case 1:
		if _, err := c.RecvValue(&data, 0, 11); err != nil {
			return err
		}
	}
	if rank <= 1 {
		fmt.Fprintln(out, "rank =", rank, ", data =", pyfmt.List(data))
	}

	// A typed buffer: its memory moves as it is, into a buffer the receiver allocated.
	buf := make([]float64, 10)
	switch rank {
	case 0:
		r := rand.New(rand.NewPCG(seed, 0))
		for i := range buf {
			buf[i] = r.Float64()
		}
		if err := comm.Send(c, buf, 1, 13); err != nil {
			return err
		}
	case 1:
		st, err := comm.Recv(c, buf, 0, 13)
		if err != nil {
			return err
		}
		if n := comm.Count[float64](st); n != len(buf) {
			return fmt.Errorf("received %d elements, want %d", n, len(buf))
		}
	}
	if rank <= 1 {
		fmt.Fprintln(out, "rank =", rank, ", data =", pyfmt.List(buf))
	}
	return nil
}

// swapUnsafely swaps a buffer between ranks 0 and 1 with a Send and then a Recv on both: an
// exchange that completes only if the library buffers the sends (see the -unsafe paragraph
// above). Each prints "rank R swapped, got [...]".
func swapUnsafely(c *comm.Comm, out interface{ Write([]byte) (int, error) }) error {
	rank := c.Rank()
	if rank > 1 {
		return nil
	}
	peer := 1 - rank
	mine := []float64{float64(rank), float64(rank) + 0.5}
	if err := comm.Send(c, mine, peer, 17); err != nil {
		return err
	}
	theirs := make([]float64, 2)
	if _, err := comm.Recv(c, theirs, peer, 17); err != nil {
		return err
	}
	fmt.Fprintln(out, "rank", rank, "swapped, got", pyfmt.List(theirs))
	return nil
}
