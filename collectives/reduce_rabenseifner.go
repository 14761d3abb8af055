package collectives

// reduceRabenseifner reduces a large vector to root by a reduce-scatter with recursive halving
// (as in allreduceRabenseifner, after folding p down to pof2, the largest power of two ≤ p), then
// a binomial gather of the reduced blocks: in round k the rank whose bit k differs from the
// gathering rank's sends its range of blocks to its partner and stops, so ranges double until
// one rank holds the whole vector. If the root was folded out, its partner sends it the result.
//
// Cost for p ranks and n bytes: 2 lg p α + 2n(pof2-1)/pof2 β + n(pof2-1)/pof2 γ, plus
// (α + nβ) + nγ when p ≠ pof2 and α + nβ when the root was folded out; against ⌈lg p⌉ n (β + γ)
// for the binomial tree. Chosen for commutative ops from reduceLargeBytes up (currently never:
// see docs/collectives.md). Any p, any n.
// Commutative ops only.
// Reference: Rabenseifner, ICCS 2004; Thakur, Rabenseifner & Gropp, IJHPCA 2005, §4.3.
func reduceRabenseifner[T any](r *run, send, recv []T, d Reduction[T], root int) {
	p, n := r.size, len(send)
	if p == 1 {
		copy(recv, send)
		return
	}
	pof2 := pof2Below(p)
	rem := p - pof2
	acc := make([]T, n)
	copy(acc, send)
	tmp := make([]T, n)
	newrank := foldPairs(r, acc, tmp, d, rem)
	rootNew := root - rem
	if root < 2*rem {
		rootNew = root / 2
	}
	if newrank >= 0 {
		halvingReduceScatter(r, acc, tmp, d, newrank, pof2, rem)
		for mask := 1; mask < pof2; mask <<= 1 {
			pn := newrank ^ mask
			partner := unfoldedRank(pn, rem)
			if newrank&mask == rootNew&mask {
				theirs := pn &^ (mask - 1)
				r.recv(asBytes(blockSpan(acc, pof2, theirs, theirs+mask)), partner)
			} else {
				mine := newrank &^ (mask - 1)
				r.send(asBytes(blockSpan(acc, pof2, mine, mine+mask)), partner)
				break
			}
		}
	}
	holder := unfoldedRank(rootNew, rem)
	switch {
	case holder == root && r.rank == root:
		copy(recv, acc)
	case r.rank == holder:
		r.send(asBytes(acc), root)
	case r.rank == root:
		r.recv(asBytes(recv), holder)
	}
}
