package collectives

// allreduceRecursiveDoubling: in round k ranks whose numbers differ only in bit k exchange their
// partial results and both combine them, lower rank's on the left, so after lg p rounds every
// rank holds the whole reduction. For p not a power of two, the first 2·rem ranks (rem = p - pof2,
// pof2 the largest power of two ≤ p) first fold in pairs: each even rank gives its vector to the
// odd rank above it and sits out, and gets the result back at the end. Each survivor stands for
// a contiguous range of ranks, in order, so non-commutative ops come out in rank order.
//
// Cost for p ranks and n bytes: (⌊lg p⌋ + 2·[p ≠ pof2]) (α + nβ) + (⌊lg p⌋ + 1) nγ.
// Latency-optimal. Chosen for non-commutative ops, below allreduceLargeBytes, and for vectors
// shorter than p elements. Any p, any n.
// Reference: Thakur, Rabenseifner & Gropp, IJHPCA 2005, §4.4.
func allreduceRecursiveDoubling[T any](r *run, send, recv []T, d Reduction[T]) {
	p, n := r.size, len(send)
	copy(recv, send)
	if p == 1 {
		return
	}
	pof2 := pof2Below(p)
	rem := p - pof2
	tmp := scratch[T](r, 0, n)
	var left []T
	if !d.commutative {
		l := scratch[T](r, 1, n)
		left = l
	}

	newrank := r.rank - rem
	if r.rank < 2*rem {
		if r.rank%2 == 0 {
			r.send(asBytes(recv), r.rank+1)
			newrank = -1
		} else {
			r.recv(asBytes(tmp), r.rank-1)
			if r.err == nil {
				combineLeft(d, tmp, recv, left)
			}
			newrank = r.rank / 2
		}
	}

	if newrank >= 0 {
		for mask := 1; mask < pof2; mask <<= 1 {
			pn := newrank ^ mask
			partner := pn + rem
			if pn < rem {
				partner = 2*pn + 1
			}
			r.sendrecv(asBytes(recv), partner, asBytes(tmp), partner)
			if r.err != nil {
				continue
			}
			if pn < newrank {
				combineLeft(d, tmp, recv, left)
			} else {
				d.combine(recv, tmp)
			}
		}
	}

	if r.rank < 2*rem {
		if r.rank%2 == 1 {
			r.send(asBytes(recv), r.rank-1)
		} else {
			r.recv(asBytes(recv), r.rank+1)
		}
	}
}
