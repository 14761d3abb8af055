package collectives

// scanRecursiveDoubling computes the inclusive (or, with exclusive, the exclusive) prefix
// reduction. Each rank keeps partial, the reduction over its aligned group of 2^k ranks, and its
// prefix in recv. In round k it swaps partial with rank r XOR 2^k; the lower of the two adds the
// higher's on the right of its partial, the higher adds the lower's on the left of both its
// partial and its prefix, so rank order is kept and non-commutative ops work.
//
// Cost for p ranks and n bytes: ⌈lg p⌉ (α + nβ + 2nγ). Always chosen for Scan and Exscan.
// Any p (partners past p-1 are skipped), any n.
// Reference: MPICH src/mpi/coll/scan/scan_intra_recursive_doubling.c; MPI 4.1 §6.11.
func scanRecursiveDoubling[T any](r *run, send, recv []T, d Reduction[T], exclusive bool) {
	p, n := r.size, len(send)
	partial := make([]T, n)
	copy(partial, send)
	if !exclusive {
		copy(recv, send)
	}
	haveRecv := !exclusive
	tmp := make([]T, n)
	var scratch []T
	if !d.commutative {
		scratch = make([]T, n)
	}
	for mask := 1; mask < p; mask <<= 1 {
		partner := r.rank ^ mask
		if partner >= p {
			continue
		}
		r.sendrecv(asBytes(partial), partner, asBytes(tmp), partner)
		if r.err != nil {
			continue
		}
		if partner < r.rank {
			if haveRecv {
				combineLeft(d, tmp, recv, scratch)
			} else {
				copy(recv, tmp)
				haveRecv = true
			}
			combineLeft(d, tmp, partial, scratch)
		} else {
			d.combine(partial, tmp)
		}
	}
}
