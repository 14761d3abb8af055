package main

import (
	"time"

	"github.com/gompi/gompi/comm"
)

// The point-to-point benchmarks follow osu_latency.c, osu_bw.c and osu_bibw.c (OSU 7): the same
// tags, the same loops, the clock read on rank 0 when the warm-up ends and after the last
// iteration. Ranks other than 0 and 1 only take part in the barrier before each size. The one
// addition is the stamp: before each iteration (each window, for bw and bibw) the sender writes
// the iteration's number into the first and last byte of its send buffer, two stores, so that
// the check after the last iteration can tell that iteration's data from an earlier one.
//
// As in OSU, all the receives of a window land in one receive buffer and all the sends of a
// window read one send buffer: every message of a window carries the same bytes.

// latency returns the one-way latency in µs at size bytes: half the mean round trip (rank 0).
func (r *runner) latency(size int, n counts) (float64, error) {
	send, recv := r.send[:size], r.recv[:size]
	fill(send, r.rank, size)
	poison(recv)
	if err := r.untimedBarrier(size); err != nil || r.rank > 1 {
		return 0, err
	}
	c, peer := r.c, 1-r.rank
	var t0 time.Time
	for i := range n.warmup + n.timed {
		if i == n.warmup {
			t0 = time.Now()
		}
		stampBytes(send, r.rank, size, i)
		if r.rank == 0 {
			if err := comm.Send(c, send, 1, 1); err != nil {
				return 0, r.wrap(size, err)
			}
			if _, err := comm.Recv(c, recv, 1, 1); err != nil {
				return 0, r.wrap(size, err)
			}
		} else {
			if _, err := comm.Recv(c, recv, 0, 1); err != nil {
				return 0, r.wrap(size, err)
			}
			if err := comm.Send(c, send, 0, 1); err != nil {
				return 0, r.wrap(size, err)
			}
		}
	}
	elapsed := time.Since(t0)
	r.hook(size, recv)
	if err := r.check(recv, peer, size, n.warmup+n.timed-1, 0, ""); err != nil {
		return 0, err
	}
	return micros(elapsed) / float64(2*n.timed), nil
}

// bw returns the bandwidth in MB/s at size bytes from rank 0 to rank 1 (rank 0): per iteration,
// a window of nonblocking sends, answered by a 4-byte message once all have arrived.
func (r *runner) bw(size int, n counts) (float64, error) {
	c, w := r.c, r.cfg.window
	send, recv := r.send[:size], r.recv[:size]
	ack, ackRecv := r.send[:4], r.recv[:4] // rank 1 sends ack, rank 0 receives it in ackRecv
	if r.rank == 0 {
		fill(send, 0, size)
		poison(ackRecv)
	} else {
		fill(ack, 1, size)
		poison(recv)
	}
	if err := r.untimedBarrier(size); err != nil || r.rank > 1 {
		return 0, err
	}
	var t0 time.Time
	for i := range n.warmup + n.timed {
		if i == n.warmup {
			t0 = time.Now()
		}
		if r.rank == 0 {
			stampBytes(send, 0, size, i)
			for j := range w {
				req, err := comm.Isend(c, send, 1, 100)
				if err != nil {
					return 0, r.wrap(size, err)
				}
				r.sendReqs[j] = req
			}
			if _, err := comm.WaitAll(r.sendReqs[:w]...); err != nil {
				return 0, r.wrap(size, err)
			}
			if _, err := comm.Recv(c, ackRecv, 1, 101); err != nil {
				return 0, r.wrap(size, err)
			}
		} else {
			for j := range w {
				req, err := comm.Irecv(c, recv, 0, 100)
				if err != nil {
					return 0, r.wrap(size, err)
				}
				r.recvReqs[j] = req
			}
			if _, err := comm.WaitAll(r.recvReqs[:w]...); err != nil {
				return 0, r.wrap(size, err)
			}
			stampBytes(ack, 1, size, i)
			if err := comm.Send(c, ack, 0, 101); err != nil {
				return 0, r.wrap(size, err)
			}
		}
	}
	elapsed := time.Since(t0)
	last := n.warmup + n.timed - 1
	if r.rank == 0 {
		r.hook(size, ackRecv)
		if err := r.check(ackRecv, 1, size, last, 0, "acknowledgement"); err != nil {
			return 0, err
		}
	} else {
		r.hook(size, recv)
		if err := r.check(recv, 0, size, last, 0, ""); err != nil {
			return 0, err
		}
	}
	return float64(size) / 1e6 * float64(n.timed*w) / elapsed.Seconds(), nil
}

// bibw returns the bandwidth in MB/s at size bytes counting both directions (rank 0): per
// iteration each rank posts a window of receives, then a window of sends to the other, and
// waits for all of them.
func (r *runner) bibw(size int, n counts) (float64, error) {
	c, w := r.c, r.cfg.window
	send, recv := r.send[:size], r.recv[:size]
	fill(send, r.rank, size)
	poison(recv)
	if err := r.untimedBarrier(size); err != nil || r.rank > 1 {
		return 0, err
	}
	peer := 1 - r.rank
	sendTag, recvTag := 100, 10 // rank 0 sends with tag 100, rank 1 with tag 10, as in osu_bibw
	if r.rank == 1 {
		sendTag, recvTag = recvTag, sendTag
	}
	var t0 time.Time
	for i := range n.warmup + n.timed {
		if i == n.warmup {
			t0 = time.Now()
		}
		stampBytes(send, r.rank, size, i)
		for j := range w {
			req, err := comm.Irecv(c, recv, peer, recvTag)
			if err != nil {
				return 0, r.wrap(size, err)
			}
			r.recvReqs[j] = req
		}
		for j := range w {
			req, err := comm.Isend(c, send, peer, sendTag)
			if err != nil {
				return 0, r.wrap(size, err)
			}
			r.sendReqs[j] = req
		}
		if _, err := comm.WaitAll(r.sendReqs[:w]...); err != nil {
			return 0, r.wrap(size, err)
		}
		if _, err := comm.WaitAll(r.recvReqs[:w]...); err != nil {
			return 0, r.wrap(size, err)
		}
	}
	elapsed := time.Since(t0)
	r.hook(size, recv)
	if err := r.check(recv, peer, size, n.warmup+n.timed-1, 0, ""); err != nil {
		return 0, err
	}
	return float64(size) / 1e6 * float64(n.timed*w*2) / elapsed.Seconds(), nil
}
