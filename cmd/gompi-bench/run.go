package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

// runner is one rank's state for a run: the communicator, the configuration and the buffers,
// allocated once for the largest size.
type runner struct {
	c          *comm.Comm
	cfg        config
	rank, size int // this rank and the number of ranks
	send, recv []byte
	sendReqs   []*comm.Request // the window of bw and bibw
	recvReqs   []*comm.Request
}

// run runs cfg's benchmark on c at every size and, on rank 0, prints OSU's table to out.
func run(c *comm.Comm, cfg config, out io.Writer) error {
	b := cfg.bench
	p := c.Size()
	if b.kind == pointToPoint && p < 2 {
		return fmt.Errorf("%s needs at least 2 ranks (ranks 0 and 1 measure, the others idle), got %d", b.name, p)
	}
	if cfg.window == 0 {
		cfg.window = defaultWindow
	}
	sizes := cfg.sizes
	if b.kind == barrierKind {
		sizes = []int{0}
	}
	r := &runner{c: c, cfg: cfg, rank: c.Rank(), size: p}
	r.allocate(slices.Max(sizes))
	if r.rank == 0 {
		alg, err := algorithmLine(c, cfg)
		if err != nil {
			return err
		}
		printHeader(out, cfg, alg)
	}
	if b.name == "latency" && sizes[0] > 0 {
		// OSU's latency test starts at 0 bytes, and that row warms up the path for the 1-byte
		// row. When the sizes start higher, the same round runs first, untimed and not printed
		// (as in the C twin): the first milliseconds of a process are slower (its runtime's
		// threads settle), and would otherwise count against the first row alone.
		if _, err := b.run(r, 0, cfg.countsFor(0)); err != nil {
			return err
		}
	}
	for _, size := range sizes {
		n := cfg.countsFor(size)
		v, err := b.run(r, size, n)
		if err != nil {
			return err
		}
		if b.kind == pointToPoint {
			if r.rank == 0 {
				printRow(out, size, v)
			}
			continue
		}
		// OSU reduces each rank's mean to the average, minimum and maximum over ranks.
		var all []float64
		if r.rank == 0 {
			all = make([]float64, p)
		}
		if err := collectives.Gather(c, []float64{v}, all, 0); err != nil {
			return fmt.Errorf("%s, size %d: gathering the times: %w", b.name, size, err)
		}
		if r.rank == 0 {
			sum := 0.0
			for _, t := range all {
				sum += t
			}
			printCollectiveRow(out, cfg, size, sum/float64(p), slices.Min(all), slices.Max(all), n.timed)
		}
	}
	return nil
}

// allocate makes the send and receive buffers for sizes up to n bytes.
func (r *runner) allocate(n int) {
	p := r.size
	switch r.cfg.bench.name {
	case "latency", "bw", "bibw":
		n = max(n, 4) // bw's acknowledgement is 4 bytes
		r.send, r.recv = alignedBytes(n), alignedBytes(n)
		r.sendReqs, r.recvReqs = make([]*comm.Request, r.cfg.window), make([]*comm.Request, r.cfg.window)
	case "allreduce", "reduce":
		r.send, r.recv = alignedBytes(n), alignedBytes(n)
	case "bcast":
		r.send = alignedBytes(n) // one buffer: sent by the root, received by the others
	case "allgather":
		r.send, r.recv = alignedBytes(n), alignedBytes(p*n)
	case "alltoall":
		r.send, r.recv = alignedBytes(p*n), alignedBytes(p*n)
	}
}

// check compares recv with the pattern key sent at iteration iter; offset is recv's place in
// the whole receive buffer and from names the sender of a block, for the message.
func (r *runner) check(recv []byte, key, size, iter, offset int, from string) error {
	if i, got, want, ok := checkBytes(recv, key, size, iter); !ok {
		return &checkError{bench: r.cfg.bench.name, size: size, rank: r.rank, what: "byte", index: offset + i,
			got: fmt.Sprintf("0x%02x", got), want: fmt.Sprintf("0x%02x", want), from: from}
	}
	return nil
}

// hook calls the test hook, if any, with the receive buffer of this size.
func (r *runner) hook(size int, recv []byte) {
	if r.cfg.hook != nil {
		r.cfg.hook(r.rank, size, recv)
	}
}

// untimedBarrier is the MPI_Barrier OSU puts before each size and after each collective call.
func (r *runner) untimedBarrier(size int) error {
	if err := collectives.Barrier(r.c); err != nil {
		return fmt.Errorf("%s, size %d: barrier: %w", r.cfg.bench.name, size, err)
	}
	return nil
}

// wrap names the benchmark and size in an error from a call.
func (r *runner) wrap(size int, err error) error {
	return fmt.Errorf("%s, size %d: %w", r.cfg.bench.name, size, err)
}

// micros returns d in microseconds.
func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
