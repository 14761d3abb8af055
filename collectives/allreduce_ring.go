package collectives

// allreduceRing combines send from all ranks into recv: a reduce-scatter, then an allgather,
// each passing blocks from rank r to r+1. The vector is cut into p blocks; in step s of the
// first phase rank r sends block r-s to its right neighbour and adds the block r-s-1 arriving
// from its left, so after p-1 steps it holds block r+1 fully reduced; the second phase passes
// the reduced blocks around the ring once more.
//
// Cost for p ranks and n bytes: 2(p-1)α + 2n(p-1)/p β + n(p-1)/p γ (bandwidth-optimal).
// Chosen for commutative ops from allreduceLargeBytes up (measured, see docs/collectives.md). Any p; n need not divide
// by p (blocks may be empty). Commutative ops only: each block's reduction starts at a different
// rank.
// Reference: Patarasuk & Yuan, JPDC 2009; Thakur, Rabenseifner & Gropp, IJHPCA 2005.
func allreduceRing[T any](r *run, send, recv []T, d opDef[T]) {
	p, n := r.size, len(send)
	copy(recv, send)
	if p == 1 {
		return
	}
	right, left := (r.rank+1)%p, (r.rank-1+p)%p
	blk := func(i int) []T {
		lo, hi := block(n, p, i)
		return recv[lo:hi]
	}
	_, maxLen := block(n, p, 0)
	tmp := make([]T, maxLen)
	for s := 0; s < p-1; s++ {
		sb, rb := blk((r.rank-s+p)%p), blk((r.rank-s-1+p)%p)
		t := tmp[:len(rb)]
		r.sendrecv(asBytes(sb), right, asBytes(t), left)
		if r.err == nil {
			d.combine(rb, t)
		}
	}
	for s := 0; s < p-1; s++ {
		sb, rb := blk((r.rank+1-s+p)%p), blk((r.rank-s+p)%p)
		r.sendrecv(asBytes(sb), right, asBytes(rb), left)
	}
}
