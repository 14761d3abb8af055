package collectives

// allreduceRing combines send from all ranks into recv: a reduce-scatter, then an allgather,
// each passing blocks from rank r to r+1. The vector is cut into p blocks; in step s of the
// first phase rank r sends block r-s to its right neighbour and adds the block r-s-1 arriving
// from its left, so after p-1 steps it holds block r+1 fully reduced; the second phase passes
// the reduced blocks around the ring once more.
//
// Each step of the first phase moves its blocks in segments (reduceStep, segment.go), each
// combined as soon as it has arrived.
//
// Cost for p ranks and n bytes: 2(p-1)α + 2n(p-1)/p β + n(p-1)/p γ (bandwidth-optimal).
// Chosen for commutative ops from allreduceLargeBytes up (measured, see docs/collectives.md). Any p; n need not divide
// by p (blocks may be empty). Commutative ops only: each block's reduction starts at a different
// rank.
// Reference: Patarasuk & Yuan, JPDC 2009; Thakur, Rabenseifner & Gropp, IJHPCA 2005.
func allreduceRing[T any](r *run, send, recv []T, d Reduction[T]) {
	p, n := r.size, len(send)
	if p == 1 {
		copy(recv, send)
		return
	}
	right, left := (r.rank+1)%p, (r.rank-1+p)%p
	blk := func(v []T, i int) []T {
		lo, hi := block(n, p, i)
		return v[lo:hi]
	}
	_, maxLen := block(n, p, 0)
	tmp := scratch[T](r, 0, maxLen)
	// Each block of recv is first written here, from send and the partial sum that arrives
	// (or, for the block the rank sends first, taken from send as it is): no copy of the
	// whole vector up front. In place (send and recv the same), the copies are no-ops.
	segs := ringSegments(maxLen, sizeOf[T](), oneHost(r.shadow()))
	for s := 0; s < p-1; s++ {
		sb, rb := blk(recv, (r.rank-s+p)%p), blk(recv, (r.rank-s-1+p)%p)
		if s == 0 {
			sb = blk(send, r.rank)
		}
		reduceStep(r, sb, right, rb, blk(send, (r.rank-s-1+p)%p), tmp, left, segs, d)
	}
	for s := 0; s < p-1; s++ {
		sb, rb := blk(recv, (r.rank+1-s+p)%p), blk(recv, (r.rank-s+p)%p)
		r.sendrecv(asBytes(sb), right, asBytes(rb), left)
	}
}
