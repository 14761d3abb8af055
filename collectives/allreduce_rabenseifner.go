package collectives

// allreduceRabenseifner combines send from all ranks into recv by a reduce-scatter with
// recursive halving followed by an allgather with recursive doubling. With pof2 the largest power
// of two ≤ p and rem = p - pof2, the first 2·rem ranks fold in pairs first (each even rank hands
// its vector to the odd rank above and sits out), leaving pof2 ranks. The vector is cut into pof2
// blocks; in round k each rank swaps half of its current range of blocks with the partner whose
// number differs in bit lg pof2 - 1 - k and reduces the half it keeps, so after lg pof2 rounds
// each holds one block fully reduced. The allgather retraces the rounds backwards, and the folded
// ranks get the result from their partner.
//
// Cost for p ranks and n bytes: 2 lg p α + 2n(pof2-1)/pof2 β + n(pof2-1)/pof2 γ, plus
// 2(α + nβ) + nγ when p ≠ pof2. Fewer steps than the ring (2 lg p against 2(p-1)) for the same
// volume, so it should win over the ring on many ranks; on the 2-core machine where the
// thresholds were measured it never did (up to 4 ranks, 2 MiB), so it is not chosen automatically
// (docs/collectives.md). Any p, any n (blocks may be
// empty). Commutative ops only.
// Reference: Rabenseifner, "Optimization of collective reduction operations", ICCS 2004;
// Thakur, Rabenseifner & Gropp, IJHPCA 2005, §4.4.
func allreduceRabenseifner[T any](r *run, send, recv []T, d Reduction[T]) {
	p, n := r.size, len(send)
	copy(recv, send)
	if p == 1 {
		return
	}
	pof2 := pof2Below(p)
	rem := p - pof2
	tmp := make([]T, n)
	newrank := foldPairs(r, recv, tmp, d, rem)
	if newrank >= 0 {
		halvingReduceScatter(r, recv, tmp, d, newrank, pof2, rem)
		for mask := 1; mask < pof2; mask <<= 1 {
			pn := newrank ^ mask
			partner := unfoldedRank(pn, rem)
			mine, theirs := newrank&^(mask-1), pn&^(mask-1)
			r.sendrecv(asBytes(blockSpan(recv, pof2, mine, mine+mask)), partner,
				asBytes(blockSpan(recv, pof2, theirs, theirs+mask)), partner)
		}
	}
	unfoldPairs(r, recv, rem)
}

// foldPairs halves the first 2·rem ranks: even rank 2i sends acc to 2i+1, which reduces it into
// its own (commutative ops only) and takes the new number i; even ranks return -1. The other
// ranks are renumbered r - rem.
func foldPairs[T any](r *run, acc, tmp []T, d Reduction[T], rem int) int {
	if r.rank >= 2*rem {
		return r.rank - rem
	}
	if r.rank%2 == 0 {
		r.send(asBytes(acc), r.rank+1)
		return -1
	}
	t := tmp[:len(acc)]
	r.recv(asBytes(t), r.rank-1)
	if r.err == nil {
		d.combine(acc, t)
	}
	return r.rank / 2
}

// unfoldPairs gives the folded-out even ranks the result of their odd partner.
func unfoldPairs[T any](r *run, acc []T, rem int) {
	if r.rank >= 2*rem {
		return
	}
	if r.rank%2 == 1 {
		r.send(asBytes(acc), r.rank-1)
	} else {
		r.recv(asBytes(acc), r.rank+1)
	}
}

// unfoldedRank maps a number after foldPairs back to the rank.
func unfoldedRank(newrank, rem int) int {
	if newrank < rem {
		return 2*newrank + 1
	}
	return newrank + rem
}

// blockSpan returns the elements of blocks [from, to) when buf is cut into nblocks blocks.
func blockSpan[T any](buf []T, nblocks, from, to int) []T {
	lo, _ := block(len(buf), nblocks, from)
	_, hi := block(len(buf), nblocks, to-1)
	return buf[lo:hi]
}

// halvingReduceScatter runs the recursive-halving rounds among the pof2 ranks left by foldPairs:
// afterwards block newrank of acc (of pof2 blocks) holds the reduction over all ranks. tmp must
// hold at least half of acc, rounded up to whole blocks.
func halvingReduceScatter[T any](r *run, acc, tmp []T, d Reduction[T], newrank, pof2, rem int) {
	lo, hi := 0, pof2
	for mask := pof2 / 2; mask > 0; mask >>= 1 {
		partner := unfoldedRank(newrank^mask, rem)
		keepLo, keepHi, sendLo, sendHi := lo, lo+mask, lo+mask, hi
		if newrank&mask != 0 {
			keepLo, keepHi, sendLo, sendHi = lo+mask, hi, lo, lo+mask
		}
		keep := blockSpan(acc, pof2, keepLo, keepHi)
		t := tmp[:len(keep)]
		r.sendrecv(asBytes(blockSpan(acc, pof2, sendLo, sendHi)), partner, asBytes(t), partner)
		if r.err == nil {
			d.combine(keep, t)
		}
		lo, hi = keepLo, keepHi
	}
}
