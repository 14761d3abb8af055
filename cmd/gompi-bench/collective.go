package main

import (
	"fmt"
	"time"

	"github.com/gompi/gompi/collectives"
)

// The collective benchmarks follow OSU 7's osu_allreduce.c, osu_bcast.c, ...: a barrier before
// each size, then for every iteration the call alone between two clock readings, followed by an
// untimed barrier. Each returns this rank's mean time per call in µs; run reduces the means over
// ranks. Between iterations (outside the timed part) the senders stamp the iteration's number
// into their buffers, so the check after the last iteration sees that iteration's data.

// timeCalls runs prepare (untimed) and call n.warmup+n.timed times, each followed by a barrier,
// and returns the mean time of the timed calls in µs.
func (r *runner) timeCalls(size int, n counts, prepare func(iter int), call func() error) (float64, error) {
	if err := r.untimedBarrier(size); err != nil {
		return 0, err
	}
	var total time.Duration
	for i := range n.warmup + n.timed {
		prepare(i)
		t0 := time.Now()
		err := call()
		d := time.Since(t0)
		if err != nil {
			return 0, r.wrap(size, err)
		}
		if i >= n.warmup {
			total += d
		}
		if err := r.untimedBarrier(size); err != nil {
			return 0, err
		}
	}
	return micros(total) / float64(n.timed), nil
}

// allreduce times Allreduce of size/4 float32 with Sum, and checks every rank's result.
func (r *runner) allreduce(size int, n counts) (float64, error) {
	send, recv := float32s(r.send[:size]), float32s(r.recv[:size])
	fillValues(send, r.rank, size)
	poison(r.recv[:size])
	t, err := r.timeCalls(size, n,
		func(i int) { stampValues(send, r.rank, size, i) },
		func() error { return collectives.Allreduce(r.c, send, recv, collectives.Sum) })
	if err != nil {
		return 0, err
	}
	r.hook(size, r.recv[:size])
	return t, r.checkSums(recv, size, n.warmup+n.timed-1)
}

// reduce times Reduce of size/4 float32 with Sum to rank 0, and checks the root's result.
func (r *runner) reduce(size int, n counts) (float64, error) {
	send, recv := float32s(r.send[:size]), float32s(r.recv[:size])
	fillValues(send, r.rank, size)
	poison(r.recv[:size])
	t, err := r.timeCalls(size, n,
		func(i int) { stampValues(send, r.rank, size, i) },
		func() error { return collectives.Reduce(r.c, send, recv, collectives.Sum, 0) })
	if err != nil || r.rank != 0 {
		return t, err
	}
	r.hook(size, r.recv[:size])
	return t, r.checkSums(recv, size, n.warmup+n.timed-1)
}

// checkSums compares a reduction's result with the closed form.
func (r *runner) checkSums(recv []float32, size, iter int) error {
	if i, got, want, ok := checkSums(recv, r.size, size, iter); !ok {
		return &checkError{bench: r.cfg.bench.name, size: size, rank: r.rank, what: "element", index: i,
			got: fmt.Sprint(got), want: fmt.Sprint(want)}
	}
	return nil
}

// bcast times Bcast of size bytes from rank 0, and checks every other rank's buffer.
func (r *runner) bcast(size int, n counts) (float64, error) {
	buf := r.send[:size]
	if r.rank == 0 {
		fill(buf, 0, size)
	} else {
		poison(buf)
	}
	t, err := r.timeCalls(size, n,
		func(i int) {
			if r.rank == 0 {
				stampBytes(buf, 0, size, i)
			}
		},
		func() error { return collectives.Bcast(r.c, buf, 0) })
	if err != nil || r.rank == 0 {
		return t, err
	}
	r.hook(size, buf)
	return t, r.check(buf, 0, size, n.warmup+n.timed-1, 0, "")
}

// allgather times Allgather of a size-byte block per rank, and checks every block on every rank.
func (r *runner) allgather(size int, n counts) (float64, error) {
	send, recv := r.send[:size], r.recv[:r.size*size]
	fill(send, r.rank, size)
	poison(recv)
	t, err := r.timeCalls(size, n,
		func(i int) { stampBytes(send, r.rank, size, i) },
		func() error { return collectives.Allgather(r.c, send, recv) })
	if err != nil {
		return 0, err
	}
	r.hook(size, recv)
	for j := range r.size {
		if err := r.check(recv[j*size:(j+1)*size], j, size, n.warmup+n.timed-1, j*size, fmt.Sprintf("block of rank %d", j)); err != nil {
			return 0, err
		}
	}
	return t, nil
}

// alltoall times Alltoall of a size-byte block per pair of ranks, and checks every block. The
// block rank s sends to rank d carries key s·p + d.
func (r *runner) alltoall(size int, n counts) (float64, error) {
	p := r.size
	send, recv := r.send[:p*size], r.recv[:p*size]
	for d := range p {
		fill(send[d*size:(d+1)*size], r.rank*p+d, size)
	}
	poison(recv)
	t, err := r.timeCalls(size, n,
		func(i int) {
			for d := range p {
				stampBytes(send[d*size:(d+1)*size], r.rank*p+d, size, i)
			}
		},
		func() error { return collectives.Alltoall(r.c, send, recv) })
	if err != nil {
		return 0, err
	}
	r.hook(size, recv)
	for s := range p {
		if err := r.check(recv[s*size:(s+1)*size], s*p+r.rank, size, n.warmup+n.timed-1, s*size, fmt.Sprintf("block from rank %d", s)); err != nil {
			return 0, err
		}
	}
	return t, nil
}

// barrier times Barrier; like osu_barrier it puts nothing between the calls.
func (r *runner) barrier(_ int, n counts) (float64, error) {
	if err := collectives.Barrier(r.c); err != nil {
		return 0, fmt.Errorf("barrier: %w", err)
	}
	var total time.Duration
	for i := range n.warmup + n.timed {
		t0 := time.Now()
		err := collectives.Barrier(r.c)
		d := time.Since(t0)
		if err != nil {
			return 0, fmt.Errorf("barrier: %w", err)
		}
		if i >= n.warmup {
			total += d
		}
	}
	return micros(total) / float64(n.timed), nil
}
