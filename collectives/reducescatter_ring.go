package collectives

// reduceScatterRing: the vector is cut into the p blocks given by counts; in step s rank r sends
// block r-s-1 (its partial sum so far) to r+1 and adds block r-s-2 arriving from r-1 into its
// copy, so that after p-1 steps block r has passed every rank and is complete at rank r. This is
// the first half of allreduceRing, shifted by one block.
//
// Cost for p ranks and N bytes in all: (p-1) α + (p-1)/p N β + (p-1)/p N γ (for equal blocks).
// Bandwidth-optimal. Chosen for commutative ops. Any p, any counts. Commutative ops only.
// Reference: Patarasuk & Yuan, JPDC 2009; Thakur, Rabenseifner & Gropp, IJHPCA 2005, §4.2.
func reduceScatterRing[T any](r *run, send, recv []T, counts []int, d Reduction[T]) {
	p := r.size
	if p == 1 {
		copy(recv, send)
		return
	}
	displs := make([]int, p+1)
	maxLen := 0
	for i, n := range counts {
		displs[i+1] = displs[i] + n
		maxLen = max(maxLen, n)
	}
	acc := make([]T, len(send))
	copy(acc, send)
	blk := func(i int) []T { return acc[displs[i]:displs[i+1]] }
	tmp := make([]T, maxLen)
	right, left := (r.rank+1)%p, (r.rank-1+p)%p
	segs := ringSegments(maxLen, sizeOf[T](), oneHost(r.shadow()))
	for s := 0; s < p-1; s++ {
		sb, rb := blk((r.rank-s-1+p)%p), blk((r.rank-s-2+2*p)%p)
		reduceStep(r, sb, right, rb, rb, tmp, left, segs, d)
	}
	if r.err == nil {
		copy(recv, blk(r.rank))
	}
}
